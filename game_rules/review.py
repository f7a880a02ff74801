"""After-action review: everything a seminar's second half asks of a game, read off its event log.

One fold over (seq, event) pairs gives the timeline, who took which position on each proposal and when,
pledges against fair shares, round summaries, and the capability ratings of an HSEEP after-action report
(P: performed without challenges, S: with some, M: with major challenges, U: unable to perform), each with
the log's evidence.  Pure: the server supplies the events, this module only reads them.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from game_rules import burden
from game_rules import events as ev
from game_rules.control import REWIND_KEEPS
from game_rules.engine import replay, unfold
from game_rules.evaluation import CAPABILITIES
from game_rules.events import Event
from game_rules.narrative import describe
from game_rules.rulesets import RULESETS
from game_rules.state import CHAIR, Rating, RoundMetrics, State

RATING_MEANING = {
    "P": "performed without challenges",
    "S": "performed with some challenges",
    "M": "performed with major challenges",
    "U": "unable to be performed",
    "N/A": "not exercised",
}


@dataclass(frozen=True)
class Entry:
    seq: int
    round: int
    phase: str | None
    type: str
    members: tuple[str, ...]
    text: str
    undone: bool = False
    """A facilitator's rewind took it back (what was said and who sat where stand whatever)."""


_STANDING = frozenset().union(*REWIND_KEEPS.values())
"""Events no rewind takes back."""


@dataclass(frozen=True)
class Position:
    member: str
    position: str
    """concur, reserve, object, break_silence, or a vote: yes, no, abstain."""
    seq: int
    round: int
    reservation: str | None = None


@dataclass
class ProposalRecord:
    id: str
    kind: str
    procedure: str
    tabled_by: str
    text: str
    round: int
    tabled_seq: int
    positions: list[Position] = field(default_factory=list)
    closed_seq: int | None = None
    outcome: str = "pending"
    requirement: int | None = None
    amount: float | None = None
    pledges: dict[str, int] = field(default_factory=dict)
    fair_shares: dict[str, float] = field(default_factory=dict)
    shortfall: int | None = None
    free_riders: list[str] = field(default_factory=list)

    @property
    def latency(self) -> int | None:
        """Events between tabling and decision."""
        return None if self.closed_seq is None else self.closed_seq - self.tabled_seq


@dataclass(frozen=True)
class Capability:
    name: str
    rating: Rating
    """The evaluators' rating where they gave one, else the one the log suggests."""
    evidence: list[str]
    corrective_action: str
    """The corrective action the evidence suggests; the improvement plan holds the evaluators' own."""
    suggested: Rating | None = None
    """What the log's evidence suggests (None: the log holds none, and only the evaluators rated it)."""
    rated_by: str | None = None
    reason: str = ""


@dataclass
class Review:
    state: State
    entries: list[Entry]
    proposals: list[ProposalRecord]
    rounds: list[RoundMetrics]
    capabilities: list[Capability]

    def timeline(
        self, round_: int | None = None, member: str | None = None, types: set[str] | None = None
    ) -> list[Entry]:
        return [
            e
            for e in self.entries
            if (round_ is None or e.round == round_)
            and (member is None or member in e.members)
            and (types is None or e.type in types)
        ]


def members_of(event: Event) -> tuple[str, ...]:
    """The members an event is about, for filtering a timeline by member."""
    match event:
        case ev.ConsultationRequested():
            return (event.requested_by, *event.joined_by)
        case ev.ProposalTabled():
            return (event.tabled_by, *((event.victim,) if event.victim else ()), *event.parties)
        case ev.PositionTaken() | ev.SilenceBroken() | ev.VoteCast() | ev.ForcesPledged() | ev.ThresholdCrossed():
            return (event.member,)
        case ev.CollectiveDefenceInvoked():
            return (event.victim,)
        case ev.AssistanceRequested():
            return (event.member,)
        case ev.InjectDelivered():
            return event.inject.targets or tuple(event.inject.visible_to or ())
        case ev.MessageSent():  # the white cell (`chair`) is no member
            return tuple(m for m in (event.message.sender, *event.message.recipients) if m != CHAIR)
        case ev.ActionProposed() | ev.DelegationDone():
            return (event.member,)
        case ev.IntelligenceReported():
            return (event.owner,)
        case ev.IntelligenceShared():
            return (event.member,)
        case ev.SharingOffered():
            return (event.by, event.to)
        case ev.SharingAgreed():
            return event.members
        case ev.SeatClaimed() if event.member:
            return (event.member,)
        case ev.ObservationRecorded() if event.member:
            return (event.member,)
    return ()


