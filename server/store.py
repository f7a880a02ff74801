"""Append-only event store. Payloads are opaque JSON text: the store knows nothing of game rules."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast, get_args

from sqlalchemy import (
    ARRAY,
    Boolean,
    DateTime,
    Delete,
    Dialect,
    Engine,
    Insert,
    Integer,
    String,
    Text,
    Update,
    bindparam,
    delete,
    event,
    func,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from server.checkpoint import Checkpointer
from server.db import make_engine, make_sqlite_writer, sqlite_file
from server.flush import LogFlusher
from server.tables import EventRow, GameRow, SeatRow, SnapshotRow, utcnow

GameStatus = Literal["lobby", "running", "paused", "ended"]
SeatRole = Literal["delegation", "red_cell", "observer", "umpire", "facilitator"]

SEQ_LIMIT = 2**31
"""Seqs are INTEGER columns: a cursor at or beyond this is refused before it reaches the database."""
_SEQ_CONSTRAINT = "uq_events_game_id_seq"
_SQLITE_SEQ_CLASH = "UNIQUE constraint failed: events.game_id, events.seq"
_KEY_INDEX = "ix_events_game_id_command_key"
_SQLITE_KEY_CLASH = "UNIQUE constraint failed: events.game_id, events.command_key"
COMMAND_KEY_LIMIT = 100
"""Characters of a command key as stored (the column's width)."""
_JOIN_CODE_CONSTRAINTS = ("uq_games_join_code", "games.join_code")


class RepeatedCommand(Exception):
    """The game's log already holds a command under this key: it was played before, its last event at `seq`."""

    def __init__(self, game_id: str, key: str, seq: int) -> None:
        super().__init__(f"game {game_id}: command {key!r} was played at seq {seq}")
        self.game_id = game_id
        self.key = key
        self.seq = seq


class SeqConflict(Exception):
    """Another writer appended first: re-read the stream and retry with the new last seq."""

    def __init__(self, game_id: str, expected_seq: int, actual_seq: int) -> None:
        super().__init__(f"game {game_id}: expected last seq {expected_seq}, found {actual_seq}")
        self.game_id = game_id
        self.expected_seq = expected_seq
        self.actual_seq = actual_seq


class StoreUnavailable(Exception):
    """The database refused a statement, or could not be reached: its disk full or read-only, its server gone.
    Nothing of it was stored, and the same write may succeed once the cause is gone."""

    def __init__(self, cause: str) -> None:
        super().__init__(f"the database refused: {cause}")
        self.cause = cause


READ_ONLY_TRANSACTION = "25006"
"""PostgreSQL's SQLSTATE for a write in a read-only transaction: a standby after a failover, or a database set
read-only (`default_transaction_read_only`)."""


def refusal(error: BaseException) -> StoreUnavailable | None:
    """`error` as the database's refusal, in its own words (the first line: PostgreSQL's go on with details); None
    for any other error.  Refusals are the driver's operational errors (SQLite's own, or any driver's as SQLAlchemy
    wraps them) and PostgreSQL's read-only transactions."""
    if isinstance(error, StoreUnavailable):
        return error
    if isinstance(error, sqlite3.OperationalError):
        said = str(error)
    elif isinstance(error, OperationalError) or (
        isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) == READ_ONLY_TRANSACTION
    ):
        said = str(error.orig)
    else:
        return None
    said = said.strip()
    return StoreUnavailable(said.splitlines()[0] if said else type(error).__name__)


def not_stored(refused: StoreUnavailable) -> str:
    """What a player or a client is told when its command or request met `refused`."""
    return (
        f"The server's database refused this ({refused.cause}), so nothing changed. Send it again in a moment; "
        "if it fails again, the server's computer needs attention."
    )


def refused_play(refused: StoreUnavailable) -> str:
    """What every seat of a game is told while its database refuses the game's writes."""
    return (
        f"The server's database is refusing to record this game ({refused.cause}): commands are refused and nothing "
        "changes until it writes again. Nothing already shown is lost."
    )


