"""The red cell plays the adversary from the browser: it reads its brief, sees its ladder and repertoire, and makes
its move."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.players import Player, briefing

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def test_the_red_cell_climbs_the_ladder_with_an_inject_from_its_repertoire(players: Callable[[str], Player]) -> None:
    from playwright.sync_api import expect

    white = players("facilitator")
    code = white.create_game()
    pol = players("POL")
    pol.join(code, "delegation", "Marek", member="POL")
    red = players("red")
    red.join(code, "red_cell", "Ivan")
    console = white.page
    console.get_by_role("button", name="Start the exercise").click()
    for phase in ("briefing", "deliberation", "council", "commitments"):
        red.wait_phase(phase)
        expect(red.page.get_by_test_id("news-record")).to_have_count(0)  # nothing to do before adjudication
        console.get_by_role("button", name=f"End the {phase} phase now").click()
    red.wait_phase("adjudication")
    adversary = briefing("baltic-demo")[1]["adversary"]
    expect(red.page.get_by_role("region", name="Russia's brief")).to_contain_text(adversary)
    expect(red.page.get_by_test_id("news-record")).to_have_text("1 to move")

    move = red.page.get_by_role("region", name="Russia's move")
    ladder = move.get_by_role("list", name="Escalation ladder")
    expect(ladder.get_by_role("listitem")).to_have_text(["competition", "airspace probing", "drone incursions"])
    expect(ladder.locator("[aria-current=step]")).to_have_text("airspace probing")
    move.get_by_label("Change").select_option("1")
    injects = move.get_by_label("Inject with the move")
    expect(injects.locator("optgroup[label='Listed for drone incursions'] option")).to_have_text(
        ["About nineteen drones cross into Polish airspace (airspace violation, severity 3)"]
    )
    injects.select_option("drones-poland")
    red.shot("red-cell-move", full_page=False)
    move.get_by_role("button", name="Make the move").click()

    expect(ladder.locator("[aria-current=step]")).to_have_text("drone incursions")
    expect(red.page.get_by_test_id("news-record")).to_have_count(0)
    expect(pol.page.get_by_test_id("inject").first).to_contain_text("About nineteen drones cross into Polish airspace")
    expect(pol.page.get_by_role("list", name="Escalation ladder")).to_have_count(0)
    assert adversary not in pol.text_on_every_tab()
    assert not (white.errors or pol.errors or red.errors)
