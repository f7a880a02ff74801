"""The authoritative state of one game, rebuilt only by folding events (see `engine.evolve`).

Values that travel (members, attacks) are frozen.  The records that events change in place (proposals,
invocations, the state itself) are not: `evolve` owns the state it folds into, so applying an event costs
the same on the ten-thousandth event as on the first.  `decide` only reads.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from game_rules.base import Frozen, Record
from game_rules.exercise import Effects, Evidence, Exercise
from game_rules.phases import PhaseSpec
from game_rules.profiles import Domain, MemberProfile
from game_rules.rulesets import AttackKind, Procedure, ProposalKind, RulesetId

CHAIR = "chair"
"""The actor who presides: the council's chair, played by the facilitator (white cell)."""
RED_CELL = "red_cell"
"""The red cell (adversary) seat's actor."""
OBSERVER = "observer"
UMPIRE = "umpire"
"""The actors of read-only seats, who may still record hotwash observations."""
SYSTEM = "system"
"""The server's own machinery (phase deadlines, the lobby); never accepted from a socket."""
WHITE_CELL = (CHAIR, SYSTEM)

_MEMBER_CODE = re.compile(r"^[A-Z]{3}$")


def _member_code(code: str) -> str:
    if not _MEMBER_CODE.match(code):
        raise ValueError(f"{code!r} is not an ISO 3166 alpha-3 code (three capital letters)")
    return code


MemberCode = Annotated[str, AfterValidator(_member_code)]


def _recipient(code: str) -> str:
    return code if code == CHAIR else _member_code(code)


Recipient = Annotated[str, AfterValidator(_recipient)]
"""Whom a message goes to: a member's code, or `chair`, the white cell."""

Stance = Literal["concur", "object", "reserve"]
Choice = Literal["yes", "no", "abstain"]
Outcome = Literal["pending", "adopted", "blocked", "no_consensus", "silence_broken", "rejected"]
InvocationStatus = Literal["conditional", "confirmed", "active"]
GameStatus = Literal["lobby", "running", "paused", "ended"]
Role = Literal["delegation", "red_cell", "observer", "umpire", "facilitator"]
"""umpire: the control cell's analysts, read-only and seeing everything; observer: read-only, the public record."""
Ruling = Literal["accepted", "modified", "rejected"]
Strength = Literal["very_strong", "strong", "fair", "weak", "very_weak"]
Rating = Literal["P", "S", "M", "U", "N/A"]
"""An HSEEP capability rating: performed without challenges, with some, with major ones, unable; or not exercised."""
"""How convincing a matrix-game argument is, as the white cell rates it."""


class Member(MemberProfile):
    code: MemberCode
    name: str = ""
    cost_share: float = Field(default=1.0, gt=0)
    """Relative weight in burden-sharing formulas (NATO: by relative gross national income)."""
    neutral: bool = False
    gdp_usd_bn: float | None = Field(default=None, gt=0)
    defence_pct_gdp: float | None = Field(default=None, ge=0)


class Attack(Frozen):
    kind: AttackKind = "armed"
    in_treaty_area: bool = True
    attributed: bool = True
    """Whether the attacker is established; a council may invoke conditionally before that."""


class Requirement(Frozen):
    forces: int = Field(gt=0)
    domain: Domain = "land"
    out_of_area: bool = False
    offensive: bool = False
    """For the cyber domain: offensive operations, which some members' caveats exclude."""


class Consultation(Record):
    requested_by: str
    joined_by: tuple[str, ...] = ()
    status: Literal["convened"] = "convened"
    round: int = 0


class Proposal(Record):
    id: str
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
    round: int = 0
    positions: dict[str, Stance] = Field(default_factory=dict)
    reservations: dict[str, str] = Field(default_factory=dict)
    silence_broken_by: list[str] = Field(default_factory=list)
    votes: dict[str, Choice] = Field(default_factory=dict)
    outcome: Outcome = "pending"
    pledges: dict[str, int] = Field(default_factory=dict)
    effective_from: dict[str, int] = Field(default_factory=dict)
    """Round from which each pledge is deployed (later than pledged where parliament must approve)."""


class Invocation(Record):
    key: str
    """The proposal that invoked, or the victim's code for a unilateral invocation."""
    victim: str
    attack: Attack
    status: InvocationStatus
    proposal: str | None = None


class Seat(Frozen):
    role: Role
    member: str | None = None
    player: str
    head: bool = False
    """Heads its member's delegation: the one seat that speaks for the member state (`NATIONAL_VOICE_COMMANDS`).
    The first seat claimed for a member heads it until the facilitator appoints another."""
    bot: bool = False
    """A bot plays it, until the facilitator gives the seat to a player."""


class Message(Frozen):
    id: str
    sender: str
    recipients: tuple[str, ...]
    """Member codes; the sender always sees its own message.  The sender alone: its delegation confers within.
    `chair` (as sender or sole recipient): the white cell, in its channel with a delegation."""
    text: str
    round: int
    author: str | None = None
    """The player who wrote it, where the seat is known: a delegation may have several."""

    @property
    def internal(self) -> bool:
        return self.recipients == (self.sender,)


class Inject(Frozen):
    id: str
    title: str
    text: str
    kind: str = "information"
    visible_to: tuple[str, ...] | None = None
    """None: every seat; otherwise only these members (and the white cell)."""
    round: int
    phase: str | None = None
    template: str | None = None
    severity: int = 0
    targets: tuple[str, ...] = ()
    evidence: Evidence | None = None
    """The ground truth of attribution; seats see only their services' reports of it."""
    effects: Effects = Effects()
    source: str = "white cell"
    """white cell, MSEL #n, contingency, or the adversary."""