@contextlib.contextmanager
def _refusals_named() -> Iterator[None]:
    try:
        yield
    except (sqlite3.OperationalError, DBAPIError) as error:
        if (refused := refusal(error)) is None:
            raise
        raise refused from error


class UnknownGame(LookupError):
    pass


class UnknownSeat(LookupError):
    pass


class JoinCodeTaken(ValueError):
    """Join codes are short and random; the caller draws another one."""


@dataclass(frozen=True, slots=True)
class GameRecord:
    id: str
    scenario: str
    ruleset: str
    title: str
    join_code: str
    facilitator_key_hash: str
    status: GameStatus
    last_seq: int
    seed: int
    forked_from_game: str | None
    forked_at_seq: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SeatRecord:
    id: str
    game_id: str
    role: SeatRole
    member: str | None
    player_name: str
    credential_hash: str
    revoked: bool
    is_bot: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StoredEvent:
    game_id: str
    seq: int
    type: str
    payload: str
    recorded_at: datetime
    ends_command: bool = True
    """Whether it is the last of the events its command brought: play can be turned back to it
    (`Room._mid_command`), and a game forked there (`export.fork`)."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    game_id: str
    seq: int
    state: str
    state_hash: str
    created_at: datetime


def _new_id() -> str:
    return uuid.uuid4().hex


def _check_choice(value: str, allowed: object) -> None:
    if value not in get_args(allowed):
        raise ValueError(f"{value!r} is not one of {get_args(allowed)}")


def _violates(exc: IntegrityError, *markers: str) -> bool:
    message = str(exc.orig)
    return any(marker in message for marker in markers)


def _game_record(row: GameRow) -> GameRecord:
    return GameRecord(
        id=row.id,
        scenario=row.scenario,
        ruleset=row.ruleset,
        title=row.title,
        join_code=row.join_code,
        facilitator_key_hash=row.facilitator_key_hash,
        status=cast(GameStatus, row.status),
        last_seq=row.last_seq,
        seed=row.seed,
        forked_from_game=row.forked_from_game,
        forked_at_seq=row.forked_at_seq,
        created_at=row.created_at,
    )


def _seat_record(row: SeatRow) -> SeatRecord:
    return SeatRecord(
        id=row.id,
        game_id=row.game_id,
        role=cast(SeatRole, row.role),
        member=row.member,
        player_name=row.player_name,
        credential_hash=row.credential_hash,
        revoked=row.revoked,
        is_bot=row.is_bot,
        created_at=row.created_at,
    )


def _event(row: EventRow) -> StoredEvent:
    return StoredEvent(row.game_id, row.seq, row.type, row.payload, row.recorded_at, row.ends_command)


def _snapshot(row: SnapshotRow) -> Snapshot:
    return Snapshot(row.game_id, row.seq, row.state, row.state_hash, row.created_at)


class EventStore:
    def __init__(self, engine: AsyncEngine, flush_interval: float = 0.0) -> None:
        """On a SQLite file, a `Checkpointer` keeps the log short.  `flush_interval` 0 when the engine's connections
        flush every commit, otherwise the seconds between the flushes of a `LogFlusher` (`EventStore.from_url`)."""
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        file = sqlite_file(engine.url)
        self.flusher = LogFlusher(file, flush_interval) if file is not None and flush_interval else None
        if (flusher := self.flusher) is not None:  # the appends count their own commits (_SqliteAppends)
            event.listen(engine.sync_engine, "commit", lambda _connection: flusher.committed())
        self.checkpointer = Checkpointer(file) if file is not None else None
        self._sqlite = _SqliteAppends(engine, self.flusher) if file is not None else None
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    @classmethod
    def from_url(cls, url: str, flush_interval: float = 0.0) -> EventStore:
        """`flush_interval`: see `Settings.sqlite_flush_interval` (ignored on PostgreSQL, whose own
        `synchronous_commit` decides)."""
        return cls(make_engine(url, timed_flush=bool(flush_interval)), flush_interval)

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def dispose(self) -> None:
        if self._sqlite is not None:
            self._sqlite.dispose()
        await self._engine.dispose()
        if self.flusher is not None:
            self.flusher.stop()
        if self.checkpointer is not None:
            self.checkpointer.stop()

    async def ping(self) -> None:
        """A trivial query: raises if the database does not answer."""
        async with self._engine.connect() as connection:
            await connection.execute(select(1))

    # games

    async def create_game(
        self,
        *,
        scenario: str,
        ruleset: str,
        title: str,
        join_code: str,
        facilitator_key_hash: str,
        seed: int,
        forked_from_game: str | None = None,
        forked_at_seq: int | None = None,
    ) -> GameRecord:
        row = GameRow(
            id=_new_id(),
            scenario=scenario,
            ruleset=ruleset,
            title=title,
            join_code=join_code,
            facilitator_key_hash=facilitator_key_hash,
            status="lobby",
            last_seq=0,
            seed=seed,
            forked_from_game=forked_from_game,
            forked_at_seq=forked_at_seq,
            created_at=utcnow(),
        )
        try:
            async with self._sessions.begin() as session:
                session.add(row)
        except IntegrityError as exc:
            if _violates(exc, *_JOIN_CODE_CONSTRAINTS):
                raise JoinCodeTaken(join_code) from exc
            raise
        return _game_record(row)

    async def get_game(self, game_id: str) -> GameRecord | None:
        async with self._sessions() as session:
            row = await session.get(GameRow, game_id)
            return None if row is None else _game_record(row)

    async def game_by_join_code(self, code: str) -> GameRecord | None:
        async with self._sessions() as session:
            row = await session.scalar(select(GameRow).where(GameRow.join_code == code))
            return None if row is None else _game_record(row)

    async def list_games(self) -> list[GameRecord]:
        async with self._sessions() as session:
            rows = await session.scalars(select(GameRow).order_by(GameRow.created_at, GameRow.id))
            return [_game_record(row) for row in rows]

    async def delete_game(self, game_id: str) -> bool:
        """Everything stored of a game, gone in one transaction; False if there was no such game."""
        async with self._sessions.begin() as session:
            for table in (SnapshotRow, EventRow, SeatRow):
                await session.execute(delete(table).where(table.game_id == game_id))
            return await _rows_changed(session, delete(GameRow).where(GameRow.id == game_id)) == 1

    async def set_status(self, game_id: str, status: GameStatus) -> None:
        _check_choice(status, GameStatus)
        with _refusals_named():
            async with self._sessions.begin() as session:
                query = update(GameRow).where(GameRow.id == game_id).values(status=status)
                if await _rows_changed(session, query) != 1:
                    raise UnknownGame(game_id)

    # events

    async def append(
        self,
        game_id: str,
        expected_seq: int,
        events: Sequence[tuple[str, str]],
        command_key: str | None = None,
        ends: Sequence[bool] | None = None,
    ) -> list[StoredEvent]:
        """Compare-and-set on games.last_seq, then insert: concurrent writers can't lose or fork a stream.

        The events are those of one command, the last of them its end, unless `ends` says which end a command (a
        copy of a game appends many commands at once).  `command_key` names the command the events come from; it
        is kept with the last of them, and an append under a key the game already holds writes nothing and raises
        `RepeatedCommand`."""
        if expected_seq < 0:
            raise ValueError("expected_seq must be >= 0")
        if command_key is not None and not 0 < len(command_key) <= COMMAND_KEY_LIMIT:
            raise ValueError(f"a command key has 1 to {COMMAND_KEY_LIMIT} characters")
        recorded_at = utcnow()
        if ends is None:
            ends = [i == len(events) for i in range(1, len(events) + 1)]
        stored = [
            StoredEvent(game_id, expected_seq + i, type_, payload, recorded_at, end)
            for i, ((type_, payload), end) in enumerate(zip(events, ends, strict=True), start=1)
        ]
        try:
            with _refusals_named():
                if self._sqlite is not None:
                    await self._sqlite.append(game_id, expected_seq, stored, command_key)
                else:
                    await self._append_in_one_statement(game_id, expected_seq, stored, command_key)
        except IntegrityError as exc:
            if command_key is not None and _violates(exc, _KEY_INDEX, _SQLITE_KEY_CLASH):
                played = await self.command_seq(game_id, command_key)
                if played is not None:
                    raise RepeatedCommand(game_id, command_key, played) from exc
            # Rows written behind the store's back (or a bug) can still clash on (game_id, seq).
            if not _violates(exc, _SEQ_CONSTRAINT, _SQLITE_SEQ_CLASH):
                raise
            raise SeqConflict(game_id, expected_seq, await self._max_event_seq(game_id)) from exc
        return stored

    async def command_seq(self, game_id: str, command_key: str) -> int | None:
        """The seq of the last event of the command appended under this key, if there is one."""
        async with self._sessions() as session:
            query = select(EventRow.seq).where(EventRow.game_id == game_id, EventRow.command_key == command_key)
            found: int | None = await session.scalar(query)
            return found

    async def command_of(self, game_id: str, seq: int) -> tuple[int, int] | None:
        """The first and last seq of the events the command that brought event `seq` appended (None: no such
        event)."""
        events = EventRow.__table__.c
        ends = select(events.seq).where(events.game_id == game_id, events.ends_command)
        async with self._sessions() as session:
            last = await session.scalar(ends.where(events.seq >= seq).order_by(events.seq).limit(1))
            if last is None:
                return None
            before = await session.scalar(ends.where(events.seq < seq).order_by(events.seq.desc()).limit(1))
            return (before or 0) + 1, last

    async def last_seqs(self, game_ids: Sequence[str]) -> dict[str, int]:
        """The last seq of each of these games, in one query."""
        async with self._sessions() as session:
            rows = await session.execute(select(GameRow.id, GameRow.last_seq).where(GameRow.id.in_(game_ids)))
            return {game_id: seq for game_id, seq in rows}

    async def _append_in_one_statement(
        self, game_id: str, expected_seq: int, stored: Sequence[StoredEvent], command_key: str | None
    ) -> None:
        """PostgreSQL: the claim and the insert in one statement, one trip, committed on its own (a transaction of
        several statements would be four trips)."""
        claim = _claim_values(game_id, expected_seq, len(stored))
        async with self._autocommit.connect() as connection:
            if stored:
                arrays = {
                    **claim,
                    "seqs": [e.seq for e in stored],
                    "types": [e.type for e in stored],
                    "payloads": [e.payload for e in stored],
                    "times": [e.recorded_at for e in stored],
                    "keys": _keys(stored, command_key),
                    "ends": [e.ends_command for e in stored],
                }
                claimed = len((await connection.execute(_CLAIM_AND_INSERT, arrays)).all()) == len(stored)
            else:  # nothing to insert: the claim alone checks the seq
                claimed = (await connection.execute(_CLAIM, claim)).rowcount == 1
        if not claimed:
            raise _claim_lost(game_id, expected_seq, (await self.last_seqs([game_id])).get(game_id))

    async def _max_event_seq(self, game_id: str) -> int:
        async with self._sessions() as session:
            found = await session.scalar(select(func.max(EventRow.seq)).where(EventRow.game_id == game_id))
            return found or 0

    async def read(self, game_id: str, after_seq: int = 0, until_seq: int | None = None) -> list[StoredEvent]:
        query = select(EventRow).where(EventRow.game_id == game_id, EventRow.seq > after_seq)
        if until_seq is not None:
            query = query.where(EventRow.seq <= until_seq)
        async with self._sessions() as session:
            rows = await session.scalars(query.order_by(EventRow.seq))
            return [_event(row) for row in rows]

    # snapshots

    async def save_snapshot(self, game_id: str, seq: int, state_json: str, state_hash: str) -> None:
        """Idempotent per (game, seq): the state at a seq is deterministic, so a rewrite is harmless."""
        row = SnapshotRow(game_id=game_id, seq=seq, state=state_json, state_hash=state_hash, created_at=utcnow())
        with _refusals_named():
            async with self._sessions.begin() as session:
                await session.merge(row)

    async def latest_snapshot(self, game_id: str, at_or_before: int | None = None) -> Snapshot | None:
        query = select(SnapshotRow).where(SnapshotRow.game_id == game_id)
        if at_or_before is not None:
            query = query.where(SnapshotRow.seq <= at_or_before)
        async with self._sessions() as session:
            row = await session.scalar(query.order_by(SnapshotRow.seq.desc()).limit(1))
            return None if row is None else _snapshot(row)

    async def snapshots(self, game_id: str) -> list[Snapshot]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(SnapshotRow).where(SnapshotRow.game_id == game_id).order_by(SnapshotRow.seq)
            )
            return [_snapshot(row) for row in rows]

    # seats

    async def add_seat(
        self,
        game_id: str,
        *,
        role: SeatRole,
        member: str | None,
        player_name: str,
        credential_hash: str,
        is_bot: bool = False,
    ) -> SeatRecord:
        _check_choice(role, SeatRole)
        row = SeatRow(
            id=_new_id(),
            game_id=game_id,
            role=role,
            member=member,
            player_name=player_name,
            credential_hash=credential_hash,
            revoked=False,
            is_bot=is_bot,
            created_at=utcnow(),
        )
        async with self._sessions.begin() as session:
            if await session.get(GameRow, game_id) is None:
                raise UnknownGame(game_id)
            session.add(row)
        return _seat_record(row)

    async def seat_by_credential_hash(self, credential_hash: str) -> SeatRecord | None:
        """Revoked seats are returned too (with revoked=True) so callers can say why access is refused."""
        async with self._sessions() as session:
            row = await session.scalar(select(SeatRow).where(SeatRow.credential_hash == credential_hash))
            return None if row is None else _seat_record(row)

    async def seats(self, game_id: str) -> list[SeatRecord]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(SeatRow).where(SeatRow.game_id == game_id).order_by(SeatRow.created_at, SeatRow.id)
            )
            return [_seat_record(row) for row in rows]

    async def credentials(self, game_ids: Sequence[str]) -> dict[str, str | None]:
        """The credential hash each seat of these games holds now (None: revoked), in one query."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(SeatRow.id, SeatRow.credential_hash, SeatRow.revoked).where(SeatRow.game_id.in_(game_ids))
            )
            return {seat_id: None if revoked else held for seat_id, held, revoked in rows}

    async def revoke_seat(self, seat_id: str) -> None:
        await self._update_seat(seat_id, revoked=True)

    async def reassign_seat(
        self,
        seat_id: str,
        player_name: str,
        credential_hash: str,
        *,
        is_bot: bool = False,
        replacing: str | None = None,
    ) -> bool:
        """The seat with a new credential; with `replacing`, only if it still holds that one (False otherwise): of
        two processes giving a seat a new credential at once, one does."""
        # A reassigned seat belongs to someone new, so an earlier revocation no longer applies.
        values = {"player_name": player_name, "credential_hash": credential_hash, "revoked": False, "is_bot": is_bot}
        seat = SeatRow.id == seat_id
        held = seat if replacing is None else seat & (SeatRow.credential_hash == replacing)
        async with self._sessions.begin() as session:
            changed = await _rows_changed(session, update(SeatRow).where(held).values(**values)) == 1
        if not changed and replacing is None:
            raise UnknownSeat(seat_id)
        return changed

    async def _update_seat(self, seat_id: str, **values: object) -> None:
        async with self._sessions.begin() as session:
            if await _rows_changed(session, update(SeatRow).where(SeatRow.id == seat_id).values(**values)) != 1:
                raise UnknownSeat(seat_id)


