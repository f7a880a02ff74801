"""After a network drop the client shows it, refuses to send in plain words, reconnects by itself with
`since` = the last seq it saw, and catches up on what happened meanwhile."""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import WebSocketRoute

    from tests.browser.conftest import ThreadServer
    from tests.browser.players import Player

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]

# What Chromium itself logs while the network is down: its failed reconnection attempts, not the client's.
NETWORK_DOWN = re.compile(r"WebSocket connection to '.*' failed|net::ERR_INTERNET_DISCONNECTED")


def test_reconnects_with_since_after_a_network_drop(players: Callable[[str], Player], server: ThreadServer) -> None:
    from playwright.sync_api import expect

    white, est, game_id, hellos, seen = _started_with_estonia_watched(players)
    assert len(hellos) == 1 and "since" not in hellos[0]

    # The network goes: the socket is cut and new connections fail until it comes back.
    est.context.set_offline(True)
    last_seen = max(seen)
    seat_id = est.page.evaluate(f"() => JSON.parse(localStorage.getItem('wargame.seats'))['{game_id}'].seat_id")
    server.drop_connections(game_id, seat_id)
    expect(est.page.get_by_test_id("connection")).to_have_text("Reconnecting…")
    est.shot("reconnecting")

    # Sending now is answered next to the button, in plain words.
    est.tab("Messages")
    est.page.get_by_label("Message").fill("Can anyone hear us?")
    send = est.page.get_by_role("button", name="Send")
    send.click()
    expect(est.page.locator(".act", has=send).get_by_role("alert")).to_contain_text("Not connected")

    # Meanwhile the white cell broadcasts; Estonia must get it on its return.
    white.tab("Control")
    white.page.get_by_label("Announcement to every seat").fill("Ministers meet at noon.")
    white.page.get_by_role("button", name="Broadcast to all").click()
    expect(white.announcement("Ministers meet at noon.")).to_be_visible()

    est.context.set_offline(False)
    est.connected()
    assert len(hellos) >= 2
    assert hellos[-1]["since"] == last_seen
    expect(est.page.get_by_test_id("news")).to_contain_text("Ministers meet at noon.")  # missed while away
    est.tab("Dashboard")
    expect(est.announcement("Ministers meet at noon.")).to_be_visible()

    # Sending works again from the same control.
    est.tab("Messages")
    send.click()
    expect(est.page.get_by_test_id("thread")).to_contain_text("Can anyone hear us?")

    assert [e for e in est.errors if not NETWORK_DOWN.search(e)] == []
    assert white.errors == []


