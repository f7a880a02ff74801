"""The room's screen for the projector: an observer's seat the console makes a link for, showing the clock, how to
join and the public record, and nothing the console holds for the white cell alone (MSEL, briefs, objectives,
notes).  It opens in a window of the facilitator's own browser without taking the console's seat there."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.players import Player, briefing, objectives

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def test_the_room_screen_shows_the_room_what_is_public_and_nothing_else(players: Callable[[str], Player]) -> None:
    from playwright.sync_api import expect

    white = players("facilitator")
    code = white.create_game("baltic-hybrid")
    est = players("EST")
    est.join(code, "delegation", "Kaja", member="EST")
    console = white.page
    console.get_by_text("Room screen for the projector…").click()
    console.get_by_role("button", name="Make the room screen's link").click()
    link = console.get_by_test_id("screen-link").input_value()
    assert link.endswith(f"/{code}") and "/#/screen/" in link, link

    # A window of the facilitator's own browser, as on a laptop whose second display is the projector.
    wall = Player("room screen", white.context, white.context.new_page(), white.base_url, white.screenshots)
    wall.page.goto(link)
    screen = wall.page.locator("main.screen")
    expect(screen).to_contain_text(f"Join code: {code}")
    expect(screen.get_by_test_id("join-address")).to_be_visible()  # and its QR code, where other computers reach it
    expect(wall.page.get_by_test_id("phase")).to_have_text("The exercise has not started yet")
    expect(wall.page.locator("html")).to_have_class("projector")
    expect(wall.page.get_by_test_id("screen-tables")).to_have_text("Estonia: Kaja")
    wall.shot("room-screen-lobby", full_page=False)

    console.bring_to_front()
    console.reload()  # the console's seat is still this browser's: the screen took none
    white.connected()
    expect(console.get_by_test_id("who")).to_contain_text("Facilitator")
    seats = console.get_by_role("region", name="Seats")
    expect(seats).to_contain_text("Room screen")
    console.get_by_role("button", name="Start the exercise").click()
    expect(wall.page.get_by_test_id("phase")).to_have_text("Round 1 of 4 · briefing")
    expect(wall.page.get_by_role("timer")).to_be_visible()
    expect(screen).not_to_contain_text(f"Join code: {code}")

    announcement = "The council convenes in ten minutes."
    console.get_by_label("Announcement to every seat").fill(announcement)
    console.get_by_role("button", name="Broadcast to all").click()
    expect(wall.page.get_by_test_id("screen-news")).to_have_text(announcement)
    note = "Estonia's head reads the brief aloud to the table."
    console.get_by_label("Observation").fill(note)
    console.get_by_role("button", name="Record the note").click()
    expect(console.get_by_test_id("notes")).to_contain_text(note)

    est.page.get_by_role("button", name="Done").click()
    expect(wall.page.get_by_test_id("screen-done")).to_contain_text("Estonia")
    wall.shot("room-screen-briefing", full_page=False)

    shown = screen.inner_text()
    situation, briefs = briefing("baltic-hybrid")
    assert situation in " ".join(shown.split()), "the situation is the room's"
    for text in [*briefs.values(), *(o for texts in objectives("baltic-hybrid").values() for o in texts), note]:
        assert text not in shown, f"the room screen shows {text!r}"
    expected = console.get_by_role("region", name="Scenario events (MSEL)").get_by_text("Expected:").first.inner_text()
    assert expected.removeprefix("Expected:").strip() not in shown

    # Before the council: who has said what, and under the silence procedure no one waited for.
    for phase in ("briefing", "deliberation"):
        console.get_by_role("button", name=f"End the {phase} phase now").click()
    est.wait_phase("council")
    est.tab("Council")
    est.table_proposal(kind="joint_statement", procedure="silence", text="The allies condemn the violation.")
    tabled = wall.page.get_by_test_id("screen-proposal")
    expect(tabled).to_contain_text("P1 · joint statement")
    expect(tabled).to_contain_text("silence holds so far")
    expect(tabled).not_to_contain_text("yet to speak")

    # A new link for the screen's seat: the old window is shown out, and the seats hold one room screen still.
    console.get_by_text("Room screen for the projector…").click()  # folded again since the reload
    console.get_by_role("button", name="Make a new link").click()
    expect(console.get_by_test_id("screen-link")).not_to_have_value(link)
    expect(screen.locator(".refusal")).to_contain_text("This browser no longer holds the seat")
    again = console.get_by_test_id("screen-link").input_value()
    expect(seats.get_by_text("Room screen")).to_have_count(1)
    wall.page.goto(again)
    expect(wall.page.get_by_test_id("screen-proposal")).to_contain_text("P1 · joint statement")
    for p in (white, est, wall):
        assert p.errors == [], (p.name, p.errors)