class _SqliteAppends:
    """SQLite takes one writer at a time anyway.  An append is one short transaction on a connection of its own, run
    in the event loop (a WAL commit takes a fraction of a millisecond; a trip through aiosqlite, or to a thread and
    back, takes several times that on a busy loop: docs/performance.md).  While another connection is writing, the
    loop must not wait for it: the append goes to a thread whose connection waits its turn.

    The two statements run on the driver's connection, compiled once from the same SQLAlchemy constructs as
    everywhere else: SQLAlchemy's execution layer around them cost more than the statements themselves."""

    def __init__(self, engine: AsyncEngine, flusher: LogFlusher | None) -> None:
        timed = flusher is not None
        self._now = make_sqlite_writer(engine, wait=False, timed_flush=timed)
        self._waiting = make_sqlite_writer(engine, timed_flush=timed)
        self._flusher = flusher
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-append")
        dialect = self._now.dialect
        self._claim = _positional(_CLAIM, dialect)
        self._last_seq = _positional(select(GameRow.last_seq).where(GameRow.id == bindparam("game")), dialect)
        self._insert = _positional(insert(EventRow), dialect, _ROW_COLUMNS)
        # The column's type as this dialect stores it (SQLite: text, as SQLAlchemy writes it everywhere else); the
        # type's own processor would hand sqlite3 a datetime, for its default adapter (deprecated since Python 3.12).
        recorded_at = EventRow.__table__.c.recorded_at.type.dialect_impl(dialect)
        self._time: Callable[[datetime], object] = recorded_at.bind_processor(dialect) or _same
        self._connections: dict[Engine, PoolProxiedConnection] = {}
        """Each writer engine's one connection, checked out for good: a checkout per append costs a reset."""

    async def append(
        self, game_id: str, expected_seq: int, stored: Sequence[StoredEvent], command_key: str | None
    ) -> None:
        try:
            self._append(self._now, game_id, expected_seq, stored, command_key)
        except sqlite3.OperationalError as busy:
            if busy.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:  # any BUSY_* too
                raise
            await asyncio.get_running_loop().run_in_executor(
                self._thread, self._append, self._waiting, game_id, expected_seq, stored, command_key
            )

    def _append(
        self,
        engine: Engine,
        game_id: str,
        expected_seq: int,
        stored: Sequence[StoredEvent],
        command_key: str | None,
    ) -> None:
        """One transaction on the driver's connection: claim the seqs by compare-and-set on games.last_seq (so
        concurrent writers can neither lose nor fork a stream), then insert the events."""
        if engine not in self._connections:
            self._connections[engine] = engine.raw_connection()
        connection = cast(sqlite3.Connection, self._connections[engine].driver_connection)
        claim = _claim_values(game_id, expected_seq, len(stored))
        try:
            if connection.execute(self._claim.sql, self._claim.values(claim)).rowcount != 1:
                found = connection.execute(self._last_seq.sql, (game_id,)).fetchone()
                raise _claim_lost(game_id, expected_seq, None if found is None else found[0])
            rows = [
                {**_event_values(e, key), "recorded_at": self._time(e.recorded_at)}
                for e, key in zip(stored, _keys(stored, command_key), strict=True)
            ]
            connection.executemany(self._insert.sql, [self._insert.values(row) for row in rows])
            connection.commit()
            if self._flusher is not None:
                self._flusher.committed()
        except sqlite3.IntegrityError as clash:  # as SQLAlchemy would raise it, for EventStore.append
            connection.rollback()
            raise IntegrityError(self._insert.sql, None, clash) from clash
        except BaseException:
            connection.rollback()
            raise

    def dispose(self) -> None:
        self._thread.shutdown(wait=True)
        for connection in self._connections.values():
            connection.close()
        self._now.dispose()
        self._waiting.dispose()


