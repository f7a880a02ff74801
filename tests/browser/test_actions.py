"""Free-form national actions: a delegation proposes what the rules do not cover, the white cell rules on it with
a note, and the delegation reads the ruling.  The console's tab says that an action waits for a ruling."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.browser.players import Player

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

ACTION = "Estonia closes its airspace to civilian traffic from the east."
NOTE = "Closed to state aircraft only."


def in_deliberation(players: Callable[[str], Player]) -> tuple[Player, Player]:
    """The white cell and Estonia's delegation, in round 1's deliberation, where actions are proposed."""
    white = players("facilitator")
    code = white.create_game()
    est = players("EST")
    est.join(code, "delegation", "Kaja", member="EST")
    white.page.get_by_role("button", name="Start the exercise").click()
    white.page.get_by_role("button", name="End the briefing phase now").click()
    est.wait_phase("deliberation")
    return white, est


def test_the_white_cell_rules_on_a_national_action_proposed_while_it_looked_elsewhere(
    players: Callable[[str], Player],
) -> None:
    from playwright.sync_api import expect

    white, est = in_deliberation(players)

    white.tab("Council")
    est.page.get_by_label("Action", exact=True).fill(ACTION)
    est.page.get_by_role("button", name="Propose action").click()
    expect(est.page.get_by_text(f"{ACTION} — awaiting ruling")).to_be_visible()
    expect(white.page.get_by_test_id("news-control")).to_have_text("1 to rule on")
    expect(white.page).to_have_title(re.compile(r"^\(1\) .+ \u2013 play$"))  # seen from another browser tab too

    white.tab("Control")
    est.tab("Council")  # looking elsewhere when the ruling comes
    ruling = white.page.locator("li.ruling", has_text=ACTION)
    expect(ruling).to_contain_text("Estonia (round 1)")
    ruling.get_by_label("Note for A1").fill(NOTE)
    ruling.get_by_role("button", name="modified").click()
    expect(ruling).to_contain_text(f"modified: {NOTE}")
    expect(white.page.get_by_test_id("news-control")).to_have_count(0)
    expect(white.page).to_have_title(re.compile(r"^[^(].* \u2013 play$"))
    expect(est.page.get_by_test_id("news-dashboard")).to_have_text("1 new")
    est.tab("Dashboard")
    expect(est.page.get_by_text(f"{ACTION} — modified: {NOTE}")).to_be_visible()
    expect(est.page.get_by_test_id("news-dashboard")).to_have_count(0)
    assert white.errors == [] and est.errors == []


def test_the_white_cell_rates_a_matrix_argument_and_a_die_decides_it(players: Callable[[str], Player]) -> None:
    from playwright.sync_api import expect

    white, est = in_deliberation(players)

    est.page.get_by_label("Action", exact=True).fill(ACTION)
    result, reasons = "no airliner is caught in an incursion", "the incursions follow one corridor"
    est.page.get_by_label("Result expected (optional)").fill(result)
    est.page.get_by_label("Reasons (optional)").fill(reasons)
    est.page.get_by_role("button", name="Propose action").click()
    argued = f"{ACTION.rstrip('.')}, so that {result}, because {reasons}"
    expect(est.page.get_by_test_id("actions")).to_contain_text(f"{argued} — awaiting ruling")

    action = white.page.get_by_test_id("action-A1")
    expect(action).to_contain_text(argued)
    action.get_by_label("Argument for A1").select_option("strong")
    action.get_by_role("button", name="Roll a die for A1").click()
    dice = action.get_by_test_id("dice")
    expect(dice).to_contain_text(re.compile(r"strong argument, 3\+ needed: rolled [1-6]"))
    rolled = int(re.search(r"rolled ([1-6])", dice.inner_text()).group(1))  # type: ignore[union-attr]
    decided = "accepted" if rolled >= 3 else "rejected"
    expect(action.get_by_test_id("ruling")).to_have_text(decided)
    expect(action.get_by_role("button", name="Roll a die for A1")).to_have_count(0)  # thrown once
    expect(est.page.get_by_test_id("actions").get_by_test_id("dice")).to_contain_text(f"rolled {rolled}")
    expect(est.page.get_by_test_id("actions").get_by_test_id("ruling")).to_have_text(decided)

    overruled = "rejected" if decided == "accepted" else "accepted"
    action.get_by_role("button", name=overruled).click()
    expect(action.get_by_test_id("ruling")).to_have_text(overruled)
    expect(est.page.get_by_test_id("actions").get_by_test_id("dice")).to_contain_text("overruled")
    white.shot("matrix-argument")
    assert white.errors == [] and est.errors == []
