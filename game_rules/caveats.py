"""National caveats and sovereignty limits on what a member may pledge, and when it deploys."""

from __future__ import annotations

from game_rules.refusal import Refusal
from game_rules.state import Member, Proposal, State


def pledge_refusal(state: State, member: Member, p: Proposal, forces: int) -> Refusal | None:
    if forces == 0 or p.requirement is None:
        return None
    req = p.requirement
    if req.out_of_area and member.caveat("no_out_of_area"):
        return Refusal(code="caveat_out_of_area", reason=f"{member.code}'s forces may not deploy out of area.")
    if req.domain == "cyber" and req.offensive and member.caveat("no_offensive_cyber"):
        return Refusal(
            code="caveat_offensive_cyber", reason=f"{member.code} takes no part in offensive cyber operations."
        )
    cap = member.caveat("pledge_cap")
    if cap is not None and cap.limit is not None and forces > cap.limit:
        return Refusal(
            code="caveat_pledge_cap",
            reason=f"A national caveat limits {member.code} to {cap.limit} units for one requirement.",
        )
    if member.forces:
        available = member.ready_units(req.domain) - committed(state, member.code, req.domain, but=p.id)
        if forces > available:
            return Refusal(
                code="not_enough_forces",
                reason=f"{member.code} has {max(0, available)} ready {req.domain} "
                f"unit{'' if available == 1 else 's'} left to pledge.",
            )
    return None


def committed(state: State, member: str, domain: str, but: str = "") -> int:
    return sum(
        p.pledges.get(member, 0)
        for p in state.proposals.values()
        if p.id != but and p.requirement is not None and p.requirement.domain == domain
    )


def deploys_from(state: State, member: Member) -> int:
    """A member whose parliament must approve a deployment deploys from the next round."""
    return state.round + 1 if member.caveat("parliament_approval") and state.phases else state.round
