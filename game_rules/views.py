"""What each seat may see: one audience rule per event, one view per seat.

A delegation sees the alliance's public business, its own member's messages, injects addressed to it,
its own intelligence and its own brief and secret objectives; the white cell (facilitator) and umpires see
everything; observers and the red cell see the public record.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, get_args

from pydantic_core import to_jsonable_python

from game_rules import control, council
from game_rules import events as ev
from game_rules.base import Frozen
from game_rules.events import Event
from game_rules.exercise import InjectKind
from game_rules.matrix import TARGETS
from game_rules.metrics import national_score
from game_rules.profiles import SECRETS
from game_rules.rulesets import RULESETS, RulesetId
from game_rules.state import Inject, Role, State


class Viewer(Frozen):
    role: Role
    member: str | None = None

    @property
    def omniscient(self) -> bool:
        return self.role in ("facilitator", "umpire")

    @property
    def knows_the_adversary(self) -> bool:
        """The red cell plays the adversary: it reads the ladder it climbs and its brief, as the white cell does."""
        return self.omniscient or self.role == "red_cell"

    def key(self) -> str:
        """Viewers with equal keys see exactly the same thing."""
        return f"{self.role}:{self.member or ''}"


FACILITATOR = Viewer(role="facilitator")

HOTWASH = (ev.ObservationRecorded, ev.CapabilityRated, ev.CorrectiveActionPlanned, ev.CorrectiveActionDropped)
"""The after-action work of the white cell, umpires and observers, which delegations read in the review once the
game has ended."""


def audience(event: Event) -> frozenset[str] | None:
    """The members an event is for, or None when it is public. The white cell sees every event."""
    match event:
        case ev.MessageSent():
            return frozenset((event.message.sender, *event.message.recipients))
        case ev.InjectDelivered() if event.inject.visible_to is not None:
            return frozenset(event.inject.visible_to)
        case ev.ActionProposed():
            return frozenset((event.member,))
        case ev.IntelligenceReported():
            return frozenset((event.owner,))
        case ev.IntelligenceShared():
            return frozenset((event.member,))
        case ev.SharingOffered():
            return frozenset((event.by, event.to))
        case ev.SharingAgreed():
            return frozenset(event.members)
    return None


def shown(viewer: Viewer, event: Event, state: State) -> Event | None:
    """The event as `viewer` may receive it: itself, a copy without what the seat may not know, or None."""
    if not may_see(viewer, event, state):
        return None
    if viewer.omniscient:
        return event
    match event:
        case ev.GameOpened():
            # The white cell's material (catalogue, MSEL, contingencies), others' secrets and, but for the red cell,
            # the adversary's brief stay hidden.
            members = tuple(
                m if m.code == viewer.member and viewer.role == "delegation" else m.public() for m in event.members
            )
            adversary = event.exercise.adversary
            if not viewer.knows_the_adversary:
                adversary = adversary.model_copy(update={"brief": ""})
            exercise = event.exercise.model_copy(
                update={
                    "catalogue": (),
                    "msel": (),
                    "contingencies": (),
                    "adversary": adversary,
                }
            )
            return event.model_copy(update={"members": members, "exercise": exercise})
        case ev.InjectDelivered() if event.inject.evidence is not None:
            return event.model_copy(update={"inject": event.inject.model_copy(update={"evidence": None})})
    return event


def may_see(viewer: Viewer, event: Event, state: State) -> bool:
    """Whether `viewer` may see `event`; `state` is any state in which an ActionRuled's action exists."""
    if viewer.omniscient:
        return True
    if isinstance(event, HOTWASH):
        return viewer.role in ("observer", "umpire")
    if isinstance(event, ev.MselLineHeld | ev.FeedbackGiven):  # the MSEL and the feedback forms are the white cell's
        return False
    if isinstance(event, ev.ActionRuled):
        action = state.actions.get(event.action)
        return action is not None and action.member == viewer.member
    if isinstance(event, ev.IntelligenceShared):
        report = state.reports.get(event.report)
        owner = report.owner if report else None
        return viewer.member is not None and viewer.member in (event.member, owner)
    members = audience(event)
    return members is None or (viewer.member is not None and viewer.member in members)


def _rules(state: State) -> dict[str, Any] | None:
    """The treaty's procedures, so that clients offer only what the council may do; the kinds of inject and the
    targets of a matrix argument's strengths, so that they offer only what the rules know."""
    return None if state.ruleset is None else _treaty_rules(state.ruleset)


@functools.cache
def _treaty_rules(ruleset: RulesetId) -> dict[str, Any]:
    """One per treaty, shared by every view: none changes during a game."""
    r = RULESETS[ruleset]
    return {
        "treaty": r.treaty,
        "council": r.council,
        "procedures": list(r.procedures),
        "proposal_kinds": list(r.proposal_kinds),
        "defence": r.defence,
        "defence_clause": r.defence_clause,
        "defence_needs_request": r.defence_needs_request,
        "inject_kinds": list(get_args(InjectKind)),
        "argument_targets": TARGETS,
    }


def view(state: State, viewer: Viewer) -> dict[str, Any]:
    """The state as `viewer` may see it, as JSON-ready data."""
    data: dict[str, Any] = to_jsonable_python({**common_view(state), **own_view(state, viewer), **logs(state, viewer)})
    return data


# The parts below hold the state's records themselves where a viewer sees them whole: they are serialised straight
# from the models (pydantic-core), several times faster than dumping each to a dict first, and the server brings
# every connected viewer up to date after every batch.  They are read at once, never kept: `evolve` changes
# records in place.  The three parts share no key.

