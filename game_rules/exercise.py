"""The exercise around the alliance: inject catalogue, MSEL, contingencies and the adversary's ladder."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field, model_validator

from game_rules.base import Frozen

InjectKind = Literal[
    "information",
    "cyber_attack",
    "disinformation",
    "cable_sabotage",
    "pipeline_sabotage",
    "energy_cutoff",
    "airspace_violation",
    "border_incursion",
    "election_interference",
    "migration_pressure",
    "terrorist_attack",
    "armed_attack",
]
HOSTILE_KINDS: frozenset[str] = frozenset(get_args(InjectKind)) - {"information"}
Visibility = Literal["public", "targets", "intelligence"]
"""public: every seat; targets: the members hit; intelligence: the targets and members with strong services."""

INTELLIGENCE_ACCESS = 0.7
"""Capability from which a member's services learn of injects classified `intelligence`."""


class Evidence(Frozen):
    attributed_to: str = "unknown"
    confidence: float = Field(default=0.5, ge=0, le=1)
    """The evidence's strength; each member's report reads it through its own services."""


class Effects(Frozen):
    public_support: dict[str, float] = Field(default_factory=dict)
    """Change in percentage points by member code; `targets` applies to every member hit, `all` to all."""
    cohesion: float = 0


class InjectTemplate(Frozen):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,60}$")
    kind: InjectKind
    title: str
    text: str = ""
    severity: int = Field(default=1, ge=1, le=5)
    targets: tuple[str, ...] = ()
    visibility: Visibility = "public"
    evidence: Evidence | None = None
    effects: Effects = Effects()


class MselEntry(Frozen):
    """One line of the Master Scenario Events List."""

    number: int = Field(ge=1)
    round: int = Field(ge=1)
    phase: str
    inject: str
    """The catalogue entry delivered."""
    delivery: str = "white cell briefing"
    sender: str = "white cell"
    expected_action: str = ""
    objective: str = ""


class Condition(Frozen):
    """When a contingency inject fires: every condition given must hold at the start of a round."""

    from_round: int = Field(default=2, ge=1)
    no_consultation: bool = False
    cohesion_below: float | None = None
    escalation_at_least: int | None = None


class Contingency(Frozen):
    inject: str
    when: Condition
    why: str = ""


class Rung(Frozen):
    level: int = Field(ge=0)
    name: str
    injects: tuple[str, ...] = ()
    """Catalogue entries the adversary may choose from at this level."""


class Adversary(Frozen):
    name: str = "the adversary"
    brief: str = Field(default="", max_length=8000)
    """The red cell's instructions: the adversary's aims and how far it means to go."""
    ladder: tuple[Rung, ...] = (Rung(level=0, name="competition"),)
    start_level: int = 0

    @model_validator(mode="after")
    def _ladder(self) -> Adversary:
        levels = [r.level for r in self.ladder]
        if levels != list(range(len(levels))):
            raise ValueError("ladder: levels must run 0, 1, 2, ... in order")
        if not 0 <= self.start_level < len(levels):
            raise ValueError("start_level: not a level of the ladder")
        return self


class Exercise(Frozen):
    catalogue: tuple[InjectTemplate, ...] = ()
    msel: tuple[MselEntry, ...] = ()
    contingencies: tuple[Contingency, ...] = ()
    adversary: Adversary = Adversary()
    armed_attack_threshold: float = Field(default=10, gt=0)
    """Cumulative severity of hostile injects on one member from which the council is told its cumulative
    effects may amount to an armed attack (Brussels 2021)."""
    starting_cohesion: float = Field(default=70, ge=0, le=100)

    def template(self, inject_id: str) -> InjectTemplate | None:
        return next((t for t in self.catalogue if t.id == inject_id), None)

    def repertoire(self) -> tuple[InjectTemplate, ...]:
        """The catalogue entries the adversary's ladder lists: what the red cell may play.  The rest of the
        catalogue is the white cell's, injected on the MSEL or by hand."""
        listed = {inject for rung in self.adversary.ladder for inject in rung.injects}
        return tuple(t for t in self.catalogue if t.id in listed)

    @model_validator(mode="after")
    def _references(self) -> Exercise:
        known = {t.id for t in self.catalogue}
        used = (
            {m.inject for m in self.msel}
            | {c.inject for c in self.contingencies}
            | {i for r in self.adversary.ladder for i in r.injects}
        )
        unknown = sorted(used - known)
        if unknown:
            raise ValueError(f"inject(s) not in the catalogue: {', '.join(unknown)}")
        return self
