"""A delegation's screens offer what its treaty has: the council's procedures and the kinds of decision it takes, a
formal request for assistance where collective defence waits for one (CSTO), and a unilateral invocation where the
victim invokes alone (EU Art. 42(7))."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.browser.players import Player
from tests.integration.test_server import OWN_SCENARIO

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

ALL_KINDS = ["joint statement", "deploy forces", "sanctions", "common funding", "invoke collective defence"]


def _game_under(white: Player, ruleset: str, tmp_path: Path) -> str:
    """A game of the demo scenario under another treaty, from a scenario file; returns its join code."""
    path = tmp_path / f"{ruleset}.yaml"
    path.write_text(OWN_SCENARIO.replace("ruleset: nato", f"ruleset: {ruleset}", 1), encoding="utf-8")
    return white.create_game_from_file(path)


@pytest.mark.parametrize(
    ("scenario", "member", "procedures", "kinds", "assistance", "invoke"),
    [
        ("baltic-demo", "EST", ["consensus", "silence"], ALL_KINDS, False, False),  # NATO
        ("csto", "EST", ["consensus"], ALL_KINDS, True, False),
        ("eu-solidarity", "FRA", ["consensus", "silence"], ALL_KINDS[:4], False, True),  # EU Art. 42(7)
    ],
)
def test_a_delegation_is_offered_what_its_treaty_has(
    players: Callable[[str], Player],
    tmp_path: Path,
    scenario: str,
    member: str,
    procedures: list[str],
    kinds: list[str],
    assistance: bool,
    invoke: bool,
) -> None:
    from playwright.sync_api import expect

    white = players("facilitator")
    code = _game_under(white, scenario, tmp_path) if scenario == "csto" else white.create_game(scenario)
    delegation = players(member)
    delegation.join(code, "delegation", "Head", member=member)
    white.page.get_by_role("button", name="Start the exercise").click()
    delegation.wait_phase("briefing")
    expect(delegation.page.get_by_text("opens in the deliberation and commitments phases")).to_be_visible()
    white.page.get_by_role("button", name="End the briefing phase now").click()
    delegation.wait_phase("deliberation")
    page = delegation.page

    request = page.get_by_role("button", name="Request assistance from allies")
    if assistance:
        request.click()
        expect(page.get_by_text("Estonia has requested assistance from its allies.")).to_be_visible()
    else:
        expect(page.get_by_role("heading", name="Assistance")).to_have_count(0)
        expect(request).to_have_count(0)

    delegation.tab("Council")
    form = page.get_by_test_id("table-form")
    expect(form.get_by_label("Procedure").locator("option")).to_have_text(procedures)
    expect(form.get_by_label("Kind").locator("option")).to_have_text(kinds)
    expect(page.get_by_role("button", name="Invoke collective defence")).to_have_count(1 if invoke else 0)
    assert not (white.errors or delegation.errors)
