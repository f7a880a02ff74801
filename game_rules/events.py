"""What happened, in the past tense.  Events are the only source of state: `evolve` folds them.

Every fact a rule decided (an outcome, an invocation's status) is written into the event, so replaying a
log never re-runs a decision.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from game_rules.base import Frozen
from game_rules.exercise import Exercise
from game_rules.phases import PhaseSpec
from game_rules.rulesets import Procedure, ProposalKind, RulesetId
from game_rules.state import (
    Attack,
    Choice,
    CorrectiveAction,
    DiceRoll,
    Feedback,
    Inject,
    InvocationStatus,
    Member,
    Message,
    Outcome,
    Rating,
    Requirement,
    Role,
    RoundMetrics,
    Ruling,
    Stance,
)


class GameOpened(Frozen):
    type: Literal["game_opened"] = "game_opened"
    ruleset: RulesetId
    members: tuple[Member, ...]
    title: str = ""
    situation: str = ""
    phases: tuple[PhaseSpec, ...] = ()
    """No phases: free play, every command at any time (adjudication vectors)."""
    rounds: int = 0
    seed: int = 0
    exercise: Exercise = Exercise()


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
    requirement: Requirement | None = None
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
    effective_from: int = 0
    """The round from which the forces deploy: later than pledged where parliament must approve first."""


class SeatClaimed(Frozen):
    type: Literal["seat_claimed"] = "seat_claimed"
    seat: str
    role: Role
    member: str | None = None
    player: str
    head: bool = False
    """The seat heads its member's delegation: the first one claimed for that member does."""
    bot: bool = False


class SeatReassigned(Frozen):
    type: Literal["seat_reassigned"] = "seat_reassigned"
    seat: str
    player: str


class SeatReleased(Frozen):
    type: Literal["seat_released"] = "seat_released"
    seat: str
    head: str | None = None
    """The seat that heads the delegation now, when the released one headed it and another player is left."""


class HeadAppointed(Frozen):
    type: Literal["head_appointed"] = "head_appointed"
    seat: str
    member: str


class GameStarted(Frozen):
    type: Literal["game_started"] = "game_started"


class PhaseBegan(Frozen):
    type: Literal["phase_began"] = "phase_began"
    round: int
    phase: str
    deadline: float


class GamePaused(Frozen):
    type: Literal["game_paused"] = "game_paused"
    remaining: float


class GameResumed(Frozen):
    type: Literal["game_resumed"] = "game_resumed"
    deadline: float


class DeadlineExtended(Frozen):
    type: Literal["deadline_extended"] = "deadline_extended"
    seconds: float


class RoundsSet(Frozen):
    type: Literal["rounds_set"] = "rounds_set"
    rounds: int
    was: int


class DelegationDone(Frozen):
    type: Literal["delegation_done"] = "delegation_done"
    member: str
    done: bool = True


class EveryoneDone(Frozen):
    """Every delegation played by a person was done with the phase, and the white cell had chosen to end it then."""

    type: Literal["everyone_done"] = "everyone_done"
    round: int
    phase: str


class EndWhenDoneSet(Frozen):
    type: Literal["end_when_done_set"] = "end_when_done_set"
    on: bool


class GameEnded(Frozen):
    type: Literal["game_ended"] = "game_ended"
    reason: str


class GameRewound(Frozen):
    """Play went back to the state just after event `to_seq`; what was said and who sits where stay."""

    type: Literal["game_rewound"] = "game_rewound"
    to_seq: int
    note: str


class InjectDelivered(Frozen):
    type: Literal["inject_delivered"] = "inject_delivered"
    inject: Inject


class Announced(Frozen):
    type: Literal["announced"] = "announced"
    text: str


class MessageSent(Frozen):
    type: Literal["message_sent"] = "message_sent"
    message: Message


class ActionProposed(Frozen):
    type: Literal["action_proposed"] = "action_proposed"
    action: str
    member: str
    text: str
    round: int
    result: str = ""
    reasons: str = ""


class ActionRuled(Frozen):
    type: Literal["action_ruled"] = "action_ruled"
    action: str
    ruling: Ruling
    note: str = ""
    roll: DiceRoll | None = None
    """Set when the dice decided the ruling."""


class MselLineHeld(Frozen):
    type: Literal["msel_line_held"] = "msel_line_held"
    number: int
    held: bool = True
    """False: the line is back on the schedule."""


class ThresholdCrossed(Frozen):
    type: Literal["threshold_crossed"] = "threshold_crossed"
    member: str
    total: float


class IntelligenceReported(Frozen):
    type: Literal["intelligence_reported"] = "intelligence_reported"
    report: str
    inject: str
    owner: str
    attributed_to: str
    confidence: float
    draw: float
    """The random draw that shaded this report's confidence, kept so replay never draws."""


class IntelligenceShared(Frozen):
    type: Literal["intelligence_shared"] = "intelligence_shared"
    report: str
    member: str
    confidence: float


class SharingOffered(Frozen):
    type: Literal["sharing_offered"] = "sharing_offered"
    by: str
    to: str


class SharingAgreed(Frozen):
    type: Literal["sharing_agreed"] = "sharing_agreed"
    members: tuple[str, str]


class AdversaryMoved(Frozen):
    type: Literal["adversary_moved"] = "adversary_moved"
    round: int
    from_level: int
    to_level: int
    by: Literal["script", "red_cell"]
    draws: tuple[float, ...] = ()
    reason: str = ""


class RoundAssessed(Frozen):
    type: Literal["round_assessed"] = "round_assessed"
    metrics: RoundMetrics


class ObservationRecorded(Frozen):
    type: Literal["observation_recorded"] = "observation_recorded"
    by: str
    text: str
    member: str | None = None
    about_seq: int
    """The seq the note is about: the latest event when it was written, unless the author named one."""


class CapabilityRated(Frozen):
    type: Literal["capability_rated"] = "capability_rated"
    capability: str
    rating: Rating
    reason: str
    by: str


class CorrectiveActionPlanned(Frozen):
    type: Literal["corrective_action_planned"] = "corrective_action_planned"
    row: CorrectiveAction


class CorrectiveActionDropped(Frozen):
    type: Literal["corrective_action_dropped"] = "corrective_action_dropped"
    item: str
    by: str


class FeedbackGiven(Frozen):
    type: Literal["feedback_given"] = "feedback_given"
    seat: str
    form: Feedback


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
    | ForcesPledged
    | SeatClaimed
    | SeatReassigned
    | SeatReleased
    | HeadAppointed
    | GameStarted
    | PhaseBegan
    | GamePaused
    | GameResumed
    | DeadlineExtended
    | RoundsSet
    | DelegationDone
    | EveryoneDone
    | EndWhenDoneSet
    | GameEnded
    | GameRewound
    | InjectDelivered
    | Announced
    | MessageSent
    | ActionProposed
    | ActionRuled
    | ThresholdCrossed
    | IntelligenceReported
    | IntelligenceShared
    | SharingOffered
    | SharingAgreed
    | AdversaryMoved
    | RoundAssessed
    | ObservationRecorded
    | CapabilityRated
    | CorrectiveActionPlanned
    | CorrectiveActionDropped
    | FeedbackGiven
    | MselLineHeld,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
