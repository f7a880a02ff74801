"""A seminar room of twenty: the facilitator, three players for each of baltic-demo's six member states and an
observer, each in a browser of their own, on one server.  Everyone is seen online, every screen follows the
phases, a council round is played with several players at one delegation's table, and every screen shows
its outcome and the white cell's announcement; no page logs an error."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.players import Player

pytestmark = [pytest.mark.browser, pytest.mark.timeout(400)]

MEMBERS = ("USA", "DEU", "FRA", "POL", "EST", "LTU")
PLAYERS_PER_MEMBER = 3
STATEMENT = "The Council stands with Estonia and Lithuania and condemns the incursions."
ANNOUNCEMENT = "The council's statement goes to the press at noon."


def test_a_room_of_twenty_plays_a_council_round(players: Callable[[str], Player]) -> None:
    from playwright.sync_api import expect

    white = players("facilitator")
    code = white.create_game("baltic-demo")
    tables: dict[str, list[Player]] = {member: [] for member in MEMBERS}
    for n in range(PLAYERS_PER_MEMBER):
        for member in MEMBERS:
            player = players(f"{member}-{n + 1}")
            player.join(code, "delegation", f"{member} delegate {n + 1}", member=member)
            tables[member].append(player)
    observer = players("observer")
    observer.join(code, "observer", "Olli")
    delegates = [player for table in tables.values() for player in table]
    room = [white, *delegates, observer]
    assert len(room) == 20
    expect(white.page.get_by_test_id("online")).to_have_text("20 of 20 online")
    # The console lists each delegation's players together, in the scenario's order, whatever order they came in.
    seated = white.page.get_by_test_id("seats").locator("tbody tr td:first-child").all_inner_texts()
    names = ["United States", "Germany", "France", "Poland", "Estonia", "Lithuania"]
    assert seated == ["Facilitator", *[name for name in names for _ in range(PLAYERS_PER_MEMBER)], "Observer"]

    white.page.get_by_role("button", name="Start the exercise").click()
    for player in room:
        player.wait_phase("Round 1 of 3 · briefing")
    white.page.get_by_role("button", name="End the briefing phase now").click()
    white.wait_phase("deliberation")
    white.page.get_by_role("button", name="End the deliberation phase now").click()
    for player in room:
        player.wait_phase("council")

    # Estonia's first delegate tables the statement; each other member's last delegate concurs for it.
    for player in [*delegates, observer]:
        player.tab("Council")
    tables["EST"][0].table_proposal(kind="joint_statement", procedure="consensus", text=STATEMENT)
    for member in MEMBERS:
        if member != "EST":
            proposal = tables[member][-1].proposal("P1")
            proposal.get_by_role("button", name="Concur", exact=True).click()
            expect(proposal.locator(f"tr[data-member={member}]")).to_contain_text("concurs")
    for player in [*delegates, observer]:  # every seat at every table sees every member's position
        for member in MEMBERS:
            expect(player.proposal("P1").locator(f"tr[data-member={member}]")).to_contain_text("concurs")

    white.page.get_by_role("button", name="End the council phase now").click()
    for player in [*delegates, observer]:
        player.wait_phase("commitments")
        expect(player.proposal("P1").get_by_test_id("outcome")).to_have_text("adopted")
    tables["EST"][1].shot("twenty-council-adopted")

    white.page.get_by_label("Announcement to every seat").fill(ANNOUNCEMENT)
    white.page.get_by_role("button", name="Broadcast to all").click()
    for player in [*delegates, observer]:
        player.tab("Record" if player is observer else "Dashboard")
        expect(player.page.get_by_text(ANNOUNCEMENT)).to_be_visible()
    white.shot("twenty-facilitator-console")
    for player in room:
        assert player.errors == [], (player.name, player.errors)
