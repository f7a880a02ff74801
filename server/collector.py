"""Python's garbage collector, run between commands instead of inside them.

CPython starts a collection whenever a command's code happens to allocate the 700th new container since the last
one, so every pause lands inside some command and delays its push (and whatever queued behind it).  The server
instead turns automatic collection off while it runs and lets this task collect from the event loop, between the
callbacks that handle commands: with the same generations and the same thresholds, a pause only meets a command
that arrives while it runs.

Full collections walk every live game and socket (tens of milliseconds with a thousand sockets).  CPython's own
rule starts one once the objects that reached the oldest generation since the last full collection are a quarter
of those that were there after it (and ten middle collections have run); this task waits for a quiet moment (for
`QUIET` seconds no young collection due and nothing done for a player) to start it, unless they have grown to as
many again, so that memory stays bounded under steady load.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("wargame.collector")

PERIOD = 0.005
"""Seconds between looks at the allocation counts while the server is busy: a look costs a few microseconds."""
IDLE = 0.2
"""Seconds between looks at most, while nothing is being allocated."""
QUIET = 1.0
"""Seconds without a young collection due and without anything done for a player, after which a pending full
collection runs."""
HELD_UP = 0.02
"""Seconds past its time a look may come before the debug log says what held the event loop up was not a
collection (a slow flush of the store, the machine)."""


def never() -> float:
    """The activity of a server with no games: a moment is quiet whenever no young collection is due."""
    return float("-inf")


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
    activity: Callable[[], float] = never
    """When the server last did something for a player (`time.monotonic`): a moment is quiet only after both
    it and the last young collection are `QUIET` seconds past.  (Young collections alone do not tell: a command
    leaves only a few new objects behind, so at 100 commands a second one may be due only every second or two.)"""

    def step(self, now: float) -> int | None:
        """Collect what is due now; the generation collected, or None."""
        count0, count1, count2 = gc.get_count()
        if count0 < self.young:
            if self.pending * 4 > self.settled and now - max(self.last_young, self.activity()) >= QUIET:
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
        )
        self.pending = 0
        return 2


async def collect_between_commands(
    activity: Callable[[], float] = never, period: float = PERIOD, idle: float = IDLE
) -> None:
    """Run for as long as the server does; automatic collection is back on when it stops.  Where collection is
    already off (another server in the same process collects, or the host turned it off), it does nothing."""
    if not gc.isenabled():
        return
    collector = Collector(*gc.get_threshold(), settled=len(gc.get_objects(2)), activity=activity)
    gc.disable()
    wait = period
    try:
        while True:
            seen = gc.get_count()[0]
            asleep = time.monotonic()
            await asyncio.sleep(wait)
            now = time.monotonic()
            late = now - asleep - wait
            if late > HELD_UP:  # no collection ran meanwhile: something else held the loop
                log.debug("the event loop was held up %.1f ms", late * 1000)
            # An idle server looks less and less often (its own looks allocate a few objects each).
            busy = gc.get_count()[0] - seen > collector.young // 50
            collector.step(now)
            wait = period if busy else min(idle, wait * 2)
    finally:
        gc.enable()
