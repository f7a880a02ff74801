"""Consultation and council decisions: tabling, positions under each procedure, and closing."""

from __future__ import annotations

from game_rules import checks, collective_defence
from game_rules.checks import Decision
from game_rules.commands import (
    BreakSilence,
    CastVote,
    CloseProposal,
    Concur,
    ConcurWithReservation,
    RaiseObjection,
    RequestConsultation,
    TableProposal,
)
from game_rules.events import (
    CollectiveDefenceInvoked,
    ConsultationRequested,
    Event,
    PositionTaken,
    ProposalClosed,
    ProposalTabled,
    SilenceBroken,
    VoteCast,
)
from game_rules.refusal import Refusal
from game_rules.rulesets import Procedure, Ruleset
from game_rules.state import CHAIR, Consultation, Outcome, Proposal, Stance, State


def request_consultation(state: State, cmd: RequestConsultation, actor: str) -> Decision:
    refusal = checks.not_a_member(state, actor, "request consultation") or checks.not_members(
        state, cmd.joined_by, "party to a consultation request"
    )
    if refusal:
        return refusal
    joined = tuple(dict.fromkeys(m for m in cmd.joined_by if m != actor))
    if earlier := convened_by(state, actor):
        whose = (
            f"{actor}'s request"
            if earlier.requested_by == actor
            else f"the request of {earlier.requested_by}, which {actor} joined"
        )
        return Refusal(
            code="already_convened", reason=f"The {checks.ruleset(state).council} is already convened at {whose}."
        )
    return (ConsultationRequested(requested_by=actor, joined_by=joined),)


def convened_by(state: State, member: str) -> Consultation | None:
    """The consultation of this round that `member` requested or joined: requesting together is requesting, so a
    co-requester has convened the council as much as the first name."""
    this_round = (c for c in state.consultations.values() if c.round == state.round)
    return next((c for c in this_round if member in (c.requested_by, *c.joined_by)), None)


def table_proposal(state: State, cmd: TableProposal, actor: str) -> Decision:
    rules = checks.ruleset(state)
    if actor != CHAIR and (refusal := checks.not_a_member(state, actor, "table a proposal")):
        return refusal
    if cmd.proposal in state.proposals:
        return Refusal(code="duplicate_proposal", reason=f"A proposal {cmd.proposal} has already been tabled.")
    if cmd.kind not in rules.proposal_kinds:
        return Refusal(code="kind_not_available", reason=_kind_unavailable(rules, cmd.kind))
    procedure: Procedure = cmd.procedure or rules.procedures[0]
    if procedure not in rules.procedures:
        return Refusal(code="procedure_not_available", reason=rules.procedure_note)
    if refusal := checks.not_members(state, cmd.parties, "a party to the dispute"):
        return refusal
    if cmd.kind == "deploy_forces" and cmd.requirement is None:
        return Refusal(code="missing_requirement", reason="A deploy_forces proposal needs a force requirement.")
    if cmd.kind == "common_funding" and cmd.amount is None:
        return Refusal(code="missing_amount", reason="A common_funding proposal needs the amount to share.")
    if cmd.kind == "invoke_collective_defence":
        refusal = collective_defence.invocation_proposal_refusal(state, cmd)
        if refusal:
            return refusal
    return (
        ProposalTabled(
            proposal=cmd.proposal,
            kind=cmd.kind,
            procedure=procedure,
            tabled_by=actor,
            text=cmd.text,
            victim=cmd.victim,
            attack=cmd.attack if cmd.kind == "invoke_collective_defence" else None,
            forces_required=cmd.requirement.forces if cmd.requirement else None,
            requirement=cmd.requirement if cmd.kind == "deploy_forces" else None,
            amount=cmd.amount,
            parties=tuple(dict.fromkeys(cmd.parties)),
        ),
    )


def _kind_unavailable(rules: Ruleset, kind: str) -> str:
    if kind == "invoke_collective_defence":
        return (
            f"Under {rules.defence_clause} the victim invokes alone; the {rules.council} takes no decision to "
            "invoke. The victim uses 'invoke'."
        )
    return f"The {rules.council} does not take {kind.replace('_', ' ')} decisions."


def _position(state: State, proposal_id: str, actor: str, procedure: Procedure, doing: str) -> Proposal | Refusal:
    if refusal := checks.not_a_member(state, actor, doing):
        return refusal
    found = checks.open_proposal(state, proposal_id)
    if isinstance(found, Refusal):
        return found
    if found.procedure != procedure:
        return Refusal(code="wrong_procedure", reason=_procedure_hint(found))
    return found


def _procedure_hint(p: Proposal) -> str:
    hints = {
        "consensus": "members concur, concur with a reservation, or object",
        "silence": "the text is adopted unless a member breaks silence with a formal objection",
        "vote": "members vote yes, no or abstain",
    }
    return f"Proposal {p.id} is decided by {p.procedure}: {hints[p.procedure]}."


def _stance(state: State, proposal_id: str, actor: str, stance: Stance, reservation: str | None) -> Decision:
    found = _position(state, proposal_id, actor, "consensus", "take a position in council")
    if isinstance(found, Refusal):
        return found
    return (PositionTaken(proposal=proposal_id, member=actor, stance=stance, reservation=reservation),)


def concur(state: State, cmd: Concur, actor: str) -> Decision:
    return _stance(state, cmd.proposal, actor, "concur", None)


def raise_objection(state: State, cmd: RaiseObjection, actor: str) -> Decision:
    return _stance(state, cmd.proposal, actor, "object", None)


