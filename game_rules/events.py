"""What happened, in the past tense.  Events are the only source of state: `evolve` folds them.

Every fact a rule decided (an outcome, an invocation's status) is written into the event, so replaying a
log never re-runs a decision.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from game_rules.rulesets import Procedure, ProposalKind, RulesetId
from game_rules.state import Attack, Choice, Frozen, InvocationStatus, Member, Outcome, Stance


class GameOpened(Frozen):
    type: Literal["game_opened"] = "game_opened"
    ruleset: RulesetId
    members: tuple[Member, ...]


class ConsultationRequested(Frozen):
    type: Literal["consultation_requested"] = "consultation_requested"
    requested_by: str
    joined_by: tuple[str, ...] = ()


class ProposalTabled(Frozen):
    type: Literal["proposal_tabled"] = "proposal_tabled"
    proposal: str
    kind: ProposalKind
    procedure: Procedure
    tabled_by: str
    text: str = ""
    victim: str | None = None
    attack: Attack | None = None
    forces_required: int | None = None
    amount: float | None = None
    parties: tuple[str, ...] = ()


class PositionTaken(Frozen):
    type: Literal["position_taken"] = "position_taken"
    proposal: str
    member: str
    stance: Stance
    reservation: str | None = None


class SilenceBroken(Frozen):
    type: Literal["silence_broken"] = "silence_broken"
    proposal: str
    member: str


class VoteCast(Frozen):
    type: Literal["vote_cast"] = "vote_cast"
    proposal: str
    member: str
    choice: Choice


class ProposalClosed(Frozen):
    type: Literal["proposal_closed"] = "proposal_closed"
    proposal: str
    outcome: Outcome


class CollectiveDefenceInvoked(Frozen):
    type: Literal["collective_defence_invoked"] = "collective_defence_invoked"
    key: str
    victim: str
    attack: Attack
    status: InvocationStatus
    proposal: str | None = None


class AttributionConfirmed(Frozen):
    type: Literal["attribution_confirmed"] = "attribution_confirmed"
    invocation: str
    by: str


class AssistanceRequested(Frozen):
    type: Literal["assistance_requested"] = "assistance_requested"
    member: str


class ForcesPledged(Frozen):
    type: Literal["forces_pledged"] = "forces_pledged"
    proposal: str
    member: str
    forces: int


Event = Annotated[
    GameOpened
    | ConsultationRequested
    | ProposalTabled
    | PositionTaken
    | SilenceBroken
    | VoteCast
    | ProposalClosed
    | CollectiveDefenceInvoked
    | AttributionConfirmed
    | AssistanceRequested
    | ForcesPledged,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
