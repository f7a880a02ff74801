"""A real server for tests: the app under Uvicorn on a loopback socket, and small typed clients for it.

`live_server(database_url, **settings)` runs `uvicorn.Server` as an asyncio task in the test's own event loop,
waits for /healthz and yields the base URL; leaving the block shuts the server down the way a SIGTERM would.
`LiveServer` is the same thing by hand, with `crash()` for a server that dies mid-game.

`Seat` is one player's WebSocket: a background reader keeps every frame in arrival order, answers
(ack/refusal/error/pong carrying a `ref`) are matched to the command that asked, and every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import socket
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Self

import httpx
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from server import wire
from server.app import create_app
from server.config import Settings
from server.frames import updated
from server.store import EventStore

FULL = os.environ.get("WARGAME_FULL") == "1"
"""The long fuzz and kill loops at their full counts (docs/operations.md); the suite runs them small."""
SEED = int(os.environ.get("WARGAME_SEED", "20250611"))


def scaled(ci: int, full: int) -> int:
    return full if FULL else ci


TIMEOUT = 10.0
"""Upper bound for any single wait in these helpers; a test that needs it has already failed."""

Frame = dict[str, Any]


class Views:
    """A seat's view as its frames build it: the whole view on joining, then each update applied.  Tests read an
    update as the view it brings the seat to, `{"type": "view", "seq": N, "view": ..., "update": the frame}`, so
    every assertion on a view also checks the updates that built it."""

    def __init__(self) -> None:
        self.view: Frame | None = None

    def read(self, frame: Frame) -> Frame:
        if frame.get("type") == "view":
            self.view = frame["view"]
        elif frame.get("type") == "update":
            assert self.view is not None, f"an update before the seat's whole view: {frame}"
            self.view = updated(self.view, frame)
            return {"type": "view", "seq": frame["seq"], "view": self.view, "update": frame}
        return frame


class Tap:
    """A seat's wire in an in-process room test, where there is no socket: keeps what the room writes, and past
    `limit` frames not yet taken answers as a client that does not read."""

    def __init__(self, limit: int = 100_000) -> None:
        self.written: list[str] = []
        self.limit = limit
        self.close_code: int | None = None
        self.close_reason = ""
        self.views = Views()

    @property
    def closed(self) -> bool:
        return self.close_code is not None

    def write(self, frame: str) -> bool:
        if not self.closed:
            self.written.append(frame)
        return len(self.written) <= self.limit

    def close(self, code: int, reason: str) -> None:
        if not self.closed:
            self.close_code, self.close_reason = code, reason

    def take(self) -> list[Frame]:
        taken, self.written = self.written, []
        return [self.views.read(json.loads(frame)) for frame in taken]


class LiveServer:
    """The app served by Uvicorn on 127.0.0.1 and a free port, inside the running event loop."""

    def __init__(self, database_url: str, ws: Any = wire.PROTOCOL, **settings: Any) -> None:
        self.settings = Settings(database_url=database_url, host="127.0.0.1", port=0, **settings)
        self.ws = ws
        self._socket: socket.socket | None = None
        self._task: asyncio.Task[None] | None = None
        self.server: uvicorn.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def start(self) -> str:
        # Binding the socket here, not in Uvicorn, tells us the port before the server is up.
        # IPPROTO_TCP named, asyncio sets TCP_NODELAY on each accepted connection; with protocol 0 it does not, and
        # a response written in two parts waits for the client's delayed ACK (40 ms a request on plain asyncio).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        sock.setblocking(False)
        self._socket, self.port = sock, sock.getsockname()[1]
        config = uvicorn.Config(
            create_app(self.settings),
            ws=self.ws,
            lifespan="on",
            log_level="warning",
            log_config=None,
            timeout_graceful_shutdown=5,
        )
        self.server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._serve(self.server, sock), name=f"uvicorn:{self.port}")
        await self._wait_healthy()
        return self.url

    @staticmethod
    async def _serve(server: uvicorn.Server, sock: socket.socket) -> None:
        try:
            await server.serve(sockets=[sock])
        except SystemExit as exit_:  # Uvicorn exits the process when startup fails; a test must only fail
            raise RuntimeError(f"the server failed to start (exit {exit_.code})") from None

    async def _wait_healthy(self) -> None:
        assert self._task is not None
        deadline = time.monotonic() + 30
        async with client(self.url) as http:
            while True:
                if self._task.done():
                    await self._task  # raises what stopped it
                    raise RuntimeError("the server stopped during startup")
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/healthz")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    await self.crash()
                    raise TimeoutError("the server did not answer /healthz within 30 s")
                await asyncio.sleep(0.02)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()  # nothing left to stop after a crash, or a stop, inside the block

    async def stop(self) -> None:
        """Clean shutdown, as on SIGTERM: sockets get 1012, handlers finish, then the app's lifespan ends."""
        if self._task is None or self.server is None:
            return
        task, self._task = self._task, None
        self.server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(task), 20)
        except TimeoutError:
            self.server.force_exit = True
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            raise
        finally:
            self._close_socket()

    async def crash(self) -> None:
        """The server dies where it stands: its task is cancelled, connections are cut without a close frame.

        The cancelled process's leftovers (lifespan task, deadline loop, database pool) are then reaped so the
        test leaks nothing; by then no client can reach it, so only what it had already stored survives.
        """
        if self._task is None or self.server is None:
            return
        task, self._task = self._task, None
        server = self.server
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        for listener in getattr(server, "servers", []):
            listener.close()
        self._close_socket()
        for connection in list(server.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()
        handlers = list(server.server_state.tasks)
        for handler in handlers:
            handler.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        lifespan = getattr(server, "lifespan", None)
        if lifespan is not None and getattr(lifespan, "startup_event", None) and lifespan.startup_event.is_set():
            await asyncio.wait_for(lifespan.shutdown(), 20)
        for listener in getattr(server, "servers", []):
            await asyncio.wait_for(listener.wait_closed(), 20)

    def _close_socket(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None


_CHILD = """
import socket, sys
import uvicorn
from server.app import create_app
from server.config import Settings
from server.wire import PROTOCOL

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", 0))
print(sock.getsockname()[1], flush=True)
config = uvicorn.Config(
    create_app(Settings(database_url=sys.argv[1], host="127.0.0.1", port=0)),
    ws=PROTOCOL, lifespan="on", log_level="warning", log_config=None, timeout_graceful_shutdown=5,
)
uvicorn.Server(config).run(sockets=[sock])
"""


class ProcessServer:
    """The app in a child process, for the crash nothing survives but the database: SIGKILL."""

    def __init__(self, database_url: str, settings: dict[str, str] | None = None) -> None:
        """`settings`: environment variables the server's `Settings` read, besides the database."""
        self.database_url = database_url
        self.settings = settings or {}
        self._process: asyncio.subprocess.Process | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> str:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _CHILD,
            self.database_url,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, **self.settings},
        )
        assert self._process.stdout is not None
        try:
            line = await asyncio.wait_for(self._process.stdout.readline(), 60)
            self.port = int(line)
            deadline = time.monotonic() + 60
            async with client(self.url) as http:
                while True:
                    with contextlib.suppress(httpx.TransportError):
                        if (await http.get("/healthz")).status_code == 200:
                            return self.url
                    if self._process.returncode is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"the server process did not come up (exit {self._process.returncode})")
                    await asyncio.sleep(0.05)
        except BaseException:
            await self.crash()
            raise

    async def stop(self) -> None:
        """SIGTERM: Uvicorn's clean shutdown."""
        await self._end(signal.SIGTERM)

    async def crash(self) -> None:
        """SIGKILL: no shutdown, no finally blocks, no flush beyond what each commit already made durable."""
        await self._end(signal.SIGKILL)

    async def _end(self, sig: int) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.returncode is None:
            process.send_signal(sig)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()
        if process.stdout is not None:
            await process.stdout.read()


