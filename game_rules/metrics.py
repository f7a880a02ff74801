"""The round's assessment: cohesion, deterrence, public support, burden fairness, latency, escalation;
and each member's national score from its secret objectives."""

from __future__ import annotations

from statistics import mean

from game_rules import burden
from game_rules.profiles import Objective
from game_rules.state import Proposal, RoundMetrics, State

# Weights of the cohesion change by the council's results in a round (estimates, tuned for play).
COHESION_CHANGE = {"adopted": 4.0, "blocked": -6.0, "no_consensus": -3.0, "silence_broken": -5.0, "rejected": -3.0}
RESERVATION_COST = 1.0
PLEDGE_ABOVE_SHARE_COST = 2.0
"""Public support a member loses in a round in which it carries more than its fair share."""


def _clamp(x: float) -> float:
    return round(min(100.0, max(0.0, x)), 2)


def _adopted_deployments(state: State) -> list[Proposal]:
    return [p for p in state.proposals.values() if p.kind == "deploy_forces" and p.outcome == "adopted"]


def assess(state: State) -> RoundMetrics:
    this_round = [p for p in state.proposals.values() if p.round == state.round and p.outcome != "pending"]
    cohesion = state.cohesion + sum(COHESION_CHANGE.get(p.outcome, 0.0) for p in this_round)
    cohesion -= RESERVATION_COST * sum(len(p.reservations) for p in this_round)
    cohesion = _clamp(cohesion)

    support = dict(state.public_support)
    for p in _adopted_deployments(state):
        if p.round != state.round:
            continue
        for m, pledged in p.pledges.items():
            if m in support and pledged > burden.fair_share(state, p.id, m):
                support[m] = _clamp(support[m] - PLEDGE_ABOVE_SHARE_COST)

    latencies = [phases for round_, phases in state.latencies if round_ == state.round]
    return RoundMetrics(
        round=state.round,
        cohesion=cohesion,
        deterrence=deterrence(state, cohesion),
        public_support=support,
        pledge_fairness=pledge_fairness(state),
        at_2_pct=spending_share(state, 2.0),
        at_3_5_pct=spending_share(state, 3.5),
        decision_latency=round(mean(latencies), 2) if latencies else None,
        escalation=state.escalation,
    )


def force_ratio(state: State) -> float:
    """Forces deployed this round against the requirements the alliance adopted."""
    required = deployed = 0
    for p in _adopted_deployments(state):
        required += p.forces_required or 0
        deployed += sum(f for m, f in p.pledges.items() if p.effective_from.get(m, 0) <= state.round)
    return min(1.0, deployed / required) if required else 0.0


def spending_share(state: State, guideline: float) -> float:
    known = [m for m in state.members.values() if m.defence_pct_gdp is not None]
    if not known:
        return 0.0
    return round(sum(1 for m in known if (m.defence_pct_gdp or 0) >= guideline) / len(known), 3)


def _weighted_spending(state: State) -> float:
    known = [m for m in state.members.values() if m.defence_pct_gdp is not None and m.gdp_usd_bn]
    total = sum(m.gdp_usd_bn or 0 for m in known)
    if not total:
        return 0.5
    return sum((m.gdp_usd_bn or 0) for m in known if (m.defence_pct_gdp or 0) >= 2.0) / total


def deterrence(state: State, cohesion: float) -> float:
    resolve = (
        1.0 if any(i.status != "conditional" for i in state.invocations.values()) else 0.5 * bool(state.consultations)
    )
    return _clamp(0.35 * cohesion + 35 * force_ratio(state) + 20 * _weighted_spending(state) + 10 * resolve)


def pledge_fairness(state: State) -> float:
    ratios = []
    for p in _adopted_deployments(state):
        for m in state.members:
            share = burden.fair_share(state, p.id, m)
            ratios.append(min(1.0, float(p.pledges.get(m, 0) / share)) if share else 1.0)
    return round(mean(ratios), 3) if ratios else 1.0


def objective_met(state: State, member: str, o: Objective) -> bool:
    match o.kind:
        case "proposal_adopted":
            return any(p.kind == o.proposal_kind and p.outcome == "adopted" for p in state.proposals.values())
        case "proposal_not_adopted":
            return not any(p.kind == o.proposal_kind and p.outcome == "adopted" for p in state.proposals.values())
        case "invocation_for_self":
            return any(i.victim == member and i.status != "conditional" for i in state.invocations.values())
        case "consultation_convened":
            return any(member == c.requested_by or member in c.joined_by for c in state.consultations.values())
        case "pledges_within_fair_share":
            return all(
                p.pledges.get(member, 0) <= burden.fair_share(state, p.id, member) for p in _adopted_deployments(state)
            )
        case "public_support_at_least":
            return state.public_support.get(member, 0) >= (o.value or 0)
        case "escalation_at_most":
            return state.escalation <= (o.value or 0)
    raise AssertionError(o.kind)


def national_score(state: State, member: str) -> tuple[int, list[str]]:
    """Points from the member's secret objectives as things stand, and which objectives are met."""
    met = [o for o in state.members[member].objectives if objective_met(state, member, o)]
    return sum(o.points for o in met), [o.id for o in met]
