"""Secret national objectives (baltic-hybrid has them): a delegation sees its own, never another's; the
white cell's all-seeing view shows every one. Private messages between others never reach a delegation."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.players import Player, objectives

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def test_a_delegation_sees_only_its_own_secrets(players: Callable[[str], Player]) -> None:
    from playwright.sync_api import expect

    secrets = objectives("baltic-hybrid")
    assert secrets["EST"] and secrets["POL"], "baltic-hybrid gives Estonia and Poland objectives"
    white = players("facilitator")
    code = white.create_game("baltic-hybrid")
    est, pol = players("EST"), players("POL")
    est.join(code, "delegation", "Kaja", member="EST")
    pol.join(code, "delegation", "Piotr", member="POL")
    white.page.get_by_role("button", name="Start the exercise").click()
    est.wait_phase("briefing")

    private = "POL to LVA only: our brigade could move north."
    pol.tab("Messages")
    pol.page.get_by_role("button", name="Bilateral: Latvia").click()
    expect(pol.page.get_by_test_id("recipients")).to_have_text("To: Latvia only (private)")
    pol.page.get_by_label("Message").fill(private)
    pol.page.get_by_role("button", name="Send").click()
    expect(pol.page.get_by_test_id("thread")).to_contain_text(private)

    est.tab("Dashboard")
    listed = est.page.get_by_test_id("objectives")
    for text in secrets["EST"]:
        expect(listed).to_contain_text(text)
    est.shot("secret-objectives")
    seen = est.text_on_every_tab()
    for member, texts in secrets.items():
        for text in texts if member != "EST" else ():
            assert text not in seen, f"Estonia sees {member}'s secret objective {text!r}"
    assert private not in seen

    white.tab("All seats")
    table = white.page.locator("table.members")
    for texts in secrets.values():
        for text in texts:
            expect(table).to_contain_text(text)
    for p in (white, est, pol):
        assert p.errors == [], (p.name, p.errors)
