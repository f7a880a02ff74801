"""The benchmarks in bench/ run, at a small size, and what they report is whole.

Their figures are not judged here (docs/performance.md holds them; timings have no place in tests), but a
harness that lost a push, measured no command or dropped a stage would mislead whoever reads its figures; and
bench.load's clients check the game server itself: every push in order, none missing, under load."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.timeout(240)

ROOT = Path(__file__).resolve().parents[2]
GAMES, SEATS = 2, 3


def bench(*argv: str, env: dict[str, str] | None = None) -> str:
    """Run `python -m bench.<argv>` from the project's folder; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=200,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def load(tmp_path: Path, *extra: str, seconds: int = 2, env: dict[str, str] | None = None) -> dict[str, Any]:
    """bench.load at GAMES x SEATS, 10 commands a second for `seconds` after 1 s of warm-up; its figures."""
    figures = tmp_path / "load.json"
    small = ("--games", str(GAMES), "--seats", str(SEATS), "--rate", "10", "--seconds", str(seconds), "--warmup", "1")
    bench("bench.load", *small, "--json", str(figures), *extra, env=env)
    result: dict[str, Any] = json.loads(figures.read_text())
    return result


def assert_whole(row: dict[str, Any], seconds: float) -> None:
    """Every socket opened, commands measured, each one's push at every seat, in order, once."""
    assert row["sockets"] == GAMES * SEATS, row
    assert row["measured_commands"] > 0, row
    assert (row["errors"], row["gaps"], row["duplicates"], row["missing"]) == (0, 0, 0, 0), row
    assert row["sockets_closed_by_server"] == 0, row
    assert row["event_pushes_per_s"] * seconds == pytest.approx(row["measured_commands"] * SEATS, rel=0.1), row
    assert 0 < row["p50_ms"] <= row["p99_ms"] <= row["max_ms"], row


def test_the_load_harness_measures_the_game_server_and_the_bare_one_in_turn(tmp_path: Path) -> None:
    figures = load(tmp_path, "--interleave", "1", "--bare-durable")
    rows = {row["label"]: row for row in figures["results"]}
    assert set(rows) == {"wargame (1 process)", "bare Starlette, durable"}, list(rows)
    for row in rows.values():
        assert_whole(row, seconds=2)


def test_the_stage_timer_counts_every_stage_of_a_command(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    serve = ("--serve", "-m bench.stages serve", "--logs", str(logs), "--skip-bare")
    figures = load(tmp_path, *serve, seconds=3, env={"STAGES_EVERY": "1"})
    lines = re.findall(
        r"stages over 1 s: (\d+) commands; ms of CPU a command: (.*)", (logs / "wargame-0.log").read_text()
    )
    assert lines, "the server logged no stages"
    assert sum(int(played) for played, _ in lines) >= figures["results"][0]["measured_commands"]
    stages = [
        dict(re.findall(r"(event loop's thread|submit|decide|append|updates|writes) (\d+\.\d+)", s)) for _, s in lines
    ]
    assert all(len(line) == 6 for line in stages), lines
    # The games' setup plays commands before any socket is open (no updates, no writes); under load, every stage works.
    assert any(all(float(ms) > 0 for ms in line.values()) for line in stages), lines


def test_one_commands_path_without_sockets() -> None:
    out = bench("bench.command_path", "--history", "4", "--commands", "10")
    row = re.search(r"^\s+4\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", out, re.MULTILINE)
    assert row, out
    assert all(float(figure) > 0 for figure in row.groups()), out


def test_the_rules_core_replays_to_the_hash_it_reached_live() -> None:
    out = bench("bench.rules_throughput", "--events", "200", "--runs", "1")
    assert "replayed hash equals live hash (parsed, JSON lines, JSON array): ok" in out, out


def test_a_reviewed_games_exports_are_timed() -> None:
    out = bench("bench.review_export", "--events", "100")
    for step in ("store", "load", "replay", "review", "export json", "export csv", "export xlsx", "export html"):
        assert re.search(rf"^\s+{re.escape(step)}\b.*\s[\d.]+ ms$", out, re.MULTILINE), (step, out)


def test_the_disks_commit_latency(tmp_path: Path) -> None:
    out = bench("bench.commit_latency", "--commits", "20", "--dir", str(tmp_path))
    rows = re.findall(r"^\s+(FULL|NORMAL)\s+(none|\d+ ms)\s+[\d.]+\s+[\d.]+\s+[\d.]+$", out, re.MULTILINE)
    assert len(rows) == 4, out