LOGS = ("announcements", "messages", "injects", "observations")
"""The sections of a view that only ever grow, at their end: each is drawn from the state's list of the same name,
of frozen records that the state only appends to, so a seat that has seen a log up to some length is brought up to
date with the records past it, whatever the length of the game."""


LOG_ONLY = (ev.MessageSent, ev.Announced, ev.ObservationRecorded)
"""The events that add a record to one of the `LOGS` and change nothing else any view shows (a seminar's most
frequent: its messages): after a batch of only these, every section of every view but its `seq` is as it was."""


def log_lengths(state: State) -> dict[str, int]:
    """How far each of the state's logs reaches: `logs(state, viewer, since=...)` takes the records past it."""
    return {log: len(getattr(state, log)) for log in LOGS}


def logs(state: State, viewer: Viewer, since: Mapping[str, int] | None = None) -> dict[str, list[Any]]:
    """The viewer's share of each log: the whole of it, or of the records past `since` (a `log_lengths`)."""
    member = viewer.member if viewer.role == "delegation" else None
    everything = viewer.omniscient

    def addressed(members: tuple[str, ...] | None) -> bool:
        return everything or members is None or (member is not None and member in members)

    def inject(i: Inject) -> Inject | dict[str, Any]:
        return i if everything else i.model_dump(exclude={"evidence"})

    def new(log: str) -> list[Any]:
        records: list[Any] = getattr(state, log)
        return records if since is None else records[since[log] :]

    return {
        "announcements": new("announcements"),
        "messages": [m for m in new("messages") if addressed((m.sender, *m.recipients))],
        "injects": [inject(i) for i in new("injects") if addressed(i.visible_to)],
        "observations": new("observations") if everything or viewer.role == "observer" else [],
    }


def common_view(state: State) -> dict[str, Any]:
    """The sections of every viewer's view that are the same for all of them, logs aside."""
    return {
        "seq": state.seq,
        "title": state.title,
        "situation": state.situation,
        "ruleset": state.ruleset,
        "status": state.status,
        "round": state.round,
        "rounds": state.rounds,
        "phase": state.phase,
        "phases": state.phases,
        "deadline": state.deadline,
        "paused_remaining": state.paused_remaining,
        "done": list(state.done),
        "in_the_room": control.in_the_room(state),
        "end_when_done": state.end_when_done,
        "feedback_from": sorted(state.feedback),
        "seats": state.seats,
        "consultations": list(state.consultations.values()),
        "proposals": list(state.proposals.values()),
        "invocations": list(state.invocations.values()),
        "assistance_requested_by": list(state.assistance_requested_by),
        "public_support": dict(state.public_support),
        "cohesion": state.cohesion,
        "adversary_moved_in": state.adversary_moved_in,
        "escalation": {
            "level": state.escalation,
            "name": state.exercise.adversary.ladder[state.escalation].name,
            "adversary": state.exercise.adversary.name,
        },
        "cumulative": dict(state.cumulative),
        "threshold_crossed": list(state.threshold_crossed),
        "assessments": state.assessments,
        "rules": _rules(state),
    }


class MemberRecords:
    """Each member's record as viewers see it: public, its secrets (objectives, brief) kept back, or in full with
    its score.
    Made once per state and form, however many viewers share it (a batch's updates go to every viewer at once)."""

    def __init__(self, state: State) -> None:
        self._state = state
        self._made: dict[tuple[str, bool], dict[str, Any]] = {}

    def record(self, code: str, full: bool) -> dict[str, Any]:
        made = self._made.get((code, full))
        if made is None:
            made = self._state.members[code].model_dump(exclude=None if full else set(SECRETS))
            if full:
                points, met = national_score(self._state, code)
                made["score"] = {"points": points, "met": met}
            self._made[code, full] = made
        return made


def own_view(state: State, viewer: Viewer, records: MemberRecords | None = None) -> dict[str, Any]:
    """The sections of the view that depend on who looks, logs aside: what they are, and what only some may see.
    `records` shares the members' records between the viewers of one state."""
    member = viewer.member if viewer.role == "delegation" else None
    everything = viewer.omniscient
    records = records or MemberRecords(state)

    return {
        "you": viewer,
        "members": {code: records.record(code, everything or code == member) for code in state.members},
        "actions": [a for a in state.actions.values() if everything or a.member == member],
        "reports": [
            r
            for r in state.reports.values()
            if everything or r.owner == member or (member is not None and member in r.shared_with)
        ],
        "sharing": {
            "offers": [o for o in state.sharing_offers if everything or member in o],
            "agreements": [a for a in state.sharing_agreements if everything or member in a],
        },
        # The red cell plays the adversary: it knows its repertoire (what the ladder lists) and the ladder it climbs.
        "catalogue": state.exercise.catalogue
        if everything
        else state.exercise.repertoire()
        if viewer.role == "red_cell"
        else (),
        "ladder": state.exercise.adversary.ladder if viewer.knows_the_adversary else (),
        "adversary_brief": state.exercise.adversary.brief if viewer.knows_the_adversary else "",
        "msel": state.exercise.msel if everything else (),
        "feedback": state.feedback if everything else {},
        "msel_status": control.msel_status(state) if everything else {},
        "awaited": [p.id for p in state.proposals.values() if member and council.awaits(p, member)],
        "convened_with": convened.requested_by if member and (convened := council.convened_by(state, member)) else None,
    }
