"""The FastAPI application: lobby and REST, one WebSocket per seat, deadlines, the browser client."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from server import api, db, deadlines, errors, review_api, ws
from server.config import Settings, get_settings
from server.lobby import Lobby
from server.rooms import Rooms
from server.store import EventStore

CLIENT = Path(__file__).resolve().parent.parent / "clients" / "web"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(db.upgrade, settings.database_url)
        store = EventStore.from_url(settings.database_url)
        rooms = Rooms(store, time.time)
        app.state.settings = settings
        app.state.store = store
        app.state.lobby = Lobby(store, rooms)
        await rooms.load_unfinished()
        clock = asyncio.create_task(deadlines.enforce(rooms, time.time))
        try:
            yield
        finally:
            clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await clock
            rooms.close_all()
            await store.dispose()

    app = FastAPI(
        title="Alliance crisis wargame",
        version="0.1.0",
        description="Lobby, seats and commands over REST; live play over one WebSocket per seat "
        "(see docs/protocol.md).",
        lifespan=lifespan,
    )
    errors.install(app)
    app.include_router(review_api.imports)
    app.include_router(api.router)
    app.include_router(review_api.router)
    app.include_router(ws.router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    if (CLIENT / "index.html").exists():
        app.mount("/", StaticFiles(directory=CLIENT, html=True), name="client")
    return app
