"""What a seat may ask of the rules.  Each command is imperative; its `type` is the wire name.

The acting seat is not part of the command: the server knows who sent it, and `decide` takes it apart.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from game_rules.base import Frozen
from game_rules.exercise import InjectKind
from game_rules.rulesets import Procedure, ProposalKind
from game_rules.state import (
    Attack,
    Choice,
    MemberCode,
    Rating,
    Recipient,
    Requirement,
    Role,
    Ruling,
    Strength,
)

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


class SendMessage(Frozen):
    """A message to other delegations; no recipients means the whole alliance; the sender's own member alone, its
    delegation's players among themselves; `chair` alone, the white cell (a question for the control cell, which
    answers by naming the delegations it writes to)."""

    type: Literal["send_message"] = "send_message"
    to: tuple[Recipient, ...] = ()
    text: str = Field(min_length=1, max_length=4000)


class ProposeAction(Frozen):
    """A free-form national action the rules do not cover; the white cell rules on it.  With the result it should
    have and the reasons it would, it is a matrix-game argument, which the white cell may rate and roll for."""

    type: Literal["propose_action"] = "propose_action"
    text: str = Field(min_length=1, max_length=4000)
    result: str = Field(default="", max_length=4000)
    reasons: str = Field(default="", max_length=4000)


# --- white cell (the facilitator as chair; `at` is stamped by the server's clock, never the client's) ---


class StartGame(Frozen):
    type: Literal["start_game"] = "start_game"
    at: float = 0


class PauseGame(Frozen):
    type: Literal["pause_game"] = "pause_game"
    at: float = 0


class ResumeGame(Frozen):
    type: Literal["resume_game"] = "resume_game"
    at: float = 0


class ExtendPhase(Frozen):
    type: Literal["extend_phase"] = "extend_phase"
    seconds: float = Field(gt=0, le=86_400)


class SetRounds(Frozen):
    """How many rounds the exercise runs, changed during play: one more for a seminar that wants it, or fewer for one
    whose time is running out."""

    type: Literal["set_rounds"] = "set_rounds"
    rounds: int = Field(ge=1, le=20)


class DeclareDone(Frozen):
    """A delegation has done what it means to in the phase named (`done`), or takes that back: the white cell sees
    who is done, and the phase ends early once every delegation played by a person is, if it so chose (`EndWhenDone`).
    Naming the phase makes a declaration that crosses the phase's end harmless."""

    type: Literal["declare_done"] = "declare_done"
    round: int = Field(ge=0)
    phase: str = Field(min_length=1, max_length=40)
    done: bool = True
    at: float = 0


class EndWhenDone(Frozen):
    """Whether a phase ends as soon as every delegation played by a person has declared itself done with it."""

    type: Literal["end_when_done"] = "end_when_done"
    on: bool
    at: float = 0


class AdvancePhase(Frozen):
    """Move on from the phase named; naming it makes a second, stale advance harmless."""

    type: Literal["advance_phase"] = "advance_phase"
    from_round: int
    from_phase: str
    at: float = 0


class EndGame(Frozen):
    type: Literal["end_game"] = "end_game"
    reason: str = Field(default="ended by the facilitator", max_length=400)


class RewindGame(Frozen):
    """The white cell's undo: play goes back to just after event `to_seq`, for the reason given in `note`."""

    type: Literal["rewind_game"] = "rewind_game"
    to_seq: int = Field(ge=1)
    note: str = Field(min_length=1, max_length=400)


class DeliverInject(Frozen):
    """An ad-hoc inject: a catalogue entry (`template`), or free text written by the white cell."""

    type: Literal["inject"] = "inject"
    template: str | None = None
    title: str = Field(default="", max_length=200)
    text: str = Field(default="", max_length=8000)
    kind: InjectKind = "information"
    visible_to: tuple[MemberCode, ...] | None = None


class Broadcast(Frozen):
    type: Literal["broadcast"] = "broadcast"
    text: str = Field(min_length=1, max_length=4000)


class RuleOnAction(Frozen):
    type: Literal["rule_on_action"] = "rule_on_action"
    action: str
    ruling: Ruling
    note: str = Field(default="", max_length=4000)


class RollForAction(Frozen):
    """The white cell rates an action's argument and a d6 decides it (semi-rigid adjudication, as in matrix games):
    accepted on the strength's target or more, rejected below it."""

    type: Literal["roll_for_action"] = "roll_for_action"
    action: str
    strength: Strength
    note: str = Field(default="", max_length=4000)


class HoldMselLine(Frozen):
    """The white cell holds back a line of the MSEL not yet delivered (its phase opens without it; the catalogue
    still offers its inject, to deliver by hand when play is ready), or puts it back on the schedule."""

    type: Literal["hold_msel"] = "hold_msel"
    number: int = Field(ge=1)
    held: bool = True


class ClaimSeat(Frozen):
    type: Literal["claim_seat"] = "claim_seat"
    seat: str = Field(min_length=1, max_length=64)
    role: Role
    member: MemberCode | None = None
    player: str = Field(min_length=1, max_length=80)
    bot: bool = False
    """A bot plays the seat: the facilitator put it at a table nobody in the room plays."""


class ReassignSeat(Frozen):
    type: Literal["reassign_seat"] = "reassign_seat"
    seat: str
    player: str = Field(min_length=1, max_length=80)


