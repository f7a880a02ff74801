"""A bot's seat: one WebSocket, the hello, a reader that keeps the latest view, commands matched to their answers;
and the readiness the bots of one process share, so that the white cell's bot moves on only when the others have
acted."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from server.frames import updated

log = logging.getLogger("wargame.bots")

View = dict[str, Any]
Frame = dict[str, Any]

HELLO_TIMEOUT = 10.0
OPEN_TIMEOUT = 10.0
CLOSE_TIMEOUT = 5.0
ANSWER_TIMEOUT = 10.0

RECONNECTS = 3


class BotError(RuntimeError):
    """A bot (or a bot game) could not go on: bad credentials, a server gone quiet, a timeout."""


class Disconnected(Exception):
    """The socket closed under the bot; it reconnects."""


@dataclass(frozen=True)
class RefusalNote:
    seat: str
    command: str
    code: str
    reason: str


class Readiness:
    """Which bots are connected and which view each has finished acting on.

    The facilitator bot advances a phase only when every delegation bot has acted on the latest view:
    no command of theirs is still in flight and none is about to be sent.
    """

    def __init__(self, members: Iterable[str]) -> None:
        self._members = tuple(members)
        self._joined: set[str] = set()
        self._idle: dict[str, int] = dict.fromkeys(self._members, -1)
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def joined(self, member: str) -> None:
        self._joined.add(member)
        self._notify()

    def busy(self, member: str) -> None:
        """The bot is about to send commands: whatever it last reported no longer holds."""
        self._idle[member] = -1

    def idle(self, member: str, seq: int) -> None:
        """The bot has acted on the view at `seq`: every command it sent for it has been answered."""
        self._idle[member] = seq
        self._notify()

    def all_joined(self) -> bool:
        return all(m in self._joined for m in self._members)

    def all_idle_at(self, seq: int) -> bool:
        """Every bot has acted on exactly this view: none is behind it, none has seen news beyond it."""
        return all(self._idle[m] == seq for m in self._members)

    def _notify(self) -> None:
        for listener in self._listeners:
            listener()


class SeatBot:
    """A seat's connection: hello, a reader that keeps the latest view, commands matched to answers."""

    def __init__(self, name: str, token: str, url: str, *, patience: float = 900.0) -> None:
        self.name = name
        self.token = token
        self.url = url
        self.patience = patience
        """Longest wait for news from the server before the bot gives up."""
        self.view: View | None = None
        self.refusals: list[RefusalNote] = []
        self.acks = 0
        self._views = 0
        self._news = asyncio.Event()
        self._closed = False
        self._ws: ClientConnection | None = None
        self._pending: dict[str, asyncio.Future[Frame]] = {}
        self._refs = itertools.count(1)

    @property
    def ended(self) -> bool:
        return self.view is not None and self.view.get("status") == "ended"

    async def run(self) -> None:
        """Play until the game ends; reconnect a few times if the socket drops."""
        failures = 0
        while True:
            try:
                async with connect(
                    self.url,
                    open_timeout=OPEN_TIMEOUT,
                    close_timeout=CLOSE_TIMEOUT,
                    max_size=16 * 2**20,
                    proxy=None,
                ) as ws:
                    await self._session(ws)
                return
            except (ConnectionClosed, InvalidHandshake, OSError, Disconnected) as problem:
                if self.ended:
                    return
                failures += 1
                if failures > RECONNECTS:
                    raise BotError(f"{self.name}: lost the connection {failures} times: {problem!r}") from problem
                log.warning("%s: connection lost (%r); reconnecting", self.name, problem)
                await asyncio.sleep(0.2 * failures)

    async def _session(self, ws: ClientConnection) -> None:
        await ws.send(json.dumps({"type": "hello", "token": self.token}))
        try:
            first = json.loads(await asyncio.wait_for(ws.recv(), HELLO_TIMEOUT))
        except TimeoutError:
            raise Disconnected("no welcome") from None
        if first.get("type") != "welcome":
            raise BotError(f"{self.name}: the server refused the hello: {first.get('reason', first)}")
        self._closed = False
        self._ws = ws
        self.on_welcome(first)
        reader = asyncio.create_task(self._read(ws), name=f"{self.name}-reader")
        try:
            await self.play()
        finally:
            self._ws = None
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for raw in ws:
                try:
                    frame = json.loads(raw)
                except ValueError:
                    log.warning("%s: ignoring a frame that is not JSON", self.name)
                    continue
                if isinstance(frame, dict):
                    self._on_frame(frame)
        except ConnectionClosed:
            pass
        finally:
            self._closed = True
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(Disconnected("closed while waiting for an answer"))
            self._news.set()

    def _on_frame(self, frame: Frame) -> None:
        kind = frame.get("type")
        if kind == "view":
            self._see(frame["view"])
        elif kind == "update" and self.view is not None:  # (a socket's whole view always comes first)
            self._see(updated(self.view, frame))
        elif kind in ("ack", "refusal", "error"):  # an error with a ref met a command: it answers it too
            if kind == "error":
                log.warning("%s: the server says %s: %s", self.name, frame.get("code"), frame.get("reason"))
            future = self._pending.get(str(frame.get("ref")))
            if future is not None and not future.done():
                future.set_result(frame)

    def _see(self, view: View) -> None:
        self.view = view
        self._views += 1
        self.on_view(view)
        self._news.set()

    def on_welcome(self, frame: Frame) -> None:
        """Called once per connection, when the seat is in the room."""

    def on_view(self, view: View) -> None:
        """Called on every view frame, before the bot is woken."""

    async def play(self) -> None:
        raise NotImplementedError

    async def wait_until(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        """Wait for news until `ready()`; a socket that closes first makes the bot reconnect."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._news.clear()
            if ready():
                return
            if self._closed:
                raise Disconnected(f"closed while waiting for {what}")
            left = deadline - loop.time()
            if left <= 0:
                raise BotError(f"{self.name}: gave up waiting for {what} after {timeout:g} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._news.wait(), left)

    async def command(self, command: dict[str, Any], intent: str | None = None) -> bool:
        """Send one command and wait for its answer; True when acknowledged.  Refusals are logged.

        `intent` names what the command is for (one per seat and game): it becomes the command's key, so the
        same intent sent again after a lost connection is answered, not played twice."""
        ws = self._ws
        if ws is None:
            raise Disconnected("not connected")
        ref = f"{self.name}-{next(self._refs)}"
        future: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._pending[ref] = future
        frame: Frame = {"type": "command", "ref": ref, "command": command}
        if intent is not None:  # the key's alphabet is narrow (docs/protocol.md); intents hold proposal ids
            frame["key"] = hashlib.blake2b(intent.encode(), digest_size=12).hexdigest()
        try:
            await ws.send(json.dumps(frame))
            answer = await asyncio.wait_for(future, ANSWER_TIMEOUT)
        except TimeoutError:
            answer = {"type": "refusal", "code": "no_answer", "reason": f"no answer in {ANSWER_TIMEOUT:g} s"}
        finally:
            self._pending.pop(ref, None)
        if answer.get("type") == "ack":
            self.acks += 1
            return True
        note = RefusalNote(self.name, str(command.get("type")), str(answer.get("code")), str(answer.get("reason")))
        self.refusals.append(note)
        log.info("%s: %s refused (%s): %s", note.seat, note.command, note.code, note.reason)
        return False
