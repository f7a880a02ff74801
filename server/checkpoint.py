"""A thread of the store that copies SQLite's write-ahead log into the database once a second while it changes (a
checkpoint).

Left to SQLite, the commit that finds the log a thousand pages long copies it, flushing the log and the database
on its way, and every game waits for that command (every few seconds under load; for as long as the disk takes, on
a slow one).  Here checkpoints run beside the event loop, and SQLite's own stays only as a backstop
(`server.db.BACKSTOP_CHECKPOINT_PAGES`).  The write that starts the log over after a checkpoint, which flushes the
log's new header, is made here too.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

from server.periodic import Periodic

log = logging.getLogger("wargame.store")

CHECKPOINT_PERIOD = 1.0
"""Seconds between checkpoints while the database changes: a few hundred commits' pages at a conference's pace."""


class Checkpointer:
    """Checkpoints the database every `CHECKPOINT_PERIOD` seconds in which another connection changed it, and once
    more when stopped."""

    def __init__(self, database: Path) -> None:
        self._database = database.resolve()
        self._connection: sqlite3.Connection | None = None
        self._seen_version: int | None = None
        self._lock = threading.Lock()
        """The connection is the thread's, and a caller's of `checkpoint`: one at a time."""
        self.checkpoints = 0
        """Checkpoints done (for tests and the log)."""
        self._periodic = Periodic(CHECKPOINT_PERIOD, self._if_changed, "sqlite-checkpoint")

    def stop(self) -> None:
        self._periodic.stop()
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _if_changed(self) -> None:
        with self._lock:
            try:
                # Changes when another connection, of this process or another, commits; not when this one does (the
                # write below), so a quiet database is left alone.
                (version,) = self._connected().execute("PRAGMA data_version").fetchone()
            except sqlite3.Error as problem:
                log.warning("could not look at %s: %s", self._database, problem)
                return
            if version == self._seen_version:
                return
            self._seen_version = version
            self._checkpoint()

    def checkpoint(self) -> None:
        """Copy what the log holds into the database, without waiting for readers or writers (a passive
        checkpoint: what they hold is copied next time)."""
        with self._lock:
            self._checkpoint()

    def _checkpoint(self) -> None:
        connection = self._connected()
        try:
            busy, frames, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if not busy and 0 < frames == copied:
                # All of it is in the database now, so the next write starts the log over, and flushes the log's new
                # header before anything else.  That write is made here (the database's user_version set to itself)
                # rather than in some command's commit, which would wait for the flush.
                (version,) = connection.execute("PRAGMA user_version").fetchone()
                connection.execute(f"PRAGMA user_version={int(version)}")
        except sqlite3.Error as problem:  # another process checkpointing, say: the next one copies what is left
            log.warning("could not checkpoint %s: %s", self._database, problem)
        self.checkpoints += 1

    def _connected(self) -> sqlite3.Connection:
        if self._connection is None:
            # A connection of its own, opened by whichever thread comes first; FULL: the log is flushed before it
            # is copied, and the database after.
            self._connection = sqlite3.connect(
                self._database, isolation_level=None, check_same_thread=False, timeout=CHECKPOINT_PERIOD
            )
            self._connection.execute("PRAGMA synchronous=FULL")
        return self._connection
