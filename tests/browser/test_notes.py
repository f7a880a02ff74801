"""Hotwash notes: the white cell, umpires and observers write down what they see during play; delegations never
read them; the review lists them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.players import Player

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def test_umpires_and_observers_note_what_they_see_for_the_hotwash(players: Callable[[str], Player]) -> None:
    from playwright.sync_api import expect

    white = players("facilitator")
    code = white.create_game()
    est = players("EST")
    est.join(code, "delegation", "Kaja", member="EST")
    umpire = players("umpire")
    umpire.join(code, "umpire", "Ulla")
    observer = players("observer")
    observer.join(code, "observer", "Olli")
    white.page.get_by_role("button", name="Start the exercise").click()
    est.wait_phase("briefing")

    notes = umpire.page.get_by_test_id("notes")
    notes.get_by_label("Observation").fill("Estonia briefed its allies before asking for consultation.")
    notes.get_by_label("About").select_option("EST")
    notes.get_by_role("button", name="Record the note").click()
    expect(notes.get_by_test_id("note")).to_have_count(1)
    expect(notes.get_by_test_id("note")).to_contain_text("Round 1, after event")
    expect(notes.get_by_test_id("note")).to_contain_text("Estonia · umpire")
    observer_notes = observer.page.get_by_test_id("notes")
    observer_notes.get_by_label("Observation").fill("The room was quiet during the briefing.")
    observer_notes.get_by_role("button", name="Record the note").click()
    expect(observer_notes.get_by_test_id("note")).to_have_count(2)
    expect(observer_notes.get_by_label("Observation")).to_have_value("")
    observer.shot("notes-observer", full_page=False)

    console_notes = white.page.get_by_test_id("notes")
    expect(console_notes.get_by_test_id("note")).to_have_count(2)
    expect(console_notes.get_by_test_id("note").first).to_contain_text("The room was quiet")
    for tab in ("Dashboard", "Council", "Messages"):
        est.tab(tab)
        expect(est.page.get_by_text("briefed its allies")).to_have_count(0)
        expect(est.page.get_by_test_id("notes")).to_have_count(0)

    white.page.get_by_role("link", name="Review").click()
    expect(white.page.get_by_text("Estonia briefed its allies before asking for consultation.")).to_be_visible()
    assert not (white.errors or est.errors or umpire.errors or observer.errors)
