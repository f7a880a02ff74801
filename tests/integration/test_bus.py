"""Several server processes on one game: the fan-out bus (server/bus.py) and the catch-up rule behind it.

In-process tests stand two `Rooms` (two "processes") on one store with a `LocalBus`, some of whose notifications
are dropped: pub/sub is at most once, so a lost notification must be recovered by the next one, by a resync or by
the periodic catch-up.  Live tests run two Uvicorn processes sharing PostgreSQL and Redis, with clients on each;
they need DATABASE_URL to point at PostgreSQL and Redis on 127.0.0.1:6379, and are skipped otherwise.  One of them
restarts Redis (and always leaves it running).  No test here measures time: waits are bounded, never asserted.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from game_rules import CHAIR, EVENT_ADAPTER, Refusal, state_hash
from game_rules.commands import Broadcast, DeliverInject, ExtendPhase, RewindGame, SendMessage, StartGame
from game_rules.views import FACILITATOR
from server import deadlines
from server.bus import (
    CARRY_LIMIT,
    Carried,
    LocalBus,
    PostgresBus,
    RedisBus,
    decode,
    decode_presence,
    encode,
    encode_presence,
    encode_presences,
    make_bus,
)
from server.config import Settings
from server.lobby import Lobby, viewer_for
from server.rooms import DELETED, RELEASED, Accepted, Connection, Room, Rooms
from server.store import EventStore, SeatRecord, StoredEvent
from tests.integration.live import (
    Frame,
    Seat,
    Tap,
    bearer,
    claim_seat,
    client,
    create_game,
    free_port,
    rest_command,
    ws_base,
)

pytestmark = pytest.mark.anyio

WAIT = 30.0
"""Upper bound of any wait for the processes to converge; reaching it is a failure, not a measurement."""
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
REDIS_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/0"
REDIS_START = [
    "redis-server",
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "-::1",
    "--port",
    str(REDIS_PORT),
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    "/var/lib/redis",
    "--logfile",
    "/var/log/redis/ci.log",
]


# --- the bus itself ------------------------------------------------------------------------------------


async def test_the_local_bus_calls_every_subscriber_back_after_the_publishers_turn() -> None:
    bus = LocalBus()
    heard: list[tuple[str, str, int, Any]] = []
    await bus.start(lambda g, s, c: heard.append(("one", g, s, c)), lambda: None)
    await bus.start(lambda g, s, c: heard.append(("two", g, s, c)), lambda: None)
    carried = [(7, "broadcast_made", "{}", "2026-01-01T00:00:00+00:00")]
    bus.publish("g1", 7, carried)
    assert heard == []  # never re-entrant: the publisher finishes its turn first
    await asyncio.sleep(0)
    assert heard == [("one", "g1", 7, carried), ("two", "g1", 7, carried)]
    await bus.close()
    bus.publish("g1", 8)
    await asyncio.sleep(0)
    assert len(heard) == 2


def test_messages_carry_a_game_a_seq_and_the_events_and_anything_else_is_ignored() -> None:
    assert decode(encode("abc", 12)) == ("abc", 12, ())
    assert json.loads(encode("abc", 12)) == {"game_id": "abc", "seq": 12}
    at = "2026-11-22T06:00:00+00:00"
    run = ((11, "a", '{"x":1}', at), (12, "b", '{"x":2}', at))
    assert decode(encode("abc", 12, run)) == ("abc", 12, run)
    for junk in (b"", b"not json", b"[1]", b'{"game_id": 1, "seq": 2}', b'{"game_id": "a", "seq": true}', b"{}"):
        assert decode(junk) is None
    # Events that are not exactly the run ending at seq are dropped, never half used: the store has them.
    for broken in ([run[0]], [run[1], run[0]], [[11, "a", 5, at], run[1]], [[11, "a", "{}"], run[1]], "x"):
        message = json.dumps({"game_id": "abc", "seq": 12, "events": broken})
        assert decode(message) == ("abc", 12, ())


def test_announcements_name_a_process_its_games_their_seats_and_how_long_and_anything_else_is_ignored() -> None:
    message = encode_presence("p1", 15.0, {"abc": frozenset({"s2", "s1"}), "def": frozenset()})
    assert json.loads(message) == {"process": "p1", "ttl": 15.0, "present": {"abc": ["s1", "s2"], "def": []}}
    assert decode_presence(message) == ("p1", 15.0, {"abc": frozenset({"s1", "s2"}), "def": frozenset()})
    assert decode(message) is None and decode_presence(encode("abc", 12)) is None  # neither is taken for the other
    good = {"process": "p1", "ttl": 15, "present": {"abc": ["s1"]}}
    for broken in (
        {"present": {"abc": [1]}},
        {"present": {"abc": "s1"}},
        {"present": ["s1"]},
        {"ttl": 0},
        {"ttl": True},
        {"ttl": "15"},
        {"process": 3},
    ):
        assert decode_presence(json.dumps({**good, **broken})) is None
    assert decode_presence(b"[]") is None and decode_presence(b"nope") is None


def test_a_process_announces_its_games_in_as_few_messages_as_the_bus_carries() -> None:
    games = {f"game{n:02}": frozenset({f"seat{n}a", f"seat{n}b"}) for n in range(40)}
    [everything], none = encode_presences("p1", 15.0, games, None)
    assert none == [] and decode_presence(everything) == ("p1", 15.0, games)
    for limit in (len(everything), len(everything) - 1, 400, 7900):
        messages, too_big = encode_presences("p1", 15.0, games, limit)
        assert too_big == [] and all(len(m.encode()) <= limit for m in messages)
        decoded = [decode_presence(m) for m in messages]
        assert {g: s for d in decoded if d is not None for g, s in d[2].items()} == games
        # Filled up: no two neighbours would have fitted in one.
        for first, second in itertools.pairwise(decoded):
            assert first is not None and second is not None
            assert len(encode_presence("p1", 15.0, {**first[2], **second[2]})) > limit
    assert len(encode_presences("p1", 15.0, games, len(everything))[0]) == 1
    assert len(encode_presences("p1", 15.0, games, len(everything) - 1)[0]) == 2
    crowded = {"big": frozenset(f"seat{n}" for n in range(50)), **games}
    messages, too_big = encode_presences("p1", 15.0, crowded, 400)
    assert too_big == ["big"] and all("big" not in (decode_presence(m) or ("", 0, {}))[2] for m in messages)


async def test_the_redis_bus_joins_pending_events_while_they_follow_and_fit() -> None:
    bus = RedisBus(REDIS_URL)  # never started: publish only records what the sender would send
    at = "2026-11-22T06:00:00+00:00"
    bus.publish("g", 3, [(2, "a", "{}", at), (3, "b", "{}", at)])
    bus.publish("g", 4, [(4, "c", "{}", at)])
    assert bus._pending["g"] == (4, [(2, "a", "{}", at), (3, "b", "{}", at), (4, "c", "{}", at)])
    bus.publish("g", 3, [(3, "b", "{}", at)])  # older news: nothing changes
    assert bus._pending["g"][0] == 4
    bus.publish("g", 6, [(6, "e", "{}", at)])  # 5 is missing: the receivers will read the store
    assert bus._pending["g"] == (6, None)
    big = "x" * (CARRY_LIMIT + 1)
    bus.publish("h", 1, [(1, "huge", big, at)])
    assert bus._pending["h"] == (1, None)
    # A PostgreSQL notification holds under 8,000 bytes: what Redis would carry goes there without its events.
    pg_bus = PostgresBus("postgresql://nobody@127.0.0.1/none")
    pg_bus.publish("g", 1, [(1, "a", "x" * 3000, at)])
    pg_bus.publish("h", 1, [(1, "a", "x" * 5000, at)])
    assert pg_bus._pending["g"][1] is not None and pg_bus._pending["h"] == (1, None)


def test_the_bus_is_chosen_by_url_and_several_workers_need_a_shared_one() -> None:
    assert isinstance(make_bus(""), LocalBus)
    redis_bus = make_bus(REDIS_URL, "wargame:x")
    assert isinstance(redis_bus, RedisBus) and redis_bus.channel == "wargame:x"
    pg_bus = make_bus("postgresql+psycopg://postgres@127.0.0.1:5432/db", "wargame:x")
    assert isinstance(pg_bus, PostgresBus) and pg_bus.url == "postgresql://postgres@127.0.0.1:5432/db"
    with pytest.raises(ValueError, match="unsupported bus URL"):
        make_bus("amqp://somewhere")
    with pytest.raises(ValueError, match="several workers need a shared bus"):
        Settings(workers=2)
    assert Settings(workers=2, bus_url=REDIS_URL).workers == 2


def test_wargame_serve_refuses_several_workers_on_the_in_process_bus() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("BUS_URL", "WORKERS")}
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", "--workers", "2", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "several workers need a shared bus" in done.stderr
    assert "BUS_URL" in done.stderr


# --- two "processes" in one event loop: the catch-up rule ---------------------------------------------


class LossyBus(LocalBus):
    """A LocalBus that loses the notifications `lose` says to, as Redis pub/sub may."""

    shared = True  # it stands for a bus between processes

    def __init__(self) -> None:
        super().__init__()
        self.lose: Callable[[str, int], bool] = lambda game_id, seq: False
        self.lost: list[int] = []

    def publish(self, game_id: str, seq: int, carried: Sequence[Carried] = ()) -> None:
        if self.lose(game_id, seq):
            self.lost.append(seq)
            return
        super().publish(game_id, seq, carried)


def frames(conn: Connection) -> list[Frame]:
    assert isinstance(conn.wire, Tap)
    return conn.wire.take()


def event_seqs(taken: list[Frame]) -> list[int]:
    return [f["seq"] for f in taken if f["type"] == "event"]


async def until(condition: Callable[[], bool], timeout: float = WAIT) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def settle() -> None:
    """Let every callback and follower task that is already due run (no timing involved)."""
    for _ in range(20):
        await asyncio.sleep(0)


class TwoProcesses:
    """Two `Rooms` on one database, each with its own store, joined by one bus: two server processes."""

    def __init__(self, url: str, clock: Callable[[], float] = time.time) -> None:
        self.bus = LossyBus()
        self.stores = [EventStore.from_url(url), EventStore.from_url(url)]
        self.rooms = [Rooms(store, clock, self.bus) for store in self.stores]
        self.tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> TwoProcesses:
        for rooms in self.rooms:
            await self.bus.start(rooms.news, rooms.resync, rooms.presence)
        return self

    def socket(self, seat: SeatRecord) -> Connection:
        return Connection(seat_id=seat.id, viewer=viewer_for(seat), wire=Tap(), credential=seat.credential_hash)

    async def __aexit__(self, *_: object) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for rooms in self.rooms:
            await rooms.stop_following()
        for store in self.stores:
            await store.dispose()

    async def game(self) -> tuple[Room, Room]:
        """A game both processes have loaded, with its facilitator's seat (`chair`) and Estonia's (`kaja`)."""
        lobby = Lobby(self.stores[0], self.rooms[0])
        created = await lobby.create_game("baltic-demo", None, "White Cell")
        self.chair = created.seat
        self.kaja = (await lobby.claim_seat(created.game.id, created.game.join_code, "delegation", "EST", "Kaja")).seat
        first = await self.rooms[0].get(created.game.id)
        second = await self.rooms[1].get(created.game.id)
        assert first is not None and second is not None
        return first, second


async def accept(room: Room, *commands: Any, actor: str = CHAIR) -> int:
    seq = 0
    for command in commands:
        result = await room.submit(command, actor)
        assert isinstance(result, Accepted), result
        seq = result.seq
    return seq


async def test_every_event_written_by_one_process_reaches_a_socket_on_the_other_in_order(
    migrated_url: str, anyio_backend: str
) -> None:
    async with TwoProcesses(migrated_url) as two:
        first, second = await two.game()
        watcher = Connection(seat_id="watcher", viewer=FACILITATOR, wire=Tap(), credential="")
        joined_at, _ = await second.join(watcher, None)
        frames(watcher)

        last = await accept(first, *(Broadcast(text=f"bulletin {i}") for i in range(10)))
        await until(lambda: second.state.seq == last)
        taken = frames(watcher)
        assert event_seqs(taken) == list(range(joined_at + 1, last + 1))
        assert (taken[-1]["type"], taken[-1]["seq"]) == ("view", last)
        assert taken[-1]["view"]["announcements"] == [f"bulletin {i}" for i in range(10)]

        # Both directions, interleaved: the second process writes on top of what it heard.
        mine = await accept(second, Broadcast(text="from the second"))
        await until(lambda: first.state.seq == mine)
        assert [e for e in first.state.announcements][-1] == "from the second"
        assert two.bus.lost == []


async def test_a_rewind_written_by_one_process_is_folded_by_the_other_from_the_store(
    migrated_url: str, anyio_backend: str
) -> None:
    async with TwoProcesses(migrated_url) as two:
        first, second = await two.game()
        watcher = two.socket(two.kaja)
        await second.join(watcher, None)
        moment = await accept(first, StartGame(), Broadcast(text="before"))
        await accept(first, SendMessage(text="said after the moment"), actor="EST")
        await accept(first, DeliverInject(title="Sent by mistake"))
        rewound = await accept(first, RewindGame(to_seq=moment, note="the inject was early"))
        await until(lambda: second.state.seq == rewound)

        assert state_hash(second.state) == state_hash(first.state)
        assert [i.title for i in second.state.injects if i.source == "white cell"] == []
        whole = frames(watcher)[-1]
        assert (whole["type"], whole["seq"], "update" in whole) == ("view", rewound, False)
        assert [m["text"] for m in whole["view"]["messages"]] == ["said after the moment"]
        assert whole["view"]["status"] == "paused"


async def test_a_game_deleted_by_one_process_shows_out_the_sockets_of_the_other(
    migrated_url: str, anyio_backend: str
) -> None:
    async with TwoProcesses(migrated_url) as two:
        first, second = await two.game()
        watcher = two.socket(two.chair)
        await second.join(watcher, None)
        await Lobby(two.stores[0], two.rooms[0]).delete_game(first.game_id)
        assert first.game_id not in [r.game_id for r in two.rooms[0].loaded()]
        assert first.game_id in [r.game_id for r in two.rooms[1].loaded()], "nothing tells the other at once"

        two.tasks.append(asyncio.create_task(two.rooms[1].keep_up(every=0.01)))
        await until(lambda: isinstance(watcher.wire, Tap) and watcher.wire.closed)
        assert (watcher.wire.close_code, watcher.wire.close_reason) == (1000, "the facilitator deleted this game")
        assert first.game_id not in [r.game_id for r in two.rooms[1].loaded()]
        assert await two.rooms[1].get(first.game_id) is None


async def test_a_seat_given_away_or_released_by_one_process_shows_out_its_sockets_on_the_other(
    migrated_url: str, anyio_backend: str
) -> None:
    async with TwoProcesses(migrated_url) as two:
        first, second = await two.game()
        lobby = Lobby(two.stores[0], two.rooms[0])
        await accept(first, StartGame())
        kaja, chair = two.socket(two.kaja), two.socket(two.chair)
        for conn in (kaja, chair):
            await second.join(conn, None)

        given = await lobby.reassign(first.game_id, two.kaja.id, "Liis")
        await until(lambda: isinstance(kaja.wire, Tap) and kaja.wire.closed)
        assert (kaja.wire.close_code, kaja.wire.close_reason) == (1000, "the seat was given to another player")
        liis = two.socket(given.seat)  # the seat's new player, on the same process, plays on
        await second.join(liis, None)
        await accept(second, SendMessage(text="Liis here"), actor="EST")

        await lobby.release(first.game_id, two.kaja.id)
        await until(lambda: isinstance(liis.wire, Tap) and liis.wire.closed)
        assert (liis.wire.close_code, liis.wire.close_reason) == (1000, "the facilitator released this seat")
        assert isinstance(chair.wire, Tap) and not chair.wire.closed
        assert second.present() == {two.chair.id}


async def test_a_credential_changed_without_news_is_found_by_the_periodic_check(
    migrated_url: str, anyio_backend: str
) -> None:
    async with TwoProcesses(migrated_url) as two:
        first, second = await two.game()
        lost, kaja = two.socket(two.chair), two.socket(two.kaja)
        for conn in (lost, kaja):
            await second.join(conn, None)
        # As `wargame console` does: a new credential for the facilitator, and no event any process hears of.
        renewed = await Lobby(two.stores[0], two.rooms[0]).new_credential(first.game_id, two.chair)
        found = two.socket(renewed.seat)
        await second.join(found, None)
        await settle()
        assert isinstance(lost.wire, Tap) and not lost.wire.closed

        two.tasks.append(asyncio.create_task(two.rooms[1].keep_up(every=0.01)))
        await until(lambda: isinstance(lost.wire, Tap) and lost.wire.closed)
        assert (lost.wire.close_code, lost.wire.close_reason) == (1000, "the seat has a new credential")
        assert isinstance(found.wire, Tap) and not found.wire.closed, "checked in the same pass, and kept"

        await two.stores[0].revoke_seat(two.kaja.id)  # a release whose news was lost
        await until(lambda: isinstance(kaja.wire, Tap) and kaja.wire.closed)
        assert kaja.wire.close_reason == "the facilitator released this seat"
        assert second.present() == {two.chair.id}


async def test_the_events_a_notification_carries_are_folded_without_reading_the_store(
    migrated_url: str, anyio_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with TwoProcesses(migrated_url) as two:
        first, second = await two.game()
        reads: list[int] = []
        read = two.stores[1].read

        async def counted(game_id: str, after_seq: int = 0, until_seq: int | None = None) -> list[StoredEvent]:
            reads.append(after_seq)
            return await read(game_id, after_seq, until_seq)

        watcher = Connection(seat_id="watcher", viewer=FACILITATOR, wire=Tap(), credential="")
        joined_at, _ = await second.join(watcher, None)
        frames(watcher)
        monkeypatch.setattr(two.stores[1], "read", counted)  # from here on: a join reads once, by design

        last = await accept(first, *(Broadcast(text=f"carried {i}") for i in range(5)))
        await until(lambda: second.state.seq == last)
        assert event_seqs(frames(watcher)) == list(range(joined_at + 1, last + 1))
        assert reads == []  # every event came with its notification
        assert second.state == first.state

        two.bus.lose = lambda game_id, seq: seq == last + 1
        await accept(first, Broadcast(text="lost"))
        two.bus.lose = lambda game_id, seq: False
        heard = await accept(first, Broadcast(text="after the loss"))
        await until(lambda: second.state.seq == heard)
        assert event_seqs(frames(watcher)) == [last + 1, heard]
        assert reads == [last]  # the carried event did not follow: the gap came from the store, once


async def test_each_process_knows_which_seats_are_connected_to_the_other(migrated_url: str, anyio_backend: str) -> None:
    async with TwoProcesses(migrated_url) as two:
        first, second = await two.game()
        here, there = two.rooms
        game_id, est = first.game_id, two.kaja.id
        kaja, kaja_again = two.socket(two.kaja), two.socket(two.kaja)
        await second.join(kaja, None)
        await until(lambda: here.present(game_id) == {est})
        assert there.present(game_id) == {est} and first.present() == frozenset()

        await second.join(kaja_again, None)  # a second tab on the same seat
        second.leave(kaja)
        await settle()
        assert here.present(game_id) == {est}, "the seat still has a socket there"
        second.leave(kaja_again)
        await until(lambda: here.present(game_id) == frozenset())

        # A process that stops announcing (it died): what it said runs out after PRESENCE_PERIODS of its keep_up.
        await second.join(kaja, None)
        announcing = asyncio.create_task(there.keep_up(every=0.05))
        two.tasks.append(announcing)
        await until(lambda: here.present(game_id) == {est})
        announcing.cancel()
        await until(lambda: here.present(game_id) == frozenset())
        assert second.present() == {est}, "the socket is still open: only the announcement ran out"


async def test_a_lost_notification_is_recovered_by_the_next_one(migrated_url: str, anyio_backend: str) -> None:
    async with TwoProcesses(migrated_url) as two:
        first, second = await two.game()
        watcher = two.socket(two.kaja)
        joined_at, _ = await second.join(watcher, None)
        frames(watcher)

        two.bus.lose = lambda game_id, seq: True
        lost = await accept(first, Broadcast(text="lost"))
        await settle()
        assert second.state.seq == joined_at  # nobody told it: it is behind, and its seats wait
        assert frames(watcher) == []

        two.bus.lose = lambda game_id, seq: False
        heard = await accept(first, Broadcast(text="heard"))
        await until(lambda: second.state.seq == heard)
        taken = frames(watcher)
        assert event_seqs(taken) == [lost, heard]  # the gap is read from the store, in order, once
        assert [f["event"]["text"] for f in taken if f["type"] == "event"] == ["lost", "heard"]
        assert two.bus.lost == [lost]


async def test_a_lost_notification_is_recovered_by_the_periodic_catch_up(migrated_url: str, anyio_backend: str) -> None:
    async with TwoProcesses(migrated_url) as two:
        first, second = await two.game()
        watcher = two.socket(two.chair)
        joined_at, _ = await second.join(watcher, None)
        frames(watcher)
        two.bus.lose = lambda game_id, seq: True

        last = await accept(first, *(Broadcast(text=f"quiet {i}") for i in range(3)))
        await settle()
        assert second.state.seq == joined_at
        two.tasks.append(asyncio.create_task(two.rooms[1].keep_up(every=0.05)))
        await until(lambda: second.state.seq == last)
        assert event_seqs(frames(watcher)) == list(range(joined_at + 1, last + 1))


async def test_a_resync_rereads_every_loaded_game_and_games_not_loaded_are_ignored(
    migrated_url: str, anyio_backend: str
) -> None:
    async with TwoProcesses(migrated_url) as two:
        first, second = await two.game()
        two.bus.lose = lambda game_id, seq: True
        last = await accept(first, Broadcast(text="while the bus was down"))
        await settle()
        assert second.state.seq < last

        two.rooms[1].news("a-game-this-process-never-loaded", 99)  # nothing to do, nothing loaded
        assert [r.game_id for r in two.rooms[1].loaded()] == [second.game_id]

        two.rooms[1].resync()  # what a bus reconnection triggers
        await until(lambda: second.state.seq == last)
        assert second.state.announcements == ["while the bus was down"]


async def test_news_the_process_already_has_costs_nothing(migrated_url: str, anyio_backend: str) -> None:
    async with TwoProcesses(migrated_url) as two:
        first, _ = await two.game()
        last = await accept(first, Broadcast(text="mine"))
        for seq in (last - 1, last):  # its own publication coming back, or an older one
            first.heard(seq)
            assert first._follower is None


class FrozenClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_an_advance_decided_on_a_stale_deadline_is_refused_after_catching_up(
    migrated_url: str, anyio_backend: str
) -> None:
    """The second process missed an extension: its clock says the phase is over, the game says it is not."""
    clock = FrozenClock(2_000_000_000.0)
    async with TwoProcesses(migrated_url, clock) as two:
        first, second = await two.game()
        two.bus.lose = lambda game_id, seq: True  # the second process hears nothing
        await accept(first, StartGame(at=0.0))
        await second.catch_up()
        deadline = second.state.deadline
        assert deadline == clock.now + 60
        extended = await accept(first, ExtendPhase(seconds=120))
        assert second.state.deadline == deadline  # stale

        clock.now = deadline + 1
        two.tasks.append(asyncio.create_task(deadlines.enforce(two.rooms[1], clock, every=0.01)))
        await until(lambda: second.state.seq == extended)  # its advance conflicted; it caught up and stopped
        await asyncio.sleep(0.05)
        log = [EVENT_ADAPTER.validate_json(e.payload) for e in await two.stores[0].read(first.game_id)]
        assert [e.type for e in log].count("phase_began") == 1
        assert second.state.phase == "briefing" and second.state.deadline == deadline + 120

        clock.now = deadline + 121
        await until(lambda: second.state.phase == "deliberation")
        log = [EVENT_ADAPTER.validate_json(e.payload) for e in await two.stores[0].read(first.game_id)]
        assert [(e.round, e.phase) for e in log if e.type == "phase_began"] == [(1, "briefing"), (1, "deliberation")]


async def test_only_if_is_checked_on_the_state_the_command_is_decided_on(migrated_url: str, anyio_backend: str) -> None:
    async with TwoProcesses(migrated_url) as two:
        first, _ = await two.game()
        refused = await first.submit(SendMessage(text="x"), "EST", only_if=lambda state: False)
        assert isinstance(refused, Refusal) and refused.code == "no_longer_due"


# --- two live server processes sharing PostgreSQL and Redis ----------------------------------------------


def _postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgres") else None


def _redis_answers() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def live(test: Callable[..., Any]) -> Callable[..., Any]:
    """Two live processes: PostgreSQL (the shared store) and Redis (the bus), or a skip that says which is missing."""
    for mark in (
        pytest.mark.postgres,
        pytest.mark.skipif(
            _postgres_url() is None,
            reason="two server processes share one store: set DATABASE_URL=postgresql+psycopg://USER@HOST/DB",
        ),
        # CI runs the PostgreSQL pass with Redis up: there a missing Redis is a failure, not a skip.
        pytest.mark.skipif(
            not _redis_answers() and not (os.environ.get("CI") == "true" and _postgres_url() is not None),
            reason=f"no Redis answering on {REDIS_HOST}:{REDIS_PORT}",
        ),
    ):
        test = mark(test)
    return test


_CHILD = """
import socket, sys, time, types
import uvicorn
import server.app as app_module
from server.app import create_app
from server.config import Settings
from server.wire import PROTOCOL