def concur_with_reservation(state: State, cmd: ConcurWithReservation, actor: str) -> Decision:
    return _stance(state, cmd.proposal, actor, "reserve", cmd.reservation)


def break_silence(state: State, cmd: BreakSilence, actor: str) -> Decision:
    found = _position(state, cmd.proposal, actor, "silence", "break silence")
    if isinstance(found, Refusal):
        return found
    if actor in found.silence_broken_by:
        return Refusal(code="already_broken", reason=f"{actor} has already broken silence on {found.id}.")
    return (SilenceBroken(proposal=cmd.proposal, member=actor),)


def cast_vote(state: State, cmd: CastVote, actor: str) -> Decision:
    found = _position(state, cmd.proposal, actor, "vote", "vote")
    if isinstance(found, Refusal):
        return found
    if actor in found.parties:
        note = checks.ruleset(state).vote_note or "parties directly interested in the dispute may not vote"
        return Refusal(code="party_may_not_vote", reason=f"{actor} is a party to the dispute: {note}.")
    if actor in found.votes:
        return Refusal(code="already_voted", reason=f"{actor} has already voted on {found.id}.")
    return (VoteCast(proposal=cmd.proposal, member=actor, choice=cmd.choice),)


def close_proposal(state: State, cmd: CloseProposal, actor: str) -> Decision:
    if actor != CHAIR:
        return Refusal(
            code="chair_only",
            reason="Only the chair closes a proposal, when its deadline passes; members take positions.",
        )
    found = checks.open_proposal(state, cmd.proposal)
    if isinstance(found, Refusal):
        return found
    return closing(state, found)


def closing(state: State, p: Proposal) -> tuple[Event, ...]:
    """The events of taking the decision on `p`: its outcome, and an invocation if one was adopted."""
    outcome = outcome_at_close(state, p)
    events: list[Event] = [ProposalClosed(proposal=p.id, outcome=outcome)]
    if outcome == "adopted" and p.kind == "invoke_collective_defence":
        assert p.victim is not None and p.attack is not None
        events.append(
            CollectiveDefenceInvoked(
                key=p.id,
                victim=p.victim,
                attack=p.attack,
                status="confirmed" if p.attack.attributed else "conditional",
                proposal=p.id,
            )
        )
    return tuple(events)


def awaits(p: Proposal, member: str) -> bool:
    """Whether the council waits for `member` on `p`: a consensus without its position, or a vote it may cast and
    has not (under the silence procedure, saying nothing is a position)."""
    if p.outcome != "pending":
        return False
    if p.procedure == "consensus":
        return member not in p.positions
    return p.procedure == "vote" and member not in p.parties and member not in p.votes


def outcome_at_close(state: State, p: Proposal) -> Outcome:
    """The decision the council takes on the positions on record when the deadline passes."""
    if p.procedure == "silence":
        return "silence_broken" if p.silence_broken_by else "adopted"
    if p.procedure == "vote":
        entitled = [m for m in state.members if m not in p.parties]
        yes = sum(1 for m, choice in p.votes.items() if choice == "yes" and m in entitled)
        num, den = checks.ruleset(state).vote_threshold
        return "adopted" if entitled and yes * den >= num * len(entitled) else "rejected"
    if any(stance == "object" for stance in p.positions.values()):
        return "blocked"
    if all(m in p.positions for m in state.members):
        return "adopted"
    return "no_consensus"


# --- evolve ------------------------------------------------------------------------------------------


def consultation_requested(state: State, e: ConsultationRequested) -> None:
    state.consultations[e.requested_by] = Consultation(
        requested_by=e.requested_by, joined_by=e.joined_by, round=state.round
    )
    _council_responds(state)


def _council_responds(state: State) -> None:
    if state.awaiting_response_since is not None:
        state.latencies.append((state.round, state.phase_count - state.awaiting_response_since))
        state.awaiting_response_since = None


def proposal_tabled(state: State, e: ProposalTabled) -> None:
    # Tabling a text under consensus is the proposer's concurrence with it.
    positions: dict[str, Stance] = (
        {e.tabled_by: "concur"} if e.procedure == "consensus" and e.tabled_by in state.members else {}
    )
    state.proposals[e.proposal] = Proposal(
        id=e.proposal,
        kind=e.kind,
        procedure=e.procedure,
        tabled_by=e.tabled_by,
        text=e.text,
        victim=e.victim,
        attack=e.attack,
        forces_required=e.forces_required,
        requirement=e.requirement,
        amount=e.amount,
        parties=e.parties,
        round=state.round,
        positions=positions,
    )
    _council_responds(state)


def position_taken(state: State, e: PositionTaken) -> None:
    p = state.proposals[e.proposal]
    p.positions[e.member] = e.stance
    p.reservations.pop(e.member, None)
    if e.reservation is not None:
        p.reservations[e.member] = e.reservation


def silence_broken(state: State, e: SilenceBroken) -> None:
    state.proposals[e.proposal].silence_broken_by.append(e.member)


def vote_cast(state: State, e: VoteCast) -> None:
    state.proposals[e.proposal].votes[e.member] = e.choice


def proposal_closed(state: State, e: ProposalClosed) -> None:
    state.proposals[e.proposal].outcome = e.outcome


# --- queries -----------------------------------------------------------------------------------------


def reservations(state: State, proposal_id: str) -> list[str]:
    return sorted(state.proposals[proposal_id].reservations)
