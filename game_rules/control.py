"""The white cell's control of play: seats, start, phases and deadlines, pause, injects, rulings, end.

Time is an input: the server stamps `at` on the commands that need it, so the rules never read a clock.
"""

from __future__ import annotations

from typing import Literal

from game_rules import adversary, checks, council, injects, metrics
from game_rules import commands as cmd
from game_rules import events as ev
from game_rules.checks import Decision
from game_rules.commands import (
    ANY_TIME_COMMANDS,
    EVERY_PHASE_COMMANDS,
    NATIONAL_VOICE_COMMANDS,
    SYSTEM_COMMANDS,
    WHITE_CELL_COMMANDS,
    Command,
)
from game_rules.exercise import Contingency, MselEntry
from game_rules.phases import PhaseSpec
from game_rules.refusal import Refusal
from game_rules.state import CHAIR, OBSERVER, SYSTEM, UMPIRE, WHITE_CELL, Action, Inject, Observation, Seat, State
from game_rules.unfolding import Unfolding


def gate(state: State, command: Command, actor: str, seat: str | None = None) -> Refusal | None:
    """Who may send this command (from which `seat`, when the server names it), and whether the game's status
    and phase allow it now."""
    if command.type in ANY_TIME_COMMANDS:
        return None
    if command.type in SYSTEM_COMMANDS and actor != SYSTEM:
        return Refusal(code="server_only", reason="Seats are claimed through the lobby.")
    if command.type in WHITE_CELL_COMMANDS and actor not in WHITE_CELL:
        return Refusal(code="facilitator_only", reason=f"Only the facilitator may {command.type.replace('_', ' ')}.")
    if seat is not None and command.type in NATIONAL_VOICE_COMMANDS and (refusal := _not_the_head(state, seat)):
        return refusal
    if not state.phases or actor in WHITE_CELL:
        # Turning play back is the white cell's way to undo even an end it did not mean.
        if state.status == "ended" and command.type not in SYSTEM_COMMANDS and command.type != "rewind_game":
            return Refusal(code="game_ended", reason="The exercise has ended.")
        return None
    if state.status != "running":
        reasons = {
            "lobby": "The exercise has not started yet; the facilitator starts it.",
            "paused": "The facilitator has paused the exercise; wait for play to resume.",
            "ended": "The exercise has ended.",
        }
        return Refusal(code=f"game_{state.status}", reason=reasons[state.status])
    spec = current_phase(state)
    if command.type not in spec.allows and command.type not in EVERY_PHASE_COMMANDS:
        allowed_in = [p.name for p in state.phases if command.type in p.allows]
        where = f"it belongs to the {' and '.join(allowed_in)} phase" if allowed_in else "no phase allows it"
        return Refusal(
            code="wrong_phase",
            reason=f"{command.type.replace('_', ' ').capitalize()} is not open during the {spec.name} phase; {where}.",
        )
    return None


def _not_the_head(state: State, seat_id: str) -> Refusal | None:
    seat = state.seats.get(seat_id)
    if seat is None or seat.member is None or seat.head:
        return None
    head = checks.head_of(state, seat.member)
    if head is None:  # a game from before delegations had heads: every player speaks
        return None
    name = checks.member_name(state, seat.member)
    return Refusal(
        code="not_head_of_delegation",
        reason=f"{head.player} heads the delegation of {name} and alone speaks for it in council, invocations and "
        "pledges; deliberate with them, or ask the facilitator to make you head.",
    )


def current_phase(state: State) -> PhaseSpec:
    return next(p for p in state.phases if p.name == state.phase)


def _next_phase(state: State) -> tuple[int, PhaseSpec] | None:
    index = next(i for i, p in enumerate(state.phases) if p.name == state.phase)
    if index + 1 < len(state.phases):
        return state.round, state.phases[index + 1]
    if state.round < state.rounds:
        return state.round + 1, state.phases[0]
    return None