@contextlib.asynccontextmanager
async def live_server(database_url: str, **settings: Any) -> AsyncIterator[str]:
    """Serve the app on a free loopback port for the block; yields the base URL (http://127.0.0.1:PORT)."""
    async with LiveServer(database_url, **settings) as server:
        yield server.url


def free_port() -> int:
    """A port nothing listens on now, for a server started as its own command (`wargame serve --port`)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


IDLE_CONNECTIONS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=2.0)
"""httpx's pool sizes, with idle connections let go well before Uvicorn closes them (`timeout_keep_alive`, 5 s):
at equal timeouts a request sent on a connection idle for 5 s can meet the server's close (httpx.ReadError)."""


def client(base_url: str) -> httpx.AsyncClient:
    """An HTTP client for the live server; proxies from the environment are ignored."""
    return httpx.AsyncClient(base_url=base_url, timeout=TIMEOUT, trust_env=False, limits=IDLE_CONNECTIONS)


def ws_base(base_url: str) -> str:
    return "ws" + base_url.removeprefix("http")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- lobby ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Game:
    game_id: str
    join_code: str
    facilitator_key: str
    facilitator_seat: str


@dataclass(frozen=True)
class SeatKey:
    seat_id: str
    token: str
    role: str
    member: str | None


async def create_game(
    http: httpx.AsyncClient, scenario: str = "baltic-demo", title: str | None = None, **options: Any
) -> Game:
    """A game made over REST; `options` go into the body as they are (`rounds`, `phase_minutes`, ...)."""
    body: dict[str, Any] = {"scenario": scenario, "facilitator": "White Cell", **options}
    if title is not None:
        body["title"] = title
    response = await http.post("/api/games", json=body)
    assert response.status_code == 201, response.text
    data = response.json()
    return Game(data["game_id"], data["join_code"], data["facilitator_key"], data["seat"]["seat_id"])


