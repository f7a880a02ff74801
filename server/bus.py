"""The fan-out bus: how one server process tells the others that a game has news.

The store is the only source of truth.  A notification says `(game_id, seq)`: "this game's log now reaches
`seq`", and carries the events just written (`Carried`: seq, type, payload, time), so that a process holding
the game folds them without a query.  A process that is still behind after the carried events (a lost
notification, one sent without its events) reads the gap from the store in order (`Room.catch_up`).  So a
notification may be late, repeated or lost (Redis pub/sub is at most once) without a seat ever seeing a gap
or a duplicate: a lost one is recovered by the next notification for that game, by the re-read of every
loaded game after the bus reconnects, or by the periodic safety catch-up (`Rooms.keep_up`).

Processes also tell each other which seats have a socket open to them (`announce`), so that any of them answers
"who is connected" for the whole deployment.  An announcement holds for a time it states (`ttl`); its process
repeats it well within that time, so the seats of a process that died without a word drop out when it runs out.

`LocalBus` is the in-process default (one server process: nobody else to tell).  `RedisBus` uses Redis
pub/sub on one channel per deployment, `PostgresBus` PostgreSQL's LISTEN/NOTIFY (for a deployment with no
Redis), so that several processes (`wargame serve --workers N`, or servers on several hosts) can share a
PostgreSQL store.  Both are at most once, and both are handled alike (`RemoteBus`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import psycopg
from psycopg import sql
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

log = logging.getLogger("wargame.bus")

Carried = tuple[int, str, str, str]
"""One event as a notification carries it: seq, type, payload (the stored JSON), recorded at (ISO 8601)."""
News = Callable[[str, int, Sequence[Carried]], None]
"""Called with `(game_id, seq, carried events)` for every notification heard; must not block."""
Resync = Callable[[], None]
"""Called when notifications may have been missed (a (re)subscription): re-read every loaded game."""
Presence = Callable[[str, str, frozenset[str], float], None]
"""Called with `(process, game_id, seats, ttl)` for every game an announcement names: for `ttl` seconds, those seats of
the game have a socket open to that process (and no others do)."""

DEFAULT_CHANNEL = "wargame:events"
RETRY_MIN = 0.1
RETRY_MAX = 2.0
"""Bounds of the back-off between attempts to reach Redis again."""
CONNECT_TIMEOUT = 2.0
LISTEN_POLL = 1.0
FIRST_SUBSCRIPTION_WAIT = 5.0
CLOSE_FLUSH_SECONDS = 1.0
"""How long closing the bus may take to send what is still pending (a process leaving says its seats are gone)."""
"""How long `start` waits for the first subscription before carrying on (and retrying in the background)."""
CARRY_LIMIT = 256 * 1024
"""Payload bytes one notification carries at most; beyond, it goes without them and receivers read the store."""
NOTIFY_LIMIT = 7900
"""Bytes of one PostgreSQL notification (the server refuses 8,000 and more); a longer one goes without events."""


class Bus(Protocol):
    @property
    def shared(self) -> bool:
        """True when other processes may append to the same games (a cross-process bus)."""
        ...

    def publish(self, game_id: str, seq: int, carried: Sequence[Carried] = ()) -> None:
        """Tell the other processes that `game_id`'s log reaches `seq` (with the events that got it there, when
        given); never blocks, never raises."""
        ...

    def announce(self, process: str, game_id: str, seats: frozenset[str], ttl: float) -> None:
        """Tell the other processes which seats of `game_id` have a socket open to `process`, for `ttl` seconds;
        never blocks, never raises."""
        ...

    async def start(self, on_news: News, on_resync: Resync, on_presence: Presence | None = None) -> None:
        """Subscribe: `on_news(game_id, seq)` for every notification, `on_resync()` after each (re)subscription,
        `on_presence(...)` for every announcement."""
        ...

    async def close(self) -> None: ...


class LocalBus:
    """In-process delivery to every subscriber of this bus (one server process; or several `Rooms` in a test)."""

    shared = False

    def __init__(self) -> None:
        self._listeners: list[News] = []
        self._presence: list[Presence] = []

    def publish(self, game_id: str, seq: int, carried: Sequence[Carried] = ()) -> None:
        loop = asyncio.get_running_loop()
        for listener in self._listeners:
            loop.call_soon(listener, game_id, seq, carried)  # after the publisher's own turn, as a remote one would

    def announce(self, process: str, game_id: str, seats: frozenset[str], ttl: float) -> None:
        loop = asyncio.get_running_loop()
        for listener in self._presence:
            loop.call_soon(listener, process, game_id, seats, ttl)

    async def start(self, on_news: News, on_resync: Resync, on_presence: Presence | None = None) -> None:
        self._listeners.append(on_news)
        if on_presence is not None:
            self._presence.append(on_presence)

    async def close(self) -> None:
        self._listeners.clear()
        self._presence.clear()


def encode(game_id: str, seq: int, carried: Sequence[Carried] | None = None) -> str:
    message: dict[str, Any] = {"game_id": game_id, "seq": seq}
    if carried:
        message["events"] = carried
    return json.dumps(message, separators=(",", ":"))


def encode_presence(process: str, ttl: float, games: Mapping[str, frozenset[str]]) -> str:
    """One announcement for several games of one process.  A process repeats all its games' every few seconds; a
    message per game would cost each receiver a read and a parse per game, all in one turn of its event loop."""
    present = {game_id: sorted(seats) for game_id, seats in games.items()}
    return json.dumps({"process": process, "ttl": ttl, "present": present}, separators=(",", ":"))


def encode_presences(
    process: str, ttl: float, games: Mapping[str, frozenset[str]], limit: int | None
) -> tuple[list[str], list[str]]:
    """The announcements of these games, as few as fit in `limit` bytes each; and the games that do not fit
    in one even alone."""
    if limit is None:
        return ([encode_presence(process, ttl, games)] if games else []), []
    messages: list[str] = []
    too_big: list[str] = []
    envelope = len(encode_presence(process, ttl, {}))
    part: dict[str, frozenset[str]] = {}
    size = envelope
    for game_id, seats in games.items():
        # `"game":["seat",...]` as it stands between the braces of `present` (ASCII: json.dumps escapes the rest)
        entry = len(json.dumps({game_id: sorted(seats)}, separators=(",", ":"))) - 2
        if envelope + entry > limit:
            too_big.append(game_id)
            continue
        comma = 1 if part else 0
        if size + comma + entry > limit:
            messages.append(encode_presence(process, ttl, part))
            part, size, comma = {}, envelope, 0
        part[game_id] = seats
        size += comma + entry
    if part:
        messages.append(encode_presence(process, ttl, part))
    return messages, too_big


def decode(data: bytes | str) -> tuple[str, int, tuple[Carried, ...]] | None:
    """The `(game_id, seq, carried events)` of a message, or None for anything malformed (ignored, never
    fatal).  Carried events that are not exactly the run of seqs ending at `seq` are dropped: the receiver
    then reads the store."""
    message = _object(data)
    return None if message is None else _news(message)


def decode_presence(data: bytes | str) -> tuple[str, float, dict[str, frozenset[str]]] | None:
    """The `(process, ttl, seats per game)` of an announcement, or None for anything else."""
    message = _object(data)
    return None if message is None else _presence(message)


def _object(data: bytes | str) -> dict[str, Any] | None:
    try:
        message = json.loads(data)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


def _presence(message: dict[str, Any]) -> tuple[str, float, dict[str, frozenset[str]]] | None:
    process, present, ttl = (message.get(k) for k in ("process", "present", "ttl"))
    if not (isinstance(process, str) and isinstance(present, dict)):
        return None
    for seats in present.values():
        if not (isinstance(seats, list) and all(isinstance(seat, str) for seat in seats)):
            return None
    if not isinstance(ttl, int | float) or isinstance(ttl, bool) or not 0 < ttl < float("inf"):
        return None
    return process, float(ttl), {game_id: frozenset(seats) for game_id, seats in present.items()}


def _news(message: dict[str, Any]) -> tuple[str, int, tuple[Carried, ...]] | None:
    game_id, seq = message.get("game_id"), message.get("seq")
    if not isinstance(game_id, str) or not isinstance(seq, int) or isinstance(seq, bool):
        return None
    return game_id, seq, _carried(message.get("events"), seq)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _carried(events: object, last: int) -> tuple[Carried, ...]:
    if not isinstance(events, list) or not events:
        return ()
    run: list[Carried] = []
    for item in events:
        if not (isinstance(item, list) and len(item) == 4 and _is_int(item[0])):
            return ()
        seq, kind, payload, at = item
        if not (isinstance(kind, str) and isinstance(payload, str) and isinstance(at, str)):
            return ()
        run.append((seq, kind, payload, at))
    if [c[0] for c in run] != list(range(last - len(run) + 1, last + 1)):
        return ()
    return tuple(run)


class RemoteBus:
    """What a bus between processes does whatever carries it (`RedisBus`, `PostgresBus`).

    Publishing never waits for the bus: `publish` records the latest seq per game (with the events since the
    last send, up to `carry_limit` bytes) and a sender task sends what is pending in one batch (so a burst of
    commands costs one round trip).  While the bus is unreachable the pending notifications are kept (at most
    one per game, its events dropped past the limit) and sent when it is back.

    The listener owns its connection: on any error it reconnects with a bounded back-off, and every successful
    subscription calls `on_resync`, because whatever was published in between is lost.
    """

    shared = True
    carry_limit = CARRY_LIMIT
    message_limit: int | None = None
    """Bytes one message may take on this transport; a longer one is sent without its events."""

    def __init__(self, url: str, channel: str = DEFAULT_CHANNEL) -> None:
        self.url = url
        self.channel = channel
        self._pending: dict[str, tuple[int, list[Carried] | None]] = {}
        """Per game: the latest seq to announce, and the events since the last send (None: too many, or unknown)."""
        self._present: dict[tuple[str, str], tuple[frozenset[str], float]] = {}
        """Per (process, game): the latest seats to announce, and for how long."""
        self._wake = asyncio.Event()
        self._subscribed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._on_news: News | None = None
        self._on_resync: Resync | None = None
        self._on_presence: Presence | None = None
        self.subscriptions = 0
        """How many times the listener has (re)subscribed; for tests and logs."""

    # what each transport provides

    async def _deliver(self, messages: list[str]) -> None:
        """Send these messages, in order; raise if they may not all have gone."""
        raise NotImplementedError

    async def _close_sender(self) -> None:
        raise NotImplementedError

    async def _subscribe_and_listen(self) -> None:
        """Subscribe, call `_resubscribed` once subscribed, then `_heard` for every message, until an error."""
        raise NotImplementedError

    # the same for every transport

    def publish(self, game_id: str, seq: int, carried: Sequence[Carried] = ()) -> None:
        pending = self._pending.get(game_id)
        if pending is None:
            self._pending[game_id] = seq, _within_limit(list(carried), self.carry_limit)
        elif seq > pending[0]:
            self._pending[game_id] = seq, _joined(pending[1], carried, self.carry_limit)
        self._wake.set()

    def announce(self, process: str, game_id: str, seats: frozenset[str], ttl: float) -> None:
        self._present[process, game_id] = seats, ttl
        self._wake.set()

    async def start(self, on_news: News, on_resync: Resync, on_presence: Presence | None = None) -> None:
        self._on_news, self._on_resync, self._on_presence = on_news, on_resync, on_presence
        self._tasks = [
            asyncio.create_task(self._listen(), name="bus:listen"),
            asyncio.create_task(self._send(), name="bus:send"),
        ]
        try:
            await asyncio.wait_for(self._subscribed.wait(), FIRST_SUBSCRIPTION_WAIT)
        except TimeoutError:
            log.error("cannot subscribe to %s on %s yet; retrying in the background", self.channel, self.url)

    async def close(self) -> None:
        """Send what is pending (for at most `CLOSE_FLUSH_SECONDS`), then stop."""
        if self._tasks and (self._pending or self._present):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._deliver(self._take_batch()), CLOSE_FLUSH_SECONDS)
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _send(self) -> None:
        delay = RETRY_MIN
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                news, present = self._pending, self._present
                if not news and not present:
                    continue
                try:
                    await self._deliver(self._take_batch())
                    delay = RETRY_MIN
                except Exception as error:  # the bus away (OSError, RedisError, psycopg's...) or anything else
                    for game_id, (seq, carried) in news.items():  # kept for the next attempt, newest seq per game
                        self.publish(game_id, seq, carried or ())
                    for key, announced in present.items():
                        self._present.setdefault(key, announced)
                    log.warning("publishing to the bus failed (%r); retrying in %.1f s", error, delay)
                    with contextlib.suppress(Exception):
                        await self._close_sender()
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RETRY_MAX)
        finally:
            with contextlib.suppress(Exception):
                await self._close_sender()

    async def _listen(self) -> None:
        delay = RETRY_MIN
        while True:
            try:
                await self._subscribe_and_listen()
                problem = "the listener stopped"
            except (OSError, TimeoutError, RedisError, psycopg.OperationalError) as error:
                problem = repr(error)
            except Exception:  # a bug must not silence the bus for good: log it, and start over
                log.exception("the bus listener failed")
                problem = "a failure"
            if self._subscribed.is_set():  # it was subscribed: a fresh outage, so try again soon
                delay = RETRY_MIN
            self._subscribed.clear()
            log.warning("lost the bus (%s); reconnecting in %.1f s", problem, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX)

    def _take_batch(self) -> list[str]:
        """Every pending notification and announcement as messages; nothing is pending afterwards."""
        news, self._pending = self._pending, {}
        present, self._present = self._present, {}
        grouped: dict[tuple[str, float], dict[str, frozenset[str]]] = {}
        for (process, game_id), (seats, ttl) in present.items():
            grouped.setdefault((process, ttl), {})[game_id] = seats
        announcements: list[str] = []
        for (process, ttl), games in grouped.items():
            messages, too_big = encode_presences(process, ttl, games, self.message_limit)
            announcements += messages
            if too_big:
                log.warning(
                    "the seats of %d game(s) do not fit in one announcement on this bus; not announced", len(too_big)
                )
        return [self._message(game_id, seq, carried) for game_id, (seq, carried) in news.items()] + announcements

    def _message(self, game_id: str, seq: int, carried: Sequence[Carried] | None) -> str:
        message = encode(game_id, seq, carried)
        return message if self._fits(message) else encode(game_id, seq)

    def _fits(self, message: str) -> bool:
        return self.message_limit is None or len(message.encode()) <= self.message_limit

    def _resubscribed(self) -> None:
        self.subscriptions += 1
        self._subscribed.set()
        if self.subscriptions > 1:
            log.info("bus reconnected; re-reading every loaded game")
        if self._on_resync is not None:
            self._on_resync()

    def _heard(self, data: bytes | str) -> None:
        message = _object(data)
        if message is None:
            return
        if "present" in message:
            presence = _presence(message)
            if presence is not None and self._on_presence is not None:
                process, ttl, games = presence
                for game_id, seats in games.items():
                    self._on_presence(process, game_id, seats, ttl)
            return
        news = _news(message)
        if news is not None and self._on_news is not None:
            self._on_news(*news)


class RedisBus(RemoteBus):
    """Redis pub/sub on one channel per deployment; each batch of notifications is one pipeline."""

    def __init__(self, url: str, channel: str = DEFAULT_CHANNEL) -> None:
        super().__init__(url, channel)
        self._sender: Redis | None = None

    def _client(self) -> Redis:
        # No silent retries inside redis-py: a reconnect must go through our loop so that it triggers a resync.
        return Redis.from_url(
            self.url,
            retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=CONNECT_TIMEOUT,
            health_check_interval=10,
        )

    async def _deliver(self, messages: list[str]) -> None:
        if self._sender is None:
            self._sender = self._client()
        async with self._sender.pipeline(transaction=False) as pipe:
            for message in messages:
                pipe.publish(self.channel, message)
            await pipe.execute()

    async def _close_sender(self) -> None:
        sender, self._sender = self._sender, None
        if sender is not None:
            await sender.aclose()

    async def _subscribe_and_listen(self) -> None:
        client = self._client()
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(self.channel)
            while True:
                # A bounded wait, so that redis-py's health check runs on a quiet channel too.
                message = await pubsub.get_message(timeout=LISTEN_POLL)
                if message is None:
                    continue
                if message["type"] == "subscribe":
                    self._resubscribed()
                elif message["type"] == "message":
                    self._heard(message["data"])
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            with contextlib.suppress(Exception):
                await client.aclose()


class PostgresBus(RemoteBus):
    """PostgreSQL LISTEN/NOTIFY on one channel per deployment, for a deployment that has no Redis.

    A notification holds at most `NOTIFY_LIMIT` bytes, so fewer events ride along than on Redis; a longer one is
    sent without them, and the receivers read the store.  The listener's connection is checked every
    `LISTEN_POLL` seconds, so a dead server is noticed on a quiet channel too.
    """

    carry_limit = NOTIFY_LIMIT // 2
    message_limit = NOTIFY_LIMIT

    def __init__(self, url: str, channel: str = DEFAULT_CHANNEL) -> None:
        super().__init__(url, channel)
        self._sender: psycopg.AsyncConnection[Any] | None = None

    async def _connect(self, role: str) -> psycopg.AsyncConnection[Any]:
        # Named in pg_stat_activity, so that an operator can tell the bus's connections from the store's.
        return await psycopg.AsyncConnection.connect(
            self.url, autocommit=True, connect_timeout=int(CONNECT_TIMEOUT), application_name=f"{role} {self.channel}"
        )

    async def _deliver(self, messages: list[str]) -> None:
        if self._sender is None or self._sender.closed:
            self._sender = await self._connect("notify")
        async with self._sender.cursor() as cursor:
            await cursor.executemany("SELECT pg_notify(%s, %s)", [(self.channel, m) for m in messages])

    async def _close_sender(self) -> None:
        sender, self._sender = self._sender, None
        if sender is not None:
            await sender.close()

    async def _subscribe_and_listen(self) -> None:
        connection = await self._connect("listen")
        try:
            await connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            self._resubscribed()
            while True:
                async for notification in connection.notifies(timeout=LISTEN_POLL):
                    self._heard(notification.payload)
                await connection.execute("SELECT 1")  # raises when the server has gone
        finally:
            with contextlib.suppress(Exception):
                await connection.close()


def _joined(events: list[Carried] | None, more: Sequence[Carried], limit: int) -> list[Carried] | None:
    """The events of two notifications as one, if the second follows the first."""
    if events is None or not more or more[0][0] != events[-1][0] + 1:
        return None
    return _within_limit([*events, *more], limit)


def _within_limit(events: list[Carried], limit: int) -> list[Carried] | None:
    """The events, if there are any and they fit in one notification; None sends the notification without."""
    return events if events and sum(len(c[2]) for c in events) <= limit else None


def make_bus(url: str, channel: str = DEFAULT_CHANNEL) -> Bus:
    """`""` (or `local`) for the in-process bus, `redis://...` / `rediss://...` / `unix://...` for Redis,
    `postgresql://...` (the store's URL will do, `+psycopg` and all) for PostgreSQL's LISTEN/NOTIFY."""
    if url in ("", "local"):
        return LocalBus()
    scheme, _, rest = url.partition("://")
    if scheme in ("redis", "rediss", "unix"):
        return RedisBus(url, channel)
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return PostgresBus(f"postgresql://{rest}", channel)
    raise ValueError(
        f"unsupported bus URL {url!r}: use redis://HOST:PORT/DB or postgresql://USER@HOST/DB, "
        "or leave it empty for one process"
    )