def claim_seat(state: State, c: cmd.ClaimSeat, actor: str) -> Decision:
    if c.seat in state.seats:
        return Refusal(code="seat_taken", reason=f"Seat {c.seat} is already claimed.")
    if c.role == "delegation":
        if c.member is None:
            return Refusal(code="no_member", reason="A delegation seat names the member state it represents.")
        if refusal := checks.not_members(state, (c.member,), "represented by a delegation"):
            return refusal
    elif c.member is not None:
        return Refusal(code="member_for_delegations", reason="Only delegation seats represent a member state.")
    head = c.member is not None and checks.head_of(state, c.member) is None
    return (ev.SeatClaimed(seat=c.seat, role=c.role, member=c.member, player=c.player, head=head, bot=c.bot),)


def reassign_seat(state: State, c: cmd.ReassignSeat, actor: str) -> Decision:
    if c.seat not in state.seats:
        return Refusal(code="unknown_seat", reason=f"There is no seat {c.seat}.")
    return (ev.SeatReassigned(seat=c.seat, player=c.player),)


def release_seat(state: State, c: cmd.ReleaseSeat, actor: str) -> Decision:
    seat = state.seats.get(c.seat)
    if seat is None:
        return Refusal(code="unknown_seat", reason=f"There is no seat {c.seat}.")
    if seat.role == "facilitator":
        return Refusal(code="facilitator_seat", reason="The facilitator's seat stays with the game.")
    # The delegation's next player, in the order they sat down, takes over the head's voice.
    successor = next((i for i, s in state.seats.items() if seat.head and i != c.seat and s.member == seat.member), None)
    return (ev.SeatReleased(seat=c.seat, head=successor),)


def appoint_head(state: State, c: cmd.AppointHead, actor: str) -> Decision:
    seat = state.seats.get(c.seat)
    if seat is None:
        return Refusal(code="unknown_seat", reason=f"There is no seat {c.seat}.")
    if seat.member is None:
        return Refusal(code="not_a_delegation", reason=f"{seat.player} holds no delegation's seat, so heads none.")
    if seat.head:
        name = checks.member_name(state, seat.member)
        return Refusal(code="already_head", reason=f"{seat.player} already heads the delegation of {name}.")
    return (ev.HeadAppointed(seat=c.seat, member=seat.member),)


def _no_phases(state: State) -> Refusal | None:
    if state.phases:
        return None
    return Refusal(code="no_round_structure", reason="This game is played without rounds or phases.")


def start_game(state: State, c: cmd.StartGame, actor: str) -> Decision:
    if refusal := _no_phases(state):
        return refusal
    if state.status != "lobby":
        return Refusal(code="already_started", reason="The exercise has already started.")
    u = Unfolding(state)
    u.add(ev.GameStarted())
    _begin(u, 1, state.phases[0], c.at)
    return u.done()


def _begin(u: Unfolding, round_: int, spec: PhaseSpec, at: float) -> None:
    """Open a phase and deliver what the MSEL schedules for it (and, at a round's start, contingencies)."""
    first_of_round = spec.name == u.state.phases[0].name
    fired, contingencies = u.state.fired, u.state.exercise.contingencies
    due = [c for c in contingencies if first_of_round and c.inject not in fired and _holds(u.state, c, round_)]
    u.add(ev.PhaseBegan(round=round_, phase=spec.name, deadline=at + spec.seconds))
    for entry in u.state.exercise.msel:
        if (entry.round, entry.phase) == (round_, spec.name) and entry.number not in u.state.msel_held:
            template = u.state.exercise.template(entry.inject)
            assert template is not None, "scenario validation checks every MSEL inject"
            injects.deliver_template(u, template, source=msel_source(entry.number))
    for contingency in due:
        template = u.state.exercise.template(contingency.inject)
        assert template is not None
        injects.deliver_template(u, template, source="contingency")


