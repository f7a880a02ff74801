"""A member state's profile in a scenario: forces, caveats, vulnerabilities, support, secret objectives."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field

from game_rules.base import Frozen
from game_rules.rulesets import ProposalKind

Domain = Literal["land", "air", "sea", "cyber"]
CaveatKind = Literal["parliament_approval", "no_out_of_area", "no_offensive_cyber", "pledge_cap"]


class Force(Frozen):
    units: int = Field(ge=0)
    readiness: float = Field(ge=0, le=1)
    """Share of the units deployable within the exercise's time frame."""


SECRETS = frozenset({"objectives", "brief"})
"""What only the member's own delegation, the white cell and the umpires read of its profile until the game ends."""


class Caveat(Frozen):
    kind: CaveatKind
    limit: int | None = Field(default=None, ge=0)
    """For pledge_cap: the most force units the member may pledge to one requirement."""
    note: str = ""


class Vulnerabilities(Frozen):
    """Exposure from 0 (none) to 1 (severe); hybrid injects hit harder where exposure is high."""

    energy_dependence: float = Field(default=0.0, ge=0, le=1)
    cyber_resilience: float = Field(default=0.5, ge=0, le=1)
    undersea_cables: float = Field(default=0.0, ge=0, le=1)


ObjectiveKind = Literal[
    "proposal_adopted",
    "proposal_not_adopted",
    "invocation_for_self",
    "consultation_convened",
    "pledges_within_fair_share",
    "public_support_at_least",
    "escalation_at_most",
]


class Objective(Frozen):
    """A secret national objective, scored at the end from the game's state."""

    id: str
    text: str
    kind: ObjectiveKind
    points: int = Field(default=1, ge=1, le=10)
    proposal_kind: ProposalKind | None = None
    value: float | None = None


class MemberProfile(Frozen):
    forces: dict[Domain, Force] = Field(default_factory=dict)
    public_support: float = Field(default=50, ge=0, le=100)
    """Percentage of the public backing alliance action."""
    caveats: tuple[Caveat, ...] = ()
    vulnerabilities: Vulnerabilities = Vulnerabilities()
    intelligence: float = Field(default=0.5, ge=0, le=1)
    """National intelligence capability: sharpens the confidence of attribution reports."""
    objectives: tuple[Objective, ...] = ()
    brief: str = Field(default="", max_length=8000)
    """The delegation's instructions from its capital: interests, lines to hold, what its public will bear."""
    estimates: tuple[str, ...] = ()
    """Which figures are estimates (approx.), by field name."""

    def public(self) -> Self:
        """The profile as other delegations read it: its secrets left out."""
        return self.model_copy(update={name: type(self).model_fields[name].default for name in SECRETS})

    def caveat(self, kind: CaveatKind) -> Caveat | None:
        return next((c for c in self.caveats if c.kind == kind), None)

    def ready_units(self, domain: Domain | None = None) -> int:
        domains = [domain] if domain else list(self.forces)
        return sum(int(self.forces[d].units * self.forces[d].readiness) for d in domains if d in self.forces)
