"""The facilitator sees who is connected and hands a seat to someone else: the new player opens a one-time
link and plays that seat; the old player's browser is refused; the credential never stays in the address."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.browser.players import Player

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def test_the_facilitator_reassigns_a_seat_by_link(players: Callable[[str], Player]) -> None:
    from playwright.sync_api import expect

    white = players("facilitator")
    code = white.create_game()
    game_id = white.page.url.split("/game/")[1].split("/")[0]
    est = players("EST")
    est.join(code, "delegation", "Kaja", member="EST")
    pol = players("POL")
    pol.join(code, "delegation", "Piotr", member="POL")

    # The console is open on the server's own computer, and the server listens on loopback only: it says so.
    expect(white.page.get_by_test_id("join-address")).to_contain_text("wargame serve --host 0.0.0.0")

    seats = white.page.get_by_test_id("seats")
    kaja = seats.locator("tr", has_text="Kaja")
    expect(kaja).to_contain_text("online")
    pol.context.close()  # Poland's player leaves: the console shows it within a few seconds
    expect(seats.locator("tr", has_text="Piotr")).to_contain_text("offline")
    expect(white.page.get_by_test_id("online")).to_have_text("2 of 3 online")
    white.shot("seats-presence")

    kaja.get_by_label("More for Kaja's seat").click()
    kaja.get_by_role("button", name="Reassign Kaja's seat").click()
    white.page.get_by_label("New player for this seat").fill("Liis")
    white.page.get_by_role("button", name="Give the seat").click()
    handoff = white.page.get_by_test_id("handoff")
    expect(handoff).to_contain_text("Liis")
    link = white.page.get_by_label("Seat link").input_value()
    assert link.startswith(f"{white.base_url}/#/seat/{game_id}/"), link
    white.shot("seats-handoff")

    # The old player's browser no longer opens the seat, and says why.
    expect(est.page.get_by_test_id("connection")).to_have_text("Refused")
    expect(est.page.get_by_role("alert")).to_contain_text("the seat was given to another player")

    successor = players("EST-successor")
    successor.page.goto(link)
    successor.connected()
    expect(successor.page.get_by_test_id("who")).to_have_text("Estonia delegation · Liis")
    assert "/seat/" not in successor.page.url and link.rsplit("/", 1)[1] not in successor.page.url
    expect(seats.locator("tr", has_text="Liis")).to_contain_text("online")

    # A link that was never issued is refused in plain words.
    stranger = players("stranger")
    stranger.page.goto(f"{white.base_url}/#/seat/{game_id}/not-a-credential")
    expect(stranger.page.get_by_role("alert")).to_contain_text("credential")

    assert white.errors == [] and successor.errors == []


def test_bots_play_the_tables_nobody_in_the_room_plays(players: Callable[[str], Player]) -> None:
    from playwright.sync_api import expect

    white = players("facilitator")
    code = white.create_game()
    players("EST").join(code, "delegation", "Kaja", member="EST")
    seats = white.page.get_by_test_id("seats")
    open_tables = "No delegation yet: United States, Germany, France, Poland, Lithuania."
    expect(white.page.get_by_text(open_tables)).to_be_visible()
    white.page.get_by_role("button", name="Bots play the open tables").click()
    expect(white.page.get_by_test_id("online")).to_have_text("7 of 7 online")
    for name in ("United States", "Germany", "France", "Poland", "Lithuania"):
        expect(seats.locator("tr", has_text=f"{name} (bot)")).to_contain_text("online")
    expect(white.page.get_by_text("No delegation yet")).to_have_count(0)
    expect(white.page.get_by_role("button", name="Bots play the open tables")).to_have_count(0)
    white.shot("seats-bots")

    # A latecomer takes France over from its bot.
    pierre = players("FRA")
    pierre.find_game(code)
    pierre.page.get_by_label("Member state").select_option("FRA")
    expect(pierre.page.get_by_test_id("table-hint")).to_have_text("A bot plays France now: you take over from it.")
    pierre.take_seat("delegation", "Pierre", member="FRA")
    expect(seats.locator("tr", has_text="France (bot)")).to_have_count(0)
    expect(seats.locator("tr", has_text="Pierre")).to_contain_text("online")
    expect(white.page.get_by_test_id("online")).to_have_text("7 of 7 online")
    assert white.errors == [] and pierre.errors == []


def test_the_facilitator_deletes_a_game_nobody_needs_any_more(players: Callable[[str], Player]) -> None:
    from playwright.sync_api import expect

    white = players("facilitator")
    code = white.create_game()
    est = players("EST")
    est.join(code, "delegation", "Kaja", member="EST")
    console = white.page
    console.get_by_role("button", name="Delete this game…").click()
    expect(console.get_by_test_id("delete-game")).to_contain_text("Keep what you need first")
    with console.expect_download() as saving:
        console.get_by_role("button", name="Save the record (JSON)").click()
    record = json.loads(Path(saving.value.path()).read_text(encoding="utf-8"))
    assert record["events"][0]["event"]["type"] == "game_opened" and record["final_hash"]
    expect(console.get_by_test_id("saved")).to_contain_text(saving.value.suggested_filename)
    console.get_by_role("button", name="Delete it and everything stored of it").click()

    expect(console.get_by_role("heading", name="Alliance crisis wargame")).to_be_visible()
    expect(est.page.get_by_role("alert")).to_contain_text("the facilitator deleted this game")
    est.shot("deleted-game-player", full_page=False)
    stranger = players("stranger")
    stranger.page.goto(f"{white.base_url}/#/join/{code}")
    expect(stranger.page.get_by_role("alert")).to_be_visible()
    stranger.shot("deleted-game-join", full_page=False)
    assert white.errors == [] and est.errors == []


def test_the_console_opens_on_a_second_device_by_its_own_link(players: Callable[[str], Player]) -> None:
    from playwright.sync_api import expect

    white = players("facilitator")
    code = white.create_game()
    console = white.page
    link_field = console.get_by_test_id("console-link")
    expect(link_field).to_have_count(0)  # the link carries the credential: folded away until asked for
    console.get_by_text("Open this console on another device…").click()
    link = link_field.input_value()
    game_id = console.url.split("/game/")[1].split("/")[0]
    assert link.startswith(f"{white.base_url}/#/seat/{game_id}/"), link

    projector = players("projector")
    projector.page.goto(link)
    projector.connected()
    expect(projector.page.get_by_test_id("join-code")).to_have_text(code)
    assert "/seat/" not in projector.page.url
    projector.page.get_by_role("button", name="Start the exercise").click()
    expect(console.get_by_test_id("status")).to_have_text("running")
    assert not white.errors and not projector.errors, white.errors + projector.errors
