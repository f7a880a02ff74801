"""Browser tests: the real server on a loopback port (in a thread of the test process), Debian's Chromium
driven by Playwright's sync API, one browser context per player so that each has its own localStorage.

Skipped, with the reason, when /usr/bin/chromium or the playwright package is missing; CI installs both
(see docs/client.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from server import wire
from server.app import create_app
from server.config import Settings
from tests.browser.players import Player

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
ACTION_TIMEOUT = 15_000
"""Milliseconds a step or an assertion waits for the page before it fails."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives Debian's Chromium through Playwright (tests/browser)")


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (.venv/bin/pip install playwright)"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    return None


class ThreadServer:
    """The app under Uvicorn on 127.0.0.1 (or `host`) and a free port, in its own thread and event loop; with
    `public_address`, its `PUBLIC_URL` is that address and the port.

    Playwright's sync API owns the test's main thread, so the server cannot share its loop.
    """

    def __init__(self, database_url: str, host: str = "127.0.0.1", public_address: str = "", port: int = 0) -> None:
        """`port`: one a stopped server listened on, to start it again where the browsers look for it."""
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.port = self.sock.getsockname()[1]
        public_url = f"http://{public_address}:{self.port}" if public_address else ""
        self.app = create_app(Settings(database_url=database_url, host=host, port=0, public_url=public_url))
        config = uvicorn.Config(
            self.app,
            ws=wire.PROTOCOL,
            lifespan="on",
            log_level="warning",
            log_config=None,
            timeout_graceful_shutdown=5,
        )
        self.server = uvicorn.Server(config)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread = threading.Thread(target=self._run, name=f"uvicorn:{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self.loop = loop
        try:
            loop.run_until_complete(self.server.serve(sockets=[self.sock]))
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        with httpx.Client(base_url=self.url, timeout=5, trust_env=False) as http:
            while True:
                if not self.thread.is_alive():
                    raise RuntimeError("the server stopped during startup")
                with contextlib.suppress(httpx.TransportError):
                    if http.get("/healthz").status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise TimeoutError("the server did not answer /healthz within 30 s")
                time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self.sock.close()

    def __enter__(self) -> ThreadServer:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def call(self, work: Callable[[], object]) -> None:
        """Run `work` in the server's event loop, as its own code runs, and wait for it."""
        assert self.loop is not None
        done = threading.Event()

        def run() -> None:
            try:
                work()
            finally:
                done.set()

        self.loop.call_soon_threadsafe(run)
        assert done.wait(10), "the server's loop did not run it"

    def drop_connections(self, game_id: str, seat_id: str) -> None:
        """Cut a seat's sockets from the server's side, as a network failure would."""

        def drop() -> None:
            for room in self.app.state.lobby.rooms.loaded():
                if room.game_id == game_id:
                    for conn in room.connections:
                        if conn.seat_id != seat_id:
                            continue
                        room.leave(conn)
                        conn.wire.close(1001, "dropped")

        self.call(drop)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ThreadServer]:
    with ThreadServer(f"sqlite+aiosqlite:///{tmp_path / 'wargame.db'}") as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Not session-wide: while Playwright's sync API is open, its event loop counts as running on the main
    # thread, and the anyio tests that follow in the same session could not start theirs.
    if reason := _missing():
        pytest.skip(reason)
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait as long as actions do: 5 s, Playwright's default, is short on a machine busy with other work.
    expect.set_options(timeout=ACTION_TIMEOUT)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def players(browser: Any, server: ThreadServer) -> Iterator[Callable[[str], Player]]:
    """`players(name)`: a new browser context and page for one player, watching for console errors."""
    opened: list[Player] = []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def open_player(name: str) -> Player:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(ACTION_TIMEOUT)
        player = Player(name, context, context.new_page(), server.url, SCREENSHOTS)
        opened.append(player)
        return player

    try:
        yield open_player
    finally:
        for player in opened:
            with contextlib.suppress(Exception):
                player.context.close()
