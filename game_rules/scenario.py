"""Scenario files: the alliance, its members' figures, the round structure and the injects to play."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, ValidationError, model_validator

from game_rules import yaml12
from game_rules.base import Frozen
from game_rules.events import GameOpened
from game_rules.exercise import Exercise
from game_rules.phases import DEFAULT_PHASES, PhaseSpec
from game_rules.rulesets import RulesetId
from game_rules.state import Member


class Scenario(Frozen):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,60}$")
    title: str
    description: str = ""
    situation: str = Field(default="", max_length=20000)
    """The situation every seat is briefed on at the start (paragraphs apart by blank lines)."""
    ruleset: RulesetId
    sources: list[str] = Field(default_factory=list)
    """Where the figures come from; estimates are marked (approx.) in the member entries."""
    members: list[Member] = Field(min_length=2, max_length=40)
    rounds: int = Field(default=3, ge=1, le=20)
    phases: tuple[PhaseSpec, ...] = DEFAULT_PHASES
    phase_seconds: dict[str, float] = Field(default_factory=dict)
    """Durations that replace those of the named phases (to retime the standard cycle)."""
    exercise: Exercise = Exercise()

    @model_validator(mode="after")
    def _unique(self) -> Scenario:
        codes = [m.code for m in self.members]
        if len(set(codes)) != len(codes):
            raise ValueError(
                f"members: a member appears twice ({', '.join(sorted({c for c in codes if codes.count(c) > 1}))})"
            )
        names = [p.name for p in self.phases]
        if len(set(names)) != len(names):
            raise ValueError("phases: two phases share a name")
        if unknown := sorted(set(self.phase_seconds) - set(names)):
            raise ValueError(f"phase_seconds: no phase named {', '.join(unknown)}")
        phases_named = {(e.round, e.phase) for e in self.exercise.msel} - {
            (r, n) for r in range(1, self.rounds + 1) for n in names
        }
        if phases_named:
            raise ValueError(f"exercise.msel: no such round and phase: {sorted(phases_named)}")
        codes_used = {c for t in self.exercise.catalogue for c in t.targets} | {
            c for t in self.exercise.catalogue for c in t.effects.public_support if c not in ("targets", "all")
        }
        if strangers := sorted(codes_used - set(codes)):
            raise ValueError(f"exercise.catalogue: targets or effects name non-members {', '.join(strangers)}")
        return self

    def timed_phases(self) -> tuple[PhaseSpec, ...]:
        """Each round's phases with the durations `phase_seconds` gives them."""
        return tuple(
            p.model_copy(update={"seconds": self.phase_seconds[p.name]}) if p.name in self.phase_seconds else p
            for p in self.phases
        )

    def paced(self, phase_seconds: Mapping[str, float], rounds: int | None = None) -> Scenario:
        """This scenario at a seminar's own pace: the named phases of every round retimed (names the caller has
        checked), and `rounds` rounds, the MSEL lines of the rounds left out dropped."""
        update: dict[str, object] = {"phase_seconds": {**self.phase_seconds, **phase_seconds}}
        if rounds is not None:
            msel = tuple(e for e in self.exercise.msel if e.round <= rounds)
            update |= {"rounds": rounds, "exercise": self.exercise.model_copy(update={"msel": msel})}
        return self.model_copy(update=update)

    def opening(self, seed: int = 0) -> GameOpened:
        return GameOpened(
            ruleset=self.ruleset,
            members=tuple(self.members),
            title=self.title,
            situation=self.situation,
            phases=self.timed_phases(),
            rounds=self.rounds,
            seed=seed,
            exercise=self.exercise,
        )

    def estimates(self) -> dict[str, tuple[str, ...]]:
        """The figures marked as estimates, by member."""
        return {m.code: m.estimates for m in self.members if m.estimates}


class ScenarioError(ValueError):
    """A scenario file that cannot be played, with every problem and where it is in the file."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def parse_scenario(text: str) -> Scenario:
    try:
        document: Any = yaml12.load(text)
    except yaml12.YAMLError as error:
        raise ScenarioError([f"not valid YAML: {error}"]) from None
    try:
        return Scenario.model_validate(document)
    except ValidationError as error:
        raise ScenarioError(
            [f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in error.errors()]
        ) from None