url, bus_url, channel, resync, speed, epoch = sys.argv[1:7]
if float(speed) != 1.0:  # a clock that runs `speed` times faster than the wall clock, the same in every process
    real = time.time
    app_module.time = types.SimpleNamespace(time=lambda: float(epoch) + (real() - float(epoch)) * float(speed))
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", 0))
print(sock.getsockname()[1], flush=True)
settings = Settings(
    database_url=url, host="127.0.0.1", port=0, bus_url=bus_url, bus_channel=channel,
    bus_resync_seconds=float(resync),
)
config = uvicorn.Config(
    create_app(settings), ws=PROTOCOL, lifespan="on", log_level="warning", log_config=None,
    timeout_graceful_shutdown=5,
)
uvicorn.Server(config).run(sockets=[sock])
"""


class BusServer:
    """The app in a child process on a shared database and bus channel (like live.ProcessServer)."""

    def __init__(
        self, database_url: str, channel: str, resync: float, speed: float = 1.0, epoch: float = 0.0, bus: str = ""
    ):
        self.args = [database_url, bus or REDIS_URL, channel, str(resync), str(speed), str(epoch)]
        self.process: asyncio.subprocess.Process | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _CHILD, *self.args, stdout=asyncio.subprocess.PIPE
        )
        assert self.process.stdout is not None
        self.port = int(await asyncio.wait_for(self.process.stdout.readline(), 60))
        deadline = time.monotonic() + 60
        async with client(self.url) as http:
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/healthz")).status_code == 200:
                        return
                if self.process.returncode is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the server process did not come up (exit {self.process.returncode})")
                await asyncio.sleep(0.05)

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()


@contextlib.asynccontextmanager
async def two_servers(
    database_url: str, resync: float = 600.0, speed: float = 1.0, bus: str = ""
) -> AsyncIterator[tuple[BusServer, BusServer]]:
    """Two processes on one PostgreSQL database and one (fresh) channel of the bus (Redis unless `bus` says
    otherwise).  `resync` is long by default, so that only the bus (and its resync after a reconnection) can
    bring a process news it did not write."""
    channel = f"wargame:test:{uuid.uuid4().hex}"
    epoch = time.time()
    servers = [BusServer(database_url, channel, resync, speed, epoch, bus) for _ in range(2)]
    try:
        for server in servers:  # one after the other: the first runs the migrations
            await server.start()
        yield servers[0], servers[1]
    finally:
        for server in servers:
            await server.stop()


async def open_seat(base_url: str, game_id: str, token: str, name: str) -> Seat:
    seat = Seat(ws_base(base_url), game_id, token, name=name)
    await seat.open()
    assert (await seat.welcome())["type"] == "welcome"
    await seat.until(lambda f: f["type"] == "view")
    return seat


@contextlib.asynccontextmanager
async def opened(game_id: str, *places: tuple[str, str, str]) -> AsyncIterator[list[Seat]]:
    """One open seat per (server URL, credential, name), in order; every one is closed on leaving."""
    seats: list[Seat] = []
    try:
        for url, token, name in places:
            seats.append(await open_seat(url, game_id, token, name))
        yield seats
    finally:
        for seat in seats:
            await seat.close()


def joined_at(seat: Seat) -> int:
    seq: int = next(f["seq"] for f in seat.frames if f["type"] == "view")
    return seq


def assert_gapless(seats: list[Seat], last: int) -> None:
    """Every event after the seat's first view, each once and in order, at least up to `last`."""
    for seat in seats:
        seqs = [f["seq"] for f in seat.events]
        first = joined_at(seat) + 1
        assert seqs == list(range(first, first + len(seqs))), f"{seat.name}: {seqs}"
        assert seqs and seqs[-1] >= last, f"{seat.name}: stopped at {seqs[-1:]} before {last}"


