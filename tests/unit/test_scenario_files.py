"""Scenario files from the command line: validation with places, the published schema, MSEL import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from game_rules.msel import MselError, parse_msel_csv
from game_rules.scenario import Scenario, parse_scenario

ROOT = Path(__file__).parents[2]
HEADER = "Number,Scenario time,Inject type,Delivery method,From,To,Description,Expected action,Objective\n"


def wargame(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, timeout=60, check=False, cwd=ROOT
    )


def test_every_shipped_scenario_validates() -> None:
    files = sorted(str(p) for p in (ROOT / "game_rules/scenarios").glob("*.yaml"))
    done = wargame("scenario", "validate", *files)
    assert done.returncode == 0, done.stdout
    assert done.stdout.count(": ok") == len(files) >= 4


@pytest.mark.parametrize("path", sorted((ROOT / "game_rules/scenarios").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_scenario_briefs_every_seat(path: Path) -> None:
    """The room reads the situation (in paragraphs), each delegation its capital's brief, the red cell the
    adversary's."""
    scenario = parse_scenario(path.read_text(encoding="utf-8"))
    texts = {"situation": scenario.situation, "adversary": scenario.exercise.adversary.brief}
    texts |= {m.code: m.brief for m in scenario.members}
    for name, text in texts.items():
        assert len(text.split()) >= 40, f"{name}: {len(text.split())} words"
    assert len(scenario.situation.split("\n\n")) >= 2, "the situation in paragraphs"


def test_a_broken_scenario_gets_every_problem_with_its_path_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: Bad Id\ntitle: x\nruleset: nato\nmembers:\n"
        "  - {code: USA, forces: {land: {units: -1, readiness: 2}}}\n  - {code: XX}\n"
    )
    done = wargame("scenario", "validate", str(bad), str(tmp_path / "missing.yaml"))
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    for place in ("id:", "members.0.forces.land.units:", "members.0.forces.land.readiness:", "members.1.code:"):
        assert f"  {place}" in done.stdout
    assert "missing.yaml: cannot read" in done.stdout


def test_the_published_schema_is_the_current_one() -> None:
    done = wargame("scenario", "schema")
    schema = json.loads(done.stdout)
    assert schema == Scenario.model_json_schema()
    assert json.loads((ROOT / "docs/scenario.schema.json").read_text()) == schema, (
        "regenerate docs/scenario.schema.json"
    )
    assert {"members", "ruleset", "exercise"} <= set(schema["properties"])


def test_an_msel_in_csv_becomes_catalogue_and_msel_lines() -> None:
    text = HEADER + (
        '1,R1 briefing,event,news flash,white cell,EST,"MiG-31s over Vaindloo",Request consultation,Article 4\n'
        "2,2/council,media,TV,white cell,ALL,Leaked minutes,Statement,Strategic communication\n"
    )
    templates, entries = parse_msel_csv(text, members={"EST", "USA"}, phases={"briefing", "council"})
    assert [t.id for t in templates] == ["msel-1", "msel-2"]
    assert templates[0].targets == ("EST",) and templates[0].visibility == "targets"
    assert templates[1].visibility == "public"
    assert [(e.round, e.phase, e.inject) for e in entries] == [(1, "briefing", "msel-1"), (2, "council", "msel-2")]
    assert entries[0].expected_action == "Request consultation" and entries[0].delivery == "event: news flash"


def test_an_msel_with_bad_rows_names_each_line_and_column() -> None:
    text = HEADER + "x,R1 briefing,event,,,,a,,\n2,R1 lunch,event,,,,b,,\n3,R1 briefing,event,,,FRA,c,,\n"
    with pytest.raises(MselError) as caught:
        parse_msel_csv(text, members={"EST"}, phases={"briefing"})
    problems = caught.value.problems
    assert problems[0].startswith("line 2: number")
    assert problems[1].startswith("line 3: scenario time")
    assert problems[2] == "line 4: to: FRA is not a member"
    with pytest.raises(MselError, match="missing column"):
        parse_msel_csv("Number,Description\n1,x\n", members=set(), phases=set())


def test_msel_import_from_the_command_line(tmp_path: Path) -> None:
    csv_file = tmp_path / "msel.csv"
    csv_file.write_text(HEADER + "1,R1 briefing,event,news flash,white cell,EST,Cable cut,Consult,Resilience\n")
    done = wargame("scenario", "msel", str(csv_file), "--scenario", "baltic-hybrid")
    assert done.returncode == 0, done.stdout
    assert "id: msel-1" in done.stdout and "inject: msel-1" in done.stdout
