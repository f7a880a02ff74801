"""A seminar's own pace: the facilitator retimes the phases of every round when creating the game, sees what a
round and the whole game will take, and the server keeps the new deadlines."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.browser.players import Player

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def test_the_facilitator_sets_the_seminars_pace_when_creating_the_game(players: Callable[[str], Player]) -> None:
    from playwright.sync_api import expect

    white = players("facilitator")
    page = white.page
    listed = next(s for s in page.request.get(f"{white.base_url}/api/scenarios").json() if s["id"] == "baltic-demo")
    minutes = {p["name"]: p["minutes"] for p in listed["phases"]}
    assert minutes["briefing"] < 2, "the pace set below lengthens the briefing"

    page.goto(f"{white.base_url}/#/")
    page.locator("input[name=scenario][value=baltic-demo]").check()
    pace = page.get_by_test_id("pace")
    expect(pace.locator("summary")).to_contain_text(f"{round(sum(minutes.values()))} min a round")
    pace.locator("summary").click()
    pace.get_by_label("briefing").fill("2")
    pace.get_by_label("council").fill("20")
    round_minutes = round(sum((minutes | {"briefing": 2, "council": 20}).values()))
    expect(pace.locator("summary")).to_contain_text(f"{round_minutes} min a round")
    pace.get_by_label("Rounds").fill("2")
    expect(pace.locator("summary")).to_contain_text("for 2 rounds")
    expect(pace).to_contain_text("The scenario's events of round 3 are left out.")
    white.shot("lobby-pace")
    page.get_by_label("Facilitator name").fill("White Cell")
    page.get_by_role("button", name="Create game as facilitator").click()
    white.connected()

    page.get_by_role("button", name="Start the exercise").click()
    white.wait_phase("briefing")
    assert 60 < white.seconds_left() <= 120, "two minutes of briefing, not the scenario's"
    expect(white.page.get_by_test_id("phase")).to_contain_text("Round 1 of 2")
    assert white.errors == []


def _minutes(text: str) -> int:
    """The minutes of play a console's estimate names ("... in about 1 h 5 min, ...", "1 h", "17 min of play left")."""
    found = re.search(r"(\d+) h(?: (\d+) min)?|(\d+) min", text)
    assert found, text
    return int(found[1] or 0) * 60 + int(found[2] or found[3] or 0)


def test_the_facilitator_adds_a_round_during_play_and_every_seat_sees_it(players: Callable[[str], Player]) -> None:
    from playwright.sync_api import expect

    white = players("facilitator")
    code = white.create_game("baltic-demo")
    est = players("EST")
    est.join(code, "delegation", "Kaja", member="EST")
    white.page.get_by_role("button", name="Start the exercise").click()
    est.wait_phase("Round 1 of 3")
    listed = next(
        s for s in white.page.request.get(f"{white.base_url}/api/scenarios").json() if s["id"] == "baltic-demo"
    )
    round_minutes = sum(p["minutes"] for p in listed["phases"])
    left = white.page.get_by_test_id("play-left")
    expect(left).to_contain_text("At this pace the exercise ends in about")
    assert abs(_minutes(left.inner_text()) - 3 * round_minutes) <= 1, (left.inner_text(), round_minutes)

    rounds = white.page.get_by_label("Rounds in the exercise")
    set_rounds = white.page.get_by_role("button", name="Set", exact=True)
    expect(set_rounds).to_be_disabled()  # nothing to change yet
    rounds.fill("4")
    set_rounds.click()
    est.wait_phase("Round 1 of 4")
    status = white.page.get_by_test_id("status").locator("..")
    expect(status).to_contain_text("round 1 of 4")
    assert abs(_minutes(left.inner_text()) - 4 * round_minutes) <= 1, (left.inner_text(), round_minutes)
    rounds.fill("2")
    expect(white.page.get_by_text("The scenario's events of the rounds cut are not delivered.")).to_be_visible()
    set_rounds.click()
    est.wait_phase("Round 1 of 2")
    expect(est.page.get_by_test_id("news")).to_contain_text("The exercise now runs 2 rounds instead of 4.")
    expect(status).to_contain_text("round 1 of 2")
    white.page.get_by_role("button", name="Pause").click()
    expect(left).to_contain_text("of play left at this pace, once play resumes.")
    assert abs(_minutes(left.inner_text()) - 2 * round_minutes) <= 1, (left.inner_text(), round_minutes)
    assert white.errors == [] and est.errors == []


def test_delegations_say_they_are_done_and_the_phase_ends_when_all_are(players: Callable[[str], Player]) -> None:
    """Each head of delegation says when its delegation is done with the phase (and may take it back); the console
    counts them, the deputy sees it; with "End a phase as soon as every delegation is done" ticked, the last one to
    say so ends the phase for everyone, and the room reads why."""
    from playwright.sync_api import expect

    white = players("facilitator")
    code = white.create_game()
    est, kai, pol = players("EST"), players("EST deputy"), players("POL")
    est.join(code, "delegation", "Kaja", member="EST")
    kai.join(code, "delegation", "Kai", member="EST")
    pol.join(code, "delegation", "Ola", member="POL")
    early = white.page.get_by_label("End a phase as soon as every delegation is done")
    expect(early).not_to_be_checked()  # chosen before the start or during play
    expect(white.page.get_by_test_id("done-so-far")).to_have_count(0)
    white.page.get_by_role("button", name="Start the exercise").click()
    pol.wait_phase("briefing")
    tally = white.page.get_by_test_id("done-so-far")
    expect(tally).to_have_text("Done with this phase: 0 of 2 delegations.")
    expect(kai.page.get_by_test_id("done")).to_have_count(0)  # the head says it, not the deputy

    est.page.get_by_role("button", name="Done with this phase (0 of 2 delegations done)").click()
    expect(tally).to_have_text("Done with this phase: 1 of 2 delegations (Estonia).")
    expect(white.page.locator("[data-seat]", has=white.page.get_by_test_id("seat-done"))).to_contain_text("Kaja")
    expect(kai.page.get_by_test_id("done")).to_have_text("✓ Done")
    taken_back = est.page.get_by_role("button", name=re.compile(r"press to take it back"))
    expect(taken_back).to_have_text("✓ Done")
    est.shot("done-with-phase")
    taken_back.click()
    expect(tally).to_have_text("Done with this phase: 0 of 2 delegations.")
    expect(kai.page.get_by_test_id("done")).to_have_count(0)

    early.click()
    expect(early).to_be_checked()
    expect(early).to_be_enabled()  # the server's answer is in
    for player in (est, pol):
        player.page.get_by_role("button", name=re.compile(r"^Done with this phase")).click()
    for player in (white, est, kai, pol):
        player.wait_phase("deliberation")
    expect(pol.announcement("Every delegation was done with the briefing phase, which ended early.")).to_be_visible()
    expect(tally).to_have_text("Done with this phase: 0 of 2 delegations.")  # a new phase: nobody is done with it
    white.shot("done-so-far")
    assert all(p.errors == [] for p in (white, est, kai, pol))
