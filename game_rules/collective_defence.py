"""Invocation of collective defence: by council decision (conditional until attribution) or by the victim."""

from __future__ import annotations

from game_rules import checks
from game_rules.checks import Decision
from game_rules.commands import ConfirmAttribution, InvokeCollectiveDefence, RequestAssistance, TableProposal
from game_rules.events import AssistanceRequested, AttributionConfirmed, CollectiveDefenceInvoked
from game_rules.refusal import Refusal
from game_rules.rulesets import ObligationKind, Ruleset
from game_rules.state import CHAIR, Attack, Invocation, State


def _attack_refusal(rules: Ruleset, attack: Attack) -> Refusal | None:
    if not attack.in_treaty_area:
        return Refusal(
            code="outside_treaty_area",
            reason=f"{rules.defence_clause} covers only attacks in {rules.treaty_area}; this attack is outside it.",
        )
    return None


def invocation_proposal_refusal(state: State, cmd: TableProposal) -> Refusal | None:
    """Why an invoke_collective_defence proposal may not be tabled, if it may not."""
    rules = checks.ruleset(state)
    if cmd.victim is None or cmd.attack is None:
        return Refusal(
            code="missing_victim_or_attack",
            reason="A proposal to invoke collective defence names the victim and the attack.",
        )
    if refusal := checks.not_members(state, (cmd.victim,), "defended under the treaty"):
        return refusal
    if refusal := _attack_refusal(rules, cmd.attack):
        return refusal
    if rules.defence_needs_request and cmd.victim not in state.assistance_requested_by:
        return Refusal(
            code="no_request",
            reason=f"The {rules.council} acts under {rules.defence_clause} only at the request of the "
            f"member attacked; {cmd.victim} has not requested assistance.",
        )
    if any(i.victim == cmd.victim and i.attack == cmd.attack for i in state.invocations.values()):
        return Refusal(
            code="already_invoked",
            reason=f"{rules.defence_clause} has already been invoked for this attack on {cmd.victim}.",
        )
    return None


def confirm_attribution(state: State, cmd: ConfirmAttribution, actor: str) -> Decision:
    invocation = state.invocations.get(cmd.proposal)
    if invocation is None:
        return Refusal(
            code="no_invocation",
            reason=f"No collective-defence invocation was adopted under proposal {cmd.proposal}.",
        )
    if actor not in (invocation.victim, CHAIR):
        return Refusal(
            code="not_victim",
            reason=f"Attribution is established on the evidence of {invocation.victim}, the member attacked, "
            "and recorded by the chair.",
        )
    if invocation.status != "conditional":
        return Refusal(code="not_conditional", reason=f"Invocation {cmd.proposal} is already {invocation.status}.")
    return (AttributionConfirmed(invocation=cmd.proposal, by=actor),)


def request_assistance(state: State, cmd: RequestAssistance, actor: str) -> Decision:
    rules = checks.ruleset(state)
    if refusal := checks.not_a_member(state, actor, "request assistance"):
        return refusal
    if not rules.defence_needs_request:
        how = (
            "table an invoke_collective_defence proposal"
            if rules.defence == "council"
            else "invoke it directly with 'invoke'"
        )
        return Refusal(
            code="no_request_procedure",
            reason=f"The {rules.treaty} has no formal request step; to seek collective defence, {how}.",
        )
    if actor in state.assistance_requested_by:
        return Refusal(code="already_requested", reason=f"{actor} has already requested assistance.")
    return (AssistanceRequested(member=actor),)


def invoke(state: State, cmd: InvokeCollectiveDefence, actor: str) -> Decision:
    rules = checks.ruleset(state)
    if refusal := checks.not_a_member(state, actor, f"invoke {rules.defence_clause}"):
        return refusal
    if rules.defence == "council":
        return Refusal(
            code="council_decides",
            reason=f"Under the {rules.treaty}, {rules.defence_clause} is invoked by a decision of the "
            f"{rules.council}: table an invoke_collective_defence proposal.",
        )
    if refusal := _attack_refusal(rules, cmd.attack):
        return refusal
    if cmd.attack.kind not in rules.unilateral_attacks and actor not in state.threshold_crossed:
        return Refusal(
            code="not_an_armed_attack",
            reason=f"{rules.defence_clause} is invoked on armed aggression; a {cmd.attack.kind} attack "
            "counts as one only once its cumulative effects reach the armed-attack threshold.",
        )
    if actor in state.invocations:
        return Refusal(code="already_invoked", reason=f"{actor} has already invoked {rules.defence_clause}.")
    return (CollectiveDefenceInvoked(key=actor, victim=actor, attack=cmd.attack, status="active"),)


# --- evolve ------------------------------------------------------------------------------------------


def collective_defence_invoked(state: State, e: CollectiveDefenceInvoked) -> None:
    state.invocations[e.key] = Invocation(
        key=e.key, victim=e.victim, attack=e.attack, status=e.status, proposal=e.proposal
    )


def attribution_confirmed(state: State, e: AttributionConfirmed) -> None:
    state.invocations[e.invocation].status = "confirmed"


def assistance_requested(state: State, e: AssistanceRequested) -> None:
    state.assistance_requested_by.append(e.member)


# --- queries -----------------------------------------------------------------------------------------


def obligation(state: State, member: str, invocation_key: str) -> ObligationKind | None:
    """What an invocation in force asks of a member other than the victim; None if nothing yet."""
    invocation = state.invocations.get(invocation_key)
    if invocation is None or invocation.status == "conditional" or member == invocation.victim:
        return None
    if member not in state.members:
        return None
    rules = checks.ruleset(state)
    if state.members[member].neutral and rules.neutral_obligation:
        return rules.neutral_obligation
    return rules.obligation
