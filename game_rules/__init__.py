"""Pure rules of the alliance crisis wargame: no I/O, no clock, no randomness outside recorded draws."""

from game_rules import yaml12
from game_rules.commands import COMMAND_ADAPTER, Command
from game_rules.engine import canonical_json, decide, evolve, fold, replay, state_hash, unfold
from game_rules.events import EVENT_ADAPTER, Event, GameOpened
from game_rules.refusal import Refusal
from game_rules.rulesets import RULESETS, Ruleset
from game_rules.state import CHAIR, Member, State

__all__ = [
    "CHAIR",
    "COMMAND_ADAPTER",
    "EVENT_ADAPTER",
    "RULESETS",
    "Command",
    "Event",
    "GameOpened",
    "Member",
    "Refusal",
    "Ruleset",
    "State",
    "canonical_json",
    "decide",
    "evolve",
    "fold",
    "replay",
    "state_hash",
    "unfold",
    "yaml12",
]
