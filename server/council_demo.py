"""`wargame demo`: one scripted council round on a small alliance, printed as a transcript.

Figures: cost shares are relative weights derived from gross national income and are approximate.
"""

from __future__ import annotations

from typing import Any, TextIO

from game_rules import RULESETS, burden, collective_defence, state_hash
from game_rules.engine import replay
from game_rules.events import Event, GameOpened
from game_rules.narrative import describe
from game_rules.refusal import Refusal
from game_rules.state import Member, State
from game_rules.vectors import play_step

ALLIANCE = GameOpened(
    ruleset="nato",
    members=(
        Member(code="USA", cost_share=16),
        Member(code="DEU", cost_share=16),
        Member(code="FRA", cost_share=10),
        Member(code="POL", cost_share=4),
        Member(code="EST", cost_share=1),
        Member(code="LTU", cost_share=1),
    ),
)

SCRIPT: list[tuple[str, dict[str, Any]]] = [
    (
        "Night: MiG-31s violate Estonian airspace for twelve minutes.",
        {"actor": "EST", "do": "request_consultation", "joined_by": ["LTU", "POL"]},
    ),
    (
        "A delegation tries to force the matter to a vote.",
        {
            "actor": "FRA",
            "do": "table_proposal",
            "proposal": "P0",
            "kind": "joint_statement",
            "procedure": "vote",
        },
    ),
    (
        "",
        {
            "actor": "POL",
            "do": "table_proposal",
            "proposal": "P1",
            "kind": "joint_statement",
            "text": "Allies condemn the violation of Estonian airspace.",
        },
    ),
    ("", {"actor": "USA", "do": "concur", "proposal": "P1"}),
    (
        "",
        {
            "actor": "DEU",
            "do": "concur_with_reservation",
            "proposal": "P1",
            "reservation": "Germany reads the statement as no commitment to new deployments.",
        },
    ),
    ("", {"actor": "FRA", "do": "concur", "proposal": "P1"}),
    ("", {"actor": "EST", "do": "concur", "proposal": "P1"}),
    ("", {"actor": "LTU", "do": "concur", "proposal": "P1"}),
    ("", {"do": "close", "proposal": "P1"}),
    (
        "Estonia asks for sanctions; France will not join.",
        {"actor": "EST", "do": "table_proposal", "proposal": "P2", "kind": "sanctions"},
    ),
    ("", {"actor": "FRA", "do": "object", "proposal": "P2"}),
    ("", {"do": "close", "proposal": "P2"}),
    (
        "The United States circulates a reinforcement plan under the silence procedure.",
        {
            "actor": "USA",
            "do": "table_proposal",
            "proposal": "P3",
            "kind": "deploy_forces",
            "procedure": "silence",
            "requirement": {"forces": 48},
        },
    ),
    (
        "A pledge before adoption is out of order.",
        {"actor": "POL", "do": "pledge", "proposal": "P3", "forces": 6},
    ),
    ("", {"do": "close", "proposal": "P3"}),
    ("", {"actor": "USA", "do": "pledge", "proposal": "P3", "forces": 20}),
    ("", {"actor": "DEU", "do": "pledge", "proposal": "P3", "forces": 10}),
    ("", {"actor": "FRA", "do": "pledge", "proposal": "P3", "forces": 10}),
    ("", {"actor": "POL", "do": "pledge", "proposal": "P3", "forces": 6}),
    ("", {"actor": "EST", "do": "pledge", "proposal": "P3", "forces": 1}),
    (
        "Day 3: a cyber attack takes down Estonia's grid; the attacker is not yet known.",
        {
            "actor": "LTU",
            "do": "table_proposal",
            "proposal": "P4",
            "kind": "invoke_collective_defence",
            "victim": "EST",
            "attack": {"kind": "cyber", "attributed": False},
        },
    ),
    *[("", {"actor": m, "do": "concur", "proposal": "P4"}) for m in ("USA", "DEU", "FRA", "POL", "EST")],
    ("", {"do": "close", "proposal": "P4"}),
    (
        "Estonia briefs allies on the forensic evidence.",
        {"actor": "EST", "do": "confirm_attribution", "proposal": "P4"},
    ),
]


def run(out: TextIO) -> State:
    log: list[Event] = [ALLIANCE]
    state = replay(log)
    rules = RULESETS[ALLIANCE.ruleset]
    out.write(describe(ALLIANCE, rules) + "\n")
    for number, (scene, step) in enumerate(SCRIPT, start=1):
        if scene:
            out.write(f"\n  -- {scene}\n")
        state, decision = play_step(state, step, log)
        if isinstance(decision, Refusal):
            out.write(f"{number:3}. REFUSED {step.get('actor', 'chair')} {step['do']}: {decision.reason}\n")
            continue
        for event in decision:
            out.write(f"{number:3}. {describe(event, rules)}\n")
    _summary(state, out)
    return state


def _summary(state: State, out: TextIO) -> None:
    out.write("\nBurden-sharing on P3 (fair share by cost share vs pledge):\n")
    for code in state.members:
        share = float(burden.fair_share(state, "P3", code))
        pledged = state.proposals["P3"].pledges.get(code, 0)
        out.write(f"  {code}: fair share {share:5.1f}, pledged {pledged:3}\n")
    out.write(
        f"  shortfall {burden.shortfall(state, 'P3')}; below fair share: "
        f"{', '.join(burden.free_riders(state, 'P3')) or 'nobody'}\n"
    )
    out.write(
        f"\nArticle 5 for EST ({state.invocations['P4'].status}): each ally's obligation is "
        f"{collective_defence.obligation(state, 'USA', 'P4')}.\n"
    )
    out.write(f"Events: {state.seq}; state hash {state_hash(state)}\n")