def texts(seat: Seat) -> list[str]:
    """The texts of the messages this seat received, in order."""
    return [f["event"]["message"]["text"] for f in seat.events if (f["event"] or {}).get("type") == "message_sent"]


async def all_reach(seats: list[Seat], last: int) -> None:
    await until(lambda: all(seat.last_seq >= last for seat in seats))


async def send_messages(seats: list[Seat], count: int, label: str) -> int:
    """`count` messages from each seat, all in flight at once; returns the highest acked seq."""
    refs = [
        (seat, await seat.send_command({"type": "send_message", "text": f"{label} {seat.name} {i}"}))
        for i in range(count)
        for seat in seats
    ]
    answers = [await seat.answer(ref, WAIT) for seat, ref in refs]
    assert all(a["type"] == "ack" for a in answers), answers
    last: int = max(a["seq"] for a in answers)
    return last


def redis_command(*args: str) -> None:
    subprocess.run(["redis-cli", "-h", REDIS_HOST, "-p", str(REDIS_PORT), *args], capture_output=True, timeout=10)


async def wait_redis(up: bool) -> None:
    async with asyncio.timeout(WAIT):
        while _redis_answers() != up:
            await asyncio.sleep(0.05)


async def start_redis() -> None:
    if not _redis_answers():
        subprocess.run(REDIS_START, capture_output=True, timeout=30)
        await wait_redis(True)


