"""The WebSocket wire under the seats' sockets: Uvicorn's websockets-sansio protocol, made to hold little for
connections that stay open for hours and to write frames straight to the transport.

A seminar's sockets are idle most of the time, then all get the same push at once.  Stock, each socket keeps
its handshake's request and response, an `asyncio.Queue` and an `asyncio.Event` for as long as it is open, and
every frame goes out through an ASGI `send` coroutine: a push to ten seats is ten task switches.  This protocol
lets go of the handshake once it is done, keeps lighter primitives, and gives the handler its `Wire` in the
scope's extensions: `write` frames a text and hands it to the transport at once, in the order of the calls, so
the room that pushes an event and the handler that answers a command need no queue or writer task of their own.

`wargame serve` and every test server run it (`PROTOCOL`).  Served by anything else (plain `uvicorn
server.app:app`, another ASGI server), a socket gets an `AsgiWire` instead: the same order and limits over ASGI
`send`, with a queue and a writer task per socket.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import InvalidState
from websockets.http11 import Request

T = TypeVar("T")

NORMAL_CLOSURE, POLICY_VIOLATION, TOO_BIG, INTERNAL_ERROR, SERVICE_RESTART = 1000, 1008, 1009, 1011, 1012
"""The close codes the server sends (docs/protocol.md)."""
EXTENSION = "wargame.wire"
"""The key of the scope's `extensions` under which the handler finds `{"wire": <Wire>}`."""
UNSENT_LIMIT = 4 * 1024 * 1024
"""Bytes written to a socket and not yet taken by the kernel past which `write` answers False: the client does
not read.  The caller closes it; it reconnects with `since` and loses nothing."""


class Wire(Protocol):
    """A socket's outgoing side, as the room and the handler use it."""

    @property
    def closed(self) -> bool:
        """Nothing written now would reach the client: it left, or a close is under way."""
        ...

    def write(self, frame: str) -> bool:
        """Send a text frame after everything written before it; False when the client has fallen
        `UNSENT_LIMIT` behind (the frame is written all the same)."""
        ...

    def close(self, code: int, reason: str) -> None:
        """Send a close frame after everything written before it."""
        ...


def drop_unread(wire: Wire) -> None:
    """Close a socket whose client has fallen `UNSENT_LIMIT` behind (`write` answered False): it reconnects with
    `since` and loses nothing."""
    wire.close(POLICY_VIOLATION, "too many unread frames")


class Fifo(Generic[T]):
    """An unbounded FIFO with one reader: the part of `asyncio.Queue` a socket uses, in a fraction of its memory
    (a Queue's three deques and Event weigh about 2.5 KiB; this is an empty list while nothing waits)."""

    __slots__ = ("_head", "_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[T] = []
        self._head = 0
        self._waiter: asyncio.Future[None] | None = None

    def empty(self) -> bool:
        return self._head == len(self._items)

    def put_nowait(self, item: T) -> None:
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self) -> T:
        while self.empty():
            if self._waiter is not None:
                raise RuntimeError("a Fifo has one reader")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        item = self._items[self._head]
        self._head += 1
        if self._head == len(self._items):
            self._items.clear()  # gives the list's memory back as soon as the reader has caught up
            self._head = 0
        return item


class Flag:
    """`asyncio.Event` without its deque: set, clear, and wait until set."""

    __slots__ = ("_on", "_waiters")

    def __init__(self, on: bool = False) -> None:
        self._on = on
        self._waiters: list[asyncio.Future[None]] = []

    def is_set(self) -> bool:
        return self._on

    def set(self) -> None:
        self._on = True
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._on = False

    async def wait(self) -> bool:
        if self._on:
            return True
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
        return True


class WireProtocol(WebSocketsSansIOProtocol):
    """Uvicorn's `websockets-sansio` protocol with the `Wire` of this module (see the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = Fifo()  # type: ignore[assignment]  # the protocol only uses put_nowait, get and empty
        self.writable = Flag(on=True)  # type: ignore[assignment]  # and set, clear and wait

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)  # none when the handshake was refused
        if scope is not None:
            scope["extensions"][EXTENSION] = {"wire": self}

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept":
            # Open for hours from here: the handshake's headers (the handler has read what it needs from them
            # before accepting) would be kept for nothing.  websockets' parser holds on to the request object
            # itself, so its headers are emptied rather than let go.
            for handshake in (self.__dict__.pop("request", None), self.__dict__.pop("response", None)):
                if handshake is not None:
                    handshake.headers.clear()
            self.scope["headers"] = []

    @property
    def closed(self) -> bool:
        return self.close_sent or self.disconnected or self.transport.is_closing()

    def write(self, frame: str) -> bool:
        if self.closed:
            return True  # gone: nothing to send, and nothing for the caller to drop
        try:
            self.conn.send_text(frame.encode())
        except InvalidState:  # the client's close frame has arrived
            return True
        for chunk in self.conn.data_to_send():
            self.transport.write(chunk)
        return self.transport.get_write_buffer_size() <= UNSENT_LIMIT

    def close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        # What an ASGI `websocket.close` does, without waiting for the transport to be writable: the close frame
        # queues behind the frames already written, and a client that reads nothing is cut off by the timer.
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        self.conn.send_close(code, reason)
        for chunk in self.conn.data_to_send():
            self.transport.write(chunk)
        self.close_sent = True
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()
        self.close_timer = self.loop.call_later(self.close_timeout, self.transport.abort)

    def shutdown(self) -> None:
        """The server is stopping: close with 1012 and keep reading until the client answers the close (Uvicorn
        waits for the connection to end).  Closing the connection at once, as the stock protocol does, leaves what
        a still-sending client wrote unread, and the kernel answers with a reset that overtakes the close frame:
        the client would see 1006 and not know the server meant to restart."""
        if not self.handshake_complete or self.closed:
            super().shutdown()
            return
        self.stop_keepalive()
        self.close(SERVICE_RESTART, "the server is stopping")


PROTOCOL = WireProtocol
"""What Uvicorn's `ws` option is given wherever a game server runs."""


class AsgiWire:
    """A `Wire` over ASGI `send`, for a socket served without `WireProtocol`: frames queue for one writer task, the
    usual Starlette way (more memory per socket, and a task switch per frame).  `UNSENT_LIMIT` counts the
    characters queued here, since what the server's protocol has buffered is out of sight."""

    def __init__(self, send_text: Callable[[str], Awaitable[None]], close: Callable[[int, str], Awaitable[None]]):
        self._send_text, self._close = send_text, close
        self._pending: Fifo[str | tuple[int, str]] = Fifo()
        self._unsent = 0
        self._closed = False
        self._writer = asyncio.create_task(self._write_out(), name="wire:asgi")

    @property
    def closed(self) -> bool:
        return self._closed

    def write(self, frame: str) -> bool:
        if self._closed:
            return True
        self._pending.put_nowait(frame)
        self._unsent += len(frame)
        return self._unsent <= UNSENT_LIMIT

    def close(self, code: int, reason: str) -> None:
        if not self._closed:
            self._closed = True
            self._pending.put_nowait((code, reason))

    async def _write_out(self) -> None:
        try:
            while True:
                item = await self._pending.get()
                if isinstance(item, tuple):
                    await self._close(*item)
                    return
                self._unsent -= len(item)
                await self._send_text(item)
        except Exception:  # the client is gone: nothing more can reach it
            self._closed = True

    async def finish(self, timeout: float = 10.0) -> None:
        """The handler is done: a close already written goes out (for up to `timeout` seconds), the rest is
        dropped."""
        if not self._closed:
            self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(self._writer, timeout)
