"""The round structure: phases, what each allows, and the default briefing-to-adjudication cycle
(thirty minutes a round, so that four rounds fill a seminar's afternoon)."""

from __future__ import annotations

from pydantic import Field

from game_rules.base import Frozen

POSITION_COMMANDS = ("concur", "object", "concur_with_reservation", "break_silence", "vote")


class PhaseSpec(Frozen):
    name: str = Field(min_length=1, max_length=40)
    seconds: float = Field(gt=0, le=86_400)
    allows: tuple[str, ...]
    """Command types players may send during the phase; the white cell may act in any phase."""
    closes_proposals: bool = False
    """Leaving the phase is the council's deadline: pending proposals are decided."""


DEFAULT_PHASES: tuple[PhaseSpec, ...] = (
    PhaseSpec(name="briefing", seconds=180, allows=("send_message",)),
    PhaseSpec(
        name="deliberation",
        seconds=480,
        allows=(
            "send_message",
            "request_consultation",
            "request_assistance",
            "invoke",
            "propose_action",
            "share_intelligence",
            "offer_sharing",
        ),
    ),
    PhaseSpec(
        name="council",
        seconds=600,
        allows=(
            "send_message",
            "request_consultation",
            "request_assistance",
            "invoke",
            "table_proposal",
            "confirm_attribution",
            "share_intelligence",
            *POSITION_COMMANDS,
        ),
        closes_proposals=True,
    ),
    PhaseSpec(name="commitments", seconds=300, allows=("send_message", "pledge", "propose_action")),
    PhaseSpec(name="adjudication", seconds=240, allows=("send_message", "adversary_move")),
)