def msel_source(number: int) -> str:
    """The `source` of the inject an MSEL line delivers: how the log tells that the line has been played."""
    return f"MSEL #{number}"


MselStatus = Literal["delivered", "held", "held_delivered_by_hand", "due", "passed"]


def msel_status(state: State) -> dict[int, MselStatus]:
    """Where each MSEL line stands for the white cell: delivered when its phase opened; held back (and its inject
    perhaps delivered by hand from the catalogue since); still due; or passed, its phase over without it (a line
    put back on the schedule too late) or in a round the white cell has cut from the exercise."""
    sources = {i.source for i in state.injects}
    by_hand = {i.template for i in state.injects if i.source == "white cell" and i.template}
    order = {p.name: n for n, p in enumerate(state.phases)}
    now = (state.round, order.get(state.phase or "", -1)) if state.status != "lobby" else (-1, -1)

    def status(entry: MselEntry) -> MselStatus:
        if msel_source(entry.number) in sources:
            return "delivered"
        if entry.number in state.msel_held:
            return "held_delivered_by_hand" if entry.inject in by_hand else "held"
        due = (
            state.status != "ended" and entry.round <= state.rounds and (entry.round, order.get(entry.phase, -1)) > now
        )
        return "due" if due else "passed"

    return {entry.number: status(entry) for entry in state.exercise.msel}


def _holds(state: State, c: Contingency, round_: int) -> bool:
    w = c.when
    return (
        round_ >= w.from_round
        and (not w.no_consultation or not state.consultations)
        and (w.cohesion_below is None or state.cohesion < w.cohesion_below)
        and (w.escalation_at_least is None or state.escalation >= w.escalation_at_least)
    )


def pause_game(state: State, c: cmd.PauseGame, actor: str) -> Decision:
    if state.status != "running" or state.deadline is None:
        return Refusal(code="not_running", reason="Only a running exercise can be paused.")
    return (ev.GamePaused(remaining=max(0.0, state.deadline - c.at)),)


def resume_game(state: State, c: cmd.ResumeGame, actor: str) -> Decision:
    if state.status != "paused" or state.paused_remaining is None:
        return Refusal(code="not_paused", reason="The exercise is not paused.")
    return (ev.GameResumed(deadline=c.at + state.paused_remaining),)


def extend_phase(state: State, c: cmd.ExtendPhase, actor: str) -> Decision:
    if state.status not in ("running", "paused") or not state.phases:
        return Refusal(code="not_running", reason="There is no phase under way to extend.")
    return (ev.DeadlineExtended(seconds=c.seconds),)


def set_rounds(state: State, c: cmd.SetRounds, actor: str) -> Decision:
    if refusal := _no_phases(state):
        return refusal
    if c.rounds == state.rounds:
        return Refusal(code="same_rounds", reason=f"The exercise already runs {state.rounds} rounds.")
    if c.rounds < state.round:
        return Refusal(
            code="round_under_way",
            reason=f"Play is in round {state.round}: the exercise can end with it, not before it "
            f"(set {state.round} rounds, or end the exercise).",
        )
    return (ev.RoundsSet(rounds=c.rounds, was=state.rounds),)


def _stale(state: State, round_: int, phase: str) -> Refusal | None:
    if (round_, phase) == (state.round, state.phase):
        return None
    return Refusal(
        code="stale_phase",
        reason=f"The {phase} phase of round {round_} is already over; "
        f"play is in the {state.phase} phase of round {state.round}.",
    )


def advance_phase(state: State, c: cmd.AdvancePhase, actor: str) -> Decision:
    if refusal := _no_phases(state):
        return refusal
    if state.status != "running":
        return Refusal(code="not_running", reason="Resume the exercise before moving to the next phase.")
    if refusal := _stale(state, c.from_round, c.from_phase):
        return refusal
    u = Unfolding(state)
    _advance(u, c.at)
    return u.done()