class ReleaseSeat(Frozen):
    """Take a seat away from the game (a player who left, or took the wrong member state): its player is shown out."""

    type: Literal["release_seat"] = "release_seat"
    seat: str


class AppointHead(Frozen):
    """Make a delegation seat the head of its member's delegation (the seat that heads it now no longer does)."""

    type: Literal["appoint_head"] = "appoint_head"
    seat: str


class ShareIntelligence(Frozen):
    """Share one of the member's own intelligence reports with other members."""

    type: Literal["share_intelligence"] = "share_intelligence"
    report: str
    to: tuple[MemberCode, ...] = Field(min_length=1)


class OfferSharing(Frozen):
    """Offer a standing intelligence-sharing agreement; it holds once the partner offers too."""

    type: Literal["offer_sharing"] = "offer_sharing"
    partner: MemberCode


class AdversaryMove(Frozen):
    """The red cell's move on the escalation ladder for this round."""

    type: Literal["adversary_move"] = "adversary_move"
    change: Literal[-1, 0, 1]
    inject: str | None = None


class RecordObservation(Frozen):
    """A hotwash note by the white cell, an umpire or an observer, tagged to a moment and a member."""

    type: Literal["record_observation"] = "record_observation"
    text: str = Field(min_length=1, max_length=4000)
    member: MemberCode | None = None
    about_seq: int | None = Field(default=None, ge=1)


Capability = Annotated[str, Field(min_length=1, max_length=120)]
Item = Annotated[str, Field(min_length=1, max_length=12)]


class RateCapability(Frozen):
    """An evaluator rates one of the after-action report's capabilities, with the reason: the rating stands in the
    report in place of the one the rules read off the log, which is shown beside it."""

    type: Literal["rate_capability"] = "rate_capability"
    capability: Capability
    rating: Rating
    reason: str = Field(min_length=1, max_length=2000)


class PlanCorrectiveAction(Frozen):
    """A row of the improvement plan: the capability and the issue, what is to be done, who is responsible, and
    from when to when.  With `item`, the row of that name is planned anew (a typo, a new date)."""

    type: Literal["plan_corrective_action"] = "plan_corrective_action"
    item: Item | None = None
    capability: Capability
    issue: str = Field(default="", max_length=2000)
    action: str = Field(min_length=1, max_length=2000)
    responsible: str = Field(min_length=1, max_length=200)
    start: date | None = None
    completion: date | None = None


class DropCorrectiveAction(Frozen):
    """Take a row out of the improvement plan."""

    type: Literal["drop_corrective_action"] = "drop_corrective_action"
    item: Item


class GiveFeedback(Frozen):
    """A participant's feedback form once the exercise has ended: how useful it was (1 to 5), what went well and
    what should improve.  Sent again, it replaces the seat's earlier answer."""

    type: Literal["give_feedback"] = "give_feedback"
    rating: int = Field(ge=1, le=5)
    went_well: str = Field(default="", max_length=4000)
    to_improve: str = Field(default="", max_length=4000)


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
    | PledgeForces
    | SendMessage
    | ProposeAction
    | StartGame
    | PauseGame
    | ResumeGame
    | ExtendPhase
    | SetRounds
    | DeclareDone
    | EndWhenDone
    | AdvancePhase
    | EndGame
    | RewindGame
    | DeliverInject
    | Broadcast
    | RuleOnAction
    | RollForAction
    | HoldMselLine
    | ClaimSeat
    | ReassignSeat
    | ReleaseSeat
    | AppointHead
    | ShareIntelligence
    | OfferSharing
    | AdversaryMove
    | RecordObservation
    | RateCapability
    | PlanCorrectiveAction
    | DropCorrectiveAction
    | GiveFeedback,
    Field(discriminator="type"),
]

WHITE_CELL_COMMANDS = frozenset(
    {
        "start_game",
        "pause_game",
        "resume_game",
        "extend_phase",
        "set_rounds",
        "end_when_done",
        "advance_phase",
        "end_game",
        "rewind_game",
        "inject",
        "broadcast",
        "rule_on_action",
        "roll_for_action",
        "hold_msel",
        "reassign_seat",
        "release_seat",
        "appoint_head",
        "close",
    }
)
NATIONAL_VOICE_COMMANDS = frozenset(
    {
        "request_consultation",
        "table_proposal",
        "concur",
        "object",
        "concur_with_reservation",
        "break_silence",
        "vote",
        "confirm_attribution",
        "request_assistance",
        "invoke",
        "pledge",
        "declare_done",
    }
)
"""What commits a member state before its allies: only the head of its delegation says it.  The other players of
a delegation deliberate with the head, message, share intelligence and propose national actions."""
SYSTEM_COMMANDS = frozenset({"claim_seat"})
EVERY_PHASE_COMMANDS = frozenset({"declare_done"})
"""Open in every phase of a running game to the seats that may send them, whatever the phase allows."""
ANY_TIME_COMMANDS = frozenset(
    {"record_observation", "rate_capability", "plan_corrective_action", "drop_corrective_action", "give_feedback"}
)
"""Open to every seat that may send it, in any phase and after the end: the hotwash runs on (the feedback form opens
at the end)."""

COMMAND_ADAPTER: TypeAdapter[Command] = TypeAdapter(Command)
