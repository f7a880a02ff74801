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


def test_the_white_cell_rules_on_a_national_action_proposed_while_it_looked_elsewhere(
    players: Callable[[str], Player],
) -> None:
    from playwright.sync_api import expect

    white = players("facilitator")
    code = white.create_game()
    est = players("EST")
    est.join(code, "delegation", "Kaja", member="EST")
    white.page.get_by_role("button", name="Start the exercise").click()
    white.page.get_by_role("button", name="End the briefing phase now").click()
    est.wait_phase("deliberation")

    white.tab("Council")
    est.page.get_by_label("Action", exact=True).fill(ACTION)
    est.page.get_by_role("button", name="Propose action").click()
    expect(est.page.get_by_text(f"{ACTION} — awaiting ruling")).to_be_visible()
    expect(white.page.get_by_test_id("news-control")).to_have_text("1 to rule on")
    expect(white.page).to_have_title(re.compile(r"^\(1\) .+ \u2013 play$"))  # seen from another browser tab too

    white.tab("Control")
    ruling = white.page.locator("li.ruling", has_text=ACTION)
    expect(ruling).to_contain_text("Estonia (round 1)")
    ruling.get_by_label("Note for A1").fill(NOTE)
    ruling.get_by_role("button", name="modified").click()
    expect(ruling).to_contain_text(f"modified: {NOTE}")
    expect(white.page.get_by_test_id("news-control")).to_have_count(0)
    expect(white.page).to_have_title(re.compile(r"^[^(].* \u2013 play$"))
    expect(est.page.get_by_text(f"{ACTION} — modified: {NOTE}")).to_be_visible()
    assert white.errors == [] and est.errors == []
