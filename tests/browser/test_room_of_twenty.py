"""A seminar room of twenty: the facilitator, three players for each of baltic-demo's six member states and an
observer, each in a browser of their own, on one server.  Everyone is seen online, every screen follows the
phases; the first player at each table heads its delegation and speaks for it in council until the facilitator
makes another player head; every screen shows the council's outcome and the white cell's announcement; no page
logs an error.  A player at the wrong table is shown out."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.players import Player

pytestmark = [pytest.mark.browser, pytest.mark.timeout(400)]

MEMBERS = ("USA", "DEU", "FRA", "POL", "EST", "LTU")
PLAYERS_PER_MEMBER = 3
STATEMENT = "The Council stands with Estonia and Lithuania and condemns the incursions."
ANNOUNCEMENT = "The council's statement goes to the press at noon."
WITHIN = "Kaja, shall we offer air defence units at the commitments phase?"


def test_a_room_of_twenty_plays_a_council_round(players: Callable[[str], Player]) -> None:
    from playwright.sync_api import expect

    white = players("facilitator")
    code = white.create_game("baltic-demo")
    tables: dict[str, list[Player]] = {member: [] for member in MEMBERS}
    for n in range(PLAYERS_PER_MEMBER):
        for member in MEMBERS:
            player = players(f"{member}-{n + 1}")
            player.find_game(code)
            if n == 1:  # the join page says who already plays the member chosen
                player.page.get_by_label("Member state").select_option(member)
                hint = player.page.get_by_test_id("table-hint")
                expect(hint).to_contain_text(f"{member} delegate 1 already plays")
            player.take_seat("delegation", f"{member} delegate {n + 1}", member=member)
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

    # The first player at each table heads it: Estonia's tables the statement; the others' may not speak.
    for player in [*delegates, observer]:
        player.tab("Council")
    tables["EST"][0].table_proposal(kind="joint_statement", procedure="consensus", text=STATEMENT)
    first, last = tables["POL"][0], tables["POL"][-1]
    expect(last.page.get_by_test_id("head-note")).to_contain_text("POL delegate 1 heads the delegation of Poland")
    expect(last.proposal("P1")).to_be_visible()
    expect(last.proposal("P1").get_by_role("button", name="Concur", exact=True)).to_have_count(0)

    # The facilitator hands Poland's voice to its third player, who concurs for Poland; its first player now defers.
    white.tab("Control")
    white.page.get_by_role("button", name="Make POL delegate 3 head of the delegation of Poland").click()
    expect(white.page.get_by_test_id("seats").locator("tr", has_text="POL delegate 3")).to_contain_text("head")
    expect(last.page.get_by_test_id("head-note")).to_have_count(0)
    expect(last.page.get_by_test_id("who")).to_have_text("Poland delegation, head · POL delegate 3")
    expect(first.page.get_by_test_id("head-note")).to_contain_text("POL delegate 3 heads the delegation of Poland")
    first.shot("twenty-delegate-council")
    heads = {member: table[-1] if member == "POL" else table[0] for member, table in tables.items()}
    for member, head in heads.items():
        if member != "EST":
            proposal = head.proposal("P1")
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

    # Estonia's players confer among themselves; every message is signed by its player.
    est = tables["EST"]
    est[1].tab("Messages")
    est[1].page.get_by_role("button", name="Own delegation").click()
    expect(est[1].page.get_by_test_id("recipients")).to_have_text("To: your own delegation only (internal)")
    est[1].page.get_by_label("Message").fill(WITHIN)
    est[1].page.get_by_role("button", name="Send").click()
    for player in est:
        player.tab("Messages")
        player.page.get_by_role("button", name="Own delegation").click()
        signed = player.page.get_by_test_id("message").filter(has_text=WITHIN)
        expect(signed).to_contain_text("Estonia · EST delegate 2")
    est[2].shot("twenty-own-delegation")
    white.tab("Messages")
    white.page.get_by_role("button", name="Estonia delegation (within)").click()
    expect(white.page.get_by_test_id("thread")).to_contain_text(WITHIN)
    tables["LTU"][1].tab("Messages")
    expect(tables["LTU"][1].page.get_by_role("button", name="Estonia delegation (within)")).to_have_count(0)
    tables["LTU"][1].page.get_by_role("button", name="Own delegation").click()
    expect(tables["LTU"][1].page.get_by_text(WITHIN)).to_have_count(0)

    white.tab("Control")
    white.page.get_by_label("Announcement to every seat").fill(ANNOUNCEMENT)
    white.page.get_by_role("button", name="Broadcast to all").click()
    for player in [*delegates, observer]:
        expect(player.page.get_by_test_id("news")).to_contain_text(ANNOUNCEMENT)  # on whatever tab is open
        player.tab("Record" if player is observer else "Dashboard")
        expect(player.announcement(ANNOUNCEMENT)).to_be_visible()

    # A player who sat down at the wrong table is shown out; the rest of the room plays on.
    wrong = tables["LTU"][-1]
    white.page.get_by_label("More for LTU delegate 3's seat").click()
    white.page.get_by_role("button", name="Remove LTU delegate 3's seat").click()
    expect(white.page.get_by_test_id("remove")).to_contain_text("Remove LTU delegate 3 (Lithuania) from the game?")
    white.page.get_by_role("button", name="Remove the seat").click()
    expect(white.page.get_by_test_id("online")).to_have_text("19 of 19 online")
    expect(white.page.get_by_test_id("seats").locator("tr", has_text="LTU delegate 3")).to_have_count(0)
    expect(wrong.page.get_by_test_id("connection")).to_have_text("Refused")
    expect(wrong.page.get_by_role("alert")).to_contain_text("the facilitator released this seat")
    white.shot("twenty-facilitator-console")
    for player in room:
        assert player.errors == [], (player.name, player.errors)