async def claim_seat(
    http: httpx.AsyncClient, game: Game, role: str = "delegation", member: str | None = None, player: str = "Player"
) -> SeatKey:
    body = {"join_code": game.join_code, "role": role, "member": member, "player": player}
    response = await http.post(f"/api/games/{game.game_id}/seats", json=body)
    assert response.status_code == 201, response.text
    data = response.json()
    return SeatKey(data["seat"]["seat_id"], data["token"], role, member)


async def rest_command(http: httpx.AsyncClient, game: Game, token: str, command: Frame) -> httpx.Response:
    return await http.post(f"/api/games/{game.game_id}/commands", json=command, headers=bearer(token))


async def rest_view(http: httpx.AsyncClient, game: Game, token: str) -> Frame:
    response = await http.get(f"/api/games/{game.game_id}/view", headers=bearer(token))
    assert response.status_code == 200, response.text
    view: Frame = response.json()
    return view


def sqlite_refuses(store: EventStore, how: str | None) -> str:
    """The SQLite store's appends refuse what a full disk refuses (`full`: no page beyond those the database has;
    `max_page_count` cannot go below them), or every write, as a disk remounted read-only after errors does
    (`read-only`), or nothing (None).  Returns what SQLite says when it refuses.  Run it in the server's loop."""
    assert store._sqlite is not None, "the store is not SQLite's"
    writers = store._sqlite._connections.values()
    assert writers, "the store has not written yet"
    for writer in writers:
        connection: sqlite3.Connection = writer.driver_connection
        connection.execute(f"PRAGMA max_page_count = {1 if how == 'full' else 1_073_741_823}")
        connection.execute(f"PRAGMA query_only = {int(how == 'read-only')}")
    return "database or disk is full" if how == "full" else "attempt to write a readonly database"


# --- a seat's socket -----------------------------------------------------------------------------------


class SeatClosed(AssertionError):
    """The socket closed while the test was still waiting for a frame."""


