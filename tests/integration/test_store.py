"""EventStore against a real database (SQLite file, or PostgreSQL when DATABASE_URL is set)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import subprocess
import sys
from datetime import UTC
from pathlib import Path

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from server.checkpoint import CHECKPOINT_PERIOD
from server.db import BACKSTOP_CHECKPOINT_PAGES, make_engine
from server.store import (
    EventStore,
    GameRecord,
    JoinCodeTaken,
    RepeatedCommand,
    SeqConflict,
    UnknownGame,
    UnknownSeat,
)

pytestmark = pytest.mark.anyio

REPO_ROOT = Path(__file__).resolve().parents[2]

# Odd spacing, key order, escapes and non-ASCII: any re-serialisation would change these bytes.
PAYLOADS = [
    '{"b": 2,   "a": 1}',
    '{"text":"d\\u00e9j\\u00e0 vu","raw":"déjà vu ✓","n":1.50}',
    "[1,2,\n 3]",
    '{"nested": {"z": null, "y": [true, false]}}',
]


async def _new_game(store: EventStore, join_code: str = "ABCD1234", **overrides: object) -> GameRecord:
    fields: dict[str, object] = {
        "scenario": "baltic_crisis",
        "ruleset": "standard",
        "title": "Exercise",
        "join_code": join_code,
        "facilitator_key_hash": "f" * 64,
        "seed": 2**40 + 7,
    }
    fields.update(overrides)
    return await store.create_game(**fields)  # type: ignore[arg-type]


# games


async def test_create_game_round_trips(store: EventStore) -> None:
    game = await _new_game(store, forked_from_game="a" * 32, forked_at_seq=12)

    assert len(game.id) == 32
    assert game.status == "lobby"
    assert game.last_seq == 0
    assert game.created_at.tzinfo is not None
    assert await store.get_game(game.id) == game
    assert await store.game_by_join_code("ABCD1234") == game
    assert await store.list_games() == [game]


async def test_unknown_game_and_join_code_return_none(store: EventStore) -> None:
    assert await store.get_game("0" * 32) is None
    assert await store.game_by_join_code("NOPE0000") is None
    assert await store.list_games() == []


async def test_join_code_is_unique(store: EventStore) -> None:
    first = await _new_game(store, join_code="SAME0001")

    with pytest.raises(JoinCodeTaken):
        await _new_game(store, join_code="SAME0001", title="Second")

    assert await store.list_games() == [first]


async def test_set_status(store: EventStore) -> None:
    game = await _new_game(store)

    await store.set_status(game.id, "running")

    reloaded = await store.get_game(game.id)
    assert reloaded is not None and reloaded.status == "running"
    with pytest.raises(UnknownGame):
        await store.set_status("0" * 32, "ended")
    with pytest.raises(ValueError):
        await store.set_status(game.id, "exploded")  # type: ignore[arg-type]


# events


async def test_append_then_read_returns_same_payload_bytes_in_seq_order(store: EventStore) -> None:
    game = await _new_game(store)

    appended = await store.append(game.id, 0, [(f"type_{i}", p) for i, p in enumerate(PAYLOADS)])
    read = await store.read(game.id)

    assert [e.seq for e in read] == [1, 2, 3, 4]
    assert [e.payload.encode() for e in read] == [p.encode() for p in PAYLOADS]
    assert [e.type for e in read] == ["type_0", "type_1", "type_2", "type_3"]
    assert read == appended
    assert all(e.recorded_at.tzinfo == UTC for e in read)
    reloaded = await store.get_game(game.id)
    assert reloaded is not None and reloaded.last_seq == 4


async def test_an_append_is_one_command_unless_told_where_commands_end(store: EventStore) -> None:
    game = await _new_game(store)
    await store.append(game.id, 0, [("a", "{}")])
    await store.append(game.id, 1, [("b", "{}"), ("c", "{}"), ("d", "{}")])
    await store.append(game.id, 4, [("e", "{}"), ("f", "{}"), ("g", "{}")], ends=[True, False, True])

    assert [(e.seq, e.ends_command) for e in await store.read(game.id)] == [
        (1, True),
        (2, False),
        (3, False),
        (4, True),
        (5, True),
        (6, False),
        (7, True),
    ]
    commands = {seq: await store.command_of(game.id, seq) for seq in range(1, 9)}
    assert commands == {1: (1, 1), 2: (2, 4), 3: (2, 4), 4: (2, 4), 5: (5, 5), 6: (6, 7), 7: (6, 7), 8: None}


async def test_append_continues_from_last_seq(store: EventStore) -> None:
    game = await _new_game(store)
    await store.append(game.id, 0, [("a", "{}")])

    second = await store.append(game.id, 1, [("b", "{}"), ("c", "{}")])

    assert [(e.seq, e.type) for e in second] == [(2, "b"), (3, "c")]
    assert [(e.seq, e.type) for e in await store.read(game.id)] == [(1, "a"), (2, "b"), (3, "c")]


@pytest.mark.parametrize("stale", [0, 1, 3, 9])
async def test_stale_or_future_expected_seq_raises_and_writes_nothing(store: EventStore, stale: int) -> None:
    game = await _new_game(store)
    before = await store.append(game.id, 0, [("a", "{}"), ("b", "{}")])

    with pytest.raises(SeqConflict) as raised:
        await store.append(game.id, stale, [("late", '{"x": 1}')])

    assert (raised.value.game_id, raised.value.expected_seq, raised.value.actual_seq) == (game.id, stale, 2)
    assert await store.read(game.id) == before
    reloaded = await store.get_game(game.id)
    assert reloaded is not None and reloaded.last_seq == 2


async def test_unique_seq_clash_surfaces_as_seq_conflict(store: EventStore) -> None:
    game = await _new_game(store)
    # An event row that last_seq does not account for: only the (game_id, seq) constraint can catch it.
    async with store.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO events (game_id, seq, type, payload, recorded_at) "
                "VALUES (:game_id, 1, 'rogue', '{}', CURRENT_TIMESTAMP)"
            ),
            {"game_id": game.id},
        )

    with pytest.raises(SeqConflict) as raised:
        await store.append(game.id, 0, [("a", "{}"), ("b", "{}")])

    assert raised.value.actual_seq == 1
    assert [e.type for e in await store.read(game.id)] == ["rogue"]
    reloaded = await store.get_game(game.id)
    assert reloaded is not None and reloaded.last_seq == 0, "the compare-and-set must roll back too"


async def test_an_append_under_a_key_the_game_holds_writes_nothing_and_names_the_seq(store: EventStore) -> None:
    game, other = await _new_game(store), await _new_game(store, "WXYZ5678")
    first = await store.append(game.id, 0, [("a", "{}"), ("b", "{}")], command_key="seat/k1")
    assert await store.command_seq(game.id, "seat/k1") == first[-1].seq == 2  # the command's last event

    with pytest.raises(RepeatedCommand) as raised:
        await store.append(game.id, 2, [("a", "{}")], command_key="seat/k1")

    assert (raised.value.game_id, raised.value.key, raised.value.seq) == (game.id, "seat/k1", 2)
    assert [e.seq for e in await store.read(game.id)] == [1, 2]
    reloaded = await store.get_game(game.id)
    assert reloaded is not None and reloaded.last_seq == 2, "the compare-and-set must roll back too"
    # Keys are per game, and unkeyed appends never clash.
    assert [e.seq for e in await store.append(other.id, 0, [("a", "{}")], command_key="seat/k1")] == [1]
    await store.append(game.id, 2, [("c", "{}")])
    await store.append(game.id, 3, [("d", "{}")])
    assert await store.command_seq(game.id, "seat/k2") is None
    with pytest.raises(ValueError, match="command key"):
        await store.append(game.id, 4, [("e", "{}")], command_key="x" * 101)


async def test_append_to_unknown_game(store: EventStore) -> None:
    with pytest.raises(UnknownGame):
        await store.append("0" * 32, 0, [("a", "{}")])


async def test_empty_append_only_checks_seq(store: EventStore) -> None:
    game = await _new_game(store)

    assert await store.append(game.id, 0, []) == []
    with pytest.raises(SeqConflict):
        await store.append(game.id, 1, [])


async def test_read_after_and_until(store: EventStore) -> None:
    game = await _new_game(store)
    await store.append(game.id, 0, [("e", json.dumps({"n": n})) for n in range(1, 11)])

    assert [e.seq for e in await store.read(game.id, after_seq=7)] == [8, 9, 10]
    assert [e.seq for e in await store.read(game.id, after_seq=3, until_seq=5)] == [4, 5]
    assert [e.seq for e in await store.read(game.id, until_seq=2)] == [1, 2]
    assert await store.read(game.id, after_seq=10) == []


async def test_streams_are_per_game(store: EventStore) -> None:
    one = await _new_game(store, join_code="ONE00001")
    two = await _new_game(store, join_code="TWO00002")

    await store.append(one.id, 0, [("a", '"one"')])
    await store.append(two.id, 0, [("a", '"two"')])

    assert [(e.game_id, e.seq, e.payload) for e in await store.read(one.id)] == [(one.id, 1, '"one"')]
    assert [(e.game_id, e.seq, e.payload) for e in await store.read(two.id)] == [(two.id, 1, '"two"')]


class _Barrier:
    """Holds every appender until all have read the same last seq, so the first round must collide."""

    def __init__(self, parties: int) -> None:
        self._waiting = parties
        self._released = anyio.Event()

    async def wait(self) -> None:
        self._waiting -= 1
        if self._waiting == 0:
            self._released.set()
        await self._released.wait()


async def _append_with_retry(store: EventStore, game_id: str, payload: str, barrier: _Barrier) -> int:
    conflicts = 0
    while True:
        game = await store.get_game(game_id)
        assert game is not None
        if conflicts == 0:
            await barrier.wait()
        try:
            await store.append(game_id, game.last_seq, [("note", payload)])
            return conflicts
        except SeqConflict:
            conflicts += 1


async def test_concurrent_appenders_neither_lose_nor_duplicate(store: EventStore, migrated_url: str) -> None:
    game = await _new_game(store)
    other = EventStore(make_engine(migrated_url))  # a second connection pool, as a second process has
    tasks = 20
    barrier = _Barrier(tasks)
    try:
        conflicts: list[int] = [0] * tasks

        async def run(i: int) -> None:
            writer = store if i % 2 else other
            conflicts[i] = await _append_with_retry(writer, game.id, json.dumps({"task": i}), barrier)

        async with anyio.create_task_group() as group:
            for i in range(tasks):
                group.start_soon(run, i)
    finally:
        await other.dispose()

    events = await store.read(game.id)
    assert [e.seq for e in events] == list(range(1, tasks + 1))
    assert sorted(json.loads(e.payload)["task"] for e in events) == list(range(tasks))
    assert sum(conflicts) >= tasks - 1, "all read seq 0 first, so all but one must have conflicted"
    reloaded = await store.get_game(game.id)
    assert reloaded is not None and reloaded.last_seq == tasks


CHILD_APPENDER = """
import asyncio, json, sys
from server.store import EventStore, SeqConflict

