"""The adversary on its escalation ladder: played by the red cell, or scripted on the game's draws."""

from __future__ import annotations

from game_rules import commands as cmd
from game_rules import events as ev
from game_rules import rng
from game_rules.checks import Decision
from game_rules.injects import deliver_template
from game_rules.refusal import Refusal
from game_rules.state import RED_CELL, RoundMetrics, State
from game_rules.unfolding import Unfolding


def has_red_cell(state: State) -> bool:
    return any(seat.role == "red_cell" for seat in state.seats.values())


def red_cell_move(state: State, c: cmd.AdversaryMove, actor: str) -> Decision:
    if actor != RED_CELL:
        return Refusal(code="red_cell_only", reason="Only the red cell moves the adversary.")
    if state.adversary_moved_in == state.round:
        return Refusal(code="already_moved", reason=f"The adversary has already moved in round {state.round}.")
    ladder = state.exercise.adversary.ladder
    to_level = min(len(ladder) - 1, max(0, state.escalation + c.change))
    template = state.exercise.template(c.inject) if c.inject else None
    if c.inject and template is None:
        return Refusal(code="unknown_inject", reason=f"The catalogue has no inject {c.inject}.")
    if template is not None and template not in state.exercise.repertoire():
        return Refusal(
            code="not_in_repertoire",
            reason=f"{template.title} is not on the adversary's ladder: the red cell plays what the ladder lists, "
            "and the rest of the catalogue is the white cell's to inject.",
        )
    u = Unfolding(state)
    u.add(ev.AdversaryMoved(round=state.round, from_level=state.escalation, to_level=to_level, by="red_cell"))
    if template is not None:
        deliver_template(u, template, source="red cell")
    return u.done()


def scripted_move(u: Unfolding, metrics: RoundMetrics) -> None:
    """The scripted adversary pushes where the alliance looks weak and pauses where it looks strong."""
    s = u.state
    ladder = s.exercise.adversary.ladder
    strength = (metrics.deterrence - 50) / 50
    unity = (metrics.cohesion - 50) / 50
    escalate = min(0.9, max(0.05, 0.5 - 0.35 * strength - 0.15 * unity))
    deescalate = min(0.5, max(0.0, 0.1 + 0.3 * max(0.0, strength)))
    step, pick = rng.draws(s.seed, s.draws, 2)
    if step < escalate:
        change, reason = 1, f"escalates (chance {escalate:.0%}: deterrence {metrics.deterrence:.0f})"
    elif step >= 1 - deescalate:
        change, reason = -1, f"steps back (chance {deescalate:.0%}: deterrence {metrics.deterrence:.0f})"
    else:
        change, reason = 0, "holds its position"
    to_level = min(len(ladder) - 1, max(0, s.escalation + change))
    u.add(
        ev.AdversaryMoved(
            round=s.round, from_level=s.escalation, to_level=to_level, by="script", draws=(step, pick), reason=reason
        )
    )
    choices = ladder[to_level].injects if change >= 0 else ()
    if choices:
        template = s.exercise.template(choices[int(pick * len(choices))])
        assert template is not None, "scenario validation checks every ladder inject"
        deliver_template(u, template, source=s.exercise.adversary.name)


def adversary_moved(state: State, e: ev.AdversaryMoved) -> None:
    state.escalation = e.to_level
    state.adversary_moved_in = e.round
    state.draws += len(e.draws)
