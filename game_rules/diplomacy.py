"""Messages between delegations and free-form national actions."""

from __future__ import annotations

from game_rules import checks
from game_rules import commands as cmd
from game_rules import events as ev
from game_rules.checks import Decision
from game_rules.refusal import Refusal
from game_rules.state import CHAIR, Action, Message, State


def send_message(state: State, c: cmd.SendMessage, actor: str, seat: str | None = None) -> Decision:
    """`seat`, where known, names the author: several players may speak for one member."""
    to = tuple(dict.fromkeys(c.to))
    if refusal := _white_cell_writes(state, to) if actor == CHAIR else _delegation_writes(state, actor, to):
        return refusal
    # To the sender alone: within its delegation (the white cell reads it, as every channel); to the white cell alone.
    alone = actor == CHAIR or to in ((actor,), (CHAIR,))
    recipients = to if alone else tuple(m for m in to or state.members if m != actor)
    if not recipients:
        return Refusal(code="no_recipient", reason="A message needs at least one other delegation to receive it.")
    author = state.seats[seat].player if seat in state.seats else None
    message = Message(
        id=f"M{len(state.messages) + 1}",
        sender=actor,
        recipients=recipients,
        text=c.text,
        round=state.round,
        author=author,
    )
    return (ev.MessageSent(message=message),)


def _delegation_writes(state: State, actor: str, to: tuple[str, ...]) -> Refusal | None:
    if refusal := checks.not_a_member(state, actor, "send messages between delegations"):
        return refusal
    if CHAIR in to and to != (CHAIR,):
        return Refusal(
            code="white_cell_alone",
            reason="A message to the white cell goes to it alone: write to the delegations in another.",
        )
    return checks.not_members(state, tuple(m for m in to if m != CHAIR), "sent a message")


def _white_cell_writes(state: State, to: tuple[str, ...]) -> Refusal | None:
    """The white cell writes to delegations it names, in its channel with each: its word to every seat at once is a
    broadcast, which every seat sees however it came in."""
    if not to or CHAIR in to:
        return Refusal(
            code="no_recipient",
            reason="Name the delegations the white cell writes to; to every seat at once, broadcast instead.",
        )
    return checks.not_members(state, to, "sent a message")


def propose_action(state: State, c: cmd.ProposeAction, actor: str) -> Decision:
    if refusal := checks.not_a_member(state, actor, "propose national actions"):
        return refusal
    action = f"A{len(state.actions) + 1}"
    return (
        ev.ActionProposed(
            action=action, member=actor, text=c.text, round=state.round, result=c.result, reasons=c.reasons
        ),
    )


def message_sent(state: State, e: ev.MessageSent) -> None:
    state.messages.append(e.message)


def action_proposed(state: State, e: ev.ActionProposed) -> None:
    state.actions[e.action] = Action(
        id=e.action, member=e.member, text=e.text, round=e.round, result=e.result, reasons=e.reasons
    )
