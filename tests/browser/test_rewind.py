"""The facilitator undoes a slip from the console: every screen goes back to the moment before it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.players import Player, seminar

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def test_the_facilitator_turns_play_back_from_the_console(players: Callable[[str], Player]) -> None:
    from playwright.sync_api import expect

    white, seated = seminar(players, {"EST": "Kaja"})
    est, console = seated["EST"], white.page
    white.start()
    for phase in ("briefing", "deliberation"):
        est.wait_phase(phase)
        console.get_by_role("button", name=f"End the {phase} phase now").click()
    est.wait_phase("council")
    est.tab("Council")
    est.table_proposal(kind="sanctions", procedure="consensus", text="Freeze the assets of the shipping company")
    expect(est.proposal("P1")).to_be_visible()

    console.get_by_text("Undo: turn play back…").click()
    picker = console.get_by_test_id("rewind-from")
    tabled = picker.locator("option", has_text="P1")
    expect(tabled).to_have_count(1)
    # A command is undone whole: its first event is offered, not what it brought (the start's phase and injects).
    expect(picker.locator("option", has_text="The facilitator starts the exercise")).to_have_count(1)
    expect(picker.locator("option", has_text="Round 1: the briefing phase begins")).to_have_count(0)
    expect(picker.locator("option", has_text="Inject ")).to_have_count(0)
    picker.select_option(tabled.get_attribute("value"))
    turn_back = console.get_by_role("button", name="Turn play back")
    expect(turn_back).to_be_disabled()  # not without a reason every seat reads
    console.get_by_label("Reason (read to every seat)").fill("Sanctions belong to round two")
    white.shot("rewind-console", full_page=False)
    turn_back.click()

    expect(est.proposal("P1")).to_have_count(0)
    expect(est.page.get_by_test_id("countdown")).to_contain_text("PAUSED")
    # The ruling reaches the council table itself, not only the dashboard.
    news = est.page.get_by_test_id("news")
    expect(news).to_contain_text("Sanctions belong to round two")
    expect(console.get_by_test_id("status")).to_have_text("paused")
    est.shot("rewind-player", full_page=False)
    news.get_by_role("button", name="Dismiss").click()
    expect(news).to_have_count(0)
    est.tab("Dashboard")
    expect(est.announcement("The facilitator turned play back: Sanctions belong to round two")).to_be_visible()
    console.get_by_role("button", name="Resume").click()
    est.wait_phase("council")
    est.tab("Council")
    est.table_proposal(kind="joint_statement", procedure="consensus", text="Solidarity with Estonia")
    expect(est.proposal("P1")).to_contain_text("Solidarity with Estonia")

    # An end confirmed by mistake is undone the same way.
    console.get_by_role("button", name="End the exercise…").click()
    console.get_by_role("button", name="Really end the exercise").click()
    expect(console.get_by_test_id("status")).to_have_text("ended")
    console.get_by_text("Undo: turn play back…").click()
    ending = picker.locator("option", has_text="The exercise ends")
    expect(ending).to_have_count(1)
    picker.select_option(ending.get_attribute("value"))
    console.get_by_label("Reason (read to every seat)").fill("Not yet: round two is still to come")
    turn_back.click()
    expect(console.get_by_test_id("status")).to_have_text("paused")
    expect(est.proposal("P1")).to_contain_text("Solidarity with Estonia")
    assert not white.errors and not est.errors, white.errors + est.errors