def in_the_room(state: State) -> list[str]:
    """The members a person plays (a bot's members do not hold the room up), in code order."""
    return sorted({s.member for s in state.seats.values() if s.role == "delegation" and s.member and not s.bot})


def _end_if_everyone_done(u: Unfolding, at: float) -> None:
    state = u.state
    playing = in_the_room(state)
    if state.end_when_done and state.status == "running" and playing and set(playing) <= set(state.done):
        u.add(ev.EveryoneDone(round=state.round, phase=state.phase or ""))
        _advance(u, at)


def declare_done(state: State, c: cmd.DeclareDone, actor: str) -> Decision:
    if refusal := _no_phases(state) or checks.not_a_member(state, actor, "declare themselves done with a phase"):
        return refusal
    if state.status != "running":
        return Refusal(code="not_running", reason="Play is not under way: there is no phase to be done with.")
    if refusal := _stale(state, c.round, c.phase):
        return refusal
    name = checks.member_name(state, actor)
    if c.done == (actor in state.done):
        said = "has already said it is done" if c.done else "has not said it is done"
        return Refusal(code="already_said", reason=f"{name} {said} with the {state.phase} phase.")
    u = Unfolding(state)
    u.add(ev.DelegationDone(member=actor, done=c.done))
    if c.done:
        _end_if_everyone_done(u, c.at)
    return u.done()


def end_when_done(state: State, c: cmd.EndWhenDone, actor: str) -> Decision:
    if refusal := _no_phases(state):
        return refusal
    if c.on == state.end_when_done:
        return Refusal(
            code="already_set",
            reason="Phases already end once every delegation is done."
            if c.on
            else "Phases already run to their deadline.",
        )
    u = Unfolding(state)
    u.add(ev.EndWhenDoneSet(on=c.on))
    _end_if_everyone_done(u, c.at)  # chosen when the room was done already: it need not wait for a last word
    return u.done()


def _advance(u: Unfolding, at: float) -> None:
    """End the phase under way: the council's pending proposals decided, the round assessed at its end, the next
    phase opened (or the exercise ended after its last)."""
    state = u.state
    if current_phase(state).closes_proposals:
        for proposal in [p for p in state.proposals.values() if p.outcome == "pending"]:
            u.add(*council.closing(u.state, proposal))
    following = _next_phase(state)
    round_over = following is None or following[0] != state.round
    if round_over:
        u.add(ev.RoundAssessed(metrics=metrics.assess(u.state)))
    if following is None:
        u.add(ev.GameEnded(reason=f"round {state.round} of {state.rounds} complete"))
        return
    if round_over and not adversary.has_red_cell(state) and state.adversary_moved_in != state.round:
        adversary.scripted_move(u, u.state.assessments[-1])
    _begin(u, following[0], following[1], at)


def end_game(state: State, c: cmd.EndGame, actor: str) -> Decision:
    return (ev.GameEnded(reason=c.reason),)


def rewind_game(state: State, c: cmd.RewindGame, actor: str) -> Decision:
    if c.to_seq >= state.seq:
        return Refusal(
            code="no_earlier_moment",
            reason=f"Event {c.to_seq} is not behind the game: it has had {state.seq} events; rewind to an earlier one.",
        )
    return (ev.GameRewound(to_seq=c.to_seq, note=c.note),)


def deliver_inject(state: State, c: cmd.DeliverInject, actor: str) -> Decision:
    u = Unfolding(state)
    if c.template is not None:
        template = state.exercise.template(c.template)
        if template is None:
            return Refusal(code="unknown_inject", reason=f"The inject catalogue has no entry {c.template!r}.")
        injects.deliver_template(u, template, source="white cell")
        return u.done()
    if not c.title:
        return Refusal(code="no_title", reason="A free-text inject needs a title.")
    if c.visible_to is not None and (refusal := checks.not_members(state, c.visible_to, "told of an inject")):
        return refusal
    inject = Inject(
        id=f"I{len(state.injects) + 1}",
        title=c.title,
        text=c.text,
        kind=c.kind,
        visible_to=c.visible_to,
        round=state.round,
        phase=state.phase,
    )
    injects.deliver(u, inject)
    return u.done()


