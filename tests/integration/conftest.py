"""Integration fixtures: PostgreSQL when DATABASE_URL is set, else a fresh SQLite file per test."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from server.config import normalise_database_url
from server.db import downgrade, make_engine, sync_url, upgrade
from server.store import EventStore

APP_TABLES = ("snapshots", "events", "seats", "games", "alembic_version")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _drop_everything(url: str) -> None:
    # A run killed half way, or another branch's revision, can leave tables Alembic doesn't know about.
    with contextlib.suppress(Exception):
        downgrade(url, "base")
    engine = create_engine(sync_url(url))
    try:
        with engine.begin() as connection:
            for table in APP_TABLES:
                connection.execute(text(f"DROP TABLE IF EXISTS {table} CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """An empty database: no tables, no alembic_version."""
    configured = os.environ.get("DATABASE_URL")
    if not configured:
        yield f"sqlite+aiosqlite:///{tmp_path / 'wargame.db'}"
        return
    url = normalise_database_url(configured)
    _drop_everything(url)
    yield url
    _drop_everything(url)


@pytest.fixture
def migrated_url(database_url: str) -> str:
    upgrade(database_url)
    return database_url


@pytest.fixture
async def store(migrated_url: str, anyio_backend: str) -> AsyncIterator[EventStore]:
    event_store = EventStore(make_engine(migrated_url))
    try:
        yield event_store
    finally:
        await event_store.dispose()