@pytest.mark.timeout(180)
@live
async def test_two_processes_every_event_reaches_both_in_seq_order(database_url: str, anyio_backend: str) -> None:
    async with two_servers(database_url) as (a, b), client(a.url) as http:
        game = await create_game(http)
        est_a = await claim_seat(http, game, "delegation", "EST", "Kaja")
        est_b = await claim_seat(http, game, "delegation", "EST", "Mart")
        pol = await claim_seat(http, game, "delegation", "POL", "Ola")
        obs = await claim_seat(http, game, "observer", None, "Obs")
        async with opened(
            game.game_id,
            (a.url, game.facilitator_key, "fac@A"),
            (a.url, est_a.token, "EST@A"),
            (b.url, est_b.token, "EST@B"),
            (b.url, pol.token, "POL@B"),
            (b.url, obs.token, "obs@B"),
        ) as seats:
            fac, est_on_a, est_on_b, pol_on_b, _ = seats
            started = await fac.ack({"type": "start_game"})
            await all_reach(seats, started)
            last = await send_messages([est_on_a, est_on_b, pol_on_b], 15, "hello")
            last = max(last, await fac.ack({"type": "broadcast", "text": "from the chair"}))
            await all_reach(seats, last)
            assert_gapless(seats, last)
            # One viewer, two processes: the same frames, byte for byte once parsed.
            assert est_on_a.events == est_on_b.events
            assert sorted(texts(est_on_b)) == sorted(
                f"hello {s.name} {i}" for s in (est_on_a, est_on_b, pol_on_b) for i in range(15)
            )
            for seat in seats:
                await seat.settle(0.2)
            assert_gapless(seats, last)  # nothing after the last event either: no duplicate came late