@dataclass(frozen=True)
class _Positional:
    """A statement compiled for a driver that takes `?` parameters, and the order they go in."""

    sql: str
    names: tuple[str, ...]

    def values(self, params: dict[str, object]) -> tuple[object, ...]:
        return tuple(params[name] for name in self.names)


def _same(value: datetime) -> object:
    return value


def _positional(statement: ClauseElement, dialect: Dialect, columns: Sequence[str] | None = None) -> _Positional:
    compiled = statement.compile(dialect=dialect, column_keys=list(columns) if columns is not None else None)
    assert isinstance(compiled, SQLCompiler)
    return _Positional(compiled.string, tuple(compiled.positiontup or ()))


def _claim_values(game_id: str, expected_seq: int, count: int) -> dict[str, object]:
    return {"game": game_id, "expected": expected_seq, "last": expected_seq + count}


def _claim_lost(game_id: str, expected_seq: int, actual: int | None) -> UnknownGame | SeqConflict:
    """Why the claim matched no row: the game is not there (`actual` None), or its log has moved on."""
    return UnknownGame(game_id) if actual is None else SeqConflict(game_id, expected_seq, actual)


_CLAIM = (
    update(GameRow)
    .where(GameRow.id == bindparam("game"), GameRow.last_seq == bindparam("expected"))
    .values(last_seq=bindparam("last"))
)
"""The compare-and-set that claims an append's seqs."""
_EVENT_COLUMNS = ("game_id", "seq", "type", "payload", "recorded_at", "ends_command")
"""An event row's columns as a `StoredEvent` has them."""
_ROW_COLUMNS = (*_EVENT_COLUMNS, "command_key")
"""What an append writes: the event and, on a command's last event, its key."""


