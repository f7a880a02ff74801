"""A daemon thread that does one piece of work every so many seconds, and once more when stopped: the store's
threads beside the event loop (server/checkpoint.py, server/flush.py), whose last round must not be lost at
shutdown."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Periodic:
    """Calls `work` every `seconds` from a thread of its own, started at once; `stop` calls it a last time."""

    def __init__(self, seconds: float, work: Callable[[], None], name: str) -> None:
        self._seconds = seconds
        self._work = work
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Returns once the last round is done."""
        self._stopping.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stopping.wait(self._seconds):
            self._work()
        self._work()