class Seat:
    """One seat's WebSocket.  Use as `async with Seat(ws_url, game_id, token) as seat:`.

    `frames` is everything received, in order (an update as the view it brings the seat to, see `Views`).
    `next()` hands out the frames that are not answers (welcome, event, view, and errors without a ref), in order;
    `command()` waits for the answer to its own ref; `connected` is the seats the last presence frame named.
    """

    _refs = itertools.count(1)

    def __init__(self, ws_url: str, game_id: str, token: str, *, since: int | None = None, name: str = "") -> None:
        self.url = f"{ws_url}/ws/games/{game_id}"
        self.token = token
        self.since = since
        self.name = name or token[:6]
        self.frames: list[Frame] = []
        self.connected: frozenset[str] | None = None
        self._views = Views()
        self.close_code: int | None = None
        self.close_reason = ""
        self._socket: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._stream: asyncio.Queue[Frame] = asyncio.Queue()
        self._answers: dict[str, asyncio.Future[Frame]] = {}
        self._closed = asyncio.Event()
        self._changed = asyncio.Event()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def open(self, hello: Frame | str | None = None) -> None:
        """Connect and send `hello` (by default this seat's credential and `since`)."""
        self._socket = await asyncio.wait_for(
            connect(self.url, proxy=None, open_timeout=TIMEOUT, close_timeout=2, max_size=2**22), TIMEOUT
        )
        self._reader = asyncio.create_task(self._read(self._socket), name=f"seat:{self.name}")
        if hello is None:
            hello = {"type": "hello", "token": self.token}
            if self.since is not None:
                hello["since"] = self.since
        await self.send_raw(hello if isinstance(hello, str) else json.dumps(hello))

    async def close(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._socket.close(), TIMEOUT)
        if self._reader is not None:
            reader, self._reader = self._reader, None
            try:
                await asyncio.wait_for(reader, TIMEOUT)
            except TimeoutError:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
        self._socket = None

    async def _read(self, sock: ClientConnection) -> None:
        try:
            async for message in sock:
                frame: Frame = self._views.read(json.loads(message))
                self.frames.append(frame)
                ref = frame.get("ref")
                if frame.get("type") in ("ack", "refusal", "error", "pong") and ref is not None:
                    future = self._answers.setdefault(str(ref), asyncio.get_running_loop().create_future())
                    if not future.done():
                        future.set_result(frame)
                elif frame.get("type") == "presence":
                    self.connected = frozenset(frame["connected"])
                else:
                    self._stream.put_nowait(frame)
                self._changed.set()
        except ConnectionClosed:
            pass
        finally:
            self.close_code = sock.close_code
            self.close_reason = sock.close_reason or ""
            self._closed.set()
            self._changed.set()

    # sending

    async def send_raw(self, data: str | bytes) -> None:
        assert self._socket is not None, "the seat is not connected"
        await self._socket.send(data)

    def new_ref(self) -> str:
        return f"{self.name}-{next(self._refs)}"

    async def send_command(self, command: Frame, ref: str | None = None) -> str:
        """Send a command without waiting for its answer; returns its ref for `answer()`."""
        ref = ref or self.new_ref()
        self._answers.setdefault(ref, asyncio.get_running_loop().create_future())
        await self.send_raw(json.dumps({"type": "command", "ref": ref, "command": command}))
        return ref

    async def answer(self, ref: str, timeout: float = TIMEOUT) -> Frame:
        future = self._answers.setdefault(ref, asyncio.get_running_loop().create_future())
        closed = asyncio.ensure_future(self._closed.wait())
        try:
            await asyncio.wait({future, closed}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closed.cancel()
        if future.done():
            return future.result()
        if self._closed.is_set():
            raise SeatClosed(f"{self.name}: socket closed ({self.close_code}) before the answer to {ref}")
        raise TimeoutError(f"{self.name}: no answer to {ref} within {timeout} s")

    async def command(self, command: Frame, timeout: float = TIMEOUT) -> Frame:
        """Send a command and return its answer: an ack or a refusal frame."""
        return await self.answer(await self.send_command(command), timeout)

    async def ack(self, command: Frame) -> int:
        """Send a command that must be accepted; returns the seq of its last event."""
        answer = await self.command(command)
        assert answer["type"] == "ack", f"{self.name}: {command} was refused: {answer}"
        seq: int = answer["seq"]
        return seq

    async def refused(self, command: Frame) -> Frame:
        """Send a command that must be refused; returns the refusal frame."""
        answer = await self.command(command)
        assert answer["type"] == "refusal", f"{self.name}: {command} was not refused: {answer}"
        return answer

    # receiving

    async def next(self, timeout: float = TIMEOUT) -> Frame:
        """The next frame that is not an answer: welcome, event, view or an error without ref."""
        if not self._stream.empty():
            return self._stream.get_nowait()
        getter = asyncio.ensure_future(self._stream.get())
        closed = asyncio.ensure_future(self._closed.wait())
        try:
            await asyncio.wait({getter, closed}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closed.cancel()
            if not getter.done():
                getter.cancel()
        if getter.done() and not getter.cancelled():
            return getter.result()
        if self._closed.is_set() and self._stream.empty():
            raise SeatClosed(f"{self.name}: socket closed ({self.close_code}) while waiting for a frame")
        if not self._stream.empty():
            return self._stream.get_nowait()
        raise TimeoutError(f"{self.name}: no frame within {timeout} s")

    async def until(self, found: Callable[[Frame], bool], timeout: float = TIMEOUT) -> list[Frame]:
        """Take frames from the stream up to and including the first that satisfies `found`."""
        taken: list[Frame] = []
        end = time.monotonic() + timeout
        while True:
            frame = await self.next(max(0.0, end - time.monotonic()))
            taken.append(frame)
            if found(frame):
                return taken

    async def view_at(self, seq: int, timeout: float = TIMEOUT) -> Frame:
        """Take frames until a view at `seq` or later; returns that view's body."""
        frames = await self.until(lambda f: f.get("type") == "view" and f["seq"] >= seq, timeout)
        view: Frame = frames[-1]["view"]
        return view

    async def welcome(self) -> Frame:
        frame = await self.next()
        assert frame["type"] == "welcome", f"{self.name}: expected welcome, got {frame}"
        return frame

    async def until_connected(self, seats: Iterable[str], timeout: float = TIMEOUT) -> None:
        """Wait until the server has told this socket that exactly `seats` are connected."""
        expected = frozenset(seats)
        try:
            async with asyncio.timeout(timeout):
                while self.connected != expected:
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise TimeoutError(f"{self.name}: told {self.connected}, not {set(expected)}, within {timeout} s") from None

    async def wait_closed(self, timeout: float = TIMEOUT) -> int | None:
        await asyncio.wait_for(self._closed.wait(), timeout)
        return self.close_code

    def drain(self) -> list[Frame]:
        """Every stream frame already received and not yet taken."""
        out = []
        while not self._stream.empty():
            out.append(self._stream.get_nowait())
        return out

    async def settle(self, quiet: float = 0.3, timeout: float = TIMEOUT) -> None:
        """Wait until no frame has arrived for `quiet` seconds (to check that something did *not* come)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), quiet)
            except TimeoutError:
                return
        raise TimeoutError(f"{self.name}: frames kept arriving for {timeout} s")

    @property
    def events(self) -> list[Frame]:
        """Every event frame received so far, in arrival order."""
        return [f for f in self.frames if f.get("type") == "event"]

    @property
    def views(self) -> list[Frame]:
        return [f for f in self.frames if f.get("type") == "view"]

    @property
    def last_seq(self) -> int:
        """The latest seq this seat has seen in an event or a view."""
        return max((f["seq"] for f in self.frames if f.get("type") in ("event", "view")), default=0)
