"""A database that refuses writes (its disk full or read-only, a PostgreSQL standby) while a game is played: each
command that meets it is answered at once with the database's reason and changes nothing, over a socket, over REST
and from a bot; a phase whose deadline passes meanwhile waits, said once in the log; a game's status refused once
a command's events are stored does not fail the command, and is recorded with the next; once the database writes
again, play goes on from where it stood, every seq in order.

On SQLite, `max_page_count` set on the store's write connections stands in for the full disk: SQLite then refuses a
write that needs another page with the very error a full disk gives (SQLITE_FULL, "database or disk is full");
`query_only` for a read-only disk (SQLITE_READONLY), on the appends' connections or the others'.  On PostgreSQL,
connections opened with `default_transaction_read_only`, as on a standby after a failover."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import event

from server.bots.seat import SeatBot
from server.store import EventStore
from tests.integration.live import (
    LiveServer,
    Seat,
    claim_seat,
    client,
    create_game,
    rest_command,
    rest_view,
    sqlite_refuses,
)

pytestmark = pytest.mark.anyio

LONG = "A statement that needs a page of its own. " * 90  # ~3,800 characters: more than any page has left


@pytest.fixture
async def live(database_url: str) -> AsyncIterator[LiveServer]:
    async with LiveServer(database_url) as server:
        yield server


def _read_only(dbapi_connection: Any, _record: Any) -> None:
    """A new connection that refuses writes: SQLite's `query_only`, PostgreSQL's read-only transactions."""
    cursor = dbapi_connection.cursor()
    if isinstance(dbapi_connection.driver_connection, sqlite3.Connection | aiosqlite.Connection):
        cursor.execute("PRAGMA query_only = 1")
    else:
        cursor.execute("SET default_transaction_read_only = on")
        dbapi_connection.commit()  # a SET in a transaction rolled back would be undone with it
    cursor.close()


async def refuse_other_writes(live: LiveServer, refused: bool) -> None:
    """The store's pooled connections (on SQLite: games, seats, statuses, snapshots; on PostgreSQL every write)
    refuse writes, or no longer do."""
    assert live.server is not None
    engine = live.server.config.app.state.store.engine
    (event.listen if refused else event.remove)(engine.sync_engine, "connect", _read_only)
    await engine.dispose()  # the connections opened before: the next ones are opened with the listener, or without


async def refuse_writes(live: LiveServer, how: str | None) -> str:
    """The store refuses what a full disk refuses, or every write (`sqlite_refuses`; on PostgreSQL, which has no page
    limit, both are every write, as a standby refuses them), or nothing (None).  Returns what the database says."""
    assert live.server is not None
    store: EventStore = live.server.config.app.state.store
    if store._sqlite is None:
        await refuse_other_writes(live, how is not None)
        return "in a read-only transaction"
    return sqlite_refuses(store, how)


class OneMessage(SeatBot):
    """A bot that sends one message and keeps what it was answered, and how long that took."""

    answered: bool | None = None
    waited = 0.0

    async def play(self) -> None:
        await self.wait_until(lambda: self.view is not None, 10, "its view")
        began = time.monotonic()
        self.answered = await self.command({"type": "send_message", "text": LONG})
        self.waited = time.monotonic() - began


async def test_commands_that_meet_a_full_disk_are_refused_with_its_reason_and_play_goes_on(live: LiveServer) -> None:
    async with client(live.url) as http:
        game = await create_game(http)
        est = await claim_seat(http, game, member="EST", player="Kaja")
        pol = await claim_seat(http, game, member="POL", player="Ola")
        assert (await rest_command(http, game, game.facilitator_key, {"type": "start_game"})).status_code == 200
        async with (
            Seat(live.ws_url, game.game_id, est.token) as kaja,
            Seat(live.ws_url, game.game_id, pol.token) as ola,
            Seat(live.ws_url, game.game_id, game.facilitator_key) as white,
        ):
            before = await kaja.ack({"type": "send_message", "text": "Before the disk fills."})
            await ola.view_at(before)
            await white.view_at(before)

            refused = await refuse_writes(live, "full")
            answer = await kaja.command({"type": "send_message", "text": LONG})
            assert (answer["type"], answer["code"]) == ("error", "store_unavailable"), answer
            assert refused in answer["reason"] and "nothing changed" in answer["reason"], answer
            over_rest = await rest_command(http, game, pol.token, {"type": "send_message", "text": LONG})
            assert over_rest.status_code == 503, over_rest.text
            assert over_rest.headers["Retry-After"] == "5"
            assert over_rest.json()["error"]["code"] == "store_unavailable"
            assert refused in over_rest.json()["error"]["message"]
            bot = OneMessage("EST bot", est.token, f"{live.ws_url}/ws/games/{game.game_id}")
            await asyncio.wait_for(bot.run(), 10)
            assert bot.answered is False and bot.waited < 5  # answered, not left to its own timeout
            assert [(r.command, r.code) for r in bot.refusals] == [("send_message", "store_unavailable")]
            # Nothing of the refused commands was played, shown or half-stored.
            assert (await rest_view(http, game, pol.token))["seq"] == before
            assert all(f.get("seq", 0) <= before for f in ola.frames if f.get("type") in ("event", "view"))
            # Every socket of the game was told once, the facilitator's too, who sent nothing; and so is one opened now.
            for seat in (white, ola, kaja):
                told = [f for f in seat.frames if f["type"] == "storage"]
                assert [(f["writing"], refused in f["reason"]) for f in told] == [(False, True)], (seat.name, told)
            async with Seat(live.ws_url, game.game_id, game.facilitator_key) as second:
                await second.view_at(before)
                told = await second.until(lambda f: f["type"] == "storage")
                assert told[-1]["writing"] is False and refused in told[-1]["reason"], told

            await refuse_writes(live, None)
            after = await kaja.ack({"type": "send_message", "text": LONG})
            assert after == before + 1
            seen: Any = await ola.view_at(after)
            assert seen["messages"][-1]["text"] == LONG
            # Told that it writes again, once, before the event that shows it.
            await white.view_at(after)
            told = [(f["type"], f.get("writing"), f.get("seq")) for f in white.frames]
            told = [said for said in told if said[0] in ("storage", "event")]
            assert told[-3:] == [("storage", False, None), ("storage", True, None), ("event", None, after)], told
            assert live.server is not None
            events = await live.server.config.app.state.store.read(game.game_id)
            assert [e.seq for e in events] == list(range(1, after + 1))


async def test_a_deadline_that_passes_while_the_database_refuses_advances_once_it_writes(
    live: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    async with client(live.url) as http:
        game = await create_game(http, phase_minutes={"briefing": 0.02})  # 1.2 s
        await claim_seat(http, game, member="EST", player="Kaja")
        assert (await rest_command(http, game, game.facilitator_key, {"type": "start_game"})).status_code == 200
        refused = await refuse_writes(live, "read-only")
        await asyncio.sleep(3.2)  # the deadline passed 2 s ago: eight ticks of the deadlines' clock since
        assert (await rest_view(http, game, game.facilitator_key))["phase"] == "briefing"
        said = [r.getMessage() for r in caplog.records if r.name == "wargame.deadlines"]
        assert len(said) == 1 and said[0].startswith("a phase's deadline passed, but the database refused: "), said
        assert refused in said[0] and said[0].endswith("; trying again"), said

        await refuse_writes(live, None)
        for _ in range(40):
            if (await rest_view(http, game, game.facilitator_key))["phase"] == "deliberation":
                break
            await asyncio.sleep(0.1)
        assert (await rest_view(http, game, game.facilitator_key))["phase"] == "deliberation"
        said = [r.getMessage() for r in caplog.records if r.name == "wargame.deadlines"]
        assert said[1:] == ["the phase whose deadline had passed has advanced"], said


async def test_a_status_the_database_refuses_once_the_events_are_stored_does_not_fail_the_command(
    live: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    assert live.server is not None
    store: EventStore = live.server.config.app.state.store
    if store._sqlite is None:
        pytest.skip("on PostgreSQL the events are appended on the same connections as the status is written")
    async with client(live.url) as http:
        game = await create_game(http)
        est = await claim_seat(http, game, member="EST", player="Kaja")
        await refuse_other_writes(live, True)
        started = await rest_command(http, game, game.facilitator_key, {"type": "start_game"})
        assert started.status_code == 200, started.text  # played: its events are stored and shown
        assert (await rest_view(http, game, est.token))["status"] == "running"
        said = [r.getMessage() for r in caplog.records if r.name == "wargame.rooms"]
        refused = "the database refused: attempt to write a readonly database"
        assert said == [f"the game's status or snapshot was not stored: {refused}"], said
        assert (record := await store.get_game(game.game_id)) is not None and record.status == "lobby"
        # The lobby's own writes meet it too: a new game or seat is refused with the same reason.
        for path, body in (
            ("/api/games", {"scenario": "baltic-demo", "facilitator": "Another"}),
            (f"/api/games/{game.game_id}/seats", {"join_code": game.join_code, "role": "observer", "player": "Ada"}),
        ):
            answer = await http.post(path, json=body)
            assert (answer.status_code, answer.json()["error"]["code"]) == (503, "store_unavailable"), answer.text
            assert refused.removeprefix("the database refused: ") in answer.json()["error"]["message"]

        await refuse_other_writes(live, False)
        sent = await rest_command(http, game, est.token, {"type": "send_message", "text": "Still here."})
        assert sent.status_code == 200, sent.text
        assert (record := await store.get_game(game.game_id)) is not None and record.status == "running"