@pytest.mark.skipif(not _redis_answers() and os.environ.get("CI") != "true", reason="no Redis answering")
@pytest.mark.parametrize("transport", ["redis", "postgres"])
async def test_closing_the_bus_first_sends_what_is_pending(transport: str, anyio_backend: str) -> None:
    """A process that stops says its seats are gone: what `announce` and `publish` left pending goes out on `close`
    even though the sender task has not had a turn yet."""
    if transport == "postgres" and _postgres_url() is None:
        pytest.skip("the PostgreSQL bus needs DATABASE_URL=postgresql+psycopg://...")
    url = REDIS_URL if transport == "redis" else str(_postgres_url())
    channel = f"wargame:test:{uuid.uuid4().hex}"
    listener, speaker = make_bus(url, channel), make_bus(url, channel)
    heard: list[object] = []
    await listener.start(lambda *news: heard.append(news), lambda: None, lambda *presence: heard.append(presence))
    await speaker.start(lambda *news: None, lambda: None)
    try:
        speaker.publish("g", 4)
        speaker.announce("p1", "g", frozenset(), 15.0)
        await speaker.close()
        await until(lambda: len(heard) == 2)
        assert sorted(map(str, heard)) == sorted(map(str, [("g", 4, ()), ("p1", "g", frozenset(), 15.0)]))
    finally:
        await listener.close()


