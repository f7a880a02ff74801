"""The MSEL on the console: what the scenario delivers by itself, when, and what it expects of the players; what
has been delivered and what comes next."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.players import Player

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def test_the_white_cell_sees_what_the_msel_has_delivered_and_what_comes_next(players: Callable[[str], Player]) -> None:
    from playwright.sync_api import expect

    white = players("facilitator")
    white.create_game()
    entries = white.page.get_by_test_id("msel").get_by_test_id("msel-entry")
    expect(entries).to_have_count(2)
    expect(entries.nth(0)).to_contain_text("#1 · round 1, briefing next")
    expect(entries.nth(0)).to_contain_text("Expected: Estonia requests Article 4 consultation")
    expect(entries.nth(1)).to_contain_text("#2 · round 2, briefing later")

    white.page.get_by_role("button", name="Start the exercise").click()
    white.wait_phase("briefing")
    expect(entries.nth(0)).to_contain_text("delivered")
    expect(entries.nth(1)).to_contain_text("next")
    white.shot("msel-console")
    assert white.errors == []
