"""Live games held by this process: decide, append with compare-and-set, fold, and push to the seats.

A `Room` is the only writer of its cached state.  Every change, whether it comes from a command here or
from another process, enters through `_take`, which folds stored events in seq order and fans them out:
one serialisation per event and audience, one update of the view per distinct viewer (server/frames.py).

With several server processes (see server/bus.py) each one holds its own `Room` for a game.  The writer
publishes `(game_id, seq)` and the events after each append; the others hear it (`Rooms.news`), fold the
carried events that follow their own last seq and read any gap from the store, in seq order, so every seat
gets every event once and in order whichever process it is connected to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeGuard

from game_rules import EVENT_ADAPTER, Command, Refusal, State, decide, evolve, replay, state_hash
from game_rules.events import Event, GameRewound, SeatReassigned, SeatReleased
from game_rules.views import Viewer, log_lengths, shown
from server.bus import Bus, Carried, LocalBus
from server.frames import Shown, event_frame, presence_frame, storage_frame, view_frame
from server.store import EventStore, RepeatedCommand, SeqConflict, StoredEvent, StoreUnavailable, refused_play
from server.wire import NORMAL_CLOSURE, SERVICE_RESTART, Wire, drop_unread

log = logging.getLogger("wargame.rooms")

SNAPSHOT_EVERY = 200
CONFLICT_RETRIES = 50
CONFLICT_SECONDS = 5.0
"""How often, and for how long, a command is decided again after other processes appended first.  Every
conflict means somebody else's command went through, so the loser only waits while others make progress."""
CARRIED_LIMIT = 1000
"""Events a room keeps from notifications while it is behind; past that it forgets them and reads the store."""
KEEP_UP_EVERY = 5.0
"""Seconds between safety catch-ups of the rooms with sockets (bus notifications are at most once), and between
announcements of the seats connected here."""
PRESENCE_PERIODS = 3
"""An announcement of the seats connected here holds for this many periods of `keep_up`: two may be lost."""
UNLOAD_AFTER = 900.0
"""Seconds after which a game nobody is connected to and whose clock is not running leaves memory (it is loaded
again from the store when next asked for): a server that runs for months holds only the games in use."""


class PlayedNotShown(Exception):
    """A command's events are stored, but folding or showing them failed (the database gone while the state a
    rewind goes back to was read, say): it was played, at `seq`, so nobody may be told that nothing changed.  The
    room reads what it did not show from the store, as it reads another process's news."""

    def __init__(self, seq: int) -> None:
        super().__init__(f"the command was stored at event {seq}, but showing it failed")
        self.seq = seq


@dataclass(frozen=True)
class Accepted:
    seq: int
    repeated: bool = False
    """The command had been played before under the same key: `seq` is where, and nothing was played now."""


RELEASED = "the facilitator released this seat"
DELETED = "the facilitator deleted this game"
NEW_CREDENTIAL = "the seat has a new credential"
SHOWN_OUT: dict[type[SeatReassigned | SeatReleased], str] = {
    SeatReassigned: "the seat was given to another player",
    SeatReleased: RELEASED,
}
"""The events after which no socket open before them holds their seat any more, and what its player is told."""


@dataclass(eq=False)
class Connection:
    """One seat's socket as the room sees it: what is written to its wire goes out at once, in order."""

    seat_id: str
    viewer: Viewer
    wire: Wire
    credential: str
    """The hash of the credential the socket opened with: once the seat holds another, the socket is shown out."""
    opened: float = field(default_factory=time.monotonic)


class Deployment(Protocol):
    """Who is connected to a game across every process of the deployment (`Rooms`)."""

    def announce(self, room: Room) -> None:
        """The seats connected to `room` here have changed: tell the other processes."""

    def present(self, game_id: str) -> frozenset[str]:
        """The seats of the game connected to any process."""

    async def forget(self, game_id: str, reason: str) -> None:
        """The game is gone from the store: show out its sockets here and drop its room."""


