"""The participants' feedback forms (HSEEP's participant feedback form): once the exercise has ended, each seat rates
how useful it was, from 1 to 5, and says what went well and what should improve.  The after-action report sums
them up.  Like the hotwash, they are about the whole exercise: no rewind takes them back."""

from __future__ import annotations

from game_rules import commands as cmd
from game_rules import events as ev
from game_rules.checks import Decision
from game_rules.refusal import Refusal
from game_rules.state import Feedback, State

QUESTIONS = {
    "rating": "Overall, how useful was this exercise to you? (1 not at all, 5 very)",
    "went_well": "What went well?",
    "to_improve": "What should be done differently next time?",
}
"""The form, as players and the report read it."""


def give_feedback(state: State, c: cmd.GiveFeedback, actor: str, seat_id: str | None = None) -> Decision:
    if state.status != "ended":
        return Refusal(code="not_ended", reason="The feedback form opens when the exercise has ended.")
    if seat_id is None or (seat := state.seats.get(seat_id)) is None:
        return Refusal(code="no_seat", reason="Feedback is given from a seat of the game.")
    if seat.bot:
        return Refusal(code="bot_seat", reason="A bot's seat gives no feedback.")
    form = Feedback(
        role=seat.role,
        member=seat.member,
        rating=c.rating,
        went_well=c.went_well.strip(),
        to_improve=c.to_improve.strip(),
    )
    return (ev.FeedbackGiven(seat=seat_id, form=form),)


def feedback_given(state: State, e: ev.FeedbackGiven) -> None:
    state.feedback[e.seat] = e.form


def average(state: State) -> float | None:
    ratings = [f.rating for f in state.feedback.values()]
    return sum(ratings) / len(ratings) if ratings else None
