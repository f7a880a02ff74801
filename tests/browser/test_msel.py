"""The MSEL on the console: what the scenario delivers by itself, when, and what it expects of the players; what
has been delivered and what comes next; a line held back until play is ready for it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.players import Player

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def test_the_white_cell_sees_what_the_msel_delivers_and_holds_a_line_back(players: Callable[[str], Player]) -> None:
    from playwright.sync_api import expect

    white = players("facilitator")
    code = white.create_game()
    est = players("EST")
    est.join(code, "delegation", "Kaja", member="EST")
    entries = white.page.get_by_test_id("msel").get_by_test_id("msel-entry")
    expect(entries).to_have_count(2)
    expect(entries.nth(0)).to_contain_text("#1 · round 1, briefing next")
    expect(entries.nth(0)).to_contain_text("Expected: Estonia requests Article 4 consultation")
    expect(entries.nth(1)).to_contain_text("#2 · round 2, briefing later")

    white.page.get_by_role("button", name="Hold back MSEL #1").click()
    expect(entries.nth(0)).to_contain_text("held back")
    expect(entries.nth(1)).to_contain_text("next")
    white.page.get_by_role("button", name="Start the exercise").click()
    est.wait_phase("briefing")
    expect(est.page.get_by_text("No injects yet.")).to_be_visible()  # the briefing opened without it
    expect(entries.nth(0)).to_contain_text("held back")
    white.shot("msel-console")

    white.page.get_by_role("button", name="Put back MSEL #1").click()
    expect(entries.nth(0)).to_contain_text("not delivered")  # its phase has passed: the catalogue delivers it
    white.page.get_by_role("button", name="Hold back MSEL #2").click()
    expect(entries.nth(1)).to_contain_text("held back")
    white.page.get_by_label("Catalogue entry").select_option("drones-poland")  # when play is ready for it
    white.page.get_by_role("button", name="Deliver catalogue inject").click()
    expect(entries.nth(1)).to_contain_text("held back, its inject delivered by hand")
    assert white.errors == [] and est.errors == []
