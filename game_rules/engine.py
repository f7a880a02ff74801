"""The two functions every game runs on: `decide` (command -> events or refusal) and `evolve`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any

from game_rules import burden, collective_defence, commands, council, events
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
}


def _game_opened(state: State, e: events.GameOpened) -> None:
    state.ruleset = e.ruleset
    state.members = {m.code: m for m in e.members}


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
}


def decide(state: State, command: Command, actor: str) -> Decision:
    """The events a command causes, or a refusal that leaves the game as it was."""
    if state.ruleset is None:
        return Refusal(code="not_opened", reason="The game has not been opened yet.")
    return _DECIDERS[type(command)](state, command, actor)


def evolve(state: State, event: Event) -> State:
    """Fold one event into `state` and return it.  The state is the fold's own: callers keep no other
    reference they expect to stay as it was (copy it first, or replay, to keep an earlier moment)."""
    _EVOLVERS[type(event)](state, event)
    state.seq += 1
    return state


def replay(log: Iterable[Event], start: State | None = None) -> State:
    state = start if start is not None else State()
    for event in log:
        state = evolve(state, event)
    return state


def canonical_json(state: State) -> str:
    return json.dumps(state.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


def state_hash(state: State) -> str:
    """SHA-256 of the state's canonical JSON: equal states, equal hashes, whatever the path to them."""
    return hashlib.sha256(canonical_json(state).encode()).hexdigest()
