"""Phase deadlines, enforced by the server: when one passes, the phase advances.

The advance names the phase it ends, so if several processes (or the facilitator) try at once, the
rules accept the first and refuse the rest as stale.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from game_rules.commands import AdvancePhase
from game_rules.state import SYSTEM, State
from server.rooms import Rooms
from server.store import StoreUnavailable

log = logging.getLogger("wargame.deadlines")


def due(clock: Callable[[], float]) -> Callable[[State], bool]:
    def passed(state: State) -> bool:
        return state.status == "running" and state.deadline is not None and clock() >= state.deadline

    return passed


async def enforce(rooms: Rooms, clock: Callable[[], float], every: float = 0.25) -> None:
    passed = due(clock)
    refused: set[str] = set()
    """Games whose advance the database refused: said once, not at every tick for as long as it refuses."""
    while True:
        for room in rooms.loaded():
            state = room.state
            if passed(state):
                assert state.phase is not None
                context = {"game_id": room.game_id}
                try:
                    # Re-checked on the state the advance is decided on: another process may have extended
                    # the phase, and a stale advance of a phase still under way would otherwise be accepted.
                    await room.submit(
                        AdvancePhase(from_round=state.round, from_phase=state.phase), SYSTEM, only_if=passed
                    )
                except StoreUnavailable as refusal:
                    if room.game_id not in refused:
                        refused.add(room.game_id)
                        log.error("a phase's deadline passed, but %s; trying again", refusal, extra=context)
                except Exception:  # a store outage must not stop the other games' clocks
                    log.exception("advancing a phase failed", extra=context)
                else:
                    if room.game_id in refused:
                        refused.discard(room.game_id)
                        log.warning("the phase whose deadline had passed has advanced", extra=context)
        await asyncio.sleep(every)