async def main(url, game_id, writer, count):
    store = EventStore.from_url(url)
    try:
        for n in range(count):
            while True:
                game = await store.get_game(game_id)
                try:
                    await store.append(game_id, game.last_seq, [("note", json.dumps({"w": writer, "n": n}))])
                    break
                except SeqConflict:
                    pass
    finally:
        await store.dispose()

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
"""


def _run_appender_processes(url: str, game_id: str, writers: list[str], count: int) -> None:
    command = [sys.executable, "-W", "error", "-c", CHILD_APPENDER, url, game_id]
    processes = [subprocess.Popen([*command, w, str(count)], cwd=REPO_ROOT) for w in writers]
    codes = []
    for process in processes:
        try:
            codes.append(process.wait(timeout=120))
        finally:
            process.kill()
            process.wait()
    assert codes == [0] * len(writers)


async def test_two_processes_append_to_one_game(store: EventStore, migrated_url: str) -> None:
    game = await _new_game(store)
    count = 15

    await anyio.to_thread.run_sync(_run_appender_processes, migrated_url, game.id, ["a", "b"], count)

    events = await store.read(game.id)
    assert [e.seq for e in events] == list(range(1, 2 * count + 1))
    written = [json.loads(e.payload) for e in events]
    for writer in ("a", "b"):
        assert [w["n"] for w in written if w["w"] == writer] == list(range(count))


# snapshots


async def test_snapshots_latest_and_at_or_before(store: EventStore) -> None:
    game = await _new_game(store)
    assert await store.latest_snapshot(game.id) is None

    await store.save_snapshot(game.id, 5, '{"turn": 1}', "5" * 64)
    await store.save_snapshot(game.id, 10, '{"turn":  2}', "a" * 64)

    latest = await store.latest_snapshot(game.id)
    assert latest is not None
    assert (latest.seq, latest.state, latest.state_hash) == (10, '{"turn":  2}', "a" * 64)
    assert latest.created_at.tzinfo is not None
    assert [(await store.latest_snapshot(game.id, at_or_before=s)) is not None for s in (4, 5)] == [False, True]
    earlier = await store.latest_snapshot(game.id, at_or_before=9)
    assert earlier is not None and earlier.seq == 5
    at_ten = await store.latest_snapshot(game.id, at_or_before=10)
    assert at_ten is not None and at_ten.seq == 10


async def test_snapshot_saved_twice_keeps_one_row(store: EventStore) -> None:
    game = await _new_game(store)

    await store.save_snapshot(game.id, 3, '{"v": 1}', "1" * 64)
    await store.save_snapshot(game.id, 3, '{"v": 2}', "2" * 64)

    again = await store.latest_snapshot(game.id)
    assert again is not None and (again.state, again.state_hash) == ('{"v": 2}', "2" * 64)
    other = await _new_game(store, join_code="OTHER001")
    assert await store.latest_snapshot(other.id) is None


# seats


async def test_seats_by_credential_revoke_and_reassign(store: EventStore) -> None:
    game = await _new_game(store)
    delegation = await store.add_seat(
        game.id, role="delegation", member="POL", player_name="Ana", credential_hash="1" * 64
    )
    bot = await store.add_seat(
        game.id, role="red_cell", member=None, player_name="bot", credential_hash="2" * 64, is_bot=True
    )

    assert await store.seats(game.id) == [delegation, bot]
    assert await store.seat_by_credential_hash("1" * 64) == delegation
    assert (delegation.revoked, delegation.is_bot, bot.is_bot) == (False, False, True)
    assert await store.seat_by_credential_hash("9" * 64) is None

    await store.revoke_seat(delegation.id)
    revoked = await store.seat_by_credential_hash("1" * 64)
    assert revoked is not None and revoked.revoked

    await store.reassign_seat(delegation.id, "Bea", "3" * 64)
    assert await store.seat_by_credential_hash("1" * 64) is None
    reassigned = await store.seat_by_credential_hash("3" * 64)
    assert reassigned is not None
    assert (reassigned.id, reassigned.player_name, reassigned.revoked) == (delegation.id, "Bea", False)

    # Of two processes giving a bot's seat a new credential on what they read, the store takes the first.
    first, second = await asyncio.gather(
        store.reassign_seat(bot.id, "bot", "4" * 64, is_bot=True, replacing="2" * 64),
        store.reassign_seat(bot.id, "bot", "5" * 64, is_bot=True, replacing="2" * 64),
    )
    assert sorted([first, second]) == [False, True]
    held = {s.id: s.credential_hash for s in await store.seats(game.id)}[bot.id]
    assert held == ("4" * 64 if first else "5" * 64), "the seat holds the credential of the one that was taken"
    assert not await store.reassign_seat(bot.id, "bot", "6" * 64, is_bot=True, replacing="2" * 64)


async def test_seat_errors(store: EventStore) -> None:
    game = await _new_game(store)
    await store.add_seat(game.id, role="observer", member=None, player_name="O", credential_hash="1" * 64)

    with pytest.raises(UnknownGame):
        await store.add_seat("0" * 32, role="observer", member=None, player_name="X", credential_hash="2" * 64)
    with pytest.raises(IntegrityError):
        await store.add_seat(game.id, role="observer", member=None, player_name="Y", credential_hash="1" * 64)
    with pytest.raises(ValueError):
        await store.add_seat(game.id, role="king", member=None, player_name="Z", credential_hash="4" * 64)  # type: ignore[arg-type]
    with pytest.raises(UnknownSeat):
        await store.revoke_seat("0" * 32)
    with pytest.raises(UnknownSeat):
        await store.reassign_seat("0" * 32, "Q", "5" * 64)
    assert [s.player_name for s in await store.seats(game.id)] == ["O"]


# the engine itself


async def test_foreign_keys_are_enforced(store: EventStore) -> None:
    with pytest.raises(IntegrityError):
        async with store.engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO events (game_id, seq, type, payload, recorded_at) "
                    "VALUES ('missing', 1, 'x', '{}', CURRENT_TIMESTAMP)"
                )
            )


async def test_sqlite_runs_in_wal_mode(store: EventStore) -> None:
    if store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragma")
    async with store.engine.connect() as connection:
        assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1


async def test_an_events_time_is_stored_as_sqlalchemy_stores_every_other_time(store: EventStore) -> None:
    """SQLite appends bypass SQLAlchemy's execution: the time must still reach sqlite3 as the column type's text,
    never as a datetime for sqlite3's default adapter (deprecated since Python 3.12, and a different text)."""
    if store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's text for times")
    game = await _new_game(store)
    appended = await store.append(game.id, 0, [("a", "{}")])
    async with store.engine.connect() as connection:
        created = (await connection.execute(text("SELECT created_at FROM games"))).scalar_one()
        recorded = (await connection.execute(text("SELECT recorded_at FROM events"))).scalar_one()
    assert isinstance(created, str) and isinstance(recorded, str)
    shape = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}"
    assert re.fullmatch(shape, created), created
    assert re.fullmatch(shape, recorded), recorded
    assert [e.recorded_at for e in await store.read(game.id)] == [appended[0].recorded_at]