def broadcast(state: State, c: cmd.Broadcast, actor: str) -> Decision:
    return (ev.Announced(text=c.text),)


def rule_on_action(state: State, c: cmd.RuleOnAction, actor: str) -> Decision:
    # A later ruling on the same action replaces the earlier one: the white cell's undo.
    if c.action not in state.actions:
        return Refusal(code="unknown_action", reason=f"No action {c.action} has been proposed.")
    return (ev.ActionRuled(action=c.action, ruling=c.ruling, note=c.note),)


def hold_msel(state: State, c: cmd.HoldMselLine, actor: str) -> Decision:
    if not any(e.number == c.number for e in state.exercise.msel):
        return Refusal(code="unknown_msel_line", reason=f"The scenario's MSEL has no line #{c.number}.")
    if any(i.source == msel_source(c.number) for i in state.injects):
        return Refusal(
            code="msel_line_delivered",
            reason=f"MSEL #{c.number} has been delivered already; to take it back, turn play back to before it.",
        )
    if (c.number in state.msel_held) == c.held:
        now = "held back" if c.held else "on the schedule"
        return Refusal(code="msel_line_unchanged", reason=f"MSEL #{c.number} is {now} already.")
    return (ev.MselLineHeld(number=c.number, held=c.held),)


def record_observation(state: State, c: cmd.RecordObservation, actor: str) -> Decision:
    if actor not in (CHAIR, OBSERVER, UMPIRE):
        return Refusal(
            code="observers_only", reason="Hotwash observations are recorded by the facilitator, umpires and observers."
        )
    if c.member is not None and (refusal := checks.not_members(state, (c.member,), "the subject of a note")):
        return refusal
    about = c.about_seq if c.about_seq is not None else state.seq
    if about > state.seq:
        return Refusal(code="future_seq", reason=f"Event {about} has not happened yet (the latest is {state.seq}).")
    return (ev.ObservationRecorded(by=actor, text=c.text, member=c.member, about_seq=about),)


# --- evolve ------------------------------------------------------------------------------------------


def seat_claimed(state: State, e: ev.SeatClaimed) -> None:
    state.seats[e.seat] = Seat(role=e.role, member=e.member, player=e.player, head=e.head, bot=e.bot)


def seat_reassigned(state: State, e: ev.SeatReassigned) -> None:
    state.seats[e.seat] = state.seats[e.seat].model_copy(update={"player": e.player, "bot": False})


def seat_released(state: State, e: ev.SeatReleased) -> None:
    del state.seats[e.seat]
    if e.head is not None:
        state.seats[e.head] = state.seats[e.head].model_copy(update={"head": True})


def head_appointed(state: State, e: ev.HeadAppointed) -> None:
    for seat_id, seat in list(state.seats.items()):
        if seat.member == e.member and seat.head != (seat_id == e.seat):
            state.seats[seat_id] = seat.model_copy(update={"head": seat_id == e.seat})


def game_started(state: State, e: ev.GameStarted) -> None:
    state.status = "running"


def phase_began(state: State, e: ev.PhaseBegan) -> None:
    state.round, state.phase, state.deadline = e.round, e.phase, e.deadline
    state.phase_count += 1
    state.done = []


def delegation_done(state: State, e: ev.DelegationDone) -> None:
    done = set(state.done) - {e.member}
    state.done = sorted(done | {e.member} if e.done else done)


def everyone_done(state: State, e: ev.EveryoneDone) -> None:
    state.announcements.append(f"Every delegation was done with the {e.phase} phase, which ended early.")