@pytest.mark.timeout(180)
@live
@pytest.mark.parametrize(("removed", "reason"), [("seat", RELEASED), ("game", DELETED)])
async def test_a_seat_released_or_a_game_deleted_through_one_process_is_shown_out_of_the_other(
    removed: str, reason: str, database_url: str, anyio_backend: str
) -> None:
    """The periodic check is half an hour away here: the release's event, or the deletion's notice, heard over the
    bus does it."""
    async with two_servers(database_url) as (a, b), client(a.url) as http:
        game = await create_game(http)
        est = await claim_seat(http, game, "delegation", "EST", "Kaja")
        path = f"/api/games/{game.game_id}" + (f"/seats/{est.seat_id}" if removed == "seat" else "")
        async with opened(game.game_id, (b.url, est.token, "EST@B")) as (kaja,):
            gone = await http.delete(path, headers=bearer(game.facilitator_key))
            assert gone.status_code == 204, gone.text
            assert await kaja.wait_closed() == 1000
            assert kaja.close_reason == reason


@pytest.mark.timeout(180)
@live
async def test_bots_playing_from_one_process_are_left_alone_by_the_other(database_url: str, anyio_backend: str) -> None:
    """Putting the bots back at a process that does not run them finds every bot seat connected (at the other):
    none is idle, so none gets a new credential and a second bot."""
    async with two_servers(database_url) as (a, b), client(a.url) as http:
        game = await create_game(http)
        key = bearer(game.facilitator_key)
        seated = (await http.post(f"/api/games/{game.game_id}/bots", json={}, headers=key)).json()
        bots = {seat["seat_id"] for seat in seated}
        assert len(bots) == 6, seated
        async with client(b.url) as there:
            async with asyncio.timeout(WAIT):
                while {
                    s["seat_id"]
                    for s in (await there.get(f"/api/games/{game.game_id}/seats", headers=key)).json()
                    if s["connected"]
                } != bots:
                    await asyncio.sleep(0.05)
            again = await there.post(f"/api/games/{game.game_id}/bots", json={}, headers=key)
            assert (again.status_code, again.json()) == (200, [])


@pytest.mark.timeout(240)
@live
async def test_after_a_restart_of_both_processes_the_bots_go_back_to_their_seats_by_themselves(
    database_url: str, anyio_backend: str
) -> None:
    """The deployment restarts and nobody presses anything: each process, once the other has announced its sockets,
    puts bots back at the bot seats nobody plays.  Both try the same seats at about the same moment; one bot plays
    each seat, and the bots play on."""
    async with two_servers(database_url, resync=1.0) as (a, b):
        async with client(a.url) as http:
            game = await create_game(http)
            key = bearer(game.facilitator_key)
            kaja = await claim_seat(http, game, "delegation", "EST", "Kaja")
            seated = await http.post(f"/api/games/{game.game_id}/bots", json={"members": ["POL", "USA"]}, headers=key)
            bots = {seat["member"]: seat["seat_id"] for seat in seated.json()}
            assert sorted(bots) == ["POL", "USA"], seated.text
        for server in (a, b):
            await server.stop()
        for server in (a, b):
            await server.start()
        async with client(a.url) as http, client(b.url) as there:
            await asyncio.gather(http.get("/healthz"), there.get("/healthz"))  # each process's first contact

            async def connected_bots() -> dict[str, str]:
                response = await there.get(f"/api/games/{game.game_id}/seats", headers=key)
                return {s["member"]: s["seat_id"] for s in response.json() if s["connected"] and s["is_bot"]}

            async with asyncio.timeout(WAIT):
                while await connected_bots() != bots:
                    await asyncio.sleep(0.1)
            await asyncio.sleep(3.0)  # three announcement periods: a late second put-back would have shown one out
            assert await connected_bots() == bots, "the same seats, each with its bot still there"

            for command in (
                {"type": "start_game"},
                {"type": "advance_phase", "from_round": 1, "from_phase": "briefing"},
                {"type": "advance_phase", "from_round": 1, "from_phase": "deliberation"},
            ):
                assert (await rest_command(http, game, game.facilitator_key, command)).status_code == 200
            table = {"type": "table_proposal", "proposal": "K1", "kind": "joint_statement", "text": "Estonia asks"}
            assert (await rest_command(http, game, kaja.token, table)).status_code == 200
            async with asyncio.timeout(WAIT):
                while True:
                    view = (await there.get(f"/api/games/{game.game_id}/view", headers=key)).json()
                    if set(view["proposals"][0]["positions"]) >= {"POL", "USA"}:
                        break
                    await asyncio.sleep(0.1)