async def test_an_append_while_another_connection_writes_waits_its_turn_off_the_event_loop(store: EventStore) -> None:
    """SQLite appends run in the event loop, except while another connection holds the write lock: then the append
    waits on the writer thread, the loop goes on serving, and the append lands once the lock is released."""
    if store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's single writer")
    game = await _new_game(store)
    await store.append(game.id, 0, [("a", "{}")])
    assert store.engine.url.database is not None
    other = sqlite3.connect(store.engine.url.database, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # the write lock, held by a connection of its own
        appended = asyncio.ensure_future(store.append(game.id, 1, [("b", "{}")]))
        ticks = 0
        while ticks < 20:  # the loop is not blocked while the append waits
            await asyncio.sleep(0.01)
            ticks += 1
        assert not appended.done()
        other.execute("COMMIT")
        async with asyncio.timeout(10):
            stored = await appended
    finally:
        other.close()
    assert [event.seq for event in stored] == [2]
    assert [(e.seq, e.type) for e in await store.read(game.id)] == [(1, "a"), (2, "b")]


_FLUSH_PRAGMAS = ("synchronous", "wal_autocheckpoint")


async def _pragmas(store: EventStore) -> list[tuple[object, object]]:
    """SQLite's `synchronous` (2 FULL, 1 NORMAL) and `wal_autocheckpoint`, on the store's pooled connections and on
    its append connection."""
    found = []
    async with store.engine.connect() as connection:
        found.append(tuple([(await connection.execute(text(f"PRAGMA {p}"))).scalar() for p in _FLUSH_PRAGMAS]))
    assert store._sqlite is not None
    with store._sqlite._now.connect() as connection:  # before any append checks the one connection out for good
        found.append(tuple([connection.exec_driver_sql(f"PRAGMA {p}").scalar() for p in _FLUSH_PRAGMAS]))
    return found


async def test_sqlite_flushes_every_commit_unless_given_an_interval(store: EventStore, migrated_url: str) -> None:
    if store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's flush")
    assert store.flusher is None and store.checkpointer is not None
    assert await _pragmas(store) == [(2, BACKSTOP_CHECKPOINT_PAGES)] * 2
    timed = EventStore.from_url(migrated_url, flush_interval=0.05)
    try:
        assert timed.flusher is not None and timed.flusher.interval == 0.05
        assert await _pragmas(timed) == [(1, BACKSTOP_CHECKPOINT_PAGES)] * 2
    finally:
        await timed.dispose()


async def test_with_a_flush_interval_the_commits_since_the_last_flush_are_flushed_together(
    migrated_url: str, tmp_path: Path
) -> None:
    if not migrated_url.startswith("sqlite"):
        pytest.skip("SQLite's flush")
    store = EventStore.from_url(migrated_url, flush_interval=3600)  # flushed here by hand, and when disposed
    flusher, checkpointer = store.flusher, store.checkpointer
    assert flusher is not None and checkpointer is not None
    try:
        game = await _new_game(store)  # a commit of the pooled connections
        for seq in range(3):  # commits of the append connection
            await store.append(game.id, seq, [("a", "{}")])
        assert (flusher.pending, flusher.flushes) == (4, 0)
        flusher.flush()
        assert (flusher.pending, flusher.flushes) == (0, 1)
        flusher.flush()  # nothing committed since: no flush
        assert flusher.flushes == 1
        await store.read(game.id)  # reads commit nothing
        flusher.flush()
        assert flusher.flushes == 1
        await store.append(game.id, 3, [("b", "{}")])
        assert flusher.pending == 1
        checkpointer.checkpoint()  # the log copied into the database file: a copy of that file alone holds the events
        database = Path(str(store.engine.url.database))
        copy = tmp_path / "copy.db"
        copy.write_bytes(database.read_bytes())
        alone = sqlite3.connect(copy)
        try:
            assert alone.execute("SELECT count(*) FROM events WHERE game_id = ?", (game.id,)).fetchone() == (4,)
        finally:
            alone.close()
        # And the log was started over by the store's thread (one page written), not left for the next commit.
        looking = sqlite3.connect(database)
        try:
            assert looking.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone() == (0, 1, 1)
        finally:
            looking.close()
    finally:
        await store.dispose()
    assert (flusher.pending, flusher.flushes) == (0, 2), "what was committed is flushed when the store closes"
    reopened = EventStore.from_url(migrated_url)
    try:
        assert [e.type for e in await reopened.read(game.id)] == ["a", "a", "a", "b"]
    finally:
        await reopened.dispose()


async def test_with_a_flush_interval_commits_are_flushed_on_a_timer(migrated_url: str) -> None:
    if not migrated_url.startswith("sqlite"):
        pytest.skip("SQLite's flush")
    store = EventStore.from_url(migrated_url, flush_interval=0.02)
    flusher, checkpointer = store.flusher, store.checkpointer
    assert flusher is not None and checkpointer is not None
    try:
        game = await _new_game(store)
        for seq in range(20):
            await store.append(game.id, seq, [("a", "{}")])
        async with asyncio.timeout(30):
            while flusher.pending:
                await asyncio.sleep(0.01)
        flushed = flusher.flushes
        assert flushed >= 1
        await asyncio.sleep(0.2)  # ten intervals with nothing committed
        assert flusher.flushes == flushed
        async with asyncio.timeout(30):  # commits for longer than a checkpoint's period
            seq = 20
            while not checkpointer.checkpoints:
                await store.append(game.id, seq, [("a", "{}")])
                seq += 1
                await asyncio.sleep(CHECKPOINT_PERIOD / 100)
    finally:
        await store.dispose()


def _serve(*options: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    env = {**{k: v for k, v in os.environ.items() if k not in ("SQLITE_FLUSH_INTERVAL", "JSON_LOGS")}, **(env or {})}
    command = [sys.executable, "-m", "server.cli", "serve", "--port", "1", *options]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_wargame_serve_says_how_its_store_is_flushed_and_refuses_an_interval_over_a_second(tmp_path: Path) -> None:
    def banner(*options: str) -> str:
        server = _serve(*options)
        try:
            assert server.stdout is not None
            return server.stdout.readline()  # printed before the server starts
        finally:
            server.kill()
            server.communicate(timeout=30)

    sqlite = f"sqlite+aiosqlite:///{tmp_path / 'wargame.db'}"
    assert "flushed every 0.05 s" in banner("--database-url", sqlite, "--sqlite-flush-interval", "0.05")
    assert "flushed" not in banner("--database-url", sqlite)
    elsewhere = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    assert "SQLITE_FLUSH_INTERVAL ignored" in banner("--database-url", elsewhere, "--sqlite-flush-interval", "0.05")

    refused = _serve("--database-url", sqlite, "--sqlite-flush-interval", "5")
    _, err = refused.communicate(timeout=60)
    assert refused.returncode == 2
    assert "SQLITE_FLUSH_INTERVAL: Input should be less than or equal to 1" in err

    # Started for a log collector, by the option or by the environment, it says so in the log's format.
    for options, environment in ((("--json-logs",), {}), ((), {"JSON_LOGS": "true"})):
        refused = _serve("--database-url", sqlite, "--sqlite-flush-interval", "5", *options, env=environment)
        _, err = refused.communicate(timeout=60)
        said = json.loads(err.strip().splitlines()[-1])
        assert refused.returncode == 2 and said["level"] == "error", err
        assert said["message"].startswith("wargame serve: SQLITE_FLUSH_INTERVAL: Input should be less than"), said


def test_wargame_serve_says_in_a_sentence_that_it_cannot_use_its_database(tmp_path: Path) -> None:
    for url, reason in (
        ("postgresql+psycopg://nobody@127.0.0.1:1/none", "Connection refused"),
        (f"sqlite+aiosqlite:///{tmp_path / 'no-such-folder' / 'wargame.db'}", "unable to open database file"),
    ):
        server = _serve("--database-url", url)
        _, err = server.communicate(timeout=60)
        assert server.returncode == 1, err
        assert f"wargame serve: cannot use the database {url}: " in err and reason in err, err
        assert "Traceback" not in err, err

    # Started for a log collector, it says so in the log's format.
    server = _serve("--json-logs", "--database-url", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    _, err = server.communicate(timeout=60)
    said = json.loads(err.strip().splitlines()[-1])
    assert server.returncode == 1 and said["level"] == "error", err
    assert said["message"].startswith("wargame serve: cannot use the database "), said


async def test_the_log_is_checkpointed_off_the_commands_path(store: EventStore) -> None:
    """Every second in which something was committed, a thread of the store copies the log into the database: the
    commit that finds the log long no longer does it (nor waits for the flushes of both files) while every game
    waits.  SQLite's own checkpoint stays as a backstop, ten times further out."""
    if store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's log")
    checkpointer = store.checkpointer
    assert checkpointer is not None
    game = await _new_game(store)
    async with asyncio.timeout(30):
        seq = 0
        while not checkpointer.checkpoints:
            await store.append(game.id, seq, [("a", "{}")])
            seq += 1
            await asyncio.sleep(CHECKPOINT_PERIOD / 100)
    await asyncio.sleep(CHECKPOINT_PERIOD * 1.5)  # what came while it ran, checkpointed a second later
    checkpoints = checkpointer.checkpoints
    assert checkpoints in (1, 2)
    await asyncio.sleep(CHECKPOINT_PERIOD * 2.5)  # nothing committed (its own write aside): nothing to checkpoint
    assert checkpointer.checkpoints == checkpoints
