"""A facilitator brings a scenario file of their own to the lobby: a broken one is refused with its problems, a good
one is played."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.browser.players import Player
from tests.integration.test_server import OWN_SCENARIO

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def test_the_facilitator_creates_a_game_from_a_scenario_file(players: Callable[[str], Player], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    white = players("facilitator")
    page = white.page
    page.goto(f"{white.base_url}/#/")
    create = page.get_by_role("button", name="Create game as facilitator")
    broken = tmp_path / "broken.yaml"
    broken.write_text(OWN_SCENARIO.replace("ruleset: nato", "ruleset: warsaw-pact", 1), encoding="utf-8")
    page.get_by_label("Scenario file", exact=True).set_input_files(str(broken))
    expect(page.locator("input[name=scenario][value='(own file)']")).to_be_checked()
    create.click()
    refusal = page.locator("form", has=create).get_by_role("alert")
    expect(refusal).to_contain_text("This scenario file cannot be played: ruleset")
    white.shot("own-scenario-refused", full_page=False)

    good = tmp_path / "our-seminar.yaml"
    good.write_text(OWN_SCENARIO, encoding="utf-8")
    code = white.create_game_from_file(good)
    expect(page.get_by_role("banner")).to_contain_text("Our seminar: the Suwałki gap")
    est = players("EST")
    est.join(code, "delegation", "Kaja", member="EST")
    page.get_by_role("button", name="Start the exercise").click()
    est.wait_phase("briefing")
    # The browser reports the refused upload's 422 on its console; nothing else may go wrong.
    assert [e for e in white.errors if "status of 422" not in e] == [] and not est.errors
