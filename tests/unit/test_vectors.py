"""Every vector in tests/vectors passes; the CLI reports failures and exits non-zero on them."""

from __future__ import annotations

import copy
import functools
import operator
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from game_rules import yaml12
from game_rules.vectors import run_vector

VECTORS = Path(__file__).parent.parent / "vectors"
FILES = sorted(VECTORS.rglob("*.yaml"))


def test_the_published_vectors_are_all_here() -> None:
    assert len(list((VECTORS / "published").glob("*.yaml"))) >= 8


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_vector(path: Path) -> None:
    result = run_vector(yaml12.load(path.read_text()))
    assert result.passed, result.line()


def _wargame(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_cli_runs_a_folder_and_prints_one_line_per_vector() -> None:
    done = _wargame("vectors", "run", str(VECTORS))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith(("PASS", "FAIL"))]
    assert len(lines) == len(FILES)
    assert all(line.startswith("PASS ") for line in lines)


def test_cli_names_the_failing_expectation_and_what_was_found(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(
        "name: wrong-outcome\nruleset: nato\nmembers: [USA, FRA]\nsteps:\n"
        "  - {actor: USA, do: table_proposal, proposal: P1, kind: sanctions}\n"
        "  - {actor: FRA, do: object, proposal: P1}\n  - {do: close, proposal: P1}\n"
        "expect:\n  - {proposal: P1, outcome: adopted}\n"
    )
    done = _wargame("vectors", "run", str(wrong), str(VECTORS / "published" / "nato-consensus-all-concur.yaml"))
    assert done.returncode == 1
    assert "FAIL wrong-outcome: expected {'proposal': 'P1', 'outcome': 'adopted'}, found blocked" in done.stdout
    assert "PASS nato-consensus-all-concur" in done.stdout


def test_cli_reports_an_unexpected_refusal_with_its_reason(tmp_path: Path) -> None:
    path = tmp_path / "refused.yaml"
    path.write_text(
        "name: refused\nruleset: nato\nmembers: [USA]\nsteps:\n  - {actor: UKR, do: request_consultation}\nexpect: []\n"
    )
    done = _wargame("vectors", "run", str(path))
    assert done.returncode == 1
    assert "step 1 (request_consultation) was refused: UKR is not a member" in done.stdout


def test_cli_turns_broken_files_into_failures_not_tracebacks(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: [unclosed\n")
    (tmp_path / "b.yaml").write_text("name: no-ruleset\nmembers: [USA]\n")
    done = _wargame("vectors", "run", str(tmp_path))
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    assert "a.yaml is not valid YAML" in done.stdout
    assert "FAIL no-ruleset: not a valid vector: ruleset: Field required" in done.stdout


def test_an_expectation_of_the_wrong_shape_is_a_failure_that_says_so() -> None:
    result = run_vector(
        yaml12.load(
            "name: shapes\nruleset: nato\nmembers: [USA, GBR]\nsteps:\n"
            "  - {actor: USA, do: vote, proposal: P1, choice: yes}\n  - {actor: GBR, do: close, proposal: P1}\n"
            "expect:\n  - {rejected: [1, 2]}\n  - {fair_share: P1, value: 2}\n  - {rejected: two}\n"
        )
    )
    assert result.failures == [
        "{'fair_share': 'P1', 'value': 2}: not a valid expectation, a field of the wrong shape "
        "(string indices must be integers, not 'str')",
        "{'rejected': 'two'}: not a valid expectation, a field of the wrong shape "
        "(invalid literal for int() with base 10: 'two')",
    ]


WRONG_SHAPES = (None, 1, 2.5, True, "x", "P1", [], [1, "a"], ["USA"], {}, {"proposal": None}, 10**30)


def _places(node: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    inside = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    return [at] + [place for key, child in inside for place in _places(child, (*at, key))]


def test_vectors_bent_out_of_shape_fail_with_reasons_and_never_raise() -> None:
    """Every published and project vector, with one to three of its values swapped for a value of another shape."""
    originals = [yaml12.load(path.read_text()) for path in FILES]
    draw = random.Random(7)
    for _ in range(3000):
        document = copy.deepcopy(draw.choice(originals))
        for _ in range(draw.randint(1, 3)):
            *path, last = draw.choice(_places(document)[1:])
            parent = functools.reduce(operator.getitem, path, document)
            parent[last] = copy.deepcopy(draw.choice(WRONG_SHAPES))
        result = run_vector(document)  # raising here is the failure
        assert all(isinstance(f, str) and f for f in result.failures)


def test_rejected_may_name_several_steps_and_says_which_were_accepted() -> None:
    steps = "steps:\n  - {actor: USA, do: concur, proposal: P9}\n  - {actor: USA, do: request_consultation}\n"
    result = run_vector(
        yaml12.load(f"name: several\nruleset: nato\nmembers: [USA]\n{steps}expect: [{{rejected: [1, 2]}}]")
    )
    assert result.failures == ["expected {'rejected': [1, 2]}, found step 2 accepted"]


ANNOTATED = """
name: annotated
description: Feb 2003, three allies break silence on planning for Turkey's defence
source: CRS report RS21510
ruleset: nato
members: {USA: {cost_share: 3, note: 2016-17 share}, TUR: {comment: the requester}, FRA: null}
steps:
  - {actor: TUR, do: table_proposal, proposal: P1, kind: deploy_forces, procedure: silence, requirement: {forces: 4},
     note: planning for Turkey's defence}
  - {actor: FRA, do: break_silence, proposal: P1, comment: with Germany and Belgium}
  - {do: rewind_game, to_seq: 2, note: the objection withdrawn}
  - {do: close, proposal: P1}
expect:
  - {proposal: P1, outcome: adopted, note: silence holds once the objection is taken back}
  - {fair_share: {proposal: P1, member: USA}, value: 2.4}
"""


def test_notes_for_the_reader_are_set_aside_and_a_rewind_keeps_its_own_note() -> None:
    result = run_vector(yaml12.load(ANNOTATED))
    assert result.passed, result.line()


@pytest.mark.parametrize(
    ("typo", "said"),
    [
        (("steps:", "step:"), "step: Extra inputs are not permitted"),
        (("cost_share: 3", "costshare: 3"), "USA.costshare: Extra inputs are not permitted"),
        (("proposal: P1, kind", "proposl: P1, kind"), "step 1 (table_proposal) was refused: table_proposal.proposal"),
    ],
)
def test_a_misspelt_key_is_still_refused(typo: tuple[str, str], said: str) -> None:
    result = run_vector(yaml12.load(ANNOTATED.replace(*typo, 1)))
    assert not result.passed and said in result.line(), result.line()


def test_demo_prints_a_transcript_with_refusals_and_outcomes() -> None:
    done = _wargame("demo", "--script")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "EST together with LTU, POL requests consultation under Article 4" in out
    assert "REFUSED FRA table_proposal: The North Atlantic Council decides by consensus" in out
    assert "P2 is closed: blocked." in out
    assert "Article 5 is invoked for EST, conditional on attribution" in out
    assert "below fair share: DEU, LTU" in out
