"""The evaluators' part of the after-action report (HSEEP AAR/IP): the rating each capability is given, and the
improvement plan.

The review reads a rating for each capability off the log (`review.capabilities`); the white cell and umpires,
who saw the play, have the last word: their rating stands in the report, with their reason, beside the one the log
suggested.  The improvement plan is theirs alone: for each issue, a corrective action, who is responsible, and
from when to when.  Both are hotwash work, open at any time and after the end, and no rewind takes them back.
"""

from __future__ import annotations

from game_rules import commands as cmd
from game_rules import events as ev
from game_rules.checks import Decision
from game_rules.refusal import Refusal
from game_rules.state import CHAIR, UMPIRE, CapabilityRating, CorrectiveAction, State

CAPABILITIES: dict[str, str] = {
    "Consultation and situational awareness": "Agree in advance which incidents trigger a request for consultation "
    "and who drafts it.",
    "Council decision-making": "Pre-negotiate texts in deliberation; use reservations rather than objections where "
    "possible.",
    "Force generation": "Hold a force-generation conference before the council decides on a requirement.",
    "Burden-sharing": "Publish fair shares with each requirement; review pledges against them each round.",
    "Intelligence sharing": "Conclude standing sharing agreements among the most exposed members before a crisis.",
    "Collective defence": "Rehearse the conditional-invocation and attribution steps (12 Sep and 2 Oct 2001).",
}
"""The capabilities the after-action report rates, each with the corrective action the log's evidence suggests
when it falls short."""

EVALUATORS = (CHAIR, UMPIRE)


def evaluator(actor: str) -> str:
    """How the timeline and the report name an evaluator: the chair is the white cell."""
    return "white cell" if actor == CHAIR else actor


def _not_an_evaluator(actor: str) -> Refusal | None:
    if actor in EVALUATORS:
        return None
    return Refusal(
        code="evaluators_only",
        reason="Capabilities are rated, and the improvement plan written, by the facilitator and the umpires.",
    )


def _unknown_capability(name: str) -> Refusal | None:
    if name in CAPABILITIES:
        return None
    return Refusal(
        code="unknown_capability",
        reason=f"The after-action report rates no capability {name!r}; it rates: {', '.join(CAPABILITIES)}.",
    )


def _blank(value: str, what: str) -> Refusal | None:
    return None if value.strip() else Refusal(code="blank_text", reason=f"Write {what}; it cannot be left blank.")


def rate_capability(state: State, c: cmd.RateCapability, actor: str) -> Decision:
    if refusal := _not_an_evaluator(actor) or _unknown_capability(c.capability) or _blank(c.reason, "the reason"):
        return refusal
    return (ev.CapabilityRated(capability=c.capability, rating=c.rating, reason=c.reason.strip(), by=actor),)


def plan_corrective_action(state: State, c: cmd.PlanCorrectiveAction, actor: str) -> Decision:
    if refusal := (
        _not_an_evaluator(actor)
        or _unknown_capability(c.capability)
        or _blank(c.action, "the corrective action")
        or _blank(c.responsible, "who is responsible")
    ):
        return refusal
    if c.item is not None and (refusal := _unknown_item(state, c.item)):
        return refusal
    if c.start is not None and c.completion is not None and c.completion < c.start:
        return Refusal(
            code="dates_out_of_order",
            reason=f"The completion date ({c.completion}) is before the start ({c.start}).",
        )
    row = CorrectiveAction(
        item=c.item or f"CA{len(state.improvement_plan) + 1}",
        capability=c.capability,
        issue=c.issue.strip(),
        action=c.action.strip(),
        responsible=c.responsible.strip(),
        start=c.start,
        completion=c.completion,
        by=actor,
    )
    return (ev.CorrectiveActionPlanned(row=row),)


def drop_corrective_action(state: State, c: cmd.DropCorrectiveAction, actor: str) -> Decision:
    if refusal := _not_an_evaluator(actor) or _unknown_item(state, c.item):
        return refusal
    return (ev.CorrectiveActionDropped(item=c.item, by=actor),)


def _unknown_item(state: State, item: str) -> Refusal | None:
    row = state.improvement_plan.get(item)
    if row is not None and not row.dropped:
        return None
    return Refusal(
        code="unknown_corrective_action",
        reason=f"The improvement plan has no row {item}" + (" (it was dropped)." if row is not None else "."),
    )


def plan(state: State) -> list[CorrectiveAction]:
    """The improvement plan as it stands: its rows that were not dropped, in the order they were first planned."""
    return [row for row in state.improvement_plan.values() if not row.dropped]


# --- evolve ------------------------------------------------------------------------------------------


def capability_rated(state: State, e: ev.CapabilityRated) -> None:
    state.ratings[e.capability] = CapabilityRating(rating=e.rating, reason=e.reason, by=e.by)


def corrective_action_planned(state: State, e: ev.CorrectiveActionPlanned) -> None:
    state.improvement_plan[e.row.item] = e.row


def corrective_action_dropped(state: State, e: ev.CorrectiveActionDropped) -> None:
    state.improvement_plan[e.item] = state.improvement_plan[e.item].model_copy(update={"dropped": True})
