"""Secret national objectives and briefs (baltic-hybrid has them): a delegation sees its own, never another's; the
white cell's all-seeing view shows every one. Private messages between others never reach a delegation."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.players import Player, briefing, objectives

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def test_a_delegation_sees_only_its_own_secrets(players: Callable[[str], Player]) -> None:
    from playwright.sync_api import expect

    secrets = objectives("baltic-hybrid")
    assert secrets["EST"] and secrets["POL"], "baltic-hybrid gives Estonia and Poland objectives"
    situation, briefs = briefing("baltic-hybrid")
    assert situation and briefs["EST"] and briefs["POL"], "baltic-hybrid has a situation and briefs"
    white = players("facilitator")
    code = white.create_game("baltic-hybrid")
    est, pol = players("EST"), players("POL")
    est.join(code, "delegation", "Kaja", member="EST")
    pol.join(code, "delegation", "Piotr", member="POL")
    white.page.get_by_role("button", name="Start the exercise").click()
    est.wait_phase("briefing")

    private = "POL to LVA only: our brigade could move north."
    pol.write("Bilateral: Latvia", "To: Latvia only (private)", private)

    est.tab("Dashboard")
    listed = est.page.get_by_test_id("objectives")
    for text in secrets["EST"]:
        expect(listed).to_contain_text(text)
    expect(est.page.get_by_test_id("brief")).to_contain_text(briefs["EST"])
    expect(est.page.get_by_test_id("situation")).to_contain_text(situation)
    est.shot("secret-objectives")
    seen = est.text_on_every_tab()
    for member, texts in secrets.items():
        for text in texts if member != "EST" else ():
            assert text not in seen, f"Estonia sees {member}'s secret objective {text!r}"
    for member, text in briefs.items():
        assert (text in seen) == (member == "EST"), f"Estonia and {member}'s brief"
    assert private not in seen

    white.tab("All seats")
    table = white.page.locator("table.members")
    for texts in secrets.values():
        for text in texts:
            expect(table).to_contain_text(text)
    for text in briefs.values():
        expect(white.page.get_by_role("region", name="Briefs")).to_contain_text(text)
    for p in (white, est, pol):
        assert p.errors == [], (p.name, p.errors)


def test_a_delegation_asks_the_white_cell_and_only_it_reads_the_answer(players: Callable[[str], Player]) -> None:
    """A question for the control cell goes in the delegation's White cell channel; the facilitator's Messages tab
    counts it "to answer" until it is answered, and the answer in White cell ↔ Estonia reaches Estonia's players and
    nobody else."""
    from playwright.sync_api import expect

    white = players("facilitator")
    code = white.create_game()
    est, kai, pol = players("EST"), players("EST deputy"), players("POL")
    est.join(code, "delegation", "Kaja", member="EST")
    kai.join(code, "delegation", "Kai", member="EST")
    pol.join(code, "delegation", "Piotr", member="POL")
    white.page.get_by_role("button", name="Start the exercise").click()
    est.wait_phase("briefing")

    question = "May we assume Estonian airspace is closed to civil traffic?"
    est.write("White cell", "To: the white cell only (private)", question)

    expect(white.page.get_by_test_id("news-messages")).to_have_text("1 to answer")
    white.tab("Messages")
    channel = white.page.get_by_role("button", name="White cell ↔ Estonia")
    expect(channel).to_contain_text("1 new")
    channel.click()
    expect(white.page.get_by_test_id("thread")).to_contain_text(question)
    expect(white.page.get_by_test_id("news-messages")).to_have_text("1 to answer")  # read, not answered yet
    answer = "Yes: closed since 06:00 by the Estonian authorities."
    white.write("White cell ↔ Estonia", "To: Estonia only (private)", answer)
    expect(white.page.get_by_test_id("news-messages")).to_have_count(0)
    white.shot("white-cell-channel")
    # Elsewhere the white cell reads, and is told where it writes.
    white.page.get_by_role("button", name="Alliance (everyone)").click()
    expect(white.page.get_by_label("Message")).to_have_count(0)

    for player in (est, kai):
        player.tab("Messages")
        player.page.get_by_role("button", name="White cell").click()
        thread = player.page.get_by_test_id("thread")
        expect(thread).to_contain_text(question)
        expect(thread).to_contain_text(answer)
        expect(thread.get_by_test_id("message").last).to_contain_text("White cell · White Cell → Estonia")
    seen = pol.text_on_every_tab()
    assert question not in seen and answer not in seen
    for p in (white, est, kai, pol):
        assert p.errors == [], (p.name, p.errors)
