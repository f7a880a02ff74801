"""Preconditions shared by several rules, each returning a readable refusal or the thing checked."""

from __future__ import annotations

from game_rules.events import Event
from game_rules.refusal import Refusal
from game_rules.rulesets import RULESETS, Ruleset
from game_rules.state import CHAIR, Proposal, Seat, State

Decision = tuple[Event, ...] | Refusal


def ruleset(state: State) -> Ruleset:
    assert state.ruleset is not None, "decide refuses every command before the game is opened"
    return RULESETS[state.ruleset]


def not_a_member(state: State, actor: str, doing: str) -> Refusal | None:
    if actor in state.members:
        return None
    who = "The chair" if actor == CHAIR else actor
    return Refusal(
        code="not_a_member",
        reason=f"{who} is not a member of the {ruleset(state).treaty}; only members may {doing}.",
    )


def member_name(state: State, code: str) -> str:
    return state.members[code].name or code


def head_of(state: State, member: str) -> Seat | None:
    """The seat heading a member's delegation (none in a game from before delegations had heads)."""
    return next((s for s in state.seats.values() if s.head and s.member == member), None)


def not_members(state: State, codes: tuple[str, ...], role: str) -> Refusal | None:
    outsiders = [c for c in codes if c not in state.members]
    if not outsiders:
        return None
    return Refusal(
        code="not_a_member",
        reason=f"{', '.join(outsiders)} {'is' if len(outsiders) == 1 else 'are'} not "
        f"{'a member' if len(outsiders) == 1 else 'members'} of the {ruleset(state).treaty} and cannot be {role}.",
    )


def proposal(state: State, proposal_id: str) -> Proposal | Refusal:
    found = state.proposals.get(proposal_id)
    if found is None:
        return Refusal(code="unknown_proposal", reason=f"No proposal {proposal_id} has been tabled.")
    return found


def open_proposal(state: State, proposal_id: str) -> Proposal | Refusal:
    found = proposal(state, proposal_id)
    if isinstance(found, Proposal) and found.outcome != "pending":
        return Refusal(
            code="proposal_closed",
            reason=f"Proposal {proposal_id} is closed ({found.outcome.replace('_', ' ')}); "
            "positions can no longer change.",
        )
    return found