def review(log: Iterable[tuple[int, Event]]) -> Review:
    pairs = list(log)
    wanted = {e.to_seq for _, e in pairs if isinstance(e, ev.GameRewound)}
    round_, phase, rules = 0, None, None
    state = State()
    entries: list[Entry] = []
    records: dict[str, ProposalRecord] = {}
    records_at: dict[int, dict[str, ProposalRecord]] = {}
    undone = _Undone(wanted)
    for (seq, event), state in zip(pairs, unfold(e for _, e in pairs), strict=True):
        entries.append(Entry(seq, round_, phase, event.type, members_of(event), describe(event, rules)))
        if isinstance(event, ev.GameRewound):
            records = copy.deepcopy(records_at[event.to_seq])
        _track(records, round_, seq, event)
        undone.fold(seq, event)
        if seq in wanted:
            records_at[seq] = copy.deepcopy(records)
        round_, phase = state.round, state.phase
        rules = RULESETS[state.ruleset] if state.ruleset else None
    entries = [replace(e, undone=True) if e.seq in undone.now else e for e in entries]
    for record in records.values():
        _settle(record, state)
    proposals = list(records.values())
    return Review(state, entries, proposals, list(state.assessments), capabilities(state, proposals))


class _Undone:
    """Which events a game's rewinds have taken back, as of each point of the log: a rewind to event t takes back
    what followed t, and puts back what stood just after t (a rewind to a moment an earlier one undid: a redo)."""

    def __init__(self, wanted: set[int]) -> None:
        self._wanted = wanted
        self._moments: dict[int, frozenset[int]] = {}
        self._since: list[int] = []
        """The events so far that a rewind takes back, in order."""
        self.now: frozenset[int] = frozenset()

    def fold(self, seq: int, event: Event) -> None:
        if isinstance(event, ev.GameRewound):
            self.now = self._moments[event.to_seq] | {s for s in self._since if s > event.to_seq}
        if event.type not in _STANDING:
            self._since.append(seq)
        if seq in self._wanted:
            self._moments[seq] = self.now


def state_at(log: Iterable[tuple[int, Event]], seq: int) -> State:
    """The state just after event `seq`."""
    return replay(e for s, e in log if s <= seq)


def _track(records: dict[str, ProposalRecord], round_: int, seq: int, event: Event) -> None:
    match event:
        case ev.ProposalTabled():
            records[event.proposal] = ProposalRecord(
                id=event.proposal,
                kind=event.kind,
                procedure=event.procedure,
                tabled_by=event.tabled_by,
                text=event.text,
                round=round_,
                tabled_seq=seq,
                requirement=event.forces_required,
                amount=event.amount,
            )
        case ev.PositionTaken():
            records[event.proposal].positions.append(
                Position(event.member, event.stance, seq, round_, event.reservation)
            )
        case ev.SilenceBroken():
            records[event.proposal].positions.append(Position(event.member, "break_silence", seq, round_))
        case ev.VoteCast():
            records[event.proposal].positions.append(Position(event.member, event.choice, seq, round_))
        case ev.ProposalClosed():
            records[event.proposal].closed_seq = seq
            records[event.proposal].outcome = event.outcome


def _settle(record: ProposalRecord, state: State) -> None:
    p = state.proposals[record.id]
    record.pledges = dict(p.pledges)
    if p.kind == "deploy_forces" and p.outcome == "adopted":
        record.fair_shares = {m: round(float(burden.fair_share(state, p.id, m)), 2) for m in state.members}
        record.shortfall = burden.shortfall(state, p.id)
        record.free_riders = burden.free_riders(state, p.id)


def _rate(value: float, p: float, s: float, m: float) -> Rating:
    return "P" if value >= p else "S" if value >= s else "M" if value >= m else "U"