class Room:
    def __init__(
        self,
        game_id: str,
        store: EventStore,
        state: State,
        clock: Callable[[], float],
        bus: Bus | None = None,
        deployment: Deployment | None = None,
    ) -> None:
        self.game_id = game_id
        self.state = state
        self._store = store
        self._clock = clock
        self._bus = bus
        self._lock = asyncio.Lock()
        self._connections: set[Connection] = set()
        self._behind = False
        self._heard_seq = 0
        """The highest seq the bus has announced for this game (it may be ahead of `state` for a moment)."""
        self._carried: dict[int, Carried] = {}
        """Events notifications brought that are not folded yet, by seq."""
        self._reread = False
        """The bus may have lost notifications: the next catch-up reads the store whatever was carried."""
        self._follower: asyncio.Task[None] | None = None
        self._deleted = False
        """The bus announced a seq the store does not hold, and the store no longer holds the game."""
        self._deployment = deployment
        """Told when the seats connected here change, and asked who is connected anywhere (without one: here)."""
        self._told: frozenset[str] | None = None
        """The connected seats this room's sockets were last told of."""
        self._shown = Shown()
        self._status_unrecorded = False
        """The store refused the game's last change of status: the next batch written here records it."""
        self._refused: str | None = None
        """What every socket here was told, when the database refused this game's last write here: a facilitator who
        sends nothing must learn that the room's commands are being refused, and when they no longer are."""
        self.used = time.monotonic()
        """When a command, a socket or a request last came to this room."""

    def now(self) -> float:
        """The server's clock, the one deadlines are enforced by: clients set their countdowns by it."""
        return self._clock()

    @property
    def connections(self) -> frozenset[Connection]:
        return frozenset(self._connections)

    @property
    def shared(self) -> bool:
        """Whether other processes may append to this game (a cross-process bus)."""
        return self._bus is not None and self._bus.shared

    def present(self) -> frozenset[str]:
        """The seats with a socket open to this process."""
        return frozenset(conn.seat_id for conn in self._connections)

    @property
    def has_connections(self) -> bool:
        return bool(self._connections)

    async def submit(
        self,
        command: Command,
        actor: str,
        *,
        only_if: Callable[[State], bool] | None = None,
        key: str | None = None,
        seat: str | None = None,
    ) -> Accepted | Refusal:
        """Decide on a command and make its events durable before anyone sees them.

        `only_if` is checked on the state each decision is made on (after catching up with other processes),
        for a command that is only meant while a condition holds: a deadline's advance, say.

        `key` is the sender's name for the command (unique to the seat): a command sent again under a key the log
        already holds is answered with its earlier seq and not played twice, whether the rules would now accept it
        again (a second message) or refuse it (a phase already advanced).

        `seat` is the seat that sent the command, for the rules that depend on it (a delegation's head speaks).
        """
        if "at" in type(command).model_fields:
            command = command.model_copy(update={"at": self._clock()})
        self.used = time.monotonic()
        async with self._lock:
            give_up = time.monotonic() + CONFLICT_SECONDS
            rechecked = not self.shared  # one process: its state is the game's
            for _ in range(CONFLICT_RETRIES):
                if time.monotonic() > give_up:
                    break
                if self._heard_seq > self.state.seq:  # news is in: an append on the old seq could only conflict
                    await self._catch_up()
                if only_if is not None and not only_if(self.state):
                    decision: tuple[Event, ...] | Refusal = Refusal(
                        code="no_longer_due", reason="The game moved on before the command was decided."
                    )
                else:
                    decision = decide(self.state, command, actor, seat)
                    if not isinstance(decision, Refusal) and (target := next(filter(rewind, decision), None)):
                        decision = await self._mid_command(target) or decision
                if isinstance(decision, Refusal):
                    if not rechecked:
                        # Several processes: a refusal must not rest on news this one has not heard yet.
                        rechecked, seq = True, self.state.seq
                        await self._catch_up()
                        if self.state.seq != seq:
                            continue
                    played = await self._store.command_seq(self.game_id, key) if key is not None else None
                    return decision if played is None else Accepted(seq=played, repeated=True)
                rows = [(e.type, EVENT_ADAPTER.dump_json(e).decode()) for e in decision]
                try:
                    stored = await self._store.append(self.game_id, self.state.seq, rows, key)
                except StoreUnavailable as refused:
                    self._tell_storage(refused)
                    raise
                except SeqConflict:
                    await self._catch_up()  # another process wrote first: decide again on the news
                    continue
                except RepeatedCommand as repeated:
                    await self._catch_up()
                    return Accepted(seq=repeated.seq, repeated=True)
                if self._bus is not None:  # durable now: the other processes may fold it while we fan out
                    carried = [(e.seq, e.type, e.payload, e.recorded_at.isoformat()) for e in stored]
                    self._bus.publish(self.game_id, stored[-1].seq, carried)
                try:
                    await self._take(list(zip(stored, decision, strict=True)), written_here=True)
                except Exception as failed:
                    self.heard(stored[-1].seq)
                    raise PlayedNotShown(stored[-1].seq) from failed
                return Accepted(seq=stored[-1].seq)
        return Refusal(code="busy", reason="The game changed several times while deciding; send the command again.")

    async def _mid_command(self, rewound: GameRewound) -> Refusal | None:
        """A rewind goes back to the end of a command, never into the middle of what one command brought (a phase
        ended but its injects not yet delivered): the log says where each command's events end, the rules do not."""
        first, last = await self._store.command_of(self.game_id, rewound.to_seq) or (rewound.to_seq, rewound.to_seq)
        if last == rewound.to_seq:
            return None
        return Refusal(
            code="mid_command",
            reason=f"Event {rewound.to_seq} is one of the events {first} to {last}, which one command brought: "
            f"undo from event {first} to take that command back whole, or from event {last + 1} to keep it.",
        )

    async def catch_up(self) -> None:
        """Fold events other processes appended (called when the bus says there is news)."""
        async with self._lock:
            await self._catch_up()

    def heard(self, seq: int | None = None, carried: Sequence[Carried] = ()) -> None:
        """The bus says the game's log reaches `seq`, with the events that got it there when carried (None: it
        may have moved, check the store).  Never blocks: one follower task per room catches up, again while news
        keeps arriving; stale or own news is ignored."""
        if seq is not None and seq <= self.state.seq:
            return
        if seq is None:
            self._reread = True
        for event in carried:
            if event[0] > self.state.seq:
                self._carried[event[0]] = event
        if len(self._carried) > CARRIED_LIMIT:  # far behind: the store has them all
            self._carried.clear()
        self._heard_seq = max(self._heard_seq, seq or 0)
        self._behind = True
        if self._follower is None:
            self._follower = asyncio.create_task(self._follow(), name=f"follow:{self.game_id}")

    async def _follow(self) -> None:
        try:
            while self._behind:
                self._behind = False
                await self.catch_up()
        except Exception:  # the next notification, or the periodic catch-up, tries again
            log.exception("catching up failed", extra={"game_id": self.game_id})
        finally:
            self._follower = None
        if self._deleted and self._deployment is not None:
            await self._deployment.forget(self.game_id, DELETED)

    async def stop_following(self) -> None:
        follower, self._follower = self._follower, None
        if follower is not None:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower

    async def _catch_up(self) -> None:
        """Fold what the bus carried, in order from our last seq; then read from the store whatever is still
        missing (a notification lost, or sent without its events) or everything, after a bus reconnection."""
        run = self._carried_run()
        if run:
            await self._take(run)
            if not self._reread and self._heard_seq <= self.state.seq:
                return
        self._reread = False
        news = await self._store.read(self.game_id, after_seq=self.state.seq)
        if not news and self._heard_seq > self.state.seq:  # announced, not stored: deleted (`Lobby.delete_game`)?
            self._deleted = await self._store.get_game(self.game_id) is None
        await self._take([(s, EVENT_ADAPTER.validate_json(s.payload)) for s in news])

    def _carried_run(self) -> list[tuple[StoredEvent, Event]]:
        run: list[tuple[StoredEvent, Event]] = []
        seq = self.state.seq
        while (event := self._carried.pop(seq + 1, None)) is not None:
            seq, kind, payload, at = event
            run.append(
                (
                    StoredEvent(self.game_id, seq, kind, payload, datetime.fromisoformat(at)),
                    EVENT_ADAPTER.validate_json(payload),
                )
            )
        if self._carried:
            self._carried = {s: e for s, e in self._carried.items() if s > seq}
        return run

    async def _take(self, batch: list[tuple[StoredEvent, Event]], written_here: bool = False) -> None:
        """Fold and fan out.  Only the process that wrote the batch records its status and snapshot: the
        others fold the same events, and two writers of one snapshot row would collide."""
        if not batch:
            return
        self._tell_storage(None)  # stored, here or by another process: the database writes the game's events
        status_before = self.state.status
        logs_before = log_lengths(self.state)
        moments = {e.to_seq: await load_state(self._store, self.game_id, e.to_seq) for _, e in batch if rewind(e)}
        audiences = self._audiences()
        for stored, event in batch:
            frames: dict[str, str] = {}
            for viewer, conns in audiences.values():
                frame = self._frame_for(viewer, stored, event, frames)
                for conn in conns:
                    self._send(conn, frame)
            self.state = evolve(self.state, event, moments.get(event.to_seq) if rewind(event) else None)
        for _, event in batch:  # in every process, whichever wrote the event
            if isinstance(event, SeatReassigned | SeatReleased):
                self.show_out(SHOWN_OUT[type(event)], event.seat)
        # One update per viewer, shared by its sockets: those still here (one that fell behind is gone, and with
        # the last of them what was shown).  After a rewind the logs may be shorter: each viewer's whole view.
        if moments:
            self._show_whole()
        else:
            try:
                self._show_updates(logs_before, [event for _, event in batch])
            except Exception:
                # A fault of ours in working out what changed: the batch is folded, so without it the seats would
                # miss its news until they join again.  Each is shown its whole view, and updates go on from there.
                log.exception("the seats' updates failed; sending whole views", extra={"game_id": self.game_id})
                self._show_whole()
        if not written_here:
            return
        # The events are stored and shown: what follows only derives from them, and a refusal of the database here
        # must not answer the command as failed.  A status not recorded is recorded with the next batch.
        try:
            if self.state.status != status_before or self._status_unrecorded:
                self._status_unrecorded = True
                await self._store.set_status(self.game_id, self.state.status)
                self._status_unrecorded = False
            if self.state.seq // SNAPSHOT_EVERY != (self.state.seq - len(batch)) // SNAPSHOT_EVERY:
                await self._store.save_snapshot(
                    self.game_id, self.state.seq, self.state.model_dump_json(), state_hash(self.state)
                )
        except StoreUnavailable as refused:
            log.error("the game's status or snapshot was not stored: %s", refused, extra={"game_id": self.game_id})

    def _show_updates(self, logs_before: Mapping[str, int], batch: list[Event]) -> None:
        audiences = self._audiences()
        if not audiences:
            return
        viewers = [viewer for viewer, _ in audiences.values()]
        updates = self._shown.update_frames(self.state, viewers, logs_before, batch)
        for key, (_, conns) in audiences.items():
            for conn in conns:
                self._send(conn, updates[key])

    def _show_whole(self) -> None:
        """Every socket's whole view, from which its next update starts."""
        self._shown.forget()
        for viewer, conns in self._audiences().values():
            whole = view_frame(self.state, viewer)
            for conn in conns:
                self._send(conn, whole)

    def _tell_storage(self, refused: StoreUnavailable | None) -> None:
        """Tell every socket here when the database starts refusing this game's events, and when it stores them again
        (a status or snapshot it refuses after the events is not told: the commands are still played)."""
        said = None if refused is None else refused_play(refused)
        if said != self._refused:
            self._refused = said
            frame = storage_frame(said)
            for conn in list(self._connections):
                self._send(conn, frame)

    def _audiences(self) -> dict[str, tuple[Viewer, list[Connection]]]:
        """The sockets here by what they see: one frame per distinct viewer, written to each of its sockets."""
        audiences: dict[str, tuple[Viewer, list[Connection]]] = {}
        for conn in self._connections:
            audiences.setdefault(conn.viewer.key(), (conn.viewer, []))[1].append(conn)
        return audiences

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
        if not conn.wire.write(frame):
            self._drop(conn)

    def _drop(self, conn: Connection) -> None:
        log.warning("dropping a socket that fell behind", extra={"game_id": self.game_id, "seq": self.state.seq})
        self.leave(conn)
        drop_unread(conn.wire)

    def tell_presence(self, joining: Connection | None = None) -> None:
        """Push the seats connected anywhere to every socket here when they changed (a facilitator sees a player
        leave at once); a joining socket is told them whatever."""
        seats = self.present() if self._deployment is None else self._deployment.present(self.game_id)
        if seats != self._told:
            self._told = seats
            audience = list(self._connections)
        elif joining is not None:
            audience = [joining]
        else:
            return
        frame = presence_frame(seats)
        # Dropped after the loop: a drop tells the others again, and they must not get the older set after it.
        for conn in [conn for conn in audience if not conn.wire.write(frame)]:
            self._drop(conn)

    async def join(self, conn: Connection, since: int | None) -> tuple[int, list[StoredEvent]]:
        """Register a socket; returns the current seq and the events it missed since `since`, in order.

        Holding the lock means no event can fall between the backlog and the first live push.
        """
        async with self._lock:
            # Another process may have written: never send past our own state.  From the store, not only what the
            # bus carried: a seat given to another player is folded (and its old sockets shown out) before a socket
            # with its new credential joins.
            self._reread = True
            await self._catch_up()
            missed = (
                await self._store.read(self.game_id, after_seq=since, until_seq=self.state.seq)
                if since is not None
                else []
            )
            # The backlog goes out whole (the log bounds it); only live pushes drop a socket that does not read.
            for stored in missed:
                conn.wire.write(self._frame_for(conn.viewer, stored, EVENT_ADAPTER.validate_json(stored.payload), {}))
            conn.wire.write(view_frame(self.state, conn.viewer))
            if self._refused is not None:
                conn.wire.write(storage_frame(self._refused))
            present = self.present()
            self._connections.add(conn)
            if conn.seat_id not in present:
                self._presence_changed()
            self.tell_presence(joining=conn)
            return self.state.seq, missed

    @property
    def idle(self) -> float:
        """Seconds since anything came to this room, or 0 while it has sockets or its clock runs."""
        if self._connections or self.state.status == "running":
            return 0.0
        return time.monotonic() - self.used

    def leave(self, conn: Connection) -> None:
        self.used = time.monotonic()
        if conn in self._connections:
            self._connections.discard(conn)
            if not self._connections:
                self._shown.forget()
            if conn.seat_id not in self.present():
                self._presence_changed()
                self.tell_presence()

    def show_out(self, reason: str, seat_id: str | None = None) -> None:
        """Close the sockets of one seat (None: every seat) with 1000 and `reason`: their credential or game is gone."""
        for conn in self.connections:
            if seat_id is None or conn.seat_id == seat_id:
                self._show_out(conn, reason)

    def recheck(self, held: Mapping[str, str | None], opened_before: float) -> None:
        """Show out the sockets, opened before `opened_before`, whose seat no longer holds their credential (`held`:
        seat -> credential hash, None when revoked): a change made by another process whose news went astray, or
        by `wargame console`, which is no server at all."""
        for conn in self.connections:
            now = held.get(conn.seat_id)
            if conn.opened < opened_before and now != conn.credential:
                self._show_out(conn, NEW_CREDENTIAL if now else RELEASED)

    def _show_out(self, conn: Connection, reason: str) -> None:
        self.leave(conn)
        conn.wire.close(NORMAL_CLOSURE, reason)

    def _presence_changed(self) -> None:
        if self._deployment is not None:
            self._deployment.announce(self)