def end_when_done_set(state: State, e: ev.EndWhenDoneSet) -> None:
    state.end_when_done = e.on


def observation_recorded(state: State, e: ev.ObservationRecorded) -> None:
    state.observations.append(
        Observation(by=e.by, text=e.text, member=e.member, about_seq=e.about_seq, round=state.round)
    )


def round_assessed(state: State, e: ev.RoundAssessed) -> None:
    state.assessments.append(e.metrics)
    state.cohesion = e.metrics.cohesion
    state.public_support = dict(e.metrics.public_support)


def game_paused(state: State, e: ev.GamePaused) -> None:
    state.status, state.deadline, state.paused_remaining = "paused", None, e.remaining


def game_resumed(state: State, e: ev.GameResumed) -> None:
    state.status, state.deadline, state.paused_remaining = "running", e.deadline, None


def deadline_extended(state: State, e: ev.DeadlineExtended) -> None:
    if state.deadline is not None:
        state.deadline += e.seconds
    elif state.paused_remaining is not None:
        state.paused_remaining += e.seconds


def rounds_set(state: State, e: ev.RoundsSet) -> None:
    state.rounds = e.rounds
    # Every seat is told, not only shown a new count in its header: the room plans its time by it.
    state.announcements.append(f"The exercise now runs {e.rounds} rounds instead of {e.was}.")


def game_ended(state: State, e: ev.GameEnded) -> None:
    state.status, state.deadline, state.paused_remaining = "ended", None, None


REWIND_KEEPS: dict[str, frozenset[str]] = {
    "seats": frozenset({"seat_claimed", "seat_reassigned", "seat_released", "head_appointed"}),
    "messages": frozenset({"message_sent"}),
    "announcements": frozenset({"announced"}),
    "observations": frozenset({"observation_recorded"}),
    "ratings": frozenset({"capability_rated"}),
    "improvement_plan": frozenset({"corrective_action_planned", "corrective_action_dropped"}),
    "feedback": frozenset({"feedback_given"}),
}
"""What a rewind cannot undo: who sits where, what was said (the review still reads it), and the evaluators'
ratings and improvement plan and the participants' feedback, which are about the whole exercise, the part turned
back included.  These parts of the
state carry over from before the rewind, and the events that make them stand whatever is rewound."""


def game_rewound(now: State, earlier: State, e: ev.GameRewound) -> State:
    """The state just after event `to_seq` (`earlier`), with what cannot be undone (`REWIND_KEEPS`) carried over
    from `now`.  A game in play comes back paused, with its phase's clock full, so that the room hears the ruling
    before play goes on; free play comes back running.  Either way play goes on, even from a moment after an end."""
    back = earlier.model_copy(deep=True)
    for part in REWIND_KEEPS:
        setattr(back, part, getattr(now, part).copy())
    back.announcements.append(f"The facilitator turned play back: {e.note}")  # the log says to where
    if back.phases and back.phase is None:  # between the start and its first phase: not started, in effect
        back.status = "lobby"
    elif back.phases and back.status != "lobby":
        remaining = back.paused_remaining if back.paused_remaining is not None else current_phase(back).seconds
        back.status, back.deadline, back.paused_remaining = "paused", None, remaining
    elif not back.phases:  # free play has no pause: it plays on, whatever the moment it went back to
        back.status = "running"
    back.seq = now.seq
    return back


def announced(state: State, e: ev.Announced) -> None:
    state.announcements.append(e.text)


def msel_line_held(state: State, e: ev.MselLineHeld) -> None:
    held = set(state.msel_held) - {e.number}
    state.msel_held = sorted(held | {e.number} if e.held else held)


def action_ruled(state: State, e: ev.ActionRuled) -> None:
    action: Action = state.actions[e.action]
    action.ruling, action.note = e.ruling, e.note
    if e.roll is not None:  # kept when a ruling by hand overrules the dice: they are thrown once
        action.roll = e.roll
        state.draws += 1
