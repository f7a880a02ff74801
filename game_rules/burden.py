"""Burden-sharing: fair shares of a requirement by cost share, pledges, shortfalls, assessed funding.

Shares are computed in exact fractions so that a member exactly at its fair share is never a free rider
by rounding.
"""

from __future__ import annotations

from fractions import Fraction

from game_rules import caveats, checks
from game_rules.checks import Decision
from game_rules.commands import PledgeForces
from game_rules.events import ForcesPledged
from game_rules.refusal import Refusal
from game_rules.state import Proposal, State


def _weight(state: State, member: str) -> Fraction:
    return Fraction(str(state.members[member].cost_share))


def share_of(state: State, member: str, total: float) -> Fraction:
    weights = sum((_weight(state, m) for m in state.members), Fraction(0))
    return Fraction(str(total)) * _weight(state, member) / weights


def pledge(state: State, cmd: PledgeForces, actor: str) -> Decision:
    if refusal := checks.not_a_member(state, actor, "pledge forces"):
        return refusal
    found = checks.proposal(state, cmd.proposal)
    if isinstance(found, Refusal):
        return found
    if found.kind != "deploy_forces":
        return Refusal(
            code="not_a_force_requirement",
            reason=f"Proposal {found.id} is a {found.kind.replace('_', ' ')}; forces are pledged only "
            "against a deploy_forces requirement.",
        )
    if found.outcome != "adopted":
        state_word = "still pending" if found.outcome == "pending" else found.outcome.replace("_", " ")
        return Refusal(
            code="not_adopted",
            reason=f"Pledges follow adoption: proposal {found.id} is {state_word}.",
        )
    member = state.members[actor]
    if refusal := caveats.pledge_refusal(state, member, found, cmd.forces):
        return refusal
    return (
        ForcesPledged(
            proposal=found.id, member=actor, forces=cmd.forces, effective_from=caveats.deploys_from(state, member)
        ),
    )


def forces_pledged(state: State, e: ForcesPledged) -> None:
    # A new pledge replaces the member's earlier one: it is the member's contribution, not an increment.
    p = state.proposals[e.proposal]
    p.pledges[e.member] = e.forces
    p.effective_from[e.member] = e.effective_from


# --- queries -----------------------------------------------------------------------------------------


def _requirement(p: Proposal) -> int:
    return p.forces_required or 0


def fair_share(state: State, proposal_id: str, member: str) -> Fraction:
    return share_of(state, member, _requirement(state.proposals[proposal_id]))


def shortfall(state: State, proposal_id: str) -> int:
    p = state.proposals[proposal_id]
    return max(0, _requirement(p) - sum(p.pledges.values()))


def free_riders(state: State, proposal_id: str) -> list[str]:
    p = state.proposals[proposal_id]
    return [m for m in state.members if p.pledges.get(m, 0) < fair_share(state, proposal_id, m)]


def assessed(state: State, proposal_id: str, member: str) -> Fraction:
    """A member's part of an adopted common-funding amount; nothing is assessed otherwise."""
    p = state.proposals[proposal_id]
    if p.kind != "common_funding" or p.outcome != "adopted" or p.amount is None:
        return Fraction(0)
    return share_of(state, member, p.amount)