def _claim_and_insert() -> Insert:
    """An append as one statement for PostgreSQL: the claim is a data-modifying CTE the insert selects from,
    so when the compare-and-set matches no row nothing is inserted.  The events come as arrays (`unnest`): the
    statement's text is the same whatever their number, and compiled once."""
    claim = (
        update(GameRow)
        .where(GameRow.id == bindparam("game"), GameRow.last_seq == bindparam("expected"))
        .values(last_seq=bindparam("last"))
        .returning(GameRow.id)
        .cte("claim")
    )
    new = (
        func.unnest(
            bindparam("seqs", type_=ARRAY(Integer)),
            bindparam("types", type_=ARRAY(String)),
            bindparam("payloads", type_=ARRAY(Text)),
            bindparam("times", type_=ARRAY(DateTime(timezone=True))),
            bindparam("keys", type_=ARRAY(String)),
            bindparam("ends", type_=ARRAY(Boolean)),
        )
        .table_valued("seq", "type", "payload", "recorded_at", "command_key", "ends_command")
        .render_derived(name="new_events")
    )
    picked = (
        select(
            claim.c.id, new.c.seq, new.c.type, new.c.payload, new.c.recorded_at, new.c.ends_command, new.c.command_key
        )
        .select_from(claim)
        .join(new, true())
    )
    return (
        insert(EventRow).from_select(list(_ROW_COLUMNS), picked).add_cte(claim, nest_here=True).returning(EventRow.seq)
    )


_CLAIM_AND_INSERT = _claim_and_insert()


async def _rows_changed(session: AsyncSession, statement: Update | Delete) -> int:
    # Core execution on the session's connection: same transaction, and a typed rowcount.
    connection = await session.connection()
    return (await connection.execute(statement)).rowcount


def _event_values(event: StoredEvent, command_key: str | None = None) -> dict[str, object]:
    return {**{column: getattr(event, column) for column in _EVENT_COLUMNS}, "command_key": command_key}


def _keys(stored: Sequence[StoredEvent], command_key: str | None) -> list[str | None]:
    """Each event's command key: the command's on its last event, where sending it again finds its seq."""
    keys: list[str | None] = [None] * len(stored)
    if stored:
        keys[-1] = command_key
    return keys
