"""The FastAPI application: lobby and REST, one WebSocket per seat, deadlines, the browser client."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from server import api, collector, db, deadlines, errors, review_api, ws
from server.bots.tables import BotSeats
from server.bus import make_bus
from server.config import Settings, get_settings
from server.lobby import Lobby
from server.network import own_address
from server.rooms import Rooms
from server.scenarios import Library, builtin
from server.store import EventStore

log = logging.getLogger("wargame.app")
CLIENT = Path(__file__).resolve().parent.parent / "clients" / "web"
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": errors.ErrorResponse} for status in (400, 401, 403, 404, 409, 422, 503)
}
"""The error statuses any /api call may answer with, each with the one error shape (see server/errors.py)."""


class WargameApp(FastAPI):
    """FastAPI, except that a game's socket goes straight to its handler.  A socket lives for hours, and the
    HTTP middleware and routing around it would hold about 7 KiB per seat for nothing (docs/performance.md);
    the handler answers every failure itself (server/ws.py)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        bots = getattr(self.state, "bots", None)
        if bots is not None and bots.awaiting_contact and scope["type"] != "lifespan":  # once, after the start
            settings = self.state.settings
            bots.contact(own_address(scope.get("server"), settings.host, settings.port))
        if scope["type"] == "websocket":
            found = ws.PATH.fullmatch(scope["path"].removeprefix(scope.get("root_path", "")))
            if found is not None:
                scope["app"] = self
                scope["path_params"] = found.groupdict()
                await ws.play(WebSocket(scope, receive, send))
                return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(db.upgrade, settings.database_url)
        store = EventStore.from_url(settings.database_url, settings.sqlite_flush_interval)
        bus = make_bus(settings.bus_url, settings.bus_channel)
        rooms = Rooms(store, time.time, bus)
        app.state.settings = settings
        app.state.store = store
        library = Library(settings.scenarios)
        if library.folder is not None:  # its problems in the log at the start, not at the first game
            log.info(
                "scenario library %s: %d scenarios besides the shipped ones",
                library.folder,
                len(library.all()) - len(builtin()),
            )
        app.state.lobby = Lobby(store, rooms, library)
        app.state.bots = BotSeats(app.state.lobby)
        await rooms.load_unfinished()
        await bus.start(rooms.news, rooms.resync, rooms.presence)  # each (re)subscription re-reads every loaded game
        clock = asyncio.create_task(deadlines.enforce(rooms, time.time))
        keep_up = asyncio.create_task(rooms.keep_up(settings.bus_resync_seconds))
        collecting = asyncio.create_task(collector.collect_between_commands(rooms.last_used))
        try:
            yield
        finally:
            await app.state.bots.stop()  # before the sockets close: a bot would only reconnect
            for task in (clock, keep_up, collecting):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            rooms.withdraw()
            await bus.close()  # sends what is pending: the withdrawal, the last notifications
            await rooms.stop_following()
            rooms.close_all()
            await store.dispose()

    app = WargameApp(
        title="Alliance crisis wargame",
        version="0.1.0",
        description="Lobby, seats and commands over REST; live play over one WebSocket per seat "
        "(see docs/protocol.md).",
        lifespan=lifespan,
    )
    errors.install(app)
    app.include_router(review_api.imports, responses=ERRORS)
    app.include_router(api.router, responses=ERRORS)
    app.include_router(review_api.router, responses=ERRORS)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        """Ready for traffic: the database answers a trivial query within `ready_timeout` seconds."""
        try:
            store: EventStore = app.state.store
            async with asyncio.timeout(settings.ready_timeout):
                await store.ping()
        except Exception as problem:  # any failure means "not ready"; the body says which
            reason = "timed out" if isinstance(problem, TimeoutError) else type(problem).__name__
            body = {"error": {"code": "not_ready", "message": f"The database is not reachable ({reason})."}}
            return JSONResponse(body, status_code=503)
        return JSONResponse({"status": "ready"})

    if (CLIENT / "index.html").exists():
        app.mount("/", StaticFiles(directory=CLIENT, html=True), name="client")
    return app
