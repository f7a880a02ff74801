"""One plain sentence per event, for transcripts, timelines and the after-action report."""

from __future__ import annotations

from game_rules import events as ev
from game_rules.evaluation import evaluator
from game_rules.events import Event
from game_rules.rulesets import RULESETS, Ruleset
from game_rules.state import CHAIR, DiceRoll, Feedback


def _who(actor: str) -> str:
    return "The chair" if actor == CHAIR else actor


def _article(noun: str) -> str:
    return "an" if noun[:1] in "aeiou" else "a"


def describe(event: Event, rules: Ruleset | None) -> str:
    """Describe `event` in the words of the alliance's treaty (`rules`, None before the game opens)."""
    match event:
        case ev.GameOpened():
            return (
                f"{RULESETS[event.ruleset].council} opens with {len(event.members)} members: "
                f"{', '.join(m.code for m in event.members)}."
            )
        case ev.ConsultationRequested():
            joined = f" together with {', '.join(event.joined_by)}" if event.joined_by else ""
            clause = rules.consultation_clause if rules else "consultation"
            return f"{event.requested_by}{joined} requests consultation under {clause}; the council convenes."
        case ev.ProposalTabled():
            detail = ""
            if event.forces_required:
                detail = f" (requirement: {event.forces_required} force units)"
            elif event.amount:
                detail = f" (amount: {event.amount:g})"
            elif event.victim and event.attack:
                attributed = "attributed" if event.attack.attributed else "not yet attributed"
                detail = f" for {event.victim} after a {event.attack.kind} attack, {attributed}"
            return (
                f"{_who(event.tabled_by)} tables {event.proposal}, {event.kind.replace('_', ' ')}{detail}, "
                f"decided by {event.procedure}."
            )
        case ev.PositionTaken():
            if event.stance == "reserve":
                return f"{event.member} joins {event.proposal} with a reservation: {event.reservation}"
            return f"{event.member} {'concurs with' if event.stance == 'concur' else 'objects to'} {event.proposal}."
        case ev.SilenceBroken():
            return f"{event.member} breaks silence on {event.proposal} with a formal letter of objection."
        case ev.VoteCast():
            return f"{event.member} votes {event.choice} on {event.proposal}."
        case ev.ProposalClosed():
            return f"{event.proposal} is closed: {event.outcome.replace('_', ' ')}."
        case ev.CollectiveDefenceInvoked():
            clause = rules.defence_clause if rules else "collective defence"
            if event.status == "conditional":
                return f"{clause} is invoked for {event.victim}, conditional on attribution of the attack."
            return f"{clause} is invoked for {event.victim} ({event.status})."
        case ev.AttributionConfirmed():
            return f"{_who(event.by)} confirms attribution: invocation {event.invocation} is confirmed."
        case ev.AssistanceRequested():
            return f"{event.member} formally requests assistance from its allies."
        case ev.ForcesPledged():
            unit = "unit" if event.forces == 1 else "units"
            return f"{event.member} pledges {event.forces} force {unit} to {event.proposal}."
        case ev.SeatClaimed():
            head = " as its head" if event.head else ""
            role = event.role.replace("_", " ")
            seat = f"the {event.member} delegation{head}" if event.member else f"{_article(role)} {role} seat"
            return f"{event.player} takes {seat}."
        case ev.SeatReassigned():
            return f"Seat {event.seat} is reassigned to {event.player}."
        case ev.SeatReleased():
            successor = f"; seat {event.head} now heads its delegation" if event.head else ""
            return f"The facilitator releases seat {event.seat}{successor}."
        case ev.HeadAppointed():
            return f"Seat {event.seat} now heads the {event.member} delegation and speaks for it."
        case ev.GameStarted():
            return "The facilitator starts the exercise."
        case ev.PhaseBegan():
            return f"Round {event.round}: the {event.phase} phase begins."
        case ev.GamePaused():
            return f"The facilitator pauses the exercise ({event.remaining:.0f} s left in the phase)."
        case ev.GameResumed():
            return "Play resumes."
        case ev.DeadlineExtended():
            return f"The facilitator extends the phase by {event.seconds:.0f} s."
        case ev.RoundsSet():
            return f"The facilitator sets the exercise to {event.rounds} rounds (it was {event.was})."
        case ev.DelegationDone():
            return f"{event.member} is done with the phase." if event.done else f"{event.member} is not done after all."
        case ev.EveryoneDone():
            return f"Every delegation is done with the {event.phase} phase of round {event.round}: it ends early."
        case ev.EndWhenDoneSet():
            if event.on:
                return "The facilitator has phases end as soon as every delegation is done."
            return "The facilitator has phases run to their deadline."
        case ev.GameEnded():
            return f"The exercise ends: {event.reason}."
        case ev.GameRewound():
            return f"The facilitator turns play back to just after event {event.to_seq}: {event.note}"
        case ev.InjectDelivered():
            to = "all" if event.inject.visible_to is None else ", ".join(event.inject.visible_to)
            return f"Inject {event.inject.id} ({event.inject.kind}, to {to}): {event.inject.title}"
        case ev.Announced():
            return f"The facilitator announces: {event.text}"
        case ev.MessageSent():
            m = event.message
            sender = _party(m.sender)
            who = f"{m.author} ({sender})" if m.author else sender[0].upper() + sender[1:]
            if m.internal:
                return f"{who} writes within the delegation: {m.text}"
            return f"{who} writes to {', '.join(map(_party, m.recipients))}: {m.text}"
        case ev.ActionProposed():
            argued = f", so that {event.result}" if event.result else ""
            because = f", because {event.reasons}" if event.reasons else ""
            text = event.text.rstrip(". ") if argued or because else event.text
            return f"{event.member} proposes action {event.action}: {text}{argued}{because}"
        case ev.ActionRuled(roll=DiceRoll() as roll):
            note = f" ({event.note})" if event.note else ""
            outcome = "it succeeds" if roll.succeeded else "it fails"
            return (
                f"The facilitator rates the argument for {event.action} {roll.strength.replace('_', ' ')} "
                f"({roll.target}+ on a d6) and rolls {roll.value}: {outcome}, {event.ruling}{note}."
            )
        case ev.ActionRuled():
            note = f" ({event.note})" if event.note else ""
            return f"The facilitator rules on {event.action}: {event.ruling}{note}."
        case ev.MselLineHeld(held=True):
            return f"The facilitator holds back MSEL #{event.number}: its phase opens without it."
        case ev.MselLineHeld():
            return f"The facilitator puts MSEL #{event.number} back on the schedule."
        case ev.ThresholdCrossed():
            return (
                f"Cumulative attacks on {event.member} (severity {event.total:g}) may now amount to an armed "
                "attack; the council decides case by case."
            )
        case ev.IntelligenceReported():
            return (
                f"{event.owner}'s services report on {event.inject}: {event.attributed_to}, "
                f"confidence {event.confidence:.0%}."
            )
        case ev.IntelligenceShared():
            return f"Report {event.report} is shared with {event.member}."
        case ev.SharingOffered():
            return f"{event.by} offers {event.to} a standing intelligence-sharing agreement."
        case ev.SharingAgreed():
            return f"{event.members[0]} and {event.members[1]} agree to share intelligence."
        case ev.AdversaryMoved():
            who = "The red cell" if event.by == "red_cell" else "The adversary"
            moved = {1: "escalates", -1: "steps back", 0: "holds"}[max(-1, min(1, event.to_level - event.from_level))]
            why = f" ({event.reason})" if event.reason else ""
            return f"{who} {moved}: level {event.from_level} to {event.to_level}{why}."
        case ev.RoundAssessed():
            score = event.metrics
            return (
                f"Round {score.round} assessed: cohesion {score.cohesion:.0f}, deterrence {score.deterrence:.0f}, "
                f"escalation level {score.escalation}."
            )
        case ev.ObservationRecorded():
            about = f" on {event.member}" if event.member else ""
            return f"Observation by the {event.by}{about} (at event {event.about_seq}): {event.text}"
        case ev.CapabilityRated():
            return f"The {evaluator(event.by)} rates {event.capability} {event.rating}: {event.reason}"
        case ev.CorrectiveActionPlanned():
            row = event.row
            when = f", {row.start or '…'} to {row.completion or '…'}" if row.start or row.completion else ""
            return (
                f"The {evaluator(row.by)} plans {row.item} for {row.capability}: {row.action} "
                f"(responsible: {row.responsible}{when})."
            )
        case ev.CorrectiveActionDropped():
            return f"The {evaluator(event.by)} drops {event.item} from the improvement plan."
        case ev.FeedbackGiven():
            return f"Feedback from {participant(event.form)}: {event.form.rating} of 5."
    raise AssertionError(f"no description for {type(event).__name__}")


def participant(form: Feedback) -> str:
    """Who gave a feedback form, by seat rather than by name: the report's words for it too."""
    if form.member is not None:
        return f"the {form.member} delegation"
    return {"facilitator": "the white cell", "red_cell": "the red cell"}.get(form.role, f"an {form.role}")


def _party(code: str) -> str:
    """A message's sender or recipient: a member's code, or the white cell."""
    return "the white cell" if code == CHAIR else code
