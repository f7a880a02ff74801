"""Rebuild a stored game from its events alone and check it against the snapshots taken in play."""

from __future__ import annotations

from dataclasses import dataclass, field

from game_rules import EVENT_ADAPTER, State, state_hash, unfold
from server.store import EventStore


@dataclass
class ReplayReport:
    game_id: str
    events: int = 0
    final_hash: str = ""
    snapshots_checked: int = 0
    mismatches: list[int] = field(default_factory=list)
    found: bool = True

    @property
    def consistent(self) -> bool:
        return self.found and not self.mismatches

    def text(self) -> str:
        if not self.found:
            return f"no game {self.game_id}"
        verdict = "consistent" if self.consistent else f"MISMATCH at seq {', '.join(map(str, self.mismatches))}"
        return (
            f"game {self.game_id}: {self.events} events replayed, {self.snapshots_checked} snapshots checked, "
            f"{verdict}; state hash {self.final_hash}"
        )


async def replay_game(database_url: str, game_id: str) -> ReplayReport:
    store = EventStore.from_url(database_url)
    try:
        report = ReplayReport(game_id)
        if await store.get_game(game_id) is None:
            report.found = False
            return report
        state = State()
        snapshots = await store.snapshots(game_id)
        expected = {s.seq: s.state_hash for s in snapshots}
        log = await store.read(game_id)
        for stored, state in zip(log, unfold(EVENT_ADAPTER.validate_json(s.payload) for s in log), strict=True):
            if stored.seq in expected:
                report.snapshots_checked += 1
                if state_hash(state) != expected[stored.seq]:
                    report.mismatches.append(stored.seq)
        report.events = state.seq
        report.final_hash = state_hash(state)
        return report
    finally:
        await store.dispose()
