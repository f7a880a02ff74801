"""Live games held by this process: decide, append with compare-and-set, fold, and push to the seats.

A `Room` is the only writer of its cached state.  Every change, whether it comes from a command here or
from another process, enters through `_take`, which folds stored events in seq order and fans them out:
one serialisation per event and audience, one view per distinct viewer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from game_rules import EVENT_ADAPTER, Command, Refusal, State, decide, evolve, state_hash
from game_rules.events import Event
from game_rules.views import Viewer, shown, view
from server.store import EventStore, SeqConflict, StoredEvent

log = logging.getLogger("wargame.rooms")

SNAPSHOT_EVERY = 200
QUEUE_LIMIT = 2000
"""Frames a slow socket may fall behind by before it is dropped; it reconnects with its last seq."""


@dataclass(frozen=True)
class Accepted:
    seq: int


@dataclass(eq=False)
class Connection:
    """One socket's outbox.  The room only ever enqueues; a writer task owned by the socket sends."""

    seat_id: str
    viewer: Viewer
    outbox: asyncio.Queue[str | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))

    def push(self, frame: str) -> bool:
        try:
            self.outbox.put_nowait(frame)
        except asyncio.QueueFull:
            return False
        return True

    def close(self) -> None:
        while True:
            try:
                self.outbox.put_nowait(None)
                return
            except asyncio.QueueFull:
                self.outbox.get_nowait()


def event_frame(seq: int, payload: str | None) -> str:
    return f'{{"type":"event","seq":{seq},"event":{payload if payload is not None else "null"}}}'


def view_frame(seq: int, data: dict[str, object]) -> str:
    return json.dumps({"type": "view", "seq": seq, "view": data}, separators=(",", ":"))


class Room:
    def __init__(self, game_id: str, store: EventStore, state: State, clock: Callable[[], float]) -> None:
        self.game_id = game_id
        self.state = state
        self._store = store
        self._clock = clock
        self._lock = asyncio.Lock()
        self._connections: set[Connection] = set()

    @property
    def connections(self) -> frozenset[Connection]:
        return frozenset(self._connections)

    async def submit(self, command: Command, actor: str) -> Accepted | Refusal:
        """Decide on a command and make its events durable before anyone sees them."""
        if "at" in type(command).model_fields:
            command = command.model_copy(update={"at": self._clock()})
        async with self._lock:
            for _ in range(5):
                decision = decide(self.state, command, actor)
                if isinstance(decision, Refusal):
                    return decision
                rows = [(e.type, EVENT_ADAPTER.dump_json(e).decode()) for e in decision]
                try:
                    stored = await self._store.append(self.game_id, self.state.seq, rows)
                except SeqConflict:
                    await self._catch_up()  # another process wrote first: decide again on the news
                    continue
                await self._take(list(zip(stored, decision, strict=True)))
                return Accepted(seq=stored[-1].seq)
        return Refusal(code="busy", reason="The game changed several times while deciding; send the command again.")

    async def catch_up(self) -> None:
        """Fold events other processes appended (called when the bus says there is news)."""
        async with self._lock:
            await self._catch_up()

    async def _catch_up(self) -> None:
        news = await self._store.read(self.game_id, after_seq=self.state.seq)
        await self._take([(s, EVENT_ADAPTER.validate_json(s.payload)) for s in news])

    async def _take(self, batch: list[tuple[StoredEvent, Event]]) -> None:
        if not batch:
            return
        status_before = self.state.status
        for stored, event in batch:
            frames: dict[str, str] = {}
            for conn in list(self._connections):
                self._send(conn, self._frame_for(conn.viewer, stored, event, frames))
            self.state = evolve(self.state, event)
        views: dict[str, str] = {}
        for conn in list(self._connections):
            key = conn.viewer.key()
            if key not in views:
                views[key] = view_frame(self.state.seq, view(self.state, conn.viewer))
            self._send(conn, views[key])
        if self.state.status != status_before:
            await self._store.set_status(self.game_id, self.state.status)
        if self.state.seq // SNAPSHOT_EVERY != (self.state.seq - len(batch)) // SNAPSHOT_EVERY:
            await self._store.save_snapshot(
                self.game_id, self.state.seq, self.state.model_dump_json(), state_hash(self.state)
            )

    def _frame_for(self, viewer: Viewer, stored: StoredEvent, event: Event, cache: dict[str, str]) -> str:
        """One serialisation per distinct form of the event: the stored bytes, a redacted copy, or none."""
        seen = shown(viewer, event, self.state)
        key = "hidden" if seen is None else "stored" if seen is event else viewer.key()
        if key not in cache:
            payload = (
                None if seen is None else stored.payload if seen is event else EVENT_ADAPTER.dump_json(seen).decode()
            )
            cache[key] = event_frame(stored.seq, payload)
        return cache[key]

    def _send(self, conn: Connection, frame: str) -> None:
        if not conn.push(frame):
            log.warning("dropping a socket that fell behind", extra={"game_id": self.game_id, "seq": self.state.seq})
            self._connections.discard(conn)
            conn.close()

    async def join(self, conn: Connection, since: int | None) -> tuple[int, list[StoredEvent]]:
        """Register a socket; returns the current seq and the events it missed since `since`, in order.

        Holding the lock means no event can fall between the backlog and the first live push.
        """
        async with self._lock:
            await self._catch_up()  # another process may have written: never send past our own state
            missed = (
                await self._store.read(self.game_id, after_seq=since, until_seq=self.state.seq)
                if since is not None
                else []
            )
            for stored in missed:
                conn.push(self._frame_for(conn.viewer, stored, EVENT_ADAPTER.validate_json(stored.payload), {}))
            conn.push(view_frame(self.state.seq, view(self.state, conn.viewer)))
            self._connections.add(conn)
            return self.state.seq, missed

    def leave(self, conn: Connection) -> None:
        self._connections.discard(conn)


class Rooms:
    """Every game this process serves, loaded from the store on first use."""

    def __init__(self, store: EventStore, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock
        self._rooms: dict[str, Room] = {}
        self._loading = asyncio.Lock()

    def loaded(self) -> list[Room]:
        return list(self._rooms.values())

    async def get(self, game_id: str) -> Room | None:
        room = self._rooms.get(game_id)
        if room is not None:
            return room
        async with self._loading:
            if game_id not in self._rooms:
                if await self._store.get_game(game_id) is None:
                    return None
                self._rooms[game_id] = Room(game_id, self._store, await self.load_state(game_id), self._clock)
            return self._rooms[game_id]

    async def load_state(self, game_id: str, until_seq: int | None = None) -> State:
        """The game's state from its latest snapshot (at or before `until_seq`) and the events after it."""
        snapshot = await self._store.latest_snapshot(game_id, at_or_before=until_seq)
        state = State.model_validate_json(snapshot.state) if snapshot else State()
        for stored in await self._store.read(game_id, after_seq=state.seq, until_seq=until_seq):
            state = evolve(state, EVENT_ADAPTER.validate_json(stored.payload))
        return state

    async def load_unfinished(self) -> None:
        """Bring every game still in play into memory, so that its deadlines run after a restart."""
        for game in await self._store.list_games():
            if game.status != "ended":
                await self.get(game.id)

    def close_all(self) -> None:
        for room in self._rooms.values():
            for conn in room.connections:
                conn.close()
