"""A thread of the store that keeps SQLite's write-ahead log: copies it into the database once a second while
commits come (a checkpoint), and, with `SQLITE_FLUSH_INTERVAL`, flushes it to the disk on a timer instead of at
every commit.

Checkpoints: left to SQLite, the commit that finds the log a thousand pages long copies it, flushing the log and the
database on its way, and every game waits for that command (every few seconds under load; for as long as the disk
takes, on a slow one).  Here they run beside the event loop, and SQLite's own stays only as a backstop.  The write
that starts the log over after a checkpoint, which flushes the log's new header, is made here too.

Flushes: by default every commit flushes the log before it returns, so a seat is never shown an event a power cut
could take back.  Under load that flush is most of a command's time (docs/performance.md, "The flush's share").
With an interval, the server's connections commit with `synchronous=NORMAL` (written to the operating system, not
flushed: a crash of the server process loses nothing, and SQLite keeps the database consistent whatever happens)
and this thread flushes the log once in every interval in which something was committed: a power cut or a crash of
the machine loses at most the commits of the last interval, some of which the room may have seen.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from pathlib import Path

log = logging.getLogger("wargame.store")

CHECKPOINT_PERIOD = 1.0
"""Seconds between checkpoints while commits come: a few hundred commits' pages at a conference's pace."""


class LogFlusher:
    """Checkpoints `<database>-wal` every `CHECKPOINT_PERIOD` seconds and, with an `interval`, flushes it every
    `interval` seconds, each when commits were counted (`committed`) since; both once more when stopped."""

    def __init__(self, database: Path, interval: float) -> None:
        """`interval` 0: the commits flush the log themselves, and this thread only checkpoints it."""
        if interval < 0:
            raise ValueError("a flush interval is a number of seconds")
        self.interval = interval
        self._database = database.resolve()
        self._log = Path(f"{self._database}-wal")
        self._checkpointer: sqlite3.Connection | None = None
        self._checkpointed = time.monotonic()
        self.checkpoints = 0
        """Checkpoints done (for tests and the log)."""
        self._lock = threading.Lock()
        self._committed = 0
        self._flushed = 0
        self.flushes = 0
        """Looks that found commits to make durable: flushes, with an interval (for tests and the log)."""
        self._file: int | None = None
        self._inode = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-flush", daemon=True)
        self._thread.start()

    def committed(self) -> None:
        """Called after each commit, from whichever thread made it."""
        with self._lock:
            self._committed += 1

    @property
    def pending(self) -> int:
        """Commits not yet known to be flushed."""
        with self._lock:
            return self._committed - self._flushed

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()
        self._close()
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None

    def _run(self) -> None:
        while not self._stopping.wait(self.interval or CHECKPOINT_PERIOD):
            self.flush()
        self.flush()

    def flush(self) -> None:
        with self._lock:
            target = self._committed
        if target == self._flushed:
            return
        try:
            if not self.interval or time.monotonic() - self._checkpointed >= CHECKPOINT_PERIOD:
                self.checkpoint()
            file = self._open() if self.interval else None
            if file is not None:
                os.fdatasync(file)
        except OSError:
            # The kernel may drop pages it failed to write: what they held is not durable, and nothing can make it so.
            log.exception("could not flush %s: commits since the last flush may not survive a power cut", self._log)
            self._close()
        self._flushed = target
        self.flushes += 1

    def checkpoint(self) -> None:
        """Copy what the log holds into the database, without waiting for readers or writers (a passive
        checkpoint: what they hold is copied next time)."""
        if self._checkpointer is None:
            # A connection of its own, opened by whichever thread comes first; FULL: the log is flushed before it
            # is copied, and the database after.
            self._checkpointer = sqlite3.connect(
                self._database, isolation_level=None, check_same_thread=False, timeout=CHECKPOINT_PERIOD
            )
            self._checkpointer.execute("PRAGMA synchronous=FULL")
        try:
            busy, frames, copied = self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if not busy and 0 < frames == copied:
                # All of it is in the database now, so the next write starts the log over, and flushes the log's new
                # header before anything else.  That write is made here (the database's user_version set to itself)
                # rather than in some command's commit, which would wait for the flush.
                (version,) = self._checkpointer.execute("PRAGMA user_version").fetchone()
                self._checkpointer.execute(f"PRAGMA user_version={int(version)}")
        except sqlite3.Error as problem:  # another process checkpointing, say: the next one copies what is left
            log.warning("could not checkpoint %s: %s", self._database, problem)
        self._checkpointed = time.monotonic()
        self.checkpoints += 1

    def _open(self) -> int | None:
        """The log as it is now: SQLite deletes it when its last connection closes and makes a new one after."""
        try:
            inode = os.stat(self._log).st_ino
        except FileNotFoundError:  # checkpointed and removed: its commits are in the database file, flushed
            self._close()
            return None
        if self._file is None or inode != self._inode:
            self._close()
            self._file = os.open(self._log, os.O_RDONLY)
            self._inode = os.fstat(self._file).st_ino
            # A new file survives a power cut only once its directory entry does.
            folder = os.open(self._log.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
        return self._file

    def _close(self) -> None:
        if self._file is not None:
            os.close(self._file)
            self._file = None
