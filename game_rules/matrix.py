"""Semi-rigid adjudication of free-form actions, as in matrix games: a delegation argues an action, the result it
should have and the reasons it would; the white cell rates the argument, and a d6 thrown on the game's recorded
draws decides it.  The white cell may still rule by hand afterwards (its ruling replaces the dice's)."""

from __future__ import annotations

from game_rules import checks, rng
from game_rules import commands as cmd
from game_rules import events as ev
from game_rules.refusal import Refusal
from game_rules.state import DiceRoll, State, Strength

TARGETS: dict[Strength, int] = {"very_strong": 2, "strong": 3, "fair": 4, "weak": 5, "very_weak": 6}
"""The d6 score an argument of each strength needs to succeed."""


def roll_for_action(state: State, c: cmd.RollForAction, actor: str) -> checks.Decision:
    action = state.actions.get(c.action)
    if action is None:
        return Refusal(code="unknown_action", reason=f"No action {c.action} has been proposed.")
    if action.roll is not None:
        # One throw per argument: the dice are not thrown again until they please.
        return Refusal(
            code="already_rolled",
            reason=f"The dice have decided {c.action} already ({action.roll.value} on a d6, "
            f"{action.roll.target}+ needed); to overrule them, rule on it by hand.",
        )
    draw = rng.draw(state.seed, state.draws)
    roll = DiceRoll(strength=c.strength, target=TARGETS[c.strength], value=1 + int(draw * 6), draw=draw)
    return (
        ev.ActionRuled(action=c.action, ruling="accepted" if roll.succeeded else "rejected", note=c.note, roll=roll),
    )
