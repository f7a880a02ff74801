"""Intelligence: reports from injects (see injects.py), one-off sharing and standing agreements."""

from __future__ import annotations

from game_rules import checks
from game_rules import commands as cmd
from game_rules import events as ev
from game_rules.checks import Decision
from game_rules.injects import shared
from game_rules.refusal import Refusal
from game_rules.state import Report, State


def share_intelligence(state: State, c: cmd.ShareIntelligence, actor: str) -> Decision:
    if refusal := checks.not_a_member(state, actor, "share intelligence"):
        return refusal
    report = state.reports.get(c.report)
    if report is None or report.owner != actor:
        return Refusal(code="not_your_report", reason=f"{actor} holds no report {c.report} of its own to share.")
    if refusal := checks.not_members(state, c.to, "given intelligence"):
        return refusal
    to = [m for m in dict.fromkeys(c.to) if m != actor and m not in report.shared_with]
    if not to:
        return Refusal(code="nothing_to_share", reason="Those members already hold this report.")
    return tuple(ev.IntelligenceShared(report=c.report, member=m, confidence=shared(report.confidence)) for m in to)


def offer_sharing(state: State, c: cmd.OfferSharing, actor: str) -> Decision:
    if refusal := checks.not_a_member(state, actor, "agree to share intelligence"):
        return refusal
    if refusal := checks.not_members(state, (c.partner,), "a sharing partner"):
        return refusal
    if c.partner == actor:
        return Refusal(code="self", reason="A sharing agreement needs another member.")
    pair = tuple(sorted((actor, c.partner)))
    if pair in state.sharing_agreements:
        return Refusal(code="already_agreed", reason=f"{actor} and {c.partner} already share intelligence.")
    if (actor, c.partner) in state.sharing_offers:
        return Refusal(code="already_offered", reason=f"{actor} has already offered {c.partner} an agreement.")
    if (c.partner, actor) in state.sharing_offers:
        return (ev.SharingAgreed(members=(pair[0], pair[1])),)
    return (ev.SharingOffered(by=actor, to=c.partner),)


def confidence_of(state: State, member: str, inject: str) -> float | None:
    """How sure a member can be of an inject's attribution: its own report or the best one shared."""
    readings = [
        r.confidence if r.owner == member else r.shared_with[member]
        for r in state.reports.values()
        if r.inject == inject and (r.owner == member or member in r.shared_with)
    ]
    return max(readings, default=None)


# --- evolve ------------------------------------------------------------------------------------------


def intelligence_reported(state: State, e: ev.IntelligenceReported) -> None:
    state.reports[e.report] = Report(
        id=e.report, inject=e.inject, owner=e.owner, attributed_to=e.attributed_to, confidence=e.confidence
    )
    state.draws += 1


def intelligence_shared(state: State, e: ev.IntelligenceShared) -> None:
    state.reports[e.report].shared_with[e.member] = e.confidence


def sharing_offered(state: State, e: ev.SharingOffered) -> None:
    state.sharing_offers.append((e.by, e.to))


def sharing_agreed(state: State, e: ev.SharingAgreed) -> None:
    a, b = e.members
    state.sharing_offers = [o for o in state.sharing_offers if set(o) != {a, b}]
    state.sharing_agreements.append((a, b))
