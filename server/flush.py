"""With `SQLITE_FLUSH_INTERVAL`: a thread of the store that flushes SQLite's write-ahead log on a timer instead of
at every commit.

By default every commit flushes the log before it returns, so a seat is never shown an event a power cut could
take back.  Under load that flush is most of a command's time (docs/performance-log.md, "The flush's share").  With an
interval, the server's connections commit with `synchronous=NORMAL` (written to the operating system, not flushed:
a crash of the server process loses nothing, and SQLite keeps the database consistent whatever happens) and this
thread flushes the log once in every interval in which something was committed: a power cut or a crash of the
machine loses at most the commits of the last interval, some of which the room may have seen.

Flushed by a thread after each commit instead, the command waiting for it (a group commit), a command took longer
than with the flush inside its commit (docs/performance-log.md, "A flush per commit, from a thread").
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from server.periodic import Periodic

log = logging.getLogger("wargame.store")


class LogFlusher:
    """Flushes `<database>-wal` every `interval` seconds in which commits were counted (`committed`), and once more
    when stopped."""

    def __init__(self, database: Path, interval: float) -> None:
        if interval <= 0:
            raise ValueError("a flush interval is a positive number of seconds")
        self.interval = interval
        self._log = Path(f"{database.resolve()}-wal")
        self._lock = threading.Lock()
        self._committed = 0
        self._flushed = 0
        self.flushes = 0
        """Flushes made (for tests and the log)."""
        self._file: int | None = None
        self._inode = 0
        self._periodic = Periodic(interval, self.flush, "sqlite-flush")

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
        self._periodic.stop()
        self._close()

    def flush(self) -> None:
        with self._lock:
            target = self._committed
        if target == self._flushed:
            return
        try:
            file = self._open()
            if file is not None:
                os.fdatasync(file)
        except OSError:
            # The kernel may drop pages it failed to write: what they held is not durable, and nothing can make it so.
            log.exception("could not flush %s: commits since the last flush may not survive a power cut", self._log)
            self._close()
        self._flushed = target
        self.flushes += 1

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