class Report(Record):
    """An intelligence report: one member's services' reading of an inject's evidence."""

    id: str
    inject: str
    owner: str
    attributed_to: str
    confidence: float
    shared_with: dict[str, float] = Field(default_factory=dict)
    """Members it was shared with, and the confidence each draws from it."""


class RoundMetrics(Frozen):
    round: int
    cohesion: float
    deterrence: float
    public_support: dict[str, float]
    pledge_fairness: float
    """Mean over members of pledges against fair shares (capped at 1), over adopted requirements."""
    at_2_pct: float
    at_3_5_pct: float
    """Shares of members whose defence spending meets 2% and 3.5% of GDP."""
    decision_latency: float | None
    """Mean phases from a serious inject to the council's first response, this round."""
    escalation: int


class DiceRoll(Frozen):
    """A d6 thrown for a rated argument: it succeeds on `target` or more."""

    strength: Strength
    target: int
    value: int
    draw: float
    """The recorded draw the value came from, so replay never throws again."""

    @property
    def succeeded(self) -> bool:
        return self.value >= self.target


class Action(Record):
    """A free-form national action; with `result` and `reasons`, a matrix-game argument."""

    id: str
    member: str
    text: str
    round: int
    result: str = ""
    reasons: str = ""
    ruling: Ruling | None = None
    note: str = ""
    roll: DiceRoll | None = None
    """The dice thrown for it, if the white cell rolled (a later ruling by hand may overrule them)."""


class Observation(Frozen):
    by: str
    text: str
    member: str | None = None
    about_seq: int
    round: int


class CapabilityRating(Frozen):
    """An evaluator's rating of a capability of the after-action report, which stands in place of the rules'."""

    rating: Rating
    reason: str
    by: str


class Feedback(Frozen):
    """One participant's answer to the feedback form at the end: an overall rating and two questions."""

    role: Role
    member: str | None = None
    rating: int = Field(ge=1, le=5)
    went_well: str = ""
    to_improve: str = ""


class CorrectiveAction(Frozen):
    """A row of the improvement plan: what is to change, who sees to it, and by when."""

    item: str
    capability: str
    issue: str = ""
    action: str
    responsible: str
    start: date | None = None
    completion: date | None = None
    by: str
    dropped: bool = False


class State(Record):
    title: str = ""
    situation: str = ""
    """The scenario's situation, as briefed to every seat."""
    ruleset: RulesetId | None = None
    seed: int = 0
    draws: int = 0
    """Random draws used so far; the next draw is rng.draw(seed, draws)."""
    exercise: Exercise = Exercise()
    members: dict[str, Member] = Field(default_factory=dict)
    consultations: dict[str, Consultation] = Field(default_factory=dict)
    proposals: dict[str, Proposal] = Field(default_factory=dict)
    invocations: dict[str, Invocation] = Field(default_factory=dict)
    assistance_requested_by: list[str] = Field(default_factory=list)
    phases: tuple[PhaseSpec, ...] = ()
    """The round structure; empty for free play (no phases, no deadlines: adjudication vectors)."""
    rounds: int = 0
    status: GameStatus = "running"
    round: int = 0
    phase: str | None = None
    deadline: float | None = None
    """Epoch seconds at which the current phase ends, as stamped by the server; None while paused."""
    paused_remaining: float | None = None
    done: list[str] = Field(default_factory=list)
    """The members whose delegations have declared themselves done with the phase under way, in code order."""
    end_when_done: bool = False
    """The white cell's choice: a phase ends as soon as every delegation played by a person is done with it."""
    seats: dict[str, Seat] = Field(default_factory=dict)
    messages: list[Message] = Field(default_factory=list)
    injects: list[Inject] = Field(default_factory=list)
    announcements: list[str] = Field(default_factory=list)
    actions: dict[str, Action] = Field(default_factory=dict)
    public_support: dict[str, float] = Field(default_factory=dict)
    cohesion: float = 70
    escalation: int = 0
    cumulative: dict[str, float] = Field(default_factory=dict)
    """Severity of hostile injects suffered so far, by member."""
    threshold_crossed: list[str] = Field(default_factory=list)
    reports: dict[str, Report] = Field(default_factory=dict)
    sharing_offers: list[tuple[str, str]] = Field(default_factory=list)
    sharing_agreements: list[tuple[str, str]] = Field(default_factory=list)
    assessments: list[RoundMetrics] = Field(default_factory=list)
    fired: list[str] = Field(default_factory=list)
    """Contingency injects already delivered, by catalogue id."""
    msel_held: list[int] = Field(default_factory=list)
    """The MSEL lines the white cell holds back: their phases open without them."""
    adversary_moved_in: int | None = None
    """The last round in which the adversary moved (None: not yet)."""
    phase_count: int = 0
    awaiting_response_since: int | None = None
    """phase_count when a serious inject arrived that the council has not yet answered."""
    latencies: list[tuple[int, int]] = Field(default_factory=list)
    """(round, phases taken) for each answered serious inject."""
    observations: list[Observation] = Field(default_factory=list)
    feedback: dict[str, Feedback] = Field(default_factory=dict)
    """The participants' feedback forms, by seat: each seat's latest."""
    ratings: dict[str, CapabilityRating] = Field(default_factory=dict)
    """The evaluators' ratings, by capability."""
    improvement_plan: dict[str, CorrectiveAction] = Field(default_factory=dict)
    """The improvement plan's rows, by item, in the order they were first planned; dropped rows stay, marked, so
    that an item's name is never given twice."""
    seq: int = 0
    """How many events have been folded into this state."""