def test_a_command_whose_answer_a_drop_swallowed_is_sent_again_and_played_once(
    players: Callable[[str], Player], server: ThreadServer
) -> None:
    """The message reaches the server, the connection drops before its ack comes back: the client reconnects, sends
    the command again under the same key, gets it answered as already played, and shows no error."""
    from playwright.sync_api import expect

    commands: list[dict[str, Any]] = []
    acks: list[dict[str, Any]] = []

    def route(page_side: WebSocketRoute) -> None:
        server_side = page_side.connect_to_server()

        def from_page(message: str | bytes) -> None:
            _note(message, "command", commands)
            server_side.send(message)

        def from_server(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame.get("type") == "ack":
                acks.append(frame)
                if len(acks) == 1:  # the first answer never arrives: the connection drops with it
                    page_side.close(code=1011, reason="network trouble")
                    server_side.close()
                    return
            page_side.send(message)

        page_side.on_message(from_page)
        server_side.on_message(from_server)

    white, est = _started_with_estonia_routed(players, route)

    est.tab("Messages")
    est.page.get_by_label("Message").fill("Said once, heard once")
    send = est.page.get_by_role("button", name="Send")
    send.click()
    expect(est.page.get_by_test_id("thread").get_by_text("Said once, heard once")).to_have_count(1)
    est.connected()
    expect(est.page.locator(".act", has=send).get_by_role("alert")).to_have_count(0)
    # The socket's frames reach this side while Playwright runs the page: until the answer to the command sent again.
    est.wait_for(lambda: len(acks) == 2)

    assert len(commands) == 2 and commands[0]["key"] == commands[1]["key"], commands
    assert len(acks) == 2 and acks[1]["seq"] == acks[0]["seq"] and acks[1]["repeated"] is True, acks
    white.tab("Messages")
    expect(white.page.get_by_text("Said once, heard once")).to_have_count(1)
    assert est.errors == [] and white.errors == []


def test_what_a_player_types_while_an_answer_is_on_its_way_is_kept(
    players: Callable[[str], Player], server: ThreadServer
) -> None:
    """On a slow network a player sends a message and starts the next before the first is acknowledged: the
    acknowledgement clears the box only if it still holds what was sent, so the new words stay."""
    from playwright.sync_api import expect

    held: list[tuple[WebSocketRoute, str | bytes]] = []

    def route(page_side: WebSocketRoute) -> None:
        server_side = page_side.connect_to_server()

        def from_server(message: str | bytes) -> None:
            if json.loads(message).get("type") == "ack":  # answers wait here until the test lets them through
                held.append((page_side, message))
            else:
                page_side.send(message)

        page_side.on_message(server_side.send)
        server_side.on_message(from_server)

    white, est = _started_with_estonia_routed(players, route)

    est.tab("Messages")
    box = est.page.get_by_label("Message")
    send = est.page.get_by_role("button", name="Send")
    box.fill("Our jets are up.")
    send.click()
    expect(est.page.get_by_test_id("thread")).to_contain_text("Our jets are up.")  # played; its ack held
    est.wait_for(lambda: len(held) == 1)
    expect(send).to_be_disabled()  # answered yet: no second send of the same words
    box.fill("Requesting consultations")
    page_side, ack = held.pop()
    page_side.send(ack)
    expect(send).to_be_enabled()
    expect(box).to_have_value("Requesting consultations")

    # Nothing typed meanwhile: the box is cleared for the next message, as before.
    send.click()
    est.wait_for(lambda: len(held) == 1)
    page_side, ack = held.pop()
    page_side.send(ack)
    expect(box).to_have_value("")
    expect(est.page.get_by_test_id("thread")).to_contain_text("Requesting consultations")
    assert est.errors == [] and white.errors == []


def test_a_browser_ahead_of_a_server_that_lost_its_last_moments_goes_on_from_where_the_server_is(
    players: Callable[[str], Player], server: ThreadServer, tmp_path: Path
) -> None:
    """A power cut with SQLITE_FLUSH_INTERVAL set loses the last commands, which browsers may have seen: after the
    restart a browser takes the view it is sent as where the game stands, and resumes from there next time."""
    from playwright.sync_api import expect

    from tests.browser.conftest import ThreadServer

    white, est, game_id, hellos, seen = _started_with_estonia_watched(players)
    est.tab("Dashboard")
    white.tab("Control")
    white.page.get_by_label("Announcement to every seat").fill("Kept on disk.")
    white.page.get_by_role("button", name="Broadcast to all").click()
    expect(est.announcement("Kept on disk.")).to_be_visible()
    kept = max(seen)
    for lost in ("Lost with the power.", "Lost too.", "Lost as well."):
        white.page.get_by_label("Announcement to every seat").fill(lost)
        white.page.get_by_role("button", name="Broadcast to all").click()
        expect(est.announcement(lost)).to_be_visible()
    ahead = max(seen)
    assert ahead >= kept + 3

    # The machine goes down, and comes back with the log as it was at `kept`.
    before = len(hellos)
    server.stop()
    database = str(tmp_path / "wargame.db")
    with contextlib.closing(sqlite3.connect(database)) as db, db:  # the second `with` commits; the first closes
        db.execute("DELETE FROM events WHERE game_id = ? AND seq > ?", (game_id, kept))
        db.execute("DELETE FROM snapshots WHERE game_id = ? AND seq > ?", (game_id, kept))
        db.execute("UPDATE games SET last_seq = ? WHERE id = ?", (kept, game_id))
    seen.clear()
    with ThreadServer(f"sqlite+aiosqlite:///{database}", port=server.port) as again:
        est.wait_for(lambda: len(hellos) > before)
        est.connected()
        assert hellos[-1]["since"] == ahead  # what it had seen: the server has less
        expect(est.announcement("Kept on disk.")).to_be_visible()
        expect(est.announcement("Lost with the power.")).to_have_count(0)
        white.connected()
        white.page.get_by_label("Announcement to every seat").fill("After the restart.")
        white.page.get_by_role("button", name="Broadcast to all").click()
        expect(est.announcement("After the restart.")).to_be_visible()
        now = max(seen)
        assert kept < now < ahead  # the seqs after the lost ones are new events

        seat_id = est.page.evaluate(f"() => JSON.parse(localStorage.getItem('wargame.seats'))['{game_id}'].seat_id")
        resumed = len(hellos)
        again.drop_connections(game_id, seat_id)
        est.wait_for(lambda: len(hellos) > resumed)
        est.connected()
        assert hellos[-1]["since"] == now, "it resumes from where the server is, not from what the server lost"
    assert [e for e in est.errors if not NETWORK_DOWN.search(e)] == []


def _started_with_estonia_watched(
    players: Callable[[str], Player],
) -> tuple[Player, Player, str, list[dict[str, Any]], list[int]]:
    """A started game, the white cell's browser and Estonia's; the hellos Estonia's browser sends and the seqs it
    receives are noted as they come."""
    white = players("facilitator")
    code = white.create_game()
    game_id = white.page.url.split("/game/")[1].split("/")[0]
    est = players("EST")
    hellos: list[dict[str, Any]] = []
    seen: list[int] = []

    def watch(ws: Any) -> None:
        ws.on("framesent", lambda payload: _note(payload, "hello", hellos))
        ws.on("framereceived", lambda payload: _seq(payload, seen))

    est.page.on("websocket", watch)
    est.join(code, "delegation", "Kaja", member="EST")
    white.page.get_by_role("button", name="Start the exercise").click()
    est.wait_phase("briefing")
    return white, est, game_id, hellos, seen


def _started_with_estonia_routed(
    players: Callable[[str], Player], route: Callable[[WebSocketRoute], None]
) -> tuple[Player, Player]:
    """A started game, the white cell's browser and Estonia's, whose socket goes through `route` (a Playwright
    WebSocket route: it sees every frame both ways, and may hold or drop them)."""
    white = players("facilitator")
    code = white.create_game()
    est = players("EST")
    est.page.route_web_socket(re.compile(r"/ws/games/"), route)
    est.join(code, "delegation", "Kaja", member="EST")
    white.page.get_by_role("button", name="Start the exercise").click()
    est.wait_phase("briefing")
    return white, est


def _note(payload: str | bytes, kind: str, into: list[dict[str, Any]]) -> None:
    frame = json.loads(payload)
    if frame.get("type") == kind:
        into.append(frame)


def _seq(payload: str | bytes, into: list[int]) -> None:
    frame = json.loads(payload)
    if frame.get("type") in ("event", "view", "update"):
        into.append(frame["seq"])
