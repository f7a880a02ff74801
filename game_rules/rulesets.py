"""The alliances' decision procedures as data.

Every treaty difference the rules know of lives in one `Ruleset` record, so that adding an alliance means
adding a record here, not a branch in the rules.  Sources: the treaty texts and practice in FACTS.md.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

RulesetId = Literal["nato", "eu-42-7", "rio", "anzus", "csto"]
Procedure = Literal["consensus", "silence", "vote"]
ProposalKind = Literal["joint_statement", "deploy_forces", "sanctions", "common_funding", "invoke_collective_defence"]
AttackKind = Literal["armed", "cyber", "hybrid"]
ObligationKind = Literal["binding", "binding_except_force", "discretionary"]
DefenceMode = Literal["council", "unilateral"]

ALL_KINDS: tuple[ProposalKind, ...] = (
    "joint_statement",
    "deploy_forces",
    "sanctions",
    "common_funding",
    "invoke_collective_defence",
)
NON_DEFENCE_KINDS: tuple[ProposalKind, ...] = ALL_KINDS[:-1]


class Ruleset(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: RulesetId
    treaty: str
    council: str
    consultation_clause: str
    procedures: tuple[Procedure, ...]
    """Procedures the council may use; the first is the default."""
    procedure_note: str
    """Why other procedures are not available, shown to a player who asks for one."""
    proposal_kinds: tuple[ProposalKind, ...]
    defence: DefenceMode
    """`council`: a proposal decided by the council invokes; `unilateral`: the victim invokes alone."""
    defence_clause: str
    defence_needs_request: bool = False
    """The council may only act on the victim's formal request (CSTO)."""
    unilateral_attacks: tuple[AttackKind, ...] = ("armed",)
    """Attack kinds a victim may invoke alone on; a council may decide any kind case by case."""
    treaty_area: str
    obligation: ObligationKind
    neutral_obligation: ObligationKind | None = None
    """Obligation of a member flagged neutral, where the treaty carves out their policy."""
    obligation_note: str
    vote_threshold: tuple[int, int] = (2, 3)
    """Share of the members entitled to vote whose `yes` adopts, as numerator and denominator."""
    vote_note: str = ""


RULESETS: dict[str, Ruleset] = {
    r.id: r
    for r in (
        Ruleset(
            id="nato",
            treaty="North Atlantic Treaty (1949)",
            council="North Atlantic Council",
            consultation_clause="Article 4",
            procedures=("consensus", "silence"),
            procedure_note="The North Atlantic Council decides by consensus or under the silence procedure; "
            "there is no voting.",
            proposal_kinds=ALL_KINDS,
            defence="council",
            defence_clause="Article 5",
            treaty_area="the North Atlantic area of Article 6 (Europe, North America, islands north of the "
            "Tropic of Cancer)",
            obligation="discretionary",
            obligation_note="each ally takes 'such action as it deems necessary, including the use of armed "
            "force' (Art. 5)",
        ),
        Ruleset(
            id="eu-42-7",
            treaty="Treaty on European Union, Article 42(7)",
            council="Council of the European Union",
            consultation_clause="consultation in the Council",
            procedures=("consensus", "silence"),
            procedure_note="The Council acts by unanimity on common foreign and security policy, in session or "
            "by written (silence) procedure.",
            proposal_kinds=NON_DEFENCE_KINDS,
            defence="unilateral",
            defence_clause="Article 42(7) TEU",
            treaty_area="a member state's territory",
            obligation="binding",
            neutral_obligation="binding_except_force",
            obligation_note="'aid and assistance by all the means in their power', without prejudice to the "
            "specific character of certain members' security and defence policy",
        ),
        Ruleset(
            id="rio",
            treaty="Inter-American Treaty of Reciprocal Assistance (Rio, 1947)",
            council="Organ of Consultation",
            consultation_clause="Article 6",
            procedures=("vote",),
            procedure_note="The Organ of Consultation decides by a two-thirds vote of the states entitled to "
            "vote (Art. 17).",
            proposal_kinds=ALL_KINDS,
            defence="council",
            defence_clause="Article 3",
            treaty_area="the region defined in Article 4 of the Rio Treaty",
            obligation="binding_except_force",
            obligation_note="decisions bind all parties, but no state is required to use armed force without "
            "its consent (Art. 20)",
            vote_note="parties directly interested in the dispute may not vote (Art. 18)",
        ),
        Ruleset(
            id="anzus",
            treaty="ANZUS Treaty (1951)",
            council="ANZUS Council",
            consultation_clause="Article III",
            procedures=("consensus",),
            procedure_note="The ANZUS Council only consults; joint positions need every party's agreement.",
            proposal_kinds=NON_DEFENCE_KINDS,
            defence="unilateral",
            defence_clause="Article IV",
            treaty_area="the Pacific Area",
            obligation="discretionary",
            obligation_note="each party acts 'in accordance with its constitutional processes' (Art. IV)",
        ),
        Ruleset(
            id="csto",
            treaty="Collective Security Treaty (1992)",
            council="Collective Security Council",
            consultation_clause="Article 2",
            procedures=("consensus",),
            procedure_note="The Collective Security Council decides by consensus.",
            proposal_kinds=ALL_KINDS,
            defence="council",
            defence_clause="Article 4",
            defence_needs_request=True,
            treaty_area="a member state's territory",
            obligation="binding",
            obligation_note="members provide 'necessary assistance, including military' (Art. 4)",
        ),
    )
}
