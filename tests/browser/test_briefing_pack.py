"""The briefing pack prints what a seminar hands out on paper: the situation, then a page for each delegation (its
figures, its capital's brief, its secret objectives) and one for the red cell.  A delegation's pack holds its own
page alone."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.players import Player, briefing, objectives

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def test_the_white_cell_prints_a_page_for_each_delegation_and_a_delegation_its_own(
    players: Callable[[str], Player],
) -> None:
    from playwright.sync_api import expect

    situation, briefs = briefing("baltic-hybrid")
    secrets = objectives("baltic-hybrid")
    white = players("facilitator")
    code = white.create_game("baltic-hybrid")
    est = players("EST")
    est.join(code, "delegation", "Kaja", member="EST")

    white.tab("All seats")
    with white.context.expect_page() as opened:
        white.page.get_by_role("link", name="Print the briefing pack").click()
    pack = opened.value
    pages = pack.get_by_test_id("pack-delegation")
    expect(pages).to_have_count(len(secrets))
    expect(pack.locator("main")).to_contain_text(situation)
    for texts, page in zip(secrets.values(), pages.all(), strict=True):
        for objective in texts:
            expect(page).to_contain_text(objective)
    for member, brief in briefs.items():
        red = member == "adversary"
        owner = pack.get_by_test_id("pack-red-cell") if red else pack.locator(f"section:has(#pack-{member})")
        expect(owner).to_contain_text(brief)
    pack.emulate_media(media="print")
    expect(pack.get_by_role("button", name="Print")).to_be_hidden()
    breaks = pack.locator("section.page").evaluate_all("(s) => s.map((e) => getComputedStyle(e).breakAfter)")
    assert breaks == ["page"] * (len(breaks) - 1) + ["auto"], breaks
    pdf = pack.pdf(format="A4")
    printed = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert printed >= len(breaks), f"{printed} pages printed for {len(breaks)} sections"

    est.tab("Dashboard")
    with est.context.expect_page() as opened:
        est.page.get_by_role("region", name="Estonia's brief").get_by_role("link", name="Print it").click()
    own = opened.value
    expect(own.get_by_test_id("pack-delegation")).to_have_count(1)
    expect(own.get_by_test_id("pack-delegation")).to_contain_text(briefs["EST"])
    shown = own.locator("main").inner_text()
    for member, brief in briefs.items():
        assert (brief in " ".join(shown.split())) == (member == "EST"), member
    for p in (white, est):
        assert p.errors == [], (p.name, p.errors)
