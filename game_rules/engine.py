"""The two functions every game runs on: `decide` (command -> events or refusal) and `evolve`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from game_rules import (
    adversary,
    burden,
    collective_defence,
    commands,
    control,
    council,
    diplomacy,
    evaluation,
    events,
    feedback,
    injects,
    intelligence,
    matrix,
)
from game_rules.checks import Decision
from game_rules.commands import Command
from game_rules.events import Event
from game_rules.refusal import Refusal
from game_rules.state import State

_DECIDERS: dict[type[Any], Callable[[State, Any, str], Decision]] = {
    commands.RequestConsultation: council.request_consultation,
    commands.TableProposal: council.table_proposal,
    commands.Concur: council.concur,
    commands.RaiseObjection: council.raise_objection,
    commands.ConcurWithReservation: council.concur_with_reservation,
    commands.BreakSilence: council.break_silence,
    commands.CastVote: council.cast_vote,
    commands.CloseProposal: council.close_proposal,
    commands.ConfirmAttribution: collective_defence.confirm_attribution,
    commands.RequestAssistance: collective_defence.request_assistance,
    commands.InvokeCollectiveDefence: collective_defence.invoke,
    commands.PledgeForces: burden.pledge,
    commands.ProposeAction: diplomacy.propose_action,
    commands.StartGame: control.start_game,
    commands.PauseGame: control.pause_game,
    commands.ResumeGame: control.resume_game,
    commands.ExtendPhase: control.extend_phase,
    commands.SetRounds: control.set_rounds,
    commands.AdvancePhase: control.advance_phase,
    commands.DeclareDone: control.declare_done,
    commands.EndWhenDone: control.end_when_done,
    commands.EndGame: control.end_game,
    commands.RewindGame: control.rewind_game,
    commands.DeliverInject: control.deliver_inject,
    commands.Broadcast: control.broadcast,
    commands.RuleOnAction: control.rule_on_action,
    commands.RollForAction: matrix.roll_for_action,
    commands.HoldMselLine: control.hold_msel,
    commands.ClaimSeat: control.claim_seat,
    commands.ReassignSeat: control.reassign_seat,
    commands.ReleaseSeat: control.release_seat,
    commands.AppointHead: control.appoint_head,
    commands.ShareIntelligence: intelligence.share_intelligence,
    commands.OfferSharing: intelligence.offer_sharing,
    commands.AdversaryMove: adversary.red_cell_move,
    commands.RecordObservation: control.record_observation,
    commands.RateCapability: evaluation.rate_capability,
    commands.PlanCorrectiveAction: evaluation.plan_corrective_action,
    commands.DropCorrectiveAction: evaluation.drop_corrective_action,
}


def _game_opened(state: State, e: events.GameOpened) -> None:
    state.ruleset, state.title, state.phases, state.rounds = e.ruleset, e.title, e.phases, e.rounds
    state.situation = e.situation
    state.seed, state.exercise = e.seed, e.exercise
    state.members = {m.code: m for m in e.members}
    state.public_support = {m.code: m.public_support for m in e.members}
    state.cohesion, state.escalation = e.exercise.starting_cohesion, e.exercise.adversary.start_level
    state.status = "lobby" if e.phases else "running"


_FROM_A_SEAT: dict[type[Any], Callable[[State, Any, str, str | None], Decision]] = {
    commands.SendMessage: diplomacy.send_message,  # a message names its author
    commands.GiveFeedback: feedback.give_feedback,  # a feedback form is each seat's own
}
"""The rules that read the seat a command came from, as well as who acts (`decide` looks here first)."""

_EVOLVERS: dict[type[Any], Callable[[State, Any], None]] = {
    events.GameOpened: _game_opened,
    events.ConsultationRequested: council.consultation_requested,
    events.ProposalTabled: council.proposal_tabled,
    events.PositionTaken: council.position_taken,
    events.SilenceBroken: council.silence_broken,
    events.VoteCast: council.vote_cast,
    events.ProposalClosed: council.proposal_closed,
    events.CollectiveDefenceInvoked: collective_defence.collective_defence_invoked,
    events.AttributionConfirmed: collective_defence.attribution_confirmed,
    events.AssistanceRequested: collective_defence.assistance_requested,
    events.ForcesPledged: burden.forces_pledged,
    events.SeatClaimed: control.seat_claimed,
    events.SeatReassigned: control.seat_reassigned,
    events.SeatReleased: control.seat_released,
    events.HeadAppointed: control.head_appointed,
    events.GameStarted: control.game_started,
    events.PhaseBegan: control.phase_began,
    events.GamePaused: control.game_paused,
    events.GameResumed: control.game_resumed,
    events.DeadlineExtended: control.deadline_extended,
    events.RoundsSet: control.rounds_set,
    events.DelegationDone: control.delegation_done,
    events.EveryoneDone: control.everyone_done,
    events.EndWhenDoneSet: control.end_when_done_set,
    events.GameEnded: control.game_ended,
    events.InjectDelivered: injects.inject_delivered,
    events.Announced: control.announced,
    events.MessageSent: diplomacy.message_sent,
    events.ActionProposed: diplomacy.action_proposed,
    events.ActionRuled: control.action_ruled,
    events.MselLineHeld: control.msel_line_held,
    events.ThresholdCrossed: injects.threshold_crossed,
    events.IntelligenceReported: intelligence.intelligence_reported,
    events.IntelligenceShared: intelligence.intelligence_shared,
    events.SharingOffered: intelligence.sharing_offered,
    events.SharingAgreed: intelligence.sharing_agreed,
    events.AdversaryMoved: adversary.adversary_moved,
    events.RoundAssessed: control.round_assessed,
    events.ObservationRecorded: control.observation_recorded,
    events.CapabilityRated: evaluation.capability_rated,
    events.CorrectiveActionPlanned: evaluation.corrective_action_planned,
    events.CorrectiveActionDropped: evaluation.corrective_action_dropped,
    events.FeedbackGiven: feedback.feedback_given,
}


def decide(state: State, command: Command, actor: str, seat: str | None = None) -> Decision:
    """The events a command causes, or a refusal that leaves the game as it was.  `actor` is who acts in the
    rules (a member's code, the chair, ...); `seat`, where known, the seat that sent the command."""
    if state.ruleset is None:
        return Refusal(code="not_opened", reason="The game has not been opened yet.")
    if refusal := control.gate(state, command, actor, seat):
        return refusal
    if (reads_the_seat := _FROM_A_SEAT.get(type(command))) is not None:
        return reads_the_seat(state, command, actor, seat)
    return _DECIDERS[type(command)](state, command, actor)


def evolve(state: State, event: Event, earlier: State | None = None) -> State:
    """Fold one event into `state` and return it.  The state is the fold's own: callers keep no other
    reference they expect to stay as it was (copy it first, or replay, to keep an earlier moment).

    A rewind is folded with `earlier`, the state just after the event it goes back to: the one event whose
    outcome the state alone does not give.  `replay` and `unfold` find it in the log themselves."""
    if isinstance(event, events.GameRewound):
        if earlier is None or earlier.seq != event.to_seq:
            raise ValueError(f"a rewind to event {event.to_seq} is folded with the state just after that event")
        state = control.game_rewound(state, earlier, event)
    else:
        _EVOLVERS[type(event)](state, event)
    state.seq += 1
    return state


def fold(state: State, event: Event, log: Sequence[Event]) -> State:
    """`evolve`, for a caller that keeps the events folded into `state` so far (`log`, the opening first): a rewind
    finds the moment it goes back to there."""
    return evolve(state, event, replay(log[: event.to_seq]) if isinstance(event, events.GameRewound) else None)


def unfold(log: Iterable[Event], start: State | None = None) -> Iterator[State]:
    """The state after each event of `log`, folded onto `start` (a new game if None).  The moments the log's
    rewinds go back to are kept as the fold passes them; one before `start` cannot be, and is a ValueError."""
    log = list(log)
    wanted = {e.to_seq for e in log if isinstance(e, events.GameRewound)}
    state = start if start is not None else State()
    moments = {state.seq: state.model_copy(deep=True)} if state.seq in wanted else {}
    for event in log:
        back = moments.get(event.to_seq) if isinstance(event, events.GameRewound) else None
        state = evolve(state, event, back)
        if state.seq in wanted:
            moments[state.seq] = state.model_copy(deep=True)
        yield state


def replay(log: Iterable[Event], start: State | None = None) -> State:
    states = unfold(log, start)
    state = start if start is not None else State()
    for state in states:  # noqa: B007 (the last one is the answer)
        pass
    return state


def canonical_json(state: State) -> str:
    # Fields at their defaults are left out, so that a field added with a default keeps the hashes of every game
    # that never sets it: exports and snapshots from before it still check.
    return json.dumps(state.model_dump(mode="json", exclude_defaults=True), sort_keys=True, separators=(",", ":"))


def state_hash(state: State) -> str:
    """SHA-256 of the state's canonical JSON: equal states, equal hashes, whatever the path to them."""
    return hashlib.sha256(canonical_json(state).encode()).hexdigest()
