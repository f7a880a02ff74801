"""What a seat may ask of the rules.  Each command is imperative; its `type` is the wire name.

The acting seat is not part of the command: the server knows who sent it, and `decide` takes it apart.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from game_rules.rulesets import Procedure, ProposalKind
from game_rules.state import Attack, Choice, Frozen, MemberCode, Requirement

ProposalId = Annotated[str, Field(min_length=1, max_length=40)]


class RequestConsultation(Frozen):
    """Article-4-style request, alone or together with other members."""

    type: Literal["request_consultation"] = "request_consultation"
    joined_by: tuple[MemberCode, ...] = ()


class TableProposal(Frozen):
    type: Literal["table_proposal"] = "table_proposal"
    proposal: ProposalId
    kind: ProposalKind
    procedure: Procedure | None = None
    text: str = Field(default="", max_length=4000)
    victim: MemberCode | None = None
    attack: Attack | None = None
    requirement: Requirement | None = None
    amount: float | None = Field(default=None, gt=0)
    parties: tuple[MemberCode, ...] = ()


class Concur(Frozen):
    type: Literal["concur"] = "concur"
    proposal: ProposalId


class RaiseObjection(Frozen):
    type: Literal["object"] = "object"
    proposal: ProposalId


class ConcurWithReservation(Frozen):
    type: Literal["concur_with_reservation"] = "concur_with_reservation"
    proposal: ProposalId
    reservation: str = Field(min_length=1, max_length=2000)


class BreakSilence(Frozen):
    type: Literal["break_silence"] = "break_silence"
    proposal: ProposalId


class CastVote(Frozen):
    type: Literal["vote"] = "vote"
    proposal: ProposalId
    choice: Choice


class CloseProposal(Frozen):
    """The deadline passes: the decision is taken on the positions then on record."""

    type: Literal["close"] = "close"
    proposal: ProposalId


class ConfirmAttribution(Frozen):
    type: Literal["confirm_attribution"] = "confirm_attribution"
    proposal: ProposalId


class RequestAssistance(Frozen):
    type: Literal["request_assistance"] = "request_assistance"


class InvokeCollectiveDefence(Frozen):
    """Unilateral invocation by the victim, where the treaty needs no council decision."""

    type: Literal["invoke"] = "invoke"
    attack: Attack


class PledgeForces(Frozen):
    type: Literal["pledge"] = "pledge"
    proposal: ProposalId
    forces: int = Field(ge=0)


Command = Annotated[
    RequestConsultation
    | TableProposal
    | Concur
    | RaiseObjection
    | ConcurWithReservation
    | BreakSilence
    | CastVote
    | CloseProposal
    | ConfirmAttribution
    | RequestAssistance
    | InvokeCollectiveDefence
    | PledgeForces,
    Field(discriminator="type"),
]

COMMAND_ADAPTER: TypeAdapter[Command] = TypeAdapter(Command)