@pytest.mark.timeout(180)
@live
async def test_either_process_says_which_seats_are_connected_to_the_deployment(
    database_url: str, anyio_backend: str
) -> None:
    """The facilitator's list of seats, asked of one process or pushed by it, shows the seats connected to the
    other: while they are, until they leave, and until that process stops (its announcements last half an hour
    here, so only its withdrawal can clear them in time)."""
    async with two_servers(database_url) as (a, b), client(a.url) as http:
        game = await create_game(http)
        est = await claim_seat(http, game, "delegation", "EST", "Kaja")

        async def connected() -> set[str]:
            response = await http.get(f"/api/games/{game.game_id}/seats", headers=bearer(game.facilitator_key))
            assert response.status_code == 200, response.text
            return {seat["seat_id"] for seat in response.json() if seat["connected"]}

        async def until_connected(seats: set[str]) -> None:
            async with asyncio.timeout(WAIT):
                while await connected() != seats:
                    await asyncio.sleep(0.05)

        assert await connected() == set()
        async with opened(game.game_id, (b.url, est.token, "EST@B")):
            await until_connected({est.seat_id})
        await until_connected(set())
        places = (b.url, est.token, "EST@B"), (a.url, game.facilitator_key, "fac@A")
        async with opened(game.game_id, *places) as (_, facilitator):
            await until_connected({est.seat_id, game.facilitator_seat})
            await facilitator.until_connected({est.seat_id, game.facilitator_seat})  # pushed, not only asked
            await b.stop()
            await until_connected({game.facilitator_seat})
            await facilitator.until_connected({game.facilitator_seat})


@pytest.mark.timeout(240)
@live
async def test_two_processes_keep_every_seat_gapless_across_a_redis_restart(
    database_url: str, anyio_backend: str
) -> None:
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        pytest.skip("restarting Redis needs redis-server and redis-cli on PATH")
    if not (Path("/var/lib/redis").is_dir() and Path("/var/log/redis").is_dir()):
        pytest.skip("restarting Redis the way this machine runs it needs /var/lib/redis and /var/log/redis")
    try:
        async with two_servers(database_url) as (a, b), client(a.url) as http:
            game = await create_game(http)
            est = await claim_seat(http, game, "delegation", "EST", "Kaja")
            pol = await claim_seat(http, game, "delegation", "POL", "Ola")
            usa = await claim_seat(http, game, "delegation", "USA", "Sam")
            async with opened(
                game.game_id,
                (a.url, game.facilitator_key, "fac@A"),
                (a.url, est.token, "EST@A"),
                (b.url, pol.token, "POL@B"),
                (b.url, usa.token, "USA@B"),
            ) as seats:
                fac, est_on_a, pol_on_b, usa_on_b = seats
                last = await fac.ack({"type": "start_game"})
                last = await send_messages([est_on_a, pol_on_b], 5, "before")
                await all_reach(seats, last)

                redis_command("shutdown", "nosave")
                await wait_redis(False)
                # While Redis is down, each process writes; neither can tell the other.
                last = max(
                    await send_messages([est_on_a], 5, "outage"),
                    await fac.ack({"type": "broadcast", "text": "during the outage"}),
                )
                last = max(last, await send_messages([usa_on_b], 1, "outage"))
                await start_redis()
                # Back: each process resubscribes, re-reads its loaded games and re-sends what it could not publish.
                await all_reach(seats, last)
                last = await send_messages([est_on_a, pol_on_b, usa_on_b], 5, "after")
                await all_reach(seats, last)
                for seat in seats:
                    await seat.settle(0.2)
                assert_gapless(seats, last)
                assert {f"outage EST@A {i}" for i in range(5)} <= set(texts(usa_on_b))
    finally:
        await start_redis()  # whatever happened, leave Redis running


def _children(parent: int) -> list[int]:
    """The processes whose parent is `parent` (from /proc)."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                # the parent's pid is the second field after the command, which may hold spaces and parentheses
                if int((entry / "stat").read_text().rpartition(")")[2].split()[1]) == parent:
                    children.append(int(entry.name))
    return children


def _connections_held(pids: list[int], port: int) -> dict[int, int]:
    """How many established TCP connections to `port` each of these processes holds (from /proc)."""
    established = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rpartition(":")[2], 16) == port and fields[3] == "01":
            established.add(f"socket:[{fields[9]}]")
    held = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            held[pid] = sum(os.readlink(fd) in established for fd in Path(f"/proc/{pid}/fd").iterdir())
    return held


@pytest.mark.timeout(180)
@live
@pytest.mark.skipif(not Path("/proc/net/tcp").is_file(), reason="tells the workers' sockets apart through /proc")
async def test_wargame_serve_with_two_workers_plays_one_game_across_both(database_url: str, anyio_backend: str) -> None:
    """`wargame serve --workers 2` as an operator starts it: migrations once, each worker an app from the
    environment, one port; seats on both workers see every event in order, and SIGTERM ends all of it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "BUS_CHANNEL": f"wargame:test:{uuid.uuid4().hex}"}
    command = ["serve", "--workers", "2", "--port", str(port), "--database-url", database_url, "--bus-url", REDIS_URL]
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.cli", *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=subprocess.STDOUT
    )
    lines: list[bytes] = []

    async def read_output() -> None:
        assert server.stdout is not None
        async for line in server.stdout:
            lines.append(line)

    reader = asyncio.create_task(read_output())
    try:
        # Each worker takes connections once its app has started.
        await until(lambda: sum(b"Application startup complete" in line for line in lines) == 2, 60)
        async with client(url) as http:
            game = await create_game(http)
            keys = [await claim_seat(http, game, "delegation", "EST", f"Player {n}") for n in range(24)]
        workers = _children(server.pid)
        # The kernel hands each new connection to either worker: open seats until both hold some.
        async with contextlib.AsyncExitStack() as stack:
            seats: list[Seat] = []
            for name, token in [("fac", game.facilitator_key), *((f"EST {n}", k.token) for n, k in enumerate(keys))]:
                seat = await open_seat(url, game.game_id, token, name)
                stack.push_async_callback(seat.close)
                seats.append(seat)
                held = _connections_held(workers, port)
                if len(seats) >= 4 and sum(count > 0 for count in held.values()) == 2:
                    break
            # Under load the kernel can hand a busy moment's connections all to one worker: the last seat
            # connects again, a moment apart, until one of its connections lands on the other.
            for _ in range(100):
                if sum(count > 0 for count in held.values()) == 2:
                    break
                await seats[-1].close()
                await asyncio.sleep(0.05)
                seats[-1] = await open_seat(url, game.game_id, seats[-1].token, seats[-1].name)
                stack.push_async_callback(seats[-1].close)
                held = _connections_held(workers, port)
            assert sum(count > 0 for count in held.values()) == 2, f"every seat on one worker: {held}"
            fac, *delegates = seats
            started = await fac.ack({"type": "start_game"})
            await all_reach(seats, started)
            last = await send_messages(delegates, 5, "hello")
            await all_reach(seats, last)
            assert_gapless(seats, last)
            assert all(seat.events == delegates[0].events for seat in delegates)  # one member, one view
    finally:
        if server.returncode is None:
            server.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(server.wait(), 60)
        finally:
            if server.returncode is None:  # never left running behind a failed test
                server.kill()
                await server.wait()
            await reader
    output = b"".join(lines).decode()
    assert server.returncode == 0, output
    assert "Traceback" not in output, output


