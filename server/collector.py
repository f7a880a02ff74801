"""Python's garbage collector, run between commands instead of inside them.

CPython starts a collection whenever a command's code happens to allocate the 700th new container since the last
one, so every pause lands inside some command and delays its push (and whatever queued behind it).  The server
instead turns automatic collection off while it runs and lets this task collect from the event loop, between the
callbacks that handle commands: with the same generations and the same thresholds, a pause only meets a command
that arrives while it runs.

Full collections walk every live game and socket (tens of milliseconds with a thousand sockets).  CPython's own
rule starts one once the objects that reached the oldest generation since the last full collection are a quarter
of those that were there after it (and ten middle collections have run); this task waits for a quiet moment (no
young collection due for `QUIET` seconds) to start it, unless they have grown to as many again, so that memory stays
bounded under steady load.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from dataclasses import dataclass

log = logging.getLogger("wargame.collector")

PERIOD = 0.005
"""Seconds between looks at the allocation counts while the server is busy: a look costs a few microseconds."""
IDLE = 0.2
"""Seconds between looks at most, while nothing is being allocated."""
QUIET = 1.0
"""Seconds without a young collection due after which a pending full collection runs."""


@dataclass
class Collector:
    young: int = 700
    middle: int = 10
    old: int = 10
    """The thresholds of the three generations, as in `gc.set_threshold` (CPython's defaults)."""
    settled: int = 0
    """Objects in the oldest generation after its last collection (what is frozen not counted)."""
    pending: int = 0
    """Objects moved into the oldest generation since then."""
    last_young: float = 0.0

    def step(self, now: float) -> int | None:
        """Collect what is due now; the generation collected, or None."""
        count0, count1, count2 = gc.get_count()
        if count0 < self.young:
            if self.pending * 4 > self.settled and now - self.last_young >= QUIET:
                return self.full("a quiet moment")
            return None
        self.last_young = now
        if count1 < self.middle:
            gc.collect(0)
            return 0
        if count2 >= self.old and self.pending >= max(self.settled, 1):
            return self.full("the oldest generation doubled")
        # What a middle collection does not free moves into the oldest generation.
        young = len(gc.get_objects(0)) + len(gc.get_objects(1))
        self.pending += max(0, young - gc.collect(1))
        return 1

    def full(self, why: str = "asked") -> int:
        started = time.perf_counter()
        freed = gc.collect(2)
        self.settled = len(gc.get_objects(2))
        log.debug(
            "full collection, %s: %d objects freed, %d kept, %.1f ms",
            why,
            freed,
            self.settled,
            (time.perf_counter() - started) * 1000,
            extra={"pending": self.pending},
        )
        self.pending = 0
        return 2


async def collect_between_commands(period: float = PERIOD, idle: float = IDLE) -> None:
    """Run for as long as the server does; automatic collection is back on when it stops.  Where collection is
    already off (another server in the same process collects, or the host turned it off), it does nothing."""
    if not gc.isenabled():
        return
    collector = Collector(*gc.get_threshold(), settled=len(gc.get_objects(2)))
    gc.disable()
    wait = period
    try:
        while True:
            seen = gc.get_count()[0]
            await asyncio.sleep(wait)
            # An idle server looks less and less often (its own looks allocate a few objects each).
            busy = gc.get_count()[0] - seen > collector.young // 50
            collector.step(time.monotonic())
            wait = period if busy else min(idle, wait * 2)
    finally:
        gc.enable()