def capabilities(state: State, proposals: list[ProposalRecord]) -> list[Capability]:
    """Each capability the log gives evidence on, rated by it, then as the evaluators rated it (`state.ratings`),
    with those only they rated after the others."""
    suggested = {c.name: c for c in _suggested(state, proposals)}
    out: list[Capability] = []
    for name in [*suggested, *(n for n in CAPABILITIES if n in state.ratings and n not in suggested)]:
        found = suggested.get(name)
        judged = state.ratings.get(name)
        capability = found or Capability(name, "N/A", ["no evidence in the log"], CAPABILITIES[name])
        if judged is not None:
            capability = replace(capability, rating=judged.rating, rated_by=judged.by, reason=judged.reason)
        out.append(replace(capability, suggested=found.rating if found else None))
    return out


def _capability(name: str, rating: Rating, evidence: list[str]) -> Capability:
    return Capability(name, rating, evidence, CAPABILITIES[name])


def _suggested(state: State, proposals: list[ProposalRecord]) -> list[Capability]:
    out: list[Capability] = []
    serious = [i for i in state.injects if i.severity >= 3]
    latencies = [phases for _, phases in state.latencies]
    if serious:
        mean_latency = sum(latencies) / len(latencies) if latencies else None
        if not state.consultations:
            rating: Rating = "U"
        elif mean_latency is None:
            rating = "M"
        else:
            rating = "P" if mean_latency <= 1 else "S" if mean_latency <= 2 else "M"
        out.append(
            _capability(
                "Consultation and situational awareness",
                rating,
                [
                    f"{len(serious)} serious inject(s); {len(state.consultations)} member(s) requested consultation",
                    f"mean decision latency {mean_latency:.1f} phases"
                    if mean_latency is not None
                    else "no serious inject drew a council response",
                ],
            )
        )
    closed = [p for p in proposals if p.outcome != "pending"]
    adopted = [p for p in closed if p.outcome == "adopted"]
    out.append(
        _capability(
            "Council decision-making",
            _rate(len(adopted) / len(closed), 0.75, 0.5, 0.25) if closed else "U",
            [f"{len(adopted)} of {len(closed)} proposals adopted"]
            + [
                f"{p.id} ({p.kind}) {p.outcome.replace('_', ' ')} at event {p.closed_seq}"
                for p in closed
                if p.outcome != "adopted"
            ],
        )
    )
    deployments = [p for p in proposals if p.kind == "deploy_forces" and p.outcome == "adopted"]
    if deployments:
        required = sum(p.requirement or 0 for p in deployments)
        short = sum(p.shortfall or 0 for p in deployments)
        out.append(
            _capability(
                "Force generation",
                _rate(1 - short / required, 1.0, 0.9, 0.7) if required else "N/A",
                [f"{required} units required by {len(deployments)} adopted deployment(s); shortfall {short}"]
                + [f"{p.id}: below fair share {', '.join(p.free_riders)}" for p in deployments if p.free_riders],
            )
        )
        fairness = state.assessments[-1].pledge_fairness if state.assessments else 1.0
        out.append(
            _capability(
                "Burden-sharing",
                _rate(fairness, 0.9, 0.75, 0.5),
                [f"pledges against fair shares: {fairness:.0%} (capped per member)"],
            )
        )
    reports = list(state.reports.values())
    if reports:
        shared = sum(1 for r in reports if r.shared_with)
        out.append(
            _capability(
                "Intelligence sharing",
                _rate(shared / len(reports), 0.5, 0.25, 0.1),
                [f"{shared} of {len(reports)} reports shared; {len(state.sharing_agreements)} standing agreement(s)"],
            )
        )
    triggered = bool(state.threshold_crossed) or any(i.kind == "armed_attack" for i in state.injects)
    invoked = list(state.invocations.values())
    if triggered or invoked:
        confirmed = [i for i in invoked if i.status != "conditional"]
        out.append(
            _capability(
                "Collective defence",
                "P" if confirmed else "S" if invoked else "U",
                [f"armed-attack threshold crossed for {', '.join(state.threshold_crossed) or 'nobody'}"]
                + [f"invocation {i.key} for {i.victim}: {i.status}" for i in invoked],
            )
        )
    return out
