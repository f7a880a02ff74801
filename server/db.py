"""Engine construction and programmatic Alembic migrations."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import URL, Engine, NullPool, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

import migrations
from server.config import normalise_database_url
from server.logs import hide_password

SQLITE_BUSY_TIMEOUT_MS = 10_000

BACKSTOP_CHECKPOINT_PAGES = 10_000
"""The pages of write-ahead log after which a commit checkpoints it itself (SQLite's default is 1,000): only if the
checkpoints of server/checkpoint.py, every second, fall behind."""


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_file(url: str | URL) -> Path | None:
    """The file a SQLite URL names; None for another database, or SQLite in memory."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _sqlite_pragmas(
    dbapi_connection: Any,
    _record: Any,
    busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
    timed_flush: bool = False,
) -> None:
    # WAL lets readers run while one writer appends; the busy timeout makes writers queue, not fail.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # server/checkpoint.py checkpoints the log from a thread of its own (and, with `timed_flush`, server/flush.py
    # flushes it).
    cursor.execute(f"PRAGMA synchronous={'NORMAL' if timed_flush else 'FULL'}")
    cursor.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_CHECKPOINT_PAGES}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    cursor.close()


def make_engine(url: str, *, timed_flush: bool = False) -> AsyncEngine:
    """`timed_flush` (SQLite only): commits do not flush the write-ahead log: a `LogFlusher` does (server/flush.py)."""
    url = normalise_database_url(url)
    if not is_sqlite(url):
        return create_async_engine(url, pool_pre_ping=True)
    engine = create_async_engine(url)
    event.listen(engine.sync_engine, "connect", functools.partial(_sqlite_pragmas, timed_flush=timed_flush))
    return engine


def make_sqlite_writer(engine: AsyncEngine, *, wait: bool = True, timed_flush: bool = False) -> Engine:
    """A plain (sync) engine on the same SQLite file, with one connection, for appends.  `wait=False`: one whose
    writes fail at once (SQLITE_BUSY) while another connection is writing, instead of waiting their turn."""
    writer = create_engine(sync_url(engine.url.render_as_string(hide_password=False)), pool_size=1, max_overflow=0)
    timeout = SQLITE_BUSY_TIMEOUT_MS if wait else 0
    pragmas = functools.partial(_sqlite_pragmas, busy_timeout_ms=timeout, timed_flush=timed_flush)
    event.listen(writer, "connect", pragmas)
    return writer


def sync_url(url: str) -> str:
    """The URL Alembic connects with: psycopg 3 is sync and async, aiosqlite is async only."""
    url = normalise_database_url(url)
    scheme, _, rest = url.partition("://")
    if scheme == "sqlite+aiosqlite":
        scheme = "sqlite"
    return f"{scheme}://{rest}"


def migrations_dir() -> Path:
    """Resolved from the package, not the working directory, so an installed server can migrate."""
    # __path__, not __file__: an editable install made before __init__.py existed maps a namespace package.
    for entry in migrations.__path__:
        candidate = Path(entry)
        if (candidate / "alembic.ini").is_file():
            return candidate.resolve()
    raise RuntimeError(f"no alembic.ini in {list(migrations.__path__)}: is the package data installed?")


def alembic_config(url: str) -> Config:
    directory = migrations_dir()
    config = Config(str(directory / "alembic.ini"))
    config.set_main_option("script_location", str(directory).replace("%", "%%"))
    config.attributes["sqlalchemy.url"] = sync_url(url)
    # Alembic's fileConfig would otherwise replace the host application's logging setup.
    config.attributes["configure_logger"] = False
    return config


class NewerSchema(Exception):
    """The database was migrated by a newer version of the server, whose migrations this one does not have."""


UNUSABLE: tuple[type[Exception], ...] = (DBAPIError, ArgumentError, NewerSchema)
"""What using a database raises when it does not answer, refuses us, is not a database or is a newer release's."""


def unusable(url: str, problem: Exception) -> str:
    """One of `UNUSABLE` in a sentence, for a command line rather than a traceback."""
    reason = str(problem.orig if isinstance(problem, DBAPIError) else problem).strip().splitlines()[0]
    return f"cannot use the database {hide_password(url)}: {reason}"


def upgrade(url: str, revision: str = "head") -> None:
    config = alembic_config(url)
    try:
        command.upgrade(config, revision)
    except CommandError:
        unknown = _unknown_revisions(config, url)
        if unknown:
            raise NewerSchema(
                f"a newer version of wargame migrated it (schema {', '.join(sorted(unknown))}, which this version "
                "does not know): install that version, or name another database"
            ) from None
        raise


def _unknown_revisions(config: Config, url: str) -> set[str]:
    known = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    engine = create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return set(MigrationContext.configure(connection).get_current_heads()) - known
    finally:
        engine.dispose()


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)
