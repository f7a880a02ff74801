"""The after-action review on a bot-played game: exports that re-import to the same hash, CSV tables,
the report, forks, and the review API — against a live server on SQLite or PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import html
import io
import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import get_args

import httpx
import pytest
from openpyxl import load_workbook

from game_rules import EVENT_ADAPTER, state_hash
from game_rules.review import state_at
from server import cli, documents, export, workbook
from server.app import create_app
from server.bots.game import play_game
from server.config import Settings
from server.live_demo import running_server
from server.store import EventStore
from tests.integration.live import Seat, ws_base

pytestmark = pytest.mark.anyio


@dataclass
class Played:
    base: str
    url: str
    game_id: str
    facilitator: str
    join_code: str


@pytest.fixture
async def played(database_url: str, anyio_backend: str) -> AsyncIterator[Played]:
    # A periodic check twice a second: a console whose link `wargame console` replaced is shown out soon.
    async with running_server(create_app(Settings(database_url=database_url, bus_resync_seconds=0.5))) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            created = (await client.post("/api/games", json={"scenario": "baltic-demo"})).json()
        outcome = await play_game(base, "baltic-demo", seed=3, phase_pause=0.0)
        # The bots' own game is the one to review; the extra game above checks that reviews stay per game.
        store = EventStore.from_url(database_url)
        try:
            seats = await store.seats(outcome.game_id)
            game = await store.get_game(outcome.game_id)
        finally:
            await store.dispose()
        assert game is not None and created["game_id"] != outcome.game_id
        facilitator = next(s for s in seats if s.role == "facilitator")
        assert facilitator
        yield Played(base, database_url, outcome.game_id, outcome.facilitator_key, game.join_code)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_export_import_replays_to_the_same_hash_and_altered_files_are_refused(played: Played) -> None:
    async with httpx.AsyncClient(base_url=played.base, timeout=30) as client:
        exported = (await client.get(f"/api/games/{played.game_id}/export", headers=auth(played.facilitator))).json()
        assert exported["format"] == export.FORMAT and exported["events"][0]["seq"] == 1
        imported = await client.post("/api/games/import", json=exported)
        assert imported.status_code == 201, imported.text
        again = (
            await client.get(
                f"/api/games/{imported.json()['game_id']}/export", headers=auth(imported.json()["facilitator_key"])
            )
        ).json()
        assert again["final_hash"] == exported["final_hash"]
        assert [e["event"] for e in again["events"]] == [e["event"] for e in exported["events"]]
        ends = [e["ends_command"] for e in exported["events"]]
        assert False in ends and [e["ends_command"] for e in again["events"]] == ends, "commands stay whole"
        tampered = json.loads(json.dumps(exported))
        pledge = next(e for e in tampered["events"] if e["event"]["type"] == "forces_pledged")
        pledge["event"]["forces"] += 1
        refused = await client.post("/api/games/import", json=tampered)
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "bad_export"


async def test_the_api_offers_every_table_and_only_those(played: Played) -> None:
    store = EventStore.from_url(played.url)
    try:
        loaded = await export.load(store, played.game_id)
    finally:
        await store.dispose()
    assert loaded is not None
    assert list(export.tables(loaded, export.reviewed(loaded))) == list(get_args(export.TableName))
    async with httpx.AsyncClient(base_url=played.base, timeout=30) as client:
        for table in (*get_args(export.TableName), "secrets"):
            response = await client.get(
                f"/api/games/{played.game_id}/export",
                params={"format": "csv", "table": table},
                headers=auth(played.facilitator),
            )
            assert response.status_code == (422 if table == "secrets" else 200), table


async def test_csv_tables_parse_into_the_expected_tables(played: Played) -> None:
    async with httpx.AsyncClient(base_url=played.base, timeout=30) as client:
        summary = (
            await client.get(f"/api/games/{played.game_id}/review/summary", headers=auth(played.facilitator))
        ).json()
        tables = {}
        for table in ("events", "positions", "pledges", "metrics", "messages", "actions", "seats"):
            response = await client.get(
                f"/api/games/{played.game_id}/export",
                params={"format": "csv", "table": table},
                headers=auth(played.facilitator),
            )
            assert response.headers["content-type"].startswith("text/csv")
            tables[table] = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
        view = (await client.get(f"/api/games/{played.game_id}/view", headers=auth(played.facilitator))).json()
    assert len(tables["events"]) == summary["seq"]
    assert [int(r["seq"]) for r in tables["events"]] == list(range(1, summary["seq"] + 1))
    stamps = [datetime.strptime(r["recorded_at_utc"], "%Y-%m-%d %H:%M:%S") for r in tables["events"]]
    assert stamps == sorted(stamps) and stamps[-1] - stamps[0] < timedelta(minutes=10), "the bots' game, in order"
    # Each event names its command by the command's first event: a row starts one, or follows its predecessor's.
    command = [int(r["command"]) for r in tables["events"]]
    follows = zip(range(2, len(command) + 1), command[1:], command[:-1], strict=True)
    assert command[0] == 1 and all(c in (seq, before) for seq, c, before in follows)
    assert len(set(command)) < len(command), "some command brought several events"
    positions = sum(len(p["positions"]) for p in summary["proposals"])
    assert len(tables["positions"]) == positions > 0
    assert {r["proposal"] for r in tables["positions"]} <= {p["id"] for p in summary["proposals"]}
    assert [int(r["round"]) for r in tables["metrics"]] == [1, 2, 3]
    assert "support_EST" in tables["metrics"][0]
    adopted_deployments = [
        p for p in summary["proposals"] if p["kind"] == "deploy_forces" and p["outcome"] == "adopted"
    ]
    assert len(tables["pledges"]) == 6 * len(adopted_deployments)
    for row in tables["pledges"]:
        assert (row["below_fair_share"] == "True") == (float(row["pledged"]) < float(row["fair_share"]) - 0.005)
    assert [r["message"] for r in tables["messages"]] == [m["id"] for m in view["messages"]]
    assert all(r["channel"] in ("alliance", "bilateral", "group", "within") for r in tables["messages"])
    assert [r["action"] for r in tables["actions"]] == [a["id"] for a in view["actions"]] != []
    for row, action in zip(tables["actions"], view["actions"], strict=True):
        assert (row["member"], row["reasons"], row["roll"]) == (
            action["member"],
            action["reasons"],
            str(action["roll"]["value"]),
        )
        assert row["ruling"] == ("accepted" if int(row["roll"]) >= int(row["target"]) else "rejected")
    assert {r["seat"]: r["player"] for r in tables["seats"]} == {k: s["player"] for k, s in view["seats"].items()}
    assert {r["role"]: r["bot"] for r in tables["seats"] if r["role"] != "delegation"} == {"facilitator": "False"}
    assert {r["bot"] for r in tables["seats"] if r["role"] == "delegation"} == {"True"}, "the bots played them"
    heads = [r["member"] for r in tables["seats"] if r["head"] == "True"]
    assert sorted(heads) == sorted({r["member"] for r in tables["seats"] if r["role"] == "delegation"})


async def test_the_report_holds_every_proposal_and_observation(played: Played) -> None:
    async with httpx.AsyncClient(base_url=played.base, timeout=30) as client:
        for text in ("Estonia slow to share its radar picture", "Council chaired briskly"):
            noted = await client.post(
                f"/api/games/{played.game_id}/commands",
                headers=auth(played.facilitator),
                json={"type": "record_observation", "text": text, "member": "EST" if "Estonia" in text else None},
            )
            assert noted.status_code == 200, noted.text
        summary = (
            await client.get(f"/api/games/{played.game_id}/review/summary", headers=auth(played.facilitator))
        ).json()
        md = (
            await client.get(
                f"/api/games/{played.game_id}/export", params={"format": "md"}, headers=auth(played.facilitator)
            )
        ).text
        page = (
            await client.get(
                f"/api/games/{played.game_id}/export", params={"format": "html"}, headers=auth(played.facilitator)
            )
        ).text
        view = (await client.get(f"/api/games/{played.game_id}/view", headers=auth(played.facilitator))).json()
    paragraphs = [" ".join(p.split()) for p in view["situation"].split("\n\n")]
    assert len(paragraphs) >= 2 and all(f"\n{p}\n" in md and f"<p>{html.escape(p)}</p>" in page for p in paragraphs)
    for section in (
        "## Overview",
        "## Situation",
        "## Participants",
        "## Objectives",
        "## Executive summary",
        "## Analysis of capabilities",
        "## Strengths",
        "## Areas for improvement",
        "## Improvement plan",
    ):
        assert section in md
    for proposal in summary["proposals"]:
        assert f"| {proposal['id']} |" in md
        assert proposal["id"] in page
    assert "Estonia slow to share its radar picture" in md and "Council chaired briskly" in page
    assert "| white cell | Chair (bot) |" in md and "| EST | EST bot |" in md
    played_row = next(line for line in md.splitlines() if line.startswith("| played |"))
    assert re.fullmatch(
        r"\| played \| \d{4}-\d\d-\d\d \d\d:\d\d UTC to \d{4}-\d\d-\d\d \d\d:\d\d UTC \(\d+ min\) \|", played_row
    ), played_row
    assert page.count("<svg") >= 2 and "<polyline" in page
    assert all(c["rating"] in ("P", "S", "M", "U", "N/A") for c in summary["capabilities"])


def _same(cell: object, field: str) -> bool:
    """Whether a workbook's cell holds what the CSV file's field says (a whole number of a float comes back an int;
    the CSV file quotes a text that a spreadsheet would take for a formula, the workbook holds it as text)."""
    if cell is None:
        return field == ""
    if isinstance(cell, datetime):
        return cell.strftime("%Y-%m-%d %H:%M:%S") == field
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return float(field) == cell
    return str(cell) == (field[1:] if field.startswith("'") else field)


async def test_the_workbook_holds_every_table_as_the_csv_files_do_and_runs_nothing_a_player_wrote(
    played: Played,
) -> None:
    game = f"/api/games/{played.game_id}"
    action = '=HYPERLINK("http://evil.example/","Open the annex")'
    async with httpx.AsyncClient(base_url=played.base, timeout=30) as client:
        planned = await client.post(
            f"{game}/commands",
            headers=auth(played.facilitator),
            json={
                "type": "plan_corrective_action",
                "capability": "Burden-sharing",
                "action": action,
                "responsible": "+J5",
            },
        )
        assert planned.status_code == 200, planned.text
        feedback = {"type": "give_feedback", "rating": 5, "went_well": "-1 the silence procedure", "to_improve": action}
        given = await client.post(f"{game}/commands", headers=auth(played.facilitator), json=feedback)
        assert given.status_code == 200, given.text
        answer = await client.get(f"{game}/export", params={"format": "xlsx"}, headers=auth(played.facilitator))
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == workbook.MEDIA_TYPE
        assert answer.headers["content-disposition"] == f'attachment; filename="wargame-{played.game_id}.xlsx"'
        book = load_workbook(io.BytesIO(answer.content))
        names = book.sheetnames[1:]
        csv_rows = {}
        for table in names:
            response = await client.get(
                f"{game}/export", params={"format": "csv", "table": table}, headers=auth(played.facilitator)
            )
            assert response.status_code == 200, (table, response.text)
            csv_rows[table] = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert book.sheetnames == [
        "game", "events", "positions", "pledges", "metrics", "messages", "actions", "seats", "capabilities",
        "improvement_plan", "feedback",
    ]  # fmt: skip
    about = {row[0]: row[1] for row in book["game"].iter_rows(values_only=True)}
    assert (about["game"], about["scenario"]) == (played.game_id, "baltic-demo")
    for table, rows in csv_rows.items():
        sheet = book[table]
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref is not None, table
        cells = list(sheet.iter_rows(values_only=True))
        assert len(cells) == len(rows) > 1, table
        for got, want in zip(cells, rows, strict=True):
            assert len(got) == len(want) and all(map(_same, got, want)), (table, got, want)
    events = list(book["events"].iter_rows(min_row=2, values_only=True))
    assert [e[0] for e in events] == list(range(1, len(events) + 1)), "seq as numbers"
    assert all(isinstance(e[1], datetime) for e in events), "times as times"
    row = next(r for r in book["improvement_plan"].iter_rows(min_row=2) if r[3].value == action)
    assert (row[3].data_type, row[4].value, row[4].data_type) == ("s", "+J5", "s"), "text, not a formula"
    plan_csv = next(r for r in csv_rows["improvement_plan"] if r[3].endswith(action))
    assert (plan_csv[3], plan_csv[4]) == ("'" + action, "'+J5")
    assert csv_rows["feedback"][1][3:] == ["5", "'-1 the silence procedure", "'" + action]


async def test_the_evaluators_ratings_and_plan_reach_the_summary_the_tables_and_the_report(played: Played) -> None:
    game = f"/api/games/{played.game_id}"
    async with httpx.AsyncClient(base_url=played.base, timeout=30) as client:

        async def command(body: dict[str, object]) -> httpx.Response:
            return await client.post(f"{game}/commands", headers=auth(played.facilitator), json=body)

        before = (await client.get(f"{game}/review/summary", headers=auth(played.facilitator))).json()
        council = next(c for c in before["capabilities"] if c["name"] == "Council decision-making")
        other = next(r for r in "PSMU" if r != council["rating"])
        rated = await command(
            {"type": "rate_capability", "capability": council["name"], "rating": other, "reason": "seen in the room"}
        )
        assert rated.status_code == 200, rated.text
        plan = {"type": "plan_corrective_action", "capability": "Burden-sharing", "action": "Publish fair shares"}
        late = await command({**plan, "responsible": "J5", "start": "2027-05-01", "completion": "2027-04-01"})
        assert late.status_code == 409 and late.json()["error"]["code"] == "dates_out_of_order"
        malformed = await command({**plan, "responsible": "J5", "start": "next spring"})
        assert malformed.status_code == 422
        planned = await command({**plan, "responsible": "J5", "start": "2027-01-15", "completion": "2027-03-01"})
        assert planned.status_code == 200, planned.text
        summary = (await client.get(f"{game}/review/summary", headers=auth(played.facilitator))).json()
        tables = {}
        for table in ("capabilities", "improvement_plan"):
            response = await client.get(
                f"{game}/export", params={"format": "csv", "table": table}, headers=auth(played.facilitator)
            )
            tables[table] = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
        md = (await client.get(f"{game}/export", params={"format": "md"}, headers=auth(played.facilitator))).text
    after = next(c for c in summary["capabilities"] if c["name"] == "Council decision-making")
    assert (after["rating"], after["suggested"], after["rated_by"]) == (other, council["rating"], "chair")
    assert summary["improvement_plan"] == [
        {
            "item": "CA1",
            "capability": "Burden-sharing",
            "issue": "",
            "action": "Publish fair shares",
            "responsible": "J5",
            "start": "2027-01-15",
            "completion": "2027-03-01",
            "by": "chair",
        }
    ]
    assert summary["capability_names"][0] == "Consultation and situational awareness"
    row = next(r for r in tables["capabilities"] if r["capability"] == "Council decision-making")
    assert (row["rating"], row["suggested"], row["reason"]) == (other, council["rating"], "seen in the room")
    assert [(r["item"], r["responsible"], r["completion"]) for r in tables["improvement_plan"]] == [
        ("CA1", "J5", "2027-03-01")
    ]
    assert "| CA1 | Burden-sharing |  | Publish fair shares | J5 | 2027-01-15 | 2027-03-01 |" in md


async def test_the_report_says_when_play_ran() -> None:
    from game_rules import GameOpened, Member, replay
    from game_rules import events as ev
    from server.store import StoredEvent

    start = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    log = [GameOpened(ruleset="nato", members=(Member(code="USA"),)), ev.GameStarted(), ev.GameEnded(reason="time")]
    times = [start - timedelta(minutes=30), start, start + timedelta(hours=1, minutes=47, seconds=20)]
    stored = [StoredEvent("g", n, e.type, "", at) for n, (e, at) in enumerate(zip(log, times, strict=True), start=1)]

    def played(upto: int) -> str:
        loaded = export.Loaded(None, stored[:upto], list(enumerate(log[:upto], start=1)))  # type: ignore[arg-type]
        return export.played(loaded, replay(log[:upto]))

    assert played(1) == "not started"
    assert played(2) == "from 2027-03-01 09:00 UTC, still in play"
    assert played(3) == "2027-03-01 09:00 UTC to 2027-03-01 10:47 UTC (1 h 47 min)"


async def test_the_report_names_every_player_by_table_and_each_delegations_head() -> None:
    from game_rules import GameOpened, Member
    from game_rules import events as ev
    from game_rules.review import review
    from server.report import GameInfo, markdown

    log = [
        GameOpened(ruleset="nato", members=(Member(code="USA"), Member(code="EST"))),
        ev.SeatClaimed(seat="f", role="facilitator", player="White Cell"),
        ev.SeatClaimed(seat="o", role="observer", player="Olli"),
        ev.SeatClaimed(seat="e1", role="delegation", member="EST", player="Kaja", head=True),
        ev.SeatClaimed(seat="e2", role="delegation", member="EST", player="Kai"),
        ev.SeatClaimed(seat="u1", role="delegation", member="USA", player="Ann", head=True),
        ev.HeadAppointed(seat="e2", member="EST"),
    ]
    md = markdown(GameInfo("g", "t", "s", "now", []), review(enumerate(log, start=1)))
    table = md.split("## Participants")[1].split("##")[0]
    assert [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:] == [
        "| white cell | White Cell |",
        "| USA | Ann |",
        "| EST | Kai (head), Kaja |",
        "| observer | Olli |",
    ]


async def test_a_fork_matches_the_original_up_to_its_seq_and_diverges_after(played: Played) -> None:
    store = EventStore.from_url(played.url)
    try:
        stored = await store.read(played.game_id)
    finally:
        await store.dispose()
    at = next(s.seq for s in stored[39:] if s.ends_command)  # after the command that brought event 40
    amid = next(s.seq for s in stored if not s.ends_command)
    async with httpx.AsyncClient(base_url=played.base, timeout=30) as client:
        refused = await client.post(
            f"/api/games/{played.game_id}/fork", json={"at_seq": amid}, headers=auth(played.facilitator)
        )
        assert refused.status_code == 422 and "never amid what it brought" in refused.json()["error"]["message"]
        forked = await client.post(
            f"/api/games/{played.game_id}/fork", json={"at_seq": at, "seed": 11}, headers=auth(played.facilitator)
        )
        assert forked.status_code == 201, forked.text
        fork = forked.json()
        note = await client.post(
            f"/api/games/{fork['game_id']}/commands",
            headers=auth(fork["facilitator_key"]),
            json={"type": "record_observation", "text": "What if France had objected?"},
        )
        assert note.status_code == 200
        bad = await client.post(
            f"/api/games/{played.game_id}/fork", json={"at_seq": 99999}, headers=auth(played.facilitator)
        )
        assert bad.status_code == 422
    store = EventStore.from_url(played.url)
    try:
        original = await export.load(store, played.game_id)
        copy = await export.load(store, fork["game_id"])
        record = await store.get_game(fork["game_id"])
    finally:
        await store.dispose()
    assert original and copy and record
    assert record.forked_from_game == played.game_id and record.forked_at_seq == at
    same = [e for s, e in original.log if s <= at][1:]
    assert [e for s, e in copy.log if s <= at][1:] == same, "the shared history is the same event for event"
    opening_original, opening_fork = original.log[0][1], copy.log[0][1]
    assert opening_fork.title.endswith(f"(what-if from event {at})")  # type: ignore[attr-defined]
    same_opening = {"seed": opening_original.seed, "title": opening_original.title}  # type: ignore[attr-defined]
    assert opening_fork.model_copy(update=same_opening) == opening_original
    assert state_hash(state_at(copy.log, at).model_copy(update={"seed": 0, "title": ""})) == state_hash(
        state_at(original.log, at).model_copy(update={"seed": 0, "title": ""})
    )
    assert state_at(copy.log, len(copy.log)).status == "paused", "a fork of a running game starts paused"
    assert copy.log[-1][1] != original.log[len(copy.log) - 1][1]
    ends = [s.ends_command for s in original.stored if s.seq <= at]
    assert False in ends and [s.ends_command for s in copy.stored if s.seq <= at] == ends


async def test_review_api_filters_and_access(played: Played) -> None:
    async with httpx.AsyncClient(base_url=played.base, timeout=30) as client:
        headers = auth(played.facilitator)
        everything = (await client.get(f"/api/games/{played.game_id}/review/timeline", headers=headers)).json()
        round_two = (
            await client.get(f"/api/games/{played.game_id}/review/timeline", params={"round": 2}, headers=headers)
        ).json()
        est = (
            await client.get(f"/api/games/{played.game_id}/review/timeline", params={"member": "EST"}, headers=headers)
        ).json()
        closes = (
            await client.get(
                f"/api/games/{played.game_id}/review/timeline",
                params={"type": ["proposal_closed", "round_assessed"]},
                headers=headers,
            )
        ).json()
        assert len(everything) > len(round_two) > 0 and all(e["round"] == 2 for e in round_two)
        assert est and all("EST" in e["members"] for e in est)
        assert {e["type"] for e in closes} == {"proposal_closed", "round_assessed"}
        at = (
            await client.get(
                f"/api/games/{played.game_id}/review/state", params={"seq": 30, "member": "EST"}, headers=headers
            )
        ).json()
        assert at["seq"] == 30 and at["you"]["member"] == "EST"
        seat = (
            await client.post(
                f"/api/games/{played.game_id}/seats",
                json={"join_code": played.join_code, "role": "delegation", "member": "EST", "player": "Late"},
            )
        ).json()
        after_end = await client.get(f"/api/games/{played.game_id}/review/summary", headers=auth(seat["token"]))
        assert after_end.status_code == 200, "delegations review once the game has ended"


async def test_cli_export_fork_and_import(played: Played, tmp_path: Path) -> None:
    def wargame(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "server.cli", *args, "--database-url", played.url],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    out = tmp_path / "game.json"
    assert wargame("export", played.game_id, "--format", "json", "--out", str(out)).returncode == 0
    assert wargame("export", played.game_id, "--format", "csv", "--out", str(tmp_path / "csv")).returncode == 0
    rows = list(csv.reader((tmp_path / "csv" / "positions.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0][:5] == ["proposal", "kind", "procedure", "member", "position"]
    assert wargame("export", played.game_id, "--format", "xlsx", "--out", str(tmp_path / "game.xlsx")).returncode == 0
    book = load_workbook(tmp_path / "game.xlsx", read_only=True)
    assert [c.value for c in next(book["positions"].iter_rows(max_row=1))][:2] == ["proposal", "kind"]
    # The file the command line writes is the one the API sends.
    async with httpx.AsyncClient(base_url=played.base, timeout=30) as client:
        for fmt in ("json", "md", "html"):
            path = tmp_path / f"game-copy.{fmt}"
            assert wargame("export", played.game_id, "--format", fmt, "--out", str(path)).returncode == 0
            sent = await client.get(
                f"/api/games/{played.game_id}/export", params={"format": fmt}, headers=auth(played.facilitator)
            )
            assert sent.content == path.read_bytes(), fmt
    imported = wargame("import", str(out))
    assert imported.returncode == 0 and "imported as game" in imported.stdout
    ends = [e["seq"] for e in json.loads(out.read_text())["events"] if e["ends_command"]]
    forked = wargame("fork", played.game_id, "--at", str(next(seq for seq in ends if seq >= 25)))
    assert forked.returncode == 0 and "forked" in forked.stdout
    assert wargame("fork", played.game_id, "--at", "0").returncode == 1
    amid = wargame("fork", played.game_id, "--at", str(next(seq for seq in range(2, ends[-1]) if seq not in ends)))
    assert amid.returncode == 1 and "never amid what it brought" in amid.stdout

    # A console whose browser was lost opens again with a new link; the old credential stops working, and a
    # socket still open with it (the lost browser) is shown out by the server at its next periodic check.
    async with Seat(ws_base(played.base), played.game_id, played.facilitator) as lost:
        await lost.until(lambda frame: frame["type"] == "view")
        console = await asyncio.to_thread(wargame, "console", played.game_id, "--url", played.base)
        assert await lost.wait_closed() == 1000 and lost.close_reason == "the seat has a new credential"
    link = console.stdout.strip().splitlines()[-1]
    assert console.returncode == 0 and link.startswith(f"{played.base}/#/seat/{played.game_id}/"), console.stdout
    async with httpx.AsyncClient(base_url=played.base, timeout=30) as client:
        me = await client.get(f"/api/games/{played.game_id}/me", headers=auth(link.rsplit("/", 1)[1]))
        assert (me.json()["role"], me.json()["join_code"]) == ("facilitator", played.join_code)
        old = await client.get(f"/api/games/{played.game_id}/me", headers=auth(played.facilitator))
        assert old.status_code == 401
    assert wargame("console", "no-such-game").returncode == 1

    # The copy is listed, and deleted; the fork is paused, under way: not deleted.
    copy_id = imported.stdout.split("imported as game ")[1].split()[0]
    fork_id = forked.stdout.split(" as game ")[1].split()[0]
    listed = wargame("games").stdout
    assert copy_id in listed and fork_id in listed and played.game_id in listed
    deleted = wargame("delete", copy_id)
    assert deleted.returncode == 0 and f"deleted game {copy_id}" in deleted.stdout, deleted.stdout
    under_way = wargame("delete", fork_id)
    assert under_way.returncode == 1 and "under way (paused)" in under_way.stdout
    listed = wargame("games").stdout
    assert copy_id not in listed and fork_id in listed and played.game_id in listed
    assert wargame("delete", copy_id).returncode == 1
    document = json.loads(out.read_text())
    assert EVENT_ADAPTER.validate_python(document["events"][0]["event"]).type == "game_opened"


def test_cli_offers_every_export_format_the_api_does(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["export", "any-game", "--format", "none"])
    offered = re.search(r"choose from (.*)\)", capsys.readouterr().err)
    assert offered is not None
    assert sorted(re.findall(r"\w+", offered.group(1))) == sorted(get_args(documents.ExportFormat))


def test_cli_refuses_a_database_it_cannot_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "typo.db"
    for command in (["games"], ["export", "g1"], ["replay", "g1", "--verify"], ["delete", "g1"], ["console", "g1"]):
        assert cli.main([*command, "--database-url", f"sqlite:///{missing}"]) == 1
        err = capsys.readouterr().err
        assert f"wargame {command[0]}: no database at {missing}" in err, err
    assert not missing.exists(), "a typo leaves no empty database behind"

    not_a_database = tmp_path / "notes.db"
    not_a_database.write_text("minutes of the hotwash\n")
    assert cli.main(["games", "--database-url", f"sqlite:///{not_a_database}"]) == 1
    err = capsys.readouterr().err
    assert "cannot use the database" in err and "file is not a database" in err and "Traceback" not in err, err
    assert not_a_database.read_text() == "minutes of the hotwash\n"

    # Nothing listens on port 9 of this machine: the server does not answer.
    assert cli.main(["games", "--database-url", "postgresql://wargame:secret@127.0.0.1:9/nowhere"]) == 1
    err = capsys.readouterr().err
    assert "wargame games: cannot use the database" in err and "secret" not in err and "***" in err, err

    assert cli.main(["games", "--database-url", "no-url-at-all"]) == 2
    assert "not a database URL" in capsys.readouterr().err
    assert cli.main(["export", "g1", "--database-url", "mysql://wargame@127.0.0.1/games"]) == 2
    assert "the store is SQLite (sqlite:///FILE) or PostgreSQL" in capsys.readouterr().err
