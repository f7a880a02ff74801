"""The scenarios shipped with the package."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from game_rules.scenario import Scenario, parse_scenario


@lru_cache(maxsize=1)
def builtin() -> dict[str, Scenario]:
    folder = resources.files("game_rules") / "scenarios"
    found = (parse_scenario(f.read_text(encoding="utf-8")) for f in folder.iterdir() if f.name.endswith(".yaml"))
    return {s.id: s for s in sorted(found, key=lambda s: s.id)}
