"""Injects: delivery to the seats that would know, effects, cumulative harm, and intelligence reports."""

from __future__ import annotations

from game_rules import events as ev
from game_rules import rng
from game_rules.exercise import HOSTILE_KINDS, INTELLIGENCE_ACCESS, InjectTemplate
from game_rules.state import Inject, State
from game_rules.unfolding import Unfolding

SERIOUS = 3
"""Severity from which an inject calls for a council response (decision latency counts from it)."""


def audience_of(state: State, template: InjectTemplate) -> tuple[str, ...] | None:
    if template.visibility == "public":
        return None
    if template.visibility == "targets":
        return template.targets
    informed = [m.code for m in state.members.values() if m.intelligence >= INTELLIGENCE_ACCESS]
    return tuple(dict.fromkeys((*template.targets, *informed)))


def deliver_template(u: Unfolding, template: InjectTemplate, source: str) -> None:
    s = u.state
    inject = Inject(
        id=f"I{len(s.injects) + 1}",
        title=template.title,
        text=template.text,
        kind=template.kind,
        visible_to=audience_of(s, template),
        round=s.round,
        phase=s.phase,
        template=template.id,
        severity=template.severity,
        targets=template.targets,
        evidence=template.evidence,
        effects=template.effects,
        source=source,
    )
    deliver(u, inject)


def deliver(u: Unfolding, inject: Inject) -> None:
    u.add(ev.InjectDelivered(inject=inject))
    s = u.state
    if inject.kind in HOSTILE_KINDS:
        threshold = s.exercise.armed_attack_threshold
        for target in inject.targets:
            if target not in s.threshold_crossed and s.cumulative.get(target, 0) >= threshold:
                u.add(ev.ThresholdCrossed(member=target, total=s.cumulative[target]))
    if inject.evidence is not None:
        _report(u, inject)


def _report(u: Unfolding, inject: Inject) -> None:
    """Each member that learns of the inject gets its services' reading of the evidence."""
    assert inject.evidence is not None
    for member in list(u.state.members.values()):
        if inject.visible_to is not None and member.code not in inject.visible_to:
            continue
        s = u.state
        draw = rng.draw(s.seed, s.draws)
        # Better services read the evidence closer to its true strength; the draw is the fog.
        confidence = inject.evidence.confidence * (0.6 + 0.6 * member.intelligence) + (draw - 0.5) * 0.2
        confidence = round(min(0.99, max(0.05, confidence)), 2)
        report_id = f"R{len(s.reports) + 1}"
        attributed = inject.evidence.attributed_to if confidence >= 0.3 else "unknown"
        u.add(
            ev.IntelligenceReported(
                report=report_id,
                inject=inject.id,
                owner=member.code,
                attributed_to=attributed,
                confidence=confidence,
                draw=draw,
            )
        )
        for a, b in u.state.sharing_agreements:
            if member.code in (a, b):
                partner = b if member.code == a else a
                u.add(ev.IntelligenceShared(report=report_id, member=partner, confidence=shared(confidence)))


def shared(confidence: float) -> float:
    """What a partner can rely on from a report it did not produce itself."""
    return round(confidence * 0.9, 2)


# --- evolve ------------------------------------------------------------------------------------------


def inject_delivered(state: State, e: ev.InjectDelivered) -> None:
    inject = e.inject
    state.injects.append(inject)
    if inject.source == "contingency" and inject.template:
        state.fired.append(inject.template)
    for who, delta in inject.effects.public_support.items():
        members = inject.targets if who == "targets" else tuple(state.members) if who == "all" else (who,)
        for m in members:
            if m in state.public_support:
                state.public_support[m] = min(100.0, max(0.0, state.public_support[m] + delta))
    state.cohesion = min(100.0, max(0.0, state.cohesion + inject.effects.cohesion))
    if inject.kind in HOSTILE_KINDS:
        for target in inject.targets:
            state.cumulative[target] = state.cumulative.get(target, 0) + inject.severity
        if inject.severity >= SERIOUS and state.awaiting_response_since is None:
            state.awaiting_response_since = state.phase_count


def threshold_crossed(state: State, e: ev.ThresholdCrossed) -> None:
    state.threshold_crossed.append(e.member)