def rewind(event: Event) -> TypeGuard[GameRewound]:
    return isinstance(event, GameRewound)


async def load_state(store: EventStore, game_id: str, until_seq: int | None = None) -> State:
    """The game's state just after event `until_seq` (None: the latest), from the latest snapshot before it and the
    events after that snapshot; from an earlier snapshot when one of those events rewinds to before it."""
    before = until_seq
    while True:
        snapshot = await store.latest_snapshot(game_id, at_or_before=before)
        start = State.model_validate_json(snapshot.state) if snapshot else State()
        tail = [EVENT_ADAPTER.validate_json(s.payload) for s in await store.read(game_id, start.seq, until_seq)]
        back = min((e.to_seq for e in tail if rewind(e)), default=start.seq)
        if back >= start.seq:
            return replay(tail, start)
        before = back


class Rooms:
    """Every game this process serves, loaded from the store on first use, and who is connected to them here and,
    as the other processes announce it, there."""

    def __init__(self, store: EventStore, clock: Callable[[], float] = time.time, bus: Bus | None = None) -> None:
        self._store = store
        self._clock = clock
        self.bus: Bus = bus if bus is not None else LocalBus()
        self._rooms: dict[str, Room] = {}
        self._loading = asyncio.Lock()
        self.process = uuid.uuid4().hex
        """This process's name in the announcements of who is connected."""
        self._every = KEEP_UP_EVERY
        """Seconds between this process's announcements (and, the deployment's processes alike, the others')."""
        self._elsewhere: dict[str, dict[str, tuple[frozenset[str], float]]] = {}
        """Per game, per other process: the seats connected there, and until when (time.monotonic) that holds."""

    # the bus's callbacks: games this process has not loaded are none of its business

    def news(self, game_id: str, seq: int, carried: Sequence[Carried] = ()) -> None:
        room = self._rooms.get(game_id)
        if room is not None:
            room.heard(seq, carried)

    def resync(self) -> None:
        """Notifications may have been lost (the bus reconnected): re-read every loaded game, and say again who
        is connected here."""
        for room in list(self._rooms.values()):
            room.heard()
        self._announce_all()

    def presence(self, process: str, game_id: str, seats: frozenset[str], ttl: float) -> None:
        """Another process says which seats of a game are connected to it (none: forget it)."""
        if process == self.process:
            return
        there = self._elsewhere.setdefault(game_id, {})
        if seats:
            there[process] = seats, time.monotonic() + ttl
        else:
            there.pop(process, None)
        if not there:
            del self._elsewhere[game_id]
        self._tell_presence(game_id)

    @property
    def everyone_announced_after(self) -> float:
        """Seconds after which every other process has announced the seats connected to it at least once, so that
        `present` knows them all: two announcement periods (none without other processes)."""
        return 2 * self._every if self.bus.shared else 0.0

    def present(self, game_id: str) -> frozenset[str]:
        """The seats of a game with a socket open to any process of the deployment."""
        room = self._rooms.get(game_id)
        here = room.present() if room is not None else frozenset()
        now = time.monotonic()
        there = [seats for seats, until in self._elsewhere.get(game_id, {}).values() if until > now]
        return here.union(*there)

    def announce(self, room: Room, seats: frozenset[str] | None = None) -> None:
        """Tell the other processes the seats connected to `room` here (or `seats`)."""
        if self.bus.shared:
            present = room.present() if seats is None else seats
            self.bus.announce(self.process, room.game_id, present, PRESENCE_PERIODS * self._every)

    def _announce_all(self, seats: frozenset[str] | None = None) -> None:
        for room in list(self._rooms.values()):
            if room.has_connections:
                self.announce(room, seats)

    def _forget_expired(self) -> None:
        """Forget the seats of processes that stopped announcing them (a crashed process says nothing)."""
        now = time.monotonic()
        for game_id, there in list(self._elsewhere.items()):
            expired = [process for process, (_, until) in there.items() if until <= now]
            for process in expired:
                del there[process]
            if not there:
                del self._elsewhere[game_id]
            if expired:
                self._tell_presence(game_id)

    def _tell_presence(self, game_id: str) -> None:
        room = self._rooms.get(game_id)
        if room is not None:
            room.tell_presence()

    async def forget(self, game_id: str, reason: str) -> None:
        """The game is gone from the store (deleted): its sockets here are shown out, and its room dropped."""
        room = self._rooms.pop(game_id, None)
        if room is None:
            return
        await room.stop_following()
        room.show_out(reason)

    def withdraw(self) -> None:
        """This process is stopping: its seats are connected no more."""
        self._announce_all(frozenset())

    async def unload_idle(self, after: float = UNLOAD_AFTER) -> None:
        """Let go of the games idle for `after` seconds (`Room.idle`): the store has them all."""
        for room in [room for room in self._rooms.values() if room.idle > after]:
            del self._rooms[room.game_id]
            await room.stop_following()

    async def keep_up(self, every: float = KEEP_UP_EVERY, unload_after: float = UNLOAD_AFTER) -> None:
        """The safety net under an at-most-once bus: every `every` seconds, one query for the last seq of
        each game with sockets here, and a catch-up of those that are behind; one for the credentials of their
        seats, and the sockets that no longer hold theirs shown out; an announcement of the seats connected here,
        which holds for `PRESENCE_PERIODS` times `every`; and the games idle for `unload_after` let go."""
        self._every = every
        while True:
            self._announce_all()
            await asyncio.sleep(every)
            self._forget_expired()
            await self.unload_idle(unload_after)
            watched = {room.game_id: room for room in list(self._rooms.values()) if room.has_connections}
            if not watched:
                continue
            asked = time.monotonic()
            try:
                last = await self._store.last_seqs(list(watched))
                held = await self._store.credentials(list(watched))
            except Exception:  # a store outage must not end the loop
                log.exception("the periodic catch-up could not read the games' last seqs and credentials")
                continue
            for game_id, seq in last.items():
                watched[game_id].heard(seq)
                watched[game_id].recheck(held, opened_before=asked)
            for game_id in watched.keys() - last.keys():  # deleted by another process
                await self.forget(game_id, DELETED)

    def loaded(self) -> list[Room]:
        return list(self._rooms.values())

    def last_used(self) -> float:
        """When a command, a socket or a request last came to any game here (`time.monotonic`)."""
        return max((room.used for room in self._rooms.values()), default=float("-inf"))

    async def get(self, game_id: str) -> Room | None:
        room = self._rooms.get(game_id)
        if room is not None:
            room.used = time.monotonic()
            return room
        async with self._loading:
            if game_id not in self._rooms:
                if await self._store.get_game(game_id) is None:
                    return None
                state = await load_state(self._store, game_id)
                self._rooms[game_id] = Room(game_id, self._store, state, self._clock, self.bus, self)
            return self._rooms[game_id]

    async def load_unfinished(self) -> None:
        """Bring every game still in play into memory, so that its deadlines run after a restart."""
        for game in await self._store.list_games():
            if game.status != "ended":
                await self.get(game.id)

    def close_all(self) -> None:
        for room in self._rooms.values():
            for conn in room.connections:
                conn.wire.close(SERVICE_RESTART, "the server is stopping")

    async def stop_following(self) -> None:
        for room in list(self._rooms.values()):
            await room.stop_following()
