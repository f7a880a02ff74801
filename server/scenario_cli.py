"""`wargame scenario ...`: validate scenario files, print the JSON Schema, import an MSEL from CSV."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from game_rules.msel import MselError, parse_msel_csv
from game_rules.scenario import Scenario, ScenarioError, parse_scenario
from server import scenarios


def validate(paths: list[str]) -> int:
    failed = 0
    for raw in paths:
        path = Path(raw)
        try:
            scenario = parse_scenario(path.read_text(encoding="utf-8"))
        except OSError as error:
            print(f"{path}: cannot read: {error.strerror}")
            failed += 1
        except ScenarioError as error:
            print(f"{path}: {len(error.problems)} problem{'s' if len(error.problems) != 1 else ''}")
            for problem in error.problems:
                print(f"  {problem}")
            failed += 1
        else:
            estimates = sum(len(e) for e in scenario.estimates().values())
            print(
                f"{path}: ok — {scenario.id}, {scenario.ruleset}, {len(scenario.members)} members, "
                f"{scenario.rounds} rounds, {len(scenario.exercise.catalogue)} injects, "
                f"{len(scenario.exercise.msel)} MSEL lines, {estimates} figures marked as estimates"
            )
    return 1 if failed else 0


def schema() -> int:
    print(json.dumps(Scenario.model_json_schema(), indent=2))
    return 0


def import_msel(csv_path: str, scenario_ref: str) -> int:
    """Print the catalogue entries and MSEL lines of a CSV, checked against a scenario, as YAML."""
    scenario = scenarios.builtin().get(scenario_ref)
    if scenario is None:
        try:
            scenario = parse_scenario(Path(scenario_ref).read_text(encoding="utf-8"))
        except (OSError, ScenarioError) as error:
            print(f"{scenario_ref}: not a shipped scenario id nor a valid scenario file: {error}")
            return 1
    try:
        templates, entries = parse_msel_csv(
            Path(csv_path).read_text(encoding="utf-8"),
            members={m.code for m in scenario.members},
            phases={p.name for p in scenario.phases},
        )
    except OSError as error:
        print(f"{csv_path}: cannot read: {error.strerror}")
        return 1
    except MselError as error:
        print(f"{csv_path}: {len(error.problems)} problem(s)")
        for problem in error.problems:
            print(f"  {problem}")
        return 1
    fragment = {
        "catalogue": [t.model_dump(mode="json", exclude_defaults=True) for t in templates],
        "msel": [e.model_dump(mode="json", exclude_defaults=True) for e in entries],
    }
    print("# add under `exercise:` in the scenario file")
    print(yaml.safe_dump(fragment, sort_keys=False, allow_unicode=True), end="")
    return 0
