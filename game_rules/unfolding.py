"""A decision that emits several dependent events (a phase change delivering injects, reports and
an adversary move) builds them on a scratch copy of the state, so each step sees the ones before it."""

from __future__ import annotations

from game_rules.events import Event
from game_rules.state import State


class Unfolding:
    def __init__(self, state: State) -> None:
        self.state = state.model_copy(deep=True)
        self.events: list[Event] = []

    def add(self, *events: Event) -> None:
        from game_rules.engine import evolve  # the engine dispatches to the modules that unfold

        for event in events:
            self.state = evolve(self.state, event)
            self.events.append(event)

    def done(self) -> tuple[Event, ...]:
        return tuple(self.events)