@pytest.mark.timeout(180)
@live
async def test_two_processes_advance_a_passed_deadline_exactly_once(database_url: str, anyio_backend: str) -> None:
    """Both processes hold the game and run the deadline loop on one (accelerated) clock: one advance wins."""
    async with two_servers(database_url, resync=1.0, speed=30.0) as (a, b), client(a.url) as http:
        game = await create_game(http)
        est = await claim_seat(http, game, "delegation", "EST", "Kaja")
        pol = await claim_seat(http, game, "delegation", "POL", "Ola")
        async with opened(
            game.game_id,
            (a.url, game.facilitator_key, "fac@A"),
            (b.url, est.token, "EST@B"),
            (a.url, pol.token, "POL@A"),
        ) as seats:
            await seats[0].ack({"type": "start_game"})  # briefing: 60 s of game time, 2 s of wall time
            for seat in seats:
                await seat.until(lambda f: f["type"] == "view" and f["view"]["phase"] == "deliberation", WAIT)
            response = await http.get(
                f"/api/games/{game.game_id}/events", params={"after": 0}, headers=bearer(game.facilitator_key)
            )
            assert response.status_code == 200, response.text
            log = [item["event"] for item in response.json()]
            began = [(e["round"], e["phase"]) for e in log if e["type"] == "phase_began"]
            assert began[:2] == [(1, "briefing"), (1, "deliberation")]
            assert len(began) == len(set(began))  # no phase began twice, however many deadlines have passed
            last = response.json()[-1]["seq"]
            await all_reach(seats, last)
            assert_gapless(seats, last)


def live_on_postgres(test: Callable[..., Any]) -> Callable[..., Any]:
    """Two live processes with PostgreSQL as both the store and the bus (LISTEN/NOTIFY): no Redis."""
    for mark in (
        pytest.mark.postgres,
        pytest.mark.skipif(
            _postgres_url() is None,
            reason="two server processes share one store: set DATABASE_URL=postgresql+psycopg://USER@HOST/DB",
        ),
    ):
        test = mark(test)
    return test


async def _listeners(database_url: str, channel: str, end: bool = False) -> int:
    """How many bus listeners are connected on `channel`; with `end`, terminate them (as a PostgreSQL restart
    would) and return how many were."""
    query = f"SELECT {'pg_terminate_backend(pid)' if end else 'pid'} FROM pg_stat_activity WHERE application_name = %s"
    libpq_url = database_url.replace("+psycopg", "")
    async with await psycopg.AsyncConnection.connect(libpq_url, autocommit=True) as connection:
        cursor = await connection.execute(query, (f"listen {channel}",))
        return len(await cursor.fetchall())


@pytest.mark.timeout(240)
@live_on_postgres
async def test_two_processes_on_the_postgres_bus_stay_gapless_across_lost_listeners(
    database_url: str, anyio_backend: str
) -> None:
    """LISTEN/NOTIFY instead of Redis: every event reaches every seat in seq order on either process, also when
    both listeners' connections are cut while both processes write (each resubscribes and re-reads its games)."""
    async with two_servers(database_url, bus=database_url) as (a, b), client(a.url) as http:
        channel = a.args[2]
        game = await create_game(http)
        est = await claim_seat(http, game, "delegation", "EST", "Kaja")
        pol = await claim_seat(http, game, "delegation", "POL", "Ola")
        async with opened(
            game.game_id,
            (a.url, game.facilitator_key, "fac@A"),
            (a.url, est.token, "EST@A"),
            (b.url, pol.token, "POL@B"),
        ) as seats:
            fac, est_on_a, pol_on_b = seats
            last = await fac.ack({"type": "start_game"})
            last = max(last, await send_messages([est_on_a, pol_on_b], 10, "before"))
            # Long enough to ride along in a notification on Redis, too long for one on PostgreSQL.
            last = max(last, await fac.ack({"type": "broadcast", "text": "y" * 3990}))
            await all_reach(seats, last)

            assert await _listeners(database_url, channel, end=True) == 2
            last = max(last, await send_messages([est_on_a, pol_on_b], 5, "meanwhile"))
            await all_reach(seats, last)
            async with asyncio.timeout(WAIT):  # both came back
                while await _listeners(database_url, channel) < 2:
                    await asyncio.sleep(0.05)
            last = max(last, await send_messages([est_on_a, pol_on_b], 5, "after"))
            await all_reach(seats, last)
            for seat in seats:
                await seat.settle(0.2)
            assert_gapless(seats, last)
            assert {f"meanwhile EST@A {i}" for i in range(5)} <= set(texts(pol_on_b))
