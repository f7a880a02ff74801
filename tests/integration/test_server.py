"""The server over real sockets: Uvicorn on a loopback port, REST with httpx, one WebSocket per seat.

Runs on a SQLite file, or on PostgreSQL when DATABASE_URL is set (see conftest.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import ipaddress
import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from pydantic_core import to_json
from websockets.client import ClientProtocol
from websockets.frames import Frame as WireFrame
from websockets.protocol import OPEN
from websockets.uri import parse_uri

import server.app as app_module
from game_rules import CHAIR, EVENT_ADAPTER, State, state_hash
from game_rules.commands import AdvancePhase, Broadcast, EndGame, RaiseObjection, StartGame, TableProposal
from game_rules.views import FACILITATOR, Viewer
from game_rules.views import view as view_of
from server import api, deadlines, scenarios, wire
from server.app import create_app
from server.config import Settings
from server.frames import Shown
from server.live_demo import running_server
from server.lobby import Lobby
from server.network import IN_A_CONTAINER, LOOPBACK_ONLY, in_a_container, reach
from server.rooms import Accepted, Connection, Room, Rooms
from server.store import EventStore
from tests.integration.live import (
    Frame,
    Game,
    LiveServer,
    Seat,
    SeatClosed,
    SeatKey,
    Tap,
    bearer,
    claim_seat,
    client,
    create_game,
    live_server,
    rest_command,
    rest_view,
    ws_base,
)

pytestmark = pytest.mark.anyio

MEMBERS = ("EST", "POL", "USA")
ALL_MEMBERS = ("USA", "DEU", "FRA", "POL", "EST", "LTU")


# --- fixtures and helpers ------------------------------------------------------------------------------


@pytest.fixture
async def url(database_url: str, anyio_backend: str) -> AsyncIterator[str]:
    async with live_server(database_url) as base:
        yield base


@pytest.fixture
async def http(url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with client(url) as session:
        yield session


@dataclass
class Table:
    """One game with a facilitator, three delegations and an observer, every seat on its own socket."""

    url: str
    http: httpx.AsyncClient
    game: Game
    keys: dict[str, SeatKey]
    seats: dict[str, Seat] = field(default_factory=dict)

    @property
    def fac(self) -> Seat:
        return self.seats["fac"]

    def seat(self, name: str) -> Seat:
        return self.seats[name]

    def connect(self, token: str, *, since: int | None = None, name: str = "") -> Seat:
        return Seat(ws_base(self.url), self.game.game_id, token, since=since, name=name)

    async def at(self, seq: int, names: Iterable[str] | None = None) -> dict[str, Frame]:
        """Every seat (or those named) has received the view at `seq`; returns the views by seat."""
        chosen = list(names) if names is not None else list(self.seats)
        views = await asyncio.gather(*(self.seats[n].view_at(seq) for n in chosen))
        return dict(zip(chosen, views, strict=True))

    async def until_phase(self, phase: str) -> dict[str, Frame]:
        """Every seat has received a view in `phase`; returns those views by seat."""

        async def one(seat: Seat) -> Frame:
            frames = await seat.until(lambda f: f["type"] == "view" and f["view"]["phase"] == phase)
            view: Frame = frames[-1]["view"]
            return view

        views = await asyncio.gather(*(one(seat) for seat in self.seats.values()))
        return dict(zip(self.seats, views, strict=True))

    async def advance(self) -> int:
        view = await rest_view(self.http, self.game, self.game.facilitator_key)
        return await self.fac.ack({"type": "advance_phase", "from_round": view["round"], "from_phase": view["phase"]})

    async def start(self) -> int:
        seq = await self.fac.ack({"type": "start_game"})
        await self.at(seq)
        return seq

    async def to_phase(self, phase: str) -> int:
        seq = 0
        while (await rest_view(self.http, self.game, self.game.facilitator_key))["phase"] != phase:
            seq = await self.advance()
        await self.at(seq)
        return seq


@contextlib.asynccontextmanager
async def open_table(url: str, http: httpx.AsyncClient, title: str | None = None) -> AsyncIterator[Table]:
    game = await create_game(http, title=title)
    keys = {m: await claim_seat(http, game, "delegation", m, f"Delegate {m}") for m in MEMBERS}
    keys["obs"] = await claim_seat(http, game, "observer", None, "Observer")
    table = Table(url, http, game, keys)
    tokens = {"fac": game.facilitator_key, **{name: key.token for name, key in keys.items()}}
    async with contextlib.AsyncExitStack() as stack:
        for name, token in tokens.items():
            table.seats[name] = await stack.enter_async_context(table.connect(token, name=name))
            await table.seats[name].welcome()
        await table.at((await rest_view(http, game, game.facilitator_key))["seq"])
        yield table


@pytest.fixture
async def table(url: str, http: httpx.AsyncClient) -> AsyncIterator[Table]:
    async with open_table(url, http) as opened:
        yield opened


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The one error shape: {"error": {"code", "message", "details"?}}."""
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    body = response.json()
    assert list(body) == ["error"], body
    error: dict[str, Any] = body["error"]
    assert set(error) <= {"code", "message", "details"}, error
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"].strip(), error
    return error


def event_at(seat: Seat, seq: int) -> Frame:
    """The one event frame this seat received for `seq`."""
    found = [f for f in seat.events if f["seq"] == seq]
    assert len(found) == 1, f"{seat.name} received seq {seq} {len(found)} times"
    return found[0]


def public_part(event: dict[str, Any]) -> dict[str, Any]:
    """An event without what only the white cell may read (attribution evidence)."""
    if event.get("type") == "inject_delivered":
        return {**event, "inject": {**event["inject"], "evidence": None}}
    return event


def assert_contiguous(seat: Seat, first: int, last: int) -> None:
    seqs = [f["seq"] for f in seat.events]
    assert seqs == list(range(first, last + 1)), f"{seat.name} received seqs {seqs}"


def assert_fields(event: Frame | None, **expected: Any) -> None:
    """The event has these fields with these values (and perhaps others)."""
    assert event is not None
    assert {k: event.get(k) for k in expected} == expected, event


def titles(injects: list[Frame]) -> list[str]:
    return [i["title"] for i in injects]


def proposal(view: Frame, proposal_id: str) -> Frame:
    found = [p for p in view["proposals"] if p["id"] == proposal_id]
    assert len(found) == 1, view["proposals"]
    return found[0]


# --- lobby ---------------------------------------------------------------------------------------------


async def test_the_scenarios_are_listed(http: httpx.AsyncClient) -> None:
    response = await http.get("/api/scenarios")

    assert response.status_code == 200
    scenarios = {s["id"]: s for s in response.json()}
    assert next(iter(scenarios)) == "baltic-demo", "the scenario for a first game is listed first"
    assert list(scenarios)[1:] == sorted(list(scenarios)[1:]), "the others by id"
    baltic = scenarios["baltic-demo"]
    assert baltic["ruleset"] == "nato"
    assert baltic["rounds"] == 3
    assert [m["code"] for m in baltic["members"]] == list(ALL_MEMBERS)
    assert baltic["title"] and baltic["description"]
    phases = ["briefing", "deliberation", "council", "commitments", "adjudication"]
    assert [p["name"] for p in baltic["phases"]] == phases
    assert all(p["minutes"] > 0 for p in baltic["phases"])


async def test_a_seminar_sets_its_own_pace_for_the_phases_of_every_round(http: httpx.AsyncClient) -> None:
    game = await create_game(http, phase_minutes={"briefing": 1.5, "council": 20})
    view = await rest_view(http, game, game.facilitator_key)
    listed = next(s for s in (await http.get("/api/scenarios")).json() if s["id"] == "baltic-demo")
    expected = {p["name"]: p["minutes"] * 60 for p in listed["phases"]} | {"briefing": 90, "council": 1200}
    assert {p["name"]: p["seconds"] for p in view["phases"]} == expected
    assert expected["deliberation"] != 90 and listed["phases"][0]["minutes"] != 1.5, "only the phases named change"

    unknown = {"scenario": "baltic-demo", "phase_minutes": {"coffee": 15}}
    refused = assert_error(await http.post("/api/games", json=unknown), 422, "unknown_phase")
    assert "briefing, deliberation, council, commitments, adjudication" in refused["message"]
    too_long = {"scenario": "baltic-demo", "phase_minutes": {"council": 0}}
    assert (await http.post("/api/games", json=too_long)).status_code == 422


async def test_a_seminar_plays_fewer_rounds_and_the_msel_of_those_left_out_is_dropped(http: httpx.AsyncClient) -> None:
    game = await create_game(http, rounds=1)
    view = await rest_view(http, game, game.facilitator_key)
    assert view["rounds"] == 1
    assert [(line["number"], line["round"]) for line in view["msel"]] == [(1, 1)], "MSEL #2 is of round 2"
    other = await create_game(http)
    assert (await rest_view(http, other, other.facilitator_key))["rounds"] == 3, "the scenario's, untouched"
    for rounds in (0, 21):
        assert (await http.post("/api/games", json={"scenario": "baltic-demo", "rounds": rounds})).status_code == 422


async def test_a_matrix_argument_rated_and_rolled_for_is_in_the_actions_table_and_the_report(
    http: httpx.AsyncClient,
) -> None:
    game = await create_game(http)
    est = await claim_seat(http, game, "delegation", "EST", "Kaja")
    for command in (
        {"type": "start_game"},
        {"type": "advance_phase", "from_round": 1, "from_phase": "briefing"},
    ):
        assert (await rest_command(http, game, game.facilitator_key, command)).status_code == 200
    argument = {
        "type": "propose_action",
        "text": "Estonia closes its airspace to civil traffic near the border",
        "result": "no airliner is caught in the next incursion",
        "reasons": "the incursions follow the same corridor",
    }
    assert (await rest_command(http, game, est.token, argument)).status_code == 200
    rating = {"type": "roll_for_action", "action": "A1", "strength": "strong", "note": "a sound plan"}
    refused = await rest_command(http, game, est.token, rating)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "facilitator_only", refused.text
    assert (await rest_command(http, game, game.facilitator_key, rating)).status_code == 200
    again = await rest_command(http, game, game.facilitator_key, rating)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_rolled", again.text

    (action,) = (await rest_view(http, game, est.token))["actions"]
    roll = action["roll"]
    assert (roll["strength"], roll["target"]) == ("strong", 3) and 1 <= roll["value"] <= 6
    assert action["ruling"] == ("accepted" if roll["value"] >= 3 else "rejected")
    exported = await http.get(
        f"/api/games/{game.game_id}/export",
        params={"format": "csv", "table": "actions"},
        headers=bearer(game.facilitator_key),
    )
    (row,) = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert row == {
        "action": "A1",
        "round": "1",
        "member": "EST",
        "action_text": argument["text"],
        "result": argument["result"],
        "reasons": argument["reasons"],
        "strength": "strong",
        "target": "3",
        "roll": str(roll["value"]),
        "ruling": action["ruling"],
        "note": "a sound plan",
    }
    report = await http.get(
        f"/api/games/{game.game_id}/export", params={"format": "md"}, headers=bearer(game.facilitator_key)
    )
    assert f"argument for A1 strong (3+ on a d6) and rolls {roll['value']}" in report.text
    row = " | ".join(["A1", "1", "EST", argument["text"], argument["result"], argument["reasons"]])
    assert f"| {row} | strong, 3+: rolled {roll['value']} | {action['ruling']}: a sound plan |" in report.text
    page = await http.get(
        f"/api/games/{game.game_id}/export", params={"format": "html"}, headers=bearer(game.facilitator_key)
    )
    assert f"<td>strong, 3+: rolled {roll['value']}</td>" in page.text


async def test_a_question_to_the_white_cell_and_its_answer_stay_between_them_and_are_exported_as_such(
    http: httpx.AsyncClient,
) -> None:
    game = await create_game(http)
    est = await claim_seat(http, game, "delegation", "EST", "Kaja")
    pol = await claim_seat(http, game, "delegation", "POL", "Ola")
    assert (await rest_command(http, game, game.facilitator_key, {"type": "start_game"})).status_code == 200
    asked = {"type": "send_message", "to": ["chair"], "text": "Is the airspace closed?"}
    answered = {"type": "send_message", "to": ["EST"], "text": "Yes, since 06:00."}
    assert (await rest_command(http, game, est.token, asked)).status_code == 200
    assert (await rest_command(http, game, game.facilitator_key, answered)).status_code == 200
    mixed = await rest_command(http, game, est.token, {**asked, "to": ["chair", "POL"]})
    assert mixed.status_code == 409 and mixed.json()["error"]["code"] == "white_cell_alone", mixed.text

    said = [(m["sender"], m["recipients"], m["author"]) for m in (await rest_view(http, game, est.token))["messages"]]
    assert said == [("EST", ["chair"], "Kaja"), ("chair", ["EST"], "White Cell")]
    assert (await rest_view(http, game, pol.token))["messages"] == []
    exported = await http.get(
        f"/api/games/{game.game_id}/export",
        params={"format": "csv", "table": "messages"},
        headers=bearer(game.facilitator_key),
    )
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert [(r["sender"], r["to"], r["channel"], r["text"]) for r in rows] == [
        ("EST", "chair", "white cell", asked["text"]),
        ("chair", "EST", "white cell", answered["text"]),
    ]


async def test_the_participants_feedback_reaches_the_white_cell_the_table_and_the_report(
    http: httpx.AsyncClient,
) -> None:
    game = await create_game(http)
    est = await claim_seat(http, game, "delegation", "EST", "Kaja")
    observer = await claim_seat(http, game, "observer", None, "Olli")
    form = {"type": "give_feedback", "rating": 4, "went_well": "=SUM(A1) the council", "to_improve": "More | time"}
    early = await rest_command(http, game, est.token, form)
    assert early.status_code == 409 and early.json()["error"]["code"] == "not_ended", early.text
    assert (await rest_command(http, game, game.facilitator_key, {"type": "start_game"})).status_code == 200
    assert (await rest_command(http, game, game.facilitator_key, {"type": "end_game"})).status_code == 200
    assert (await rest_command(http, game, est.token, form)).status_code == 200
    assert (await rest_command(http, game, observer.token, {**form, "rating": 2})).status_code == 200

    seats = {est.seat_id, observer.seat_id}
    est_view = await rest_view(http, game, est.token)
    assert set(est_view["feedback_from"]) == seats and est_view["feedback"] == {}
    assert (await rest_view(http, game, game.facilitator_key))["feedback"][est.seat_id]["rating"] == 4
    exported = await http.get(
        f"/api/games/{game.game_id}/export",
        params={"format": "csv", "table": "feedback"},
        headers=bearer(game.facilitator_key),
    )
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert sorted((r["role"], r["member"], r["rating"], r["went_well"]) for r in rows) == [
        ("delegation", "EST", "4", "'=SUM(A1) the council"),  # a formula in a player's text is not run
        ("observer", "", "2", "'=SUM(A1) the council"),
    ]
    report = await http.get(
        f"/api/games/{game.game_id}/export", params={"format": "md"}, headers=bearer(game.facilitator_key)
    )
    section = report.text.split("## Participant feedback")[1]
    assert "2 forms;" in section and "on average 3.0 of 5" in section
    assert "| the EST delegation | 4 | =SUM(A1) the council | More / time |" in section


async def test_a_game_is_created_joined_by_code_and_its_seats_claimed(http: httpx.AsyncClient) -> None:
    response = await http.post("/api/games", json={"scenario": "baltic-demo", "title": "Tuesday exercise"})
    assert response.status_code == 201, response.text
    created = response.json()
    code = created["join_code"]
    assert len(code) == 6 and code.isalnum() and code.isupper()
    assert len(created["facilitator_key"]) >= 24
    assert created["seat"]["role"] == "facilitator" and created["seat"]["member"] is None
    game = Game(created["game_id"], code, created["facilitator_key"], created["seat"]["seat_id"])

    info = await http.get(f"/api/join/{code.lower()}")  # codes are read off a projector: case does not matter
    assert info.status_code == 200, info.text
    joined = info.json()
    assert joined["game_id"] == game.game_id
    assert (joined["title"], joined["scenario"], joined["status"]) == ("Tuesday exercise", "baltic-demo", "lobby")
    assert [m["code"] for m in joined["members"]] == list(ALL_MEMBERS)
    assert [s["seat_id"] for s in joined["seats"]] == [game.facilitator_seat]

    est = await claim_seat(http, game, "delegation", "EST", "Kaja")
    second_est = await claim_seat(http, game, "delegation", "EST", "Mart")
    observer = await claim_seat(http, game, "observer", None, "Press")
    red = await claim_seat(http, game, "red_cell", None, "Opposing force")
    assert len({est.token, second_est.token, observer.token, red.token, game.facilitator_key}) == 5

    seats = (await http.get(f"/api/join/{code}")).json()["seats"]
    assert [(s["role"], s["member"], s["player"]) for s in seats] == [
        ("facilitator", None, "Facilitator"),
        ("delegation", "EST", "Kaja"),
        ("delegation", "EST", "Mart"),
        ("observer", None, "Press"),
        ("red_cell", None, "Opposing force"),
    ]
    listed = await http.get(f"/api/games/{game.game_id}/seats", headers=bearer(observer.token))
    assert [s["seat_id"] for s in listed.json()] == [s["seat_id"] for s in seats]

    view = await rest_view(http, game, est.token)
    assert view["you"] == {"role": "delegation", "member": "EST"}
    assert view["status"] == "lobby"
    assert {s["player"] for s in view["seats"].values()} == {"Facilitator", "Kaja", "Mart", "Press", "Opposing force"}

    games = {g["game_id"]: g for g in (await http.get("/api/games")).json()}
    assert games[game.game_id]["status"] == "lobby"
    assert games[game.game_id]["last_seq"] == view["seq"] == 6


OWN_SCENARIO = (
    (Path(__file__).parents[2] / "game_rules/scenarios/baltic-demo.yaml")
    .read_text(encoding="utf-8")
    .replace("id: baltic-demo", "id: our-seminar", 1)
    .replace('title: "Baltic airspace: a demonstration round"', 'title: "Our seminar: the Suwałki gap"', 1)
)


async def test_a_facilitator_plays_a_scenario_file_of_their_own(http: httpx.AsyncClient) -> None:
    made = await http.post("/api/games", json={"scenario_file": OWN_SCENARIO, "facilitator": "White Cell"})
    assert made.status_code == 201, made.text
    game = made.json()
    assert game["game_id"] in {g["game_id"] for g in (await http.get("/api/games")).json()}
    listed = next(g for g in (await http.get("/api/games")).json() if g["game_id"] == game["game_id"])
    assert (listed["scenario"], listed["title"]) == ("our-seminar", "Our seminar: the Suwałki gap")
    joined = await http.post(
        f"/api/games/{game['game_id']}/seats",
        json={"join_code": game["join_code"], "role": "delegation", "member": "EST", "player": "Kaja"},
    )
    assert joined.status_code == 201, joined.text
    started = await http.post(
        f"/api/games/{game['game_id']}/commands",
        json={"type": "start_game"},
        headers=bearer(game["facilitator_key"]),
    )
    assert started.status_code == 200, started.text
    view = (await http.get(f"/api/games/{game['game_id']}/view", headers=bearer(game["facilitator_key"]))).json()
    assert view["title"] == "Our seminar: the Suwałki gap" and view["status"] == "running"
    assert "our-seminar" not in {s["id"] for s in (await http.get("/api/scenarios")).json()}, "nothing left behind"

    broken = OWN_SCENARIO.replace("rounds: 3", "rounds: many", 1).replace("ruleset: nato", "ruleset: warsaw-pact", 1)
    refused = await http.post("/api/games", json={"scenario_file": broken})
    assert_error(refused, 422, "bad_scenario")
    message = refused.json()["error"]["message"]
    assert message.startswith("This scenario file cannot be played: ") and "ruleset" in message and "rounds" in message
    assert {d["at"] for d in refused.json()["error"]["details"]} >= {"ruleset", "rounds"}
    assert_error(await http.post("/api/games", json={"scenario_file": "id: [unclosed"}), 422, "bad_scenario")
    all_wrong = "sources:\n" + "  - [not a source]\n" * 2000
    flooded = assert_error(await http.post("/api/games", json={"scenario_file": all_wrong}), 422, "bad_scenario")
    assert len(flooded["details"]) == 200 and flooded["message"].endswith(" more")
    both = {"scenario": "baltic-demo", "scenario_file": OWN_SCENARIO}
    assert_error(await http.post("/api/games", json=both), 422, "one_scenario")
    assert_error(await http.post("/api/games", json={}), 422, "one_scenario")


async def test_an_institutions_scenario_library_is_offered_as_its_files_change(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, anyio_backend: str
) -> None:
    (tmp_path / "our-seminar.yaml").write_text(OWN_SCENARIO, encoding="utf-8")
    (tmp_path / "broken.yaml").write_text(OWN_SCENARIO.replace("ruleset: nato", "ruleset: warsaw-pact"), "utf-8")
    (tmp_path / "clash.yml").write_text(OWN_SCENARIO.replace("id: our-seminar", "id: baltic-demo"), "utf-8")
    (tmp_path / "notes.txt").write_text("not a scenario", encoding="utf-8")
    caplog.set_level(logging.WARNING, logger="wargame.scenarios")
    app = create_app(Settings(database_url=database_url, scenarios=str(tmp_path)))
    async with running_server(app) as base, client(base) as http:

        async def offered() -> dict[str, str]:
            return {s["id"]: s["title"] for s in (await http.get("/api/scenarios")).json()}

        listed = await offered()
        assert set(listed) == {*scenarios.builtin(), "our-seminar"}
        assert listed["baltic-demo"] == scenarios.builtin()["baltic-demo"].title, "a shipped scenario keeps its id"
        logged = caplog.text
        assert "broken.yaml left out: ruleset:" in logged and "clash.yml left out: the id 'baltic-demo'" in logged
        made = await http.post("/api/games", json={"scenario": "our-seminar"})
        assert made.status_code == 201, made.text
        game = made.json()

        caplog.clear()
        await http.get("/api/scenarios")
        assert caplog.text == "", "a file's problems are told once, not at every listing"
        edited = OWN_SCENARIO.replace("Our seminar: the Suwałki gap", "Our seminar, second edition")
        (tmp_path / "our-seminar.yaml").write_text(edited, encoding="utf-8")
        os.utime(tmp_path / "our-seminar.yaml", (time.time() + 5, time.time() + 5))
        assert (await offered())["our-seminar"] == "Our seminar, second edition"
        (tmp_path / "our-seminar.yaml").unlink()
        assert "our-seminar" not in await offered()
        assert_error(await http.post("/api/games", json={"scenario": "our-seminar"}), 404, "unknown_scenario")
        view = await http.get(f"/api/games/{game['game_id']}/view", headers=bearer(game["facilitator_key"]))
        assert view.json()["title"] == "Our seminar: the Suwałki gap", "a game never needs its file again"


async def test_lobby_errors_are_refused_with_one_error_shape(http: httpx.AsyncClient) -> None:
    game = await create_game(http)
    other = await create_game(http)
    est = await claim_seat(http, game, "delegation", "EST")
    observer = await claim_seat(http, game, "observer", None)
    seats_url = f"/api/games/{game.game_id}/seats"

    def claim(**fields: Any) -> dict[str, Any]:
        return {"join_code": game.join_code, "role": "delegation", "player": "P", **fields}

    assert_error(await http.post("/api/games", json={"scenario": "atlantis"}), 404, "unknown_scenario")
    assert_error(await http.post(seats_url, json=claim(member="EST", join_code="ZZZZZZ")), 403, "wrong_join_code")
    elsewhere = claim(member="EST", join_code=other.join_code)
    assert_error(await http.post(seats_url, json=elsewhere), 403, "wrong_join_code")
    assert_error(await http.post("/api/games/nosuchgame/seats", json=claim(member="EST")), 403, "wrong_join_code")
    assert "GBR" in assert_error(await http.post(seats_url, json=claim(member="GBR")), 409, "not_a_member")["message"]
    assert_error(await http.post(seats_url, json=claim()), 409, "no_member")
    assert_error(await http.post(seats_url, json=claim(role="observer", member="EST")), 409, "member_for_delegations")
    assert_error(await http.post(seats_url, json=claim(role="facilitator")), 403, "facilitator_seat")
    invalid = assert_error(await http.post(seats_url, json={"role": "delegation"}), 422, "invalid_request")
    assert {d["at"] for d in invalid["details"]} >= {"body.join_code", "body.player"}
    assert_error(await http.post("/api/games", json={"scenario": 7}), 422, "invalid_request")
    assert_error(await http.get("/api/join/QQQQQQ"), 404, "unknown_join_code")
    assert_error(await http.get(f"/api/games/{game.game_id}/view"), 401, "no_credential")
    assert_error(await http.get(f"/api/games/{game.game_id}/view", headers=bearer("forged")), 401, "bad_credential")
    assert_error(await http.get(f"/api/games/{other.game_id}/view", headers=bearer(est.token)), 401, "bad_credential")
    assert_error(await http.get("/api/nothing-here"), 404, "not_found")
    assert_error(await http.delete("/api/games"), 405, "method_not_allowed")
    assert_error(await http.post(f"/api/games/{game.game_id}/end", headers=bearer(est.token)), 403, "facilitator_only")
    send = {"type": "send_message", "text": "too early"}
    assert_error(await rest_command(http, game, observer.token, send), 403, "read_only")
    assert_error(await rest_command(http, game, est.token, send), 409, "game_lobby")
    assert_error(await rest_command(http, game, est.token, {"type": "fly"}), 422, "invalid_request")

    # Refused claims leave no seat behind.
    seats = (await http.get(f"/api/join/{game.join_code}")).json()["seats"]
    assert [(s["role"], s["member"]) for s in seats] == [
        ("facilitator", None),
        ("delegation", "EST"),
        ("observer", None),
    ]
    assert (await rest_view(http, game, game.facilitator_key))["seq"] == 4


def _api_routes(routes: Iterable[Any]) -> dict[str, set[str]]:
    """Every REST route under /api that the app serves, walking into the routers it includes."""
    found: dict[str, set[str]] = {}
    for route in routes:
        if isinstance(route, APIRoute):
            if route.path.startswith("/api") and route.include_in_schema:
                found.setdefault(route.path, set()).update(m.lower() for m in route.methods)
            continue
        nested = getattr(route, "routes", None) or getattr(getattr(route, "original_router", None), "routes", None)
        for path, methods in _api_routes(nested or ()).items():
            found.setdefault(path, set()).update(methods)
    return found


async def test_openapi_lists_every_api_path(http: httpx.AsyncClient, database_url: str) -> None:
    lobby_and_play = {
        "/api/scenarios": {"get"},
        "/api/games": {"get", "post"},
        "/api/join/{join_code}": {"get"},
        "/api/games/{game_id}/seats": {"get", "post"},
        "/api/games/{game_id}/seats/{seat_id}/reassign": {"post"},
        "/api/games/{game_id}/seats/{seat_id}": {"delete"},
        "/api/games/{game_id}/bots": {"post"},
        "/api/games/{game_id}/me": {"get"},
        "/api/games/{game_id}/view": {"get"},
        "/api/games/{game_id}/events": {"get"},
        "/api/games/{game_id}/commands": {"post"},
        "/api/games/{game_id}/end": {"post"},
    }
    routed = _api_routes(create_app(Settings(database_url=database_url)).routes)
    assert routed.items() >= _api_routes(api.router.routes).items(), "the route walk missed the lobby router"

    response = await http.get("/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    documented = {path: set(ops) for path, ops in paths.items() if path.startswith("/api")}
    assert documented == routed
    for path, methods in lobby_and_play.items():
        assert methods <= documented.get(path, set()), path
        for method in methods:
            assert "404" in paths[path][method]["responses"], (path, method)


# --- roles ---------------------------------------------------------------------------------------------


async def test_a_delegation_only_ever_acts_as_its_own_member(table: Table) -> None:
    est, pol = table.seat("EST"), table.seat("POL")
    await table.start()
    await table.to_phase("deliberation")
    seq = await est.ack({"type": "request_consultation", "joined_by": ["POL"]})
    await table.to_phase("council")
    seq = await est.ack({"type": "table_proposal", "proposal": "P1", "kind": "joint_statement", "text": "Statement"})
    before = (await table.at(seq))["fac"]

    # Nothing in a command names the actor: a field that tries to is malformed, not obeyed.
    posing = await pol.refused({"type": "concur", "proposal": "P1", "member": "USA"})
    assert posing["code"] == "malformed_command" and "member" in posing["reason"]
    for command in (
        {"type": "rule_on_action", "action": "A1", "ruling": "accepted"},
        {"type": "start_game"},
        {"type": "advance_phase", "from_round": 1, "from_phase": "council"},
        {"type": "close", "proposal": "P1"},
        {"type": "inject", "title": "Fake news"},
        {"type": "end_game"},
    ):
        refusal = await est.refused(command)
        assert refusal["code"] == "facilitator_only", refusal
    claim = await est.refused({"type": "claim_seat", "seat": "x", "role": "delegation", "member": "USA", "player": "X"})
    assert claim["code"] == "server_only"
    rest = await rest_command(table.http, table.game, table.keys["EST"].token, {"type": "pause_game"})
    assert_error(rest, 409, "facilitator_only")

    seq = await pol.ack({"type": "concur", "proposal": "P1"})
    view = (await table.at(seq))["fac"]
    assert seq == before["seq"] + 1, "the refused commands changed the game"
    assert [(c["requested_by"], c["joined_by"]) for c in view["consultations"]] == [("EST", ["POL"])]
    p1 = proposal(view, "P1")
    assert p1["tabled_by"] == "EST"
    assert p1["positions"] == {"EST": "concur", "POL": "concur"}


async def test_observers_and_the_red_cell_cannot_act_for_a_member(table: Table) -> None:
    await table.start()
    obs = table.seat("obs")
    refusal = await obs.refused({"type": "send_message", "text": "hello"})
    assert refusal["code"] == "read_only"
    facilitator_command = await obs.refused({"type": "pause_game"})
    assert facilitator_command["code"] == "read_only"
    rest = await rest_command(table.http, table.game, table.keys["obs"].token, {"type": "send_message", "text": "hi"})
    assert_error(rest, 403, "read_only")

    red = await claim_seat(table.http, table.game, "red_cell", None, "Opposing force")
    async with table.connect(red.token, name="red") as red_seat:
        await red_seat.welcome()
        not_member = await red_seat.refused({"type": "send_message", "text": "we are watching"})
        assert not_member["code"] == "not_a_member"
        assert (await red_seat.refused({"type": "start_game"}))["code"] == "facilitator_only"

    # The observer still watches: the red cell's seat claim reached it.
    seq = (await rest_view(table.http, table.game, table.game.facilitator_key))["seq"]
    await obs.view_at(seq)
    assert event_at(obs, seq)["event"]["type"] == "seat_claimed"


@pytest.mark.parametrize(
    ("hello", "why"),
    [
        ({"type": "hello", "token": "forged-token"}, "does not open a seat"),
        ({"type": "hello"}, "valid hello"),
        ({"type": "hello", "token": "x", "since": -1}, "valid hello"),
        ({"type": "command", "ref": 1, "command": {"type": "start_game"}}, "valid hello"),
        ("hello?", "valid hello"),
    ],
    ids=["forged-token", "no-token", "negative-since", "command-first", "not-json"],
)
async def test_a_bad_hello_gets_an_error_and_close_1008(table: Table, hello: Frame | str, why: str) -> None:
    seat = table.connect("unused", name="intruder")
    async with contextlib.AsyncExitStack() as stack:
        await seat.open(hello)
        stack.push_async_callback(seat.close)
        error = await seat.next()
        assert error["type"] == "error" and error["code"] == "bad_hello", error
        assert why in error["reason"]
        assert await seat.wait_closed() == 1008
    assert not [f for f in seat.frames if f["type"] in ("welcome", "view", "event")]


async def test_a_credential_opens_only_its_own_game(table: Table, http: httpx.AsyncClient) -> None:
    other = await create_game(http)
    async with Seat(ws_base(table.url), other.game_id, table.keys["EST"].token, name="astray") as astray:
        error = await astray.next()
        assert (error["type"], error["code"]) == ("error", "bad_hello")
        assert await astray.wait_closed() == 1008
    foreign = await rest_command(http, other, table.game.facilitator_key, {"type": "start_game"})
    assert_error(foreign, 401, "bad_credential")
    assert_error(await http.get(f"/api/games/{other.game_id}/events", headers=bearer("nope")), 401, "bad_credential")


async def test_white_cell_commands_need_the_facilitator_key(table: Table) -> None:
    est = table.seat("EST")
    assert (await est.refused({"type": "start_game"}))["code"] == "facilitator_only"
    assert (await table.fac.command({"type": "pause_game"}))["code"] == "not_running"  # white cell, but in the lobby
    seq = await table.fac.ack({"type": "start_game"})
    assert (await table.at(seq))["EST"]["status"] == "running"

    assert (await est.refused({"type": "pause_game"}))["code"] == "facilitator_only"
    assert (await est.refused({"type": "inject", "title": "Drones"}))["code"] == "facilitator_only"
    seq = await table.fac.ack({"type": "inject", "title": "Drones over Poland", "text": "Three sightings."})
    assert "Drones over Poland" in titles((await table.at(seq))["USA"]["injects"])
    seq = await table.fac.ack({"type": "pause_game"})
    assert (await table.at(seq))["POL"]["status"] == "paused"

    end_url = f"/api/games/{table.game.game_id}/end"
    assert_error(await table.http.post(end_url, headers=bearer(table.keys["EST"].token)), 403, "facilitator_only")
    ended = await table.http.post(end_url, headers=bearer(table.game.facilitator_key))
    assert ended.status_code == 200, ended.text
    views = await table.at(ended.json()["seq"])
    assert {v["status"] for v in views.values()} == {"ended"}
    assert (await table.fac.refused({"type": "start_game"}))["code"] == "game_ended"


async def test_seats_show_who_is_connected_and_a_credential_names_its_seat(table: Table) -> None:
    game_id, key = table.game.game_id, table.game.facilitator_key
    seats = (await table.http.get(f"/api/games/{game_id}/seats", headers=bearer(key))).json()
    assert all(s["connected"] for s in seats), seats  # every seat of the table has its socket open
    await table.seat("POL").close()
    async with asyncio.timeout(10):
        while True:
            seats = (await table.http.get(f"/api/games/{game_id}/seats", headers=bearer(key))).json()
            if not next(s for s in seats if s["member"] == "POL")["connected"]:
                break
            await asyncio.sleep(0.05)
    assert [s["member"] for s in seats if not s["connected"]] == ["POL"]
    joined = (await table.http.get(f"/api/join/{table.game.join_code}")).json()["seats"]
    assert {s["member"]: s["connected"] for s in joined if s["role"] == "delegation"}["POL"] is False

    me = await table.http.get(f"/api/games/{game_id}/me", headers=bearer(table.keys["EST"].token))
    assert me.status_code == 200
    assert (me.json()["seat_id"], me.json()["member"], me.json()["role"]) == (
        table.keys["EST"].seat_id,
        "EST",
        "delegation",
    )
    assert me.json()["join_code"] is None, "the join code is the facilitator's to give out"
    chair = (await table.http.get(f"/api/games/{game_id}/me", headers=bearer(key))).json()
    title = (await table.http.get(f"/api/join/{table.game.join_code}")).json()["title"]
    assert (chair["role"], chair["join_code"], chair["title"]) == ("facilitator", table.game.join_code, title)
    assert_error(await table.http.get(f"/api/games/{game_id}/me", headers=bearer("nope")), 401, "bad_credential")


async def test_every_socket_is_told_at_once_who_is_connected(table: Table) -> None:
    """A presence frame names the seats with a socket open: each socket is sent one on joining and another when
    that changes, so the facilitator's console shows a player leave and come back without asking the server."""
    everyone = {key.seat_id for key in table.keys.values()} | {table.game.facilitator_seat}
    for seat in table.seats.values():
        await seat.until_connected(everyone)
    pol = table.keys["POL"]
    await table.seat("POL").close()
    await table.fac.until_connected(everyone - {pol.seat_id})
    await table.seat("EST").until_connected(everyone - {pol.seat_id})
    async with table.connect(pol.token, name="POL again") as back:
        await back.until_connected(everyone)
        await table.fac.until_connected(everyone)

        # A second socket for a seat already connected changes nothing: only it is told, on joining.
        told = [f for f in table.fac.frames if f["type"] == "presence"]
        async with table.connect(table.keys["EST"].token, name="EST twice") as twice:
            await twice.until_connected(everyone)
        await table.fac.ack({"type": "broadcast", "text": "still here"})
        await table.fac.settle()
        assert [f for f in table.fac.frames if f["type"] == "presence"] == told


def test_a_server_on_every_interface_names_the_addresses_players_open() -> None:
    for local in ("127.0.0.1", "localhost", "::1", "[::1]"):
        assert reach(local, 8000) == ([], LOOPBACK_ONLY), local
    assert reach("10.20.30.40", 8000) == (["http://10.20.30.40:8000"], "")
    assert reach("0.0.0.0", 8000, "https://wargame.example.org") == (["https://wargame.example.org"], "")
    urls, advice = reach("0.0.0.0", 8123)
    if in_a_container():  # the container's addresses are not the ones players open
        assert (urls, advice) == ([], IN_A_CONTAINER)
        return
    for url in urls:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        assert port == "8123" and not ipaddress.ip_address(host).is_loopback, url
        with socket.socket() as probe:
            probe.bind((host, 0))  # one of this computer's addresses: binding to anyone else's fails
    if any(name != "lo" for _, name in socket.if_nameindex()):
        assert urls and not advice, "this computer is on a network, but no address of it was found"


def test_wargame_serve_on_a_port_another_program_holds_says_so_and_which_to_use() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1, done.stderr
    assert f"port {port} is taken by another program" in done.stderr and f"--port {port + 1}" in done.stderr
    assert "Traceback" not in done.stderr, done.stderr


async def test_the_console_learns_where_players_reach_the_server(database_url: str, anyio_backend: str) -> None:
    """A server on loopback says nobody else can join, and what to do; one on every interface lists its
    addresses, with the port the request came in on; `PUBLIC_URL` overrides both."""
    loopback = create_app(Settings(database_url=database_url, host="127.0.0.1"))
    async with running_server(loopback) as base, client(base) as http:
        assert (await http.get("/api/network")).json() == {"urls": [], "advice": LOOPBACK_ONLY}
    everywhere = create_app(Settings(database_url=database_url, host="0.0.0.0"))
    async with running_server(everywhere) as base, client(base) as http:
        answer = (await http.get("/api/network")).json()
    port = int(base.rsplit(":", 1)[1])
    urls, advice = reach("0.0.0.0", port)
    assert answer == {"urls": urls, "advice": advice}
    assert all(url.endswith(f":{port}") for url in answer["urls"])
    proxied = create_app(Settings(database_url=database_url, public_url="http://192.168.1.20:8000/"))
    async with running_server(proxied) as base, client(base) as http:
        assert (await http.get("/api/network")).json() == {"urls": ["http://192.168.1.20:8000"], "advice": ""}
    with pytest.raises(ValueError, match="PUBLIC_URL is an address such as"):
        Settings(public_url="192.168.1.20:8000")


async def test_a_server_without_the_wire_protocol_plays_through_asgi(database_url: str, anyio_backend: str) -> None:
    """Served by stock Uvicorn (as `uvicorn server.app:app` would), sockets go through `wire.AsgiWire`: the same
    frames, answers, show-outs and refusals."""
    server = LiveServer(database_url, ws="websockets-sansio")
    await server.start()
    try:
        async with client(server.url) as http:
            game = await create_game(http)
            est = await claim_seat(http, game, "delegation", "EST", "Kaja")
            async with (
                Seat(server.ws_url, game.game_id, game.facilitator_key, name="chair") as chair,
                Seat(server.ws_url, game.game_id, est.token, name="EST") as kaja,
            ):
                for seat in (chair, kaja):
                    await seat.welcome()
                    await seat.until(lambda f: f["type"] == "view")
                started = await chair.ack({"type": "start_game"})
                assert (await kaja.view_at(started))["status"] == "running"
                refused = await kaja.refused({"type": "start_game"})
                assert refused["reason"]
                released = await http.delete(
                    f"/api/games/{game.game_id}/seats/{est.seat_id}", headers=bearer(game.facilitator_key)
                )
                assert released.status_code == 204
                assert await kaja.wait_closed() == 1000 and kaja.close_reason == "the facilitator released this seat"
            async with Seat(server.ws_url, game.game_id, est.token, name="again") as again:
                assert (await again.next())["code"] == "bad_hello"
                assert await again.wait_closed() == 1008
    finally:
        await server.stop()


async def _connected(table: Table, member: str) -> bool:
    game_id, key = table.game.game_id, table.game.facilitator_key
    seats = (await table.http.get(f"/api/games/{game_id}/seats", headers=bearer(key))).json()
    connected: bool = next(s for s in seats if s["member"] == member)["connected"]
    return connected


async def test_a_socket_that_does_not_read_is_dropped_with_1008_and_catches_up_with_since(
    table: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a client does not take piles up in the server's transport; past `wire.UNSENT_LIMIT` the room drops the
    socket (1008), the game goes on for everyone else, and the client resumes from the last seq it got."""
    monkeypatch.setattr(wire, "UNSENT_LIMIT", 32 * 1024)
    await table.seat("POL").close()
    loop = asyncio.get_running_loop()
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window: the server's buffer fills soon
    raw.setblocking(False)
    await loop.sock_connect(raw, ("127.0.0.1", int(table.url.rsplit(":", 1)[1])))
    deaf = ClientProtocol(parse_uri(f"{ws_base(table.url)}/ws/games/{table.game.game_id}"), max_size=None)
    deaf.send_request(deaf.connect())
    for chunk in deaf.data_to_send():
        await loop.sock_sendall(raw, chunk)
    while deaf.state is not OPEN:
        deaf.receive_data(await loop.sock_recv(raw, 4096))
    deaf.send_text(json.dumps({"type": "hello", "token": table.keys["POL"].token}).encode())
    for chunk in deaf.data_to_send():
        await loop.sock_sendall(raw, chunk)
    async with asyncio.timeout(10):
        while not await _connected(table, "POL"):
            await asyncio.sleep(0.05)

    sent, seq = 0, 0
    while await _connected(table, "POL"):  # the socket reads nothing meanwhile (the kernel's buffers take megabytes)
        answer = await table.fac.command({"type": "broadcast", "text": f"bulletin {sent} " + "x" * 3900})
        if answer.get("code") == "rate_limited":
            await asyncio.sleep(answer["retry_after"])
            continue
        assert answer["type"] == "ack", answer
        seq, sent = answer["seq"], sent + 1
        assert sent < 2000, "the socket was never dropped"

    got: list[int] = []  # read within `close_timeout`, or the server cuts the connection (1006)
    async with asyncio.timeout(30):
        while chunk := await loop.sock_recv(raw, 1 << 16):
            deaf.receive_data(chunk)
            got += [
                json.loads(e.data)["seq"]
                for e in deaf.events_received()
                if isinstance(e, WireFrame) and e.data.startswith(b'{"type":"event"')
            ]
    raw.close()
    assert deaf.close_rcvd is not None and deaf.close_rcvd.code == 1008, deaf.close_rcvd
    assert got == list(range(got[0], seq + 1))  # in order up to the push that found it behind, then cut off
    seq = await table.fac.ack({"type": "broadcast", "text": "after the drop"})
    await table.at(seq, [name for name in table.seats if name != "POL"])  # nobody else missed anything

    async with table.connect(table.keys["POL"].token, since=got[-1], name="back") as back:
        assert [f["seq"] for f in await back.until(lambda f: f.get("seq") == seq) if f["type"] == "event"] == list(
            range(got[-1] + 1, seq + 1)
        )


async def test_a_reassigned_seat_stops_answering_to_its_old_credential(table: Table) -> None:
    est = table.seat("EST")
    old = table.keys["EST"]
    response = await table.http.post(
        f"/api/games/{table.game.game_id}/seats/{old.seat_id}/reassign",
        json={"player": "Successor"},
        headers=bearer(table.game.facilitator_key),
    )
    assert response.status_code == 200, response.text
    new_token = response.json()["token"]
    assert new_token != old.token

    assert await est.wait_closed() == 1000  # the old player's socket is closed by the server
    assert est.close_reason == "the seat was given to another player"
    old_view = await table.http.get(f"/api/games/{table.game.game_id}/view", headers=bearer(old.token))
    assert_error(old_view, 401, "bad_credential")
    async with table.connect(old.token, name="old") as stale:
        assert (await stale.next())["code"] == "bad_hello"
        assert await stale.wait_closed() == 1008
    async with table.connect(new_token, name="new") as successor:
        welcome = await successor.welcome()
        assert welcome["seat"]["seat_id"] == old.seat_id and welcome["seat"]["player"] == "Successor"
        view = (await successor.next())["view"]
        assert view["seats"][old.seat_id]["player"] == "Successor"


async def test_a_seat_change_the_rules_refuse_leaves_the_seat_and_its_credential_as_they_were(table: Table) -> None:
    est = table.keys["EST"]
    await table.fac.ack({"type": "end_game"})
    seat = f"/api/games/{table.game.game_id}/seats/{est.seat_id}"
    chair = bearer(table.game.facilitator_key)
    reassigned = await table.http.post(f"{seat}/reassign", json={"player": "Successor"}, headers=chair)
    released = await table.http.delete(seat, headers=chair)
    for refused in (reassigned, released):
        assert_error(refused, 409, "game_ended")
    view = await rest_view(table.http, table.game, est.token)  # the credential still opens the seat
    assert view["seats"][est.seat_id]["player"] == "Delegate EST"


# --- phases --------------------------------------------------------------------------------------------


async def test_a_command_outside_its_phase_is_refused_naming_the_phase(table: Table) -> None:
    est = table.seat("EST")
    lobby = await est.refused({"type": "send_message", "text": "early"})
    assert lobby["code"] == "game_lobby"
    await table.start()

    tabling = await est.refused({"type": "table_proposal", "proposal": "P1", "kind": "joint_statement"})
    assert tabling["code"] == "wrong_phase"
    assert "briefing" in tabling["reason"] and "council" in tabling["reason"]
    consulting = await est.refused({"type": "request_consultation"})
    assert consulting["code"] == "wrong_phase" and "deliberation" in consulting["reason"]
    pledging = await est.refused({"type": "pledge", "proposal": "P1", "forces": 1})
    assert pledging["code"] == "wrong_phase" and "commitments" in pledging["reason"]
    rest = await rest_command(table.http, table.game, table.keys["EST"].token, {"type": "invoke", "attack": {}})
    assert "briefing" in assert_error(rest, 409, "wrong_phase")["message"]

    seq = await table.fac.ack({"type": "advance_phase", "from_round": 1, "from_phase": "briefing"})
    assert (await table.at(seq))["EST"]["phase"] == "deliberation"
    stale = await table.fac.refused({"type": "advance_phase", "from_round": 1, "from_phase": "briefing"})
    assert stale["code"] == "stale_phase"
    assert "briefing" in stale["reason"] and "deliberation" in stale["reason"]
    assert (await rest_view(table.http, table.game, table.game.facilitator_key))["seq"] == seq
    await est.ack({"type": "request_consultation"})


async def test_the_server_stamps_its_own_clock_and_pause_resume_extend_move_the_deadline(table: Table) -> None:
    wall = time.time
    before = wall()
    seq = await table.fac.ack({"type": "start_game", "at": 5.0})  # the client's `at` is ignored
    after = wall()
    started = (await table.at(seq))["EST"]
    assert before + 60 <= started["deadline"] <= after + 60
    assert started["paused_remaining"] is None

    seq = await table.fac.ack({"type": "extend_phase", "seconds": 30})
    extended = (await table.at(seq))["USA"]
    assert extended["deadline"] == started["deadline"] + 30

    before = wall()
    seq = await table.fac.ack({"type": "pause_game", "at": 0})
    after = wall()
    paused = (await table.at(seq))["POL"]
    assert (paused["status"], paused["deadline"]) == ("paused", None)
    assert extended["deadline"] - after <= paused["paused_remaining"] <= extended["deadline"] - before
    assert (await table.fac.command({"type": "pause_game"}))["code"] == "not_running"
    assert (await table.seat("EST").refused({"type": "send_message", "text": "hi"}))["code"] == "game_paused"

    seq = await table.fac.ack({"type": "extend_phase", "seconds": 15})
    longer = (await table.at(seq))["obs"]
    assert longer["paused_remaining"] == paused["paused_remaining"] + 15 and longer["deadline"] is None

    await asyncio.sleep(0.05)
    before = wall()
    seq = await table.fac.ack({"type": "resume_game", "at": 1e12})
    after = wall()
    resumed = (await table.at(seq))["fac"]
    assert resumed["status"] == "running" and resumed["paused_remaining"] is None
    assert before + longer["paused_remaining"] <= resumed["deadline"] <= after + longer["paused_remaining"]
    assert (await table.fac.command({"type": "resume_game"}))["code"] == "not_paused"


class FrozenClock:
    """The server's clock, standing still until the test moves it."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    """Replace the clock create_app hands to the rooms and the deadline loop (server.app reads `time.time`)."""
    frozen = FrozenClock(1_800_000_000.0)
    monkeypatch.setattr(app_module, "time", SimpleNamespace(time=frozen))
    return frozen


async def test_the_server_advances_the_phase_when_the_deadline_passes(
    database_url: str, clock: FrozenClock, anyio_backend: str
) -> None:
    t0 = clock.now
    async with live_server(database_url) as base, client(base) as http, open_table(base, http) as table:
        seq = await table.fac.ack({"type": "start_game"})
        assert (await table.at(seq))["EST"]["deadline"] == t0 + 60

        await table.seat("EST").settle(0.6)  # the deadline loop runs every 0.25 s; nothing is due yet
        assert table.seat("EST").last_seq == seq

        clock.now = t0 + 60
        views = await table.until_phase("deliberation")
        assert {(v["phase"], v["deadline"]) for v in views.values()} == {("deliberation", t0 + 60 + 240)}
        for seat in table.seats.values():
            assert_fields(event_at(seat, seq + 1)["event"], type="phase_began", round=1, phase="deliberation")
            assert event_at(seat, seq + 1)["event"]["deadline"] == t0 + 300
        stale = await table.fac.refused({"type": "advance_phase", "from_round": 1, "from_phase": "briefing"})
        assert stale["code"] == "stale_phase"

        # The council's deadline decides what is pending: one objection blocks.
        seq = await table.fac.ack({"type": "advance_phase", "from_round": 1, "from_phase": "deliberation"})
        council_deadline = (await table.at(seq))["fac"]["deadline"]
        assert council_deadline == t0 + 60 + 300
        await table.seat("EST").ack({"type": "table_proposal", "proposal": "P1", "kind": "sanctions"})
        seq = await table.seat("USA").ack({"type": "object", "proposal": "P1"})
        await table.at(seq)
        clock.now = council_deadline + 0.5
        views = await table.until_phase("commitments")
        assert {proposal(v, "P1")["outcome"] for v in views.values()} == {"blocked"}
        assert {v["deadline"] for v in views.values()} == {clock.now + 180}
        closing = [f["event"] for f in table.seat("obs").events if f["seq"] > seq]
        assert_fields(closing[0], type="proposal_closed", proposal="P1", outcome="blocked")
        assert_fields(closing[-1], type="phase_began", round=1, phase="commitments")

        # A paused phase has no deadline to pass.
        seq = await table.fac.ack({"type": "pause_game"})
        remaining = (await table.at(seq))["fac"]["paused_remaining"]
        assert remaining == 180
        clock.now += 10_000
        await table.fac.settle(0.6)
        assert table.fac.last_seq == seq
        seq = await table.fac.ack({"type": "resume_game"})
        assert (await table.at(seq))["fac"]["deadline"] == clock.now + remaining


def _frames(conn: Connection) -> list[Frame]:
    assert isinstance(conn.wire, Tap)
    return conn.wire.take()


async def _until(condition: Any, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


async def test_the_deadline_loop_advances_once_even_with_two_processes(migrated_url: str, anyio_backend: str) -> None:
    """`deadlines.enforce` against a real store and real rules, with time injected; two `Rooms` on one database
    stand for two server processes racing to end the same phase."""
    clock = FrozenClock(2_000_000_000.0)
    stores = [EventStore.from_url(migrated_url), EventStore.from_url(migrated_url)]
    rooms = [Rooms(stores[0], clock), Rooms(stores[1], clock)]
    loops: list[asyncio.Task[None]] = []
    try:
        lobby = Lobby(stores[0], rooms[0])
        created = await lobby.create_game("baltic-demo", None, "White Cell")
        await lobby.claim_seat(created.game.id, created.game.join_code, "delegation", "EST", "Kaja")
        first: Room = await lobby.room(created.game.id)
        second = await rooms[1].get(created.game.id)
        assert second is not None
        watcher = Connection(seat_id="watcher", viewer=FACILITATOR, wire=Tap(), credential="")
        await first.join(watcher, None)

        started = await first.submit(StartGame(at=123.0), CHAIR)
        assert isinstance(started, Accepted)
        assert first.state.deadline == clock.now + 60
        await second.catch_up()
        assert second.state.deadline == first.state.deadline

        loops = [asyncio.create_task(deadlines.enforce(r, clock, every=0.005)) for r in rooms]
        await asyncio.sleep(0.05)
        assert (first.state.phase, second.state.phase) == ("briefing", "briefing")

        clock.now += 60
        await _until(lambda: first.state.phase == "deliberation")
        await asyncio.sleep(0.1)  # let the loser's stale attempt, if any, be refused
        await second.catch_up()
        assert second.state.phase == first.state.phase == "deliberation"
        assert first.state.deadline == second.state.deadline == clock.now + 240

        # A council with a pending proposal: the deadline closes it, exactly once.
        assert isinstance(await first.submit(AdvancePhase(from_round=1, from_phase="deliberation"), CHAIR), Accepted)
        assert isinstance(await first.submit(TableProposal(proposal="P1", kind="sanctions"), "EST"), Accepted)
        assert isinstance(await first.submit(RaiseObjection(proposal="P1"), "POL"), Accepted)
        await second.catch_up()
        clock.now += 300
        await _until(lambda: first.state.phase == "commitments")
        await asyncio.sleep(0.1)
        await second.catch_up()
        assert second.state.phase == "commitments"
        assert first.state.proposals["P1"].outcome == second.state.proposals["P1"].outcome == "blocked"

        log = [EVENT_ADAPTER.validate_json(e.payload) for e in await stores[0].read(created.game.id)]
        began = [(e.round, e.phase) for e in log if e.type == "phase_began"]
        assert began == [(1, "briefing"), (1, "deliberation"), (1, "council"), (1, "commitments")]
        assert [e.type for e in log].count("proposal_closed") == 1

        seen = [f for f in _frames(watcher) if f["type"] == "event"]
        assert [f["seq"] for f in seen] == list(range(4, first.state.seq + 1))  # joined at seq 3
    finally:
        for task in loops:
            task.cancel()
        for task in loops:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for store in stores:
            await store.dispose()


# --- rooms in-process: paths a live test cannot reach deterministically --------------------------------


@contextlib.asynccontextmanager
async def _in_process_game(url: str, processes: int = 1) -> AsyncIterator[tuple[str, list[Room], list[EventStore]]]:
    """A baltic-demo game on a real store, seen by `processes` independent Rooms (one per server process)."""
    stores = [EventStore.from_url(url) for _ in range(processes)]
    try:
        rooms = [Rooms(store, time.time) for store in stores]
        created = await Lobby(stores[0], rooms[0]).create_game("baltic-demo", None, "White Cell")
        loaded = [await r.get(created.game.id) for r in rooms]
        assert all(room is not None for room in loaded)
        yield created.game.id, [room for room in loaded if room is not None], stores
    finally:
        for store in stores:
            await store.dispose()


async def test_games_nobody_uses_leave_memory_and_come_back_from_the_store(
    migrated_url: str, anyio_backend: str
) -> None:
    store = EventStore.from_url(migrated_url)
    try:
        rooms = Rooms(store, time.time)
        lobby = Lobby(store, rooms)
        running = (await lobby.create_game("baltic-demo", "running", "White Cell")).game.id
        watched = (await lobby.create_game("baltic-demo", "watched", "White Cell")).game.id
        ended = (await lobby.create_game("baltic-demo", "ended", "White Cell")).game.id
        for played, command in ((running, StartGame()), (ended, EndGame(reason="a short seminar"))):
            assert isinstance(await (await lobby.room(played)).submit(command, CHAIR), Accepted)
        before = state_hash((await lobby.room(ended)).state)
        watcher = Connection(seat_id="watcher", viewer=FACILITATOR, wire=Tap(), credential="")
        await (await lobby.room(watched)).join(watcher, None)

        await rooms.unload_idle(after=3600)
        assert {r.game_id for r in rooms.loaded()} == {running, watched, ended}, "nothing idle for an hour"
        await rooms.unload_idle(after=0)
        assert {r.game_id for r in rooms.loaded()} == {running, watched}, "a clock runs in one, a socket in the other"

        again = await lobby.room(ended)
        assert state_hash(again.state) == before and again.state.status == "ended"
    finally:
        await store.dispose()


async def test_a_seat_that_falls_behind_is_dropped_without_failing_the_command(
    migrated_url: str, anyio_backend: str
) -> None:
    async with _in_process_game(migrated_url) as (game_id, (room,), (store,)):
        # `slow` took its view and reads no more.
        slow = Connection(seat_id="slow", viewer=FACILITATOR, wire=Tap(limit=1), credential="")
        fast = Connection(seat_id="fast", viewer=FACILITATOR, wire=Tap(), credential="")
        await room.join(slow, None)
        await room.join(fast, None)
        _frames(fast)

        result: object
        try:
            result = await room.submit(Broadcast(text="Jets scrambled"), CHAIR)
        except RuntimeError as error:
            result = error
        stored = await store.get_game(game_id)

        assert isinstance(result, Accepted), f"the command failed after it was stored: {result!r}"
        assert stored is not None and room.state.seq == stored.last_seq == result.seq
        assert [(f["type"], f["seq"]) for f in _frames(fast)] == [("event", result.seq), ("view", result.seq)]
        assert slow not in room.connections
        assert slow.wire.closed and isinstance(slow.wire, Tap) and slow.wire.close_code == 1008


async def test_every_pushed_view_is_exactly_the_viewers_view(migrated_url: str, anyio_backend: str) -> None:
    """A view frame is spliced from the part every viewer shares (serialised once a batch) and the viewer's own:
    whatever the viewer, the frame's view is `view(state, viewer)`, nothing more or less."""
    viewers = [
        FACILITATOR,
        Viewer(role="umpire"),
        Viewer(role="observer"),
        Viewer(role="red_cell"),
        *(Viewer(role="delegation", member=m) for m in MEMBERS),
    ]
    async with _in_process_game(migrated_url) as (_, (room,), _stores):
        conns = [Connection(seat_id=f"s{i}", viewer=v, wire=Tap(), credential="") for i, v in enumerate(viewers)]
        for conn in conns:
            await room.join(conn, None)
        for command in (
            StartGame(),
            Broadcast(text="Jets scrambled"),
            AdvancePhase(from_round=1, from_phase="briefing"),
        ):
            assert isinstance(await room.submit(command, CHAIR), Accepted)
        for conn in conns:
            pushed = [f for f in _frames(conn) if f["type"] == "view"]
            assert len(pushed) == 4  # on joining, then one a command
            assert pushed[-1]["seq"] == room.state.seq
            assert pushed[-1]["view"] == json.loads(to_json(view_of(room.state, conn.viewer))), conn.viewer


async def test_joining_a_room_behind_the_store_repeats_nothing(migrated_url: str, anyio_backend: str) -> None:
    async with _in_process_game(migrated_url, processes=2) as (_, (here, there), _stores):
        since = here.state.seq
        assert isinstance(await here.submit(Broadcast(text="one"), CHAIR), Accepted)
        assert isinstance(await here.submit(Broadcast(text="two"), CHAIR), Accepted)
        watcher = Connection(seat_id="watcher", viewer=FACILITATOR, wire=Tap(), credential="")
        await there.join(watcher, since)  # `there` is another process that has not heard of the news yet
        await there.catch_up()

        frames = [(f["type"], f["seq"]) for f in _frames(watcher) if f["type"] in ("event", "view")]
        events = [seq for kind, seq in frames if kind == "event"]
        assert events == [since + 1, since + 2], frames
        views = [seq for kind, seq in frames if kind == "view"]
        assert views == sorted(views) and views[0] >= events[-1], frames


# --- live play -----------------------------------------------------------------------------------------


async def test_a_round_of_council_play_reaches_every_seat_in_order(table: Table) -> None:
    est, pol, usa = table.seat("EST"), table.seat("POL"), table.seat("USA")
    first = table.fac.last_seq + 1
    await table.start()
    acks: dict[str, int] = {}

    await table.to_phase("deliberation")
    acks["consult"] = await est.ack({"type": "request_consultation", "joined_by": ["LTU"]})
    assert (await est.refused({"type": "request_consultation"}))["code"] == "already_convened"
    await table.to_phase("council")
    acks["P1"] = await est.ack(
        {"type": "table_proposal", "proposal": "P1", "kind": "joint_statement", "text": "We condemn the incursion."}
    )
    acks["P1-POL"] = await pol.ack({"type": "concur", "proposal": "P1"})
    acks["P1-USA"] = await usa.ack({"type": "object", "proposal": "P1"})
    acks["P2"] = await pol.ack(
        {
            "type": "table_proposal",
            "proposal": "P2",
            "kind": "deploy_forces",
            "procedure": "silence",
            "requirement": {"forces": 12},
            "text": "Reinforce the air policing mission.",
        }
    )
    assert (await usa.refused({"type": "concur", "proposal": "P2"}))["code"] == "wrong_procedure"
    assert (await est.refused({"type": "pledge", "proposal": "P2", "forces": 2}))["code"] == "wrong_phase"
    acks["close"] = await table.advance()
    acks["EST-pledge"] = await est.ack({"type": "pledge", "proposal": "P2", "forces": 2})
    acks["POL-pledge"] = await pol.ack({"type": "pledge", "proposal": "P2", "forces": 6})
    assert (await usa.refused({"type": "pledge", "proposal": "P1", "forces": 3}))["code"] == "not_a_force_requirement"
    last = acks["POL-pledge"]
    views = await table.at(last)

    for name, view in views.items():
        p1, p2 = proposal(view, "P1"), proposal(view, "P2")
        assert (p1["outcome"], p1["positions"]) == ("blocked", {"EST": "concur", "POL": "concur", "USA": "object"})
        assert (p2["outcome"], p2["procedure"], p2["pledges"]) == ("adopted", "silence", {"EST": 2, "POL": 6}), name
        assert [(c["requested_by"], c["joined_by"]) for c in view["consultations"]] == [("EST", ["LTU"])]
        assert (view["phase"], view["seq"]) == ("commitments", last)

    # Every seat received every seq once, in order; what two seats both see, they see alike; and everything
    # this test's commands caused is public, so every seat sees it.
    by_seq = {f["seq"]: f["event"] for f in table.fac.events}
    assert None not in by_seq.values(), "the facilitator sees everything"
    caused = {*acks.values()} | set(range(acks["P2"] + 1, acks["close"] + 1))
    for seat in table.seats.values():
        assert_contiguous(seat, first, last)
        for frame in seat.events:
            assert frame["event"] is None or public_part(frame["event"]) == public_part(by_seq[frame["seq"]]), (
                seat.name,
                frame,
            )
            assert frame["event"] is not None or frame["seq"] not in caused, (seat.name, frame)
    assert by_seq[acks["consult"]]["type"] == "consultation_requested"
    assert_fields(
        by_seq[acks["P1"]],
        type="proposal_tabled",
        proposal="P1",
        kind="joint_statement",
        procedure="consensus",
        tabled_by="EST",
        text="We condemn the incursion.",
    )
    assert_fields(by_seq[acks["P1-USA"]], type="position_taken", proposal="P1", member="USA", stance="object")
    closing = [by_seq[s] for s in range(acks["P2"] + 1, acks["close"] + 1)]
    closed = [(e["proposal"], e["outcome"]) for e in closing if e["type"] == "proposal_closed"]
    assert closed == [("P1", "blocked"), ("P2", "adopted")]
    assert [e["type"] for e in closing[:2]] == ["proposal_closed", "proposal_closed"]
    assert_fields(closing[-1], type="phase_began", round=1, phase="commitments")
    assert_fields(by_seq[acks["EST-pledge"]], type="forces_pledged", proposal="P2", member="EST", forces=2)

    # A seat's answer comes after the events its command caused.
    ack_at = next(i for i, f in enumerate(est.frames) if f["type"] == "ack" and f["seq"] == acks["P1"])
    event_index = next(i for i, f in enumerate(est.frames) if f["type"] == "event" and f["seq"] == acks["P1"])
    assert event_index < ack_at


async def test_after_its_whole_view_a_seat_is_sent_only_what_changed(table: Table) -> None:
    """A socket gets its whole view once; after each command an update with the changed sections and the logs' new
    records, which applied in turn give the view GET /view answers (`Seat` applies them: see tests/integration/live.py).
    """
    await table.start()
    est = table.seat("EST")
    for i in range(20):
        seq = await est.ack({"type": "send_message", "to": ["POL"] if i % 2 else [], "text": f"Note {i}"})
    views = await table.at(seq)
    tokens = {"fac": table.game.facilitator_key, **{name: key.token for name, key in table.keys.items()}}
    for name, seat in table.seats.items():
        assert views[name] == await rest_view(table.http, table.game, tokens[name]), name
        whole = [f for f in seat.frames if f["type"] == "view" and "update" not in f]
        assert len(whole) == 1, f"{name} was sent its whole view again"
        last = next(f["update"] for f in reversed(seat.frames) if f["type"] == "view" and f["seq"] == seq)
        assert last["type"] == "update" and last["set"] == {"seq": seq}, name
        reads = name in ("EST", "POL", "fac")  # the last note went to POL alone
        assert last["append"] == ({"messages": [views[name]["messages"][-1]]} if reads else {}), name
    assert [m["text"] for m in views["USA"]["messages"]] == [f"Note {i}" for i in range(0, 20, 2)]


async def test_a_fault_in_working_out_the_updates_sends_every_seat_its_whole_view(
    table: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in making a batch's updates must not leave the seats without a command its sender was told was played:
    the command is acknowledged, every seat is sent its whole view at once, and updates go on from there."""
    await table.start()
    est = table.seat("EST")
    await est.ack({"type": "send_message", "text": "before"})
    made = Shown.update_frames
    faults: list[int] = []

    def fails_once(self: Shown, state: State, *args: Any, **kwargs: Any) -> dict[str, str]:
        if not faults:
            faults.append(state.seq)
            raise RuntimeError("a bug in the updates")
        return made(self, state, *args, **kwargs)

    monkeypatch.setattr(Shown, "update_frames", fails_once)
    during = await est.ack({"type": "send_message", "to": ["POL"], "text": "during"})
    assert faults == [during]
    await table.at(during)
    for name, seat in table.seats.items():
        whole = [f["seq"] for f in seat.frames if f["type"] == "view" and "update" not in f]
        assert whole[1:] == [during], f"{name} was not sent its whole view for the batch: {whole}"
    after = await est.ack({"type": "send_message", "text": "after"})
    views = await table.at(after)
    tokens = {"fac": table.game.facilitator_key, **{name: key.token for name, key in table.keys.items()}}
    for name, seat in table.seats.items():
        assert views[name] == await rest_view(table.http, table.game, tokens[name]), name
        assert ("during" in [m["text"] for m in views[name]["messages"]]) == (name in ("EST", "POL", "fac")), name
        shown = next(f for f in reversed(seat.frames) if f["type"] == "view" and f["seq"] == after)
        assert "update" in shown, f"{name} was sent its whole view again instead of an update"


async def test_a_private_message_reaches_only_its_sender_and_recipient(table: Table) -> None:
    secret = "Our F-35s can be over Amari in forty minutes"
    await table.start()
    seq = await table.seat("EST").ack({"type": "send_message", "to": ["POL"], "text": secret})
    views = await table.at(seq)

    for name in ("EST", "POL", "fac"):
        event = event_at(table.seat(name), seq)["event"]
        assert event["type"] == "message_sent" and event["message"]["text"] == secret, name
        assert event["message"]["sender"] == "EST" and event["message"]["recipients"] == ["POL"]
        assert [m["text"] for m in views[name]["messages"]] == [secret], name
    for name in ("USA", "obs"):
        seat = table.seat(name)
        assert event_at(seat, seq)["event"] is None, name
        assert views[name]["messages"] == [], name
        assert views[name]["seq"] == seq
        assert secret not in json.dumps(seat.frames), name

    usa_token = table.keys["USA"].token
    assert secret not in json.dumps(await rest_view(table.http, table.game, usa_token))
    log = (await table.http.get(f"/api/games/{table.game.game_id}/events", headers=bearer(usa_token))).json()
    assert [e["seq"] for e in log] == list(range(1, seq + 1))
    assert log[-1] == {"seq": seq, "event": None}
    pol_log = await table.http.get(
        f"/api/games/{table.game.game_id}/events?after={seq - 1}", headers=bearer(table.keys["POL"].token)
    )
    assert pol_log.json() == [{"seq": seq, "event": event_at(table.seat("POL"), seq)["event"]}]

    # To the whole alliance: every delegation; the observer is not a delegation.
    seq = await table.seat("USA").ack({"type": "send_message", "text": "Consultations at noon."})
    await table.at(seq)
    for name in MEMBERS:
        assert event_at(table.seat(name), seq)["event"]["message"]["text"] == "Consultations at noon."
    assert event_at(table.seat("obs"), seq)["event"] is None


async def test_injects_and_free_form_actions_reach_only_the_seats_they_name(table: Table) -> None:
    await table.start()
    eyes_only = "Intercepted orders name Narva"
    seq = await table.fac.ack({"type": "inject", "title": "SIGINT", "text": eyes_only, "visible_to": ["EST", "POL"]})
    views = await table.at(seq)
    for name in ("EST", "POL", "fac"):
        assert event_at(table.seat(name), seq)["event"]["inject"]["text"] == eyes_only
        assert [i["text"] for i in views[name]["injects"] if i["title"] == "SIGINT"] == [eyes_only]
    for name in ("USA", "obs"):
        assert event_at(table.seat(name), seq)["event"] is None
        assert "SIGINT" not in titles(views[name]["injects"])
        assert eyes_only not in json.dumps(table.seat(name).frames)

    seq = await table.fac.ack({"type": "inject", "title": "Press", "text": "Jets seen over Tallinn"})
    views = await table.at(seq)
    assert all(event_at(s, seq)["event"]["inject"]["title"] == "Press" for s in table.seats.values())
    assert all("Press" in titles(v["injects"]) for v in views.values())
    refusal = await table.fac.refused({"type": "inject", "title": "x", "visible_to": ["GBR"]})
    assert refusal["code"] == "not_a_member"

    await table.to_phase("deliberation")
    plan = "Close the Narva bridge at night"
    proposed = await table.seat("EST").ack({"type": "propose_action", "text": plan})
    ruling = {"type": "rule_on_action", "action": "A1", "ruling": "modified", "note": "Daytime only"}
    ruled = await table.fac.ack(ruling)
    views = await table.at(ruled)
    for name in ("EST", "fac"):
        assert event_at(table.seat(name), proposed)["event"]["text"] == plan
        assert event_at(table.seat(name), ruled)["event"]["ruling"] == "modified"
        assert [(a["text"], a["ruling"]) for a in views[name]["actions"]] == [(plan, "modified")]
    for name in ("POL", "USA", "obs"):
        assert [event_at(table.seat(name), s)["event"] for s in (proposed, ruled)] == [None, None]
        assert views[name]["actions"] == []
        assert plan not in json.dumps(table.seat(name).frames)


def _scenario_with_secrets() -> tuple[str, str, str | None]:
    """A built-in scenario with a catalogue inject carrying evidence (the ground truth of attribution), preferring
    one whose members also have secret objectives: (scenario, inject template, a member with objectives)."""
    candidates = []
    for found in scenarios.builtin().values():
        template = next((t.id for t in found.exercise.catalogue if t.evidence is not None), None)
        holder = next((m.code for m in found.members if m.objectives), None)
        if template is not None:
            candidates.append((holder is not None, found.id, template, holder))
    if not candidates:
        pytest.skip("no built-in scenario has an inject with evidence")
    _, scenario_id, template, holder = max(candidates)
    return scenario_id, template, holder


async def test_what_a_view_hides_the_event_stream_does_not_reveal(url: str, http: httpx.AsyncClient) -> None:
    scenario_id, template, holder = _scenario_with_secrets()
    response = await http.post("/api/games", json={"scenario": scenario_id})
    assert response.status_code == 201, response.text
    created = response.json()
    game = Game(created["game_id"], created["join_code"], created["facilitator_key"], created["seat"]["seat_id"])
    codes = [m["code"] for m in (await http.get(f"/api/join/{game.join_code}")).json()["members"]]
    member = next(code for code in codes if code != holder)
    key = await claim_seat(http, game, "delegation", member, "Player")
    fac = {"Authorization": f"Bearer {game.facilitator_key}"}
    for command in ({"type": "start_game"}, {"type": "inject", "template": template}):
        answer = await http.post(f"/api/games/{game.game_id}/commands", json=command, headers=fac)
        assert answer.status_code == 200, answer.text

    async with Seat(ws_base(url), game.game_id, key.token, since=0, name=member) as seat:
        await seat.welcome()
        view = await seat.view_at(0)
    rest_log = (await http.get(f"/api/games/{game.game_id}/events", headers=bearer(key.token))).json()

    assert all("evidence" not in i for i in view["injects"])  # the view hides the ground truth ...
    assert all(not m.get("objectives") for code, m in view["members"].items() if code != member)
    leaks = []
    for where, events in (("socket", [f["event"] for f in seat.events]), ("REST", [e["event"] for e in rest_log])):
        delivered = [e["inject"] for e in events if e and e["type"] == "inject_delivered"]
        assert template in [i.get("template") for i in delivered], where
        if evident := [i["id"] for i in delivered if i.get("evidence")]:
            leaks.append(f"{where}: {member} receives the evidence of injects {evident}")
        opened = next(e for e in events if e and e["type"] == "game_opened")
        if others := [m["code"] for m in opened["members"] if m["code"] != member and m.get("objectives")]:
            leaks.append(f"{where}: {member} receives the secret objectives of {others}")
    assert leaks == []


async def test_commands_sent_at_once_from_every_seat_and_rest_get_distinct_gapless_seqs(table: Table) -> None:
    await table.start()
    start = table.fac.last_seq
    per_sender = 15

    async def over_socket(name: str) -> list[int]:
        seat = table.seat(name)
        refs = [await seat.send_command({"type": "send_message", "text": f"{name} {i}"}) for i in range(per_sender)]
        return [(await seat.answer(ref))["seq"] for ref in refs]

    async def over_rest() -> list[int]:
        seqs = []
        for i in range(per_sender):
            response = await rest_command(
                table.http, table.game, table.game.facilitator_key, {"type": "broadcast", "text": f"rest {i}"}
            )
            assert response.status_code == 200, response.text
            seqs.append(response.json()["seq"])
        return seqs

    results = await asyncio.gather(*(over_socket(m) for m in MEMBERS), over_rest())
    every = sorted(seq for seqs in results for seq in seqs)
    assert every == list(range(start + 1, start + 1 + 4 * per_sender))
    for seqs in results:
        assert seqs == sorted(seqs), "one sender's commands are applied in the order sent"
    views = await table.at(every[-1])
    for name, seat in table.seats.items():
        assert_contiguous(seat, table.fac.events[0]["seq"], every[-1])
        assert views[name]["announcements"] == [f"rest {i}" for i in range(per_sender)]
    for member in MEMBERS:
        sent = [m["text"] for m in views["fac"]["messages"] if m["sender"] == member]
        assert sent == [f"{member} {i}" for i in range(per_sender)]


# --- reconnect and resume ------------------------------------------------------------------------------


async def test_a_seat_that_reconnects_with_since_gets_exactly_what_it_missed(table: Table) -> None:
    await table.start()
    est = table.seat("EST")
    seq = await est.ack({"type": "send_message", "text": "Before the outage"})
    await table.at(seq)
    last_seen = est.last_seq
    assert last_seen == seq
    await est.close()

    missed = [
        await table.seat("POL").ack({"type": "send_message", "text": "While EST was away"}),
        await table.seat("USA").ack({"type": "send_message", "to": ["POL"], "text": "Between us"}),
        await table.fac.ack({"type": "inject", "title": "Update", "text": "More drones"}),
        await table.fac.ack({"type": "advance_phase", "from_round": 1, "from_phase": "briefing"}),
    ]
    latest = missed[-1]
    await table.at(latest, ["POL", "fac"])

    async with table.connect(table.keys["EST"].token, since=last_seen, name="EST-again") as again:
        welcome = await again.welcome()
        assert welcome["since"] == last_seen and welcome["seat"]["member"] == "EST"
        assert abs(welcome["now"] - time.time()) < 5
        backlog = await again.until(lambda f: f["type"] == "view")
        assert [f["type"] for f in backlog] == ["event"] * (latest - last_seen) + ["view"]
        assert [f["seq"] for f in backlog[:-1]] == list(range(last_seen + 1, latest + 1))
        assert backlog[-1]["seq"] == backlog[-1]["view"]["seq"] == latest
        assert backlog[-1]["view"]["phase"] == "deliberation"
        pol = table.seat("POL")
        for frame in backlog[:-1]:
            expected = None if frame["seq"] == missed[1] else event_at(pol, frame["seq"])["event"]
            assert frame["event"] == expected, frame
        assert event_at(table.fac, missed[1])["event"]["message"]["text"] == "Between us"

        # And play goes on, live, from there.
        seq = await table.seat("USA").ack({"type": "request_consultation"})
        assert seq == latest + 1
        await again.view_at(seq)
        assert [f["seq"] for f in again.events] == list(range(last_seen + 1, seq + 1))

    async with table.connect(table.keys["EST"].token, since=0, name="EST-all") as everything:
        await everything.welcome()
        frames = await everything.until(lambda f: f["type"] == "view")
        assert [f["seq"] for f in frames[:-1]] == list(range(1, seq + 1))
        assert frames[0]["event"]["type"] == "game_opened"
    async with table.connect(table.keys["EST"].token, since=seq + 50, name="EST-ahead") as ahead:
        await ahead.welcome()
        view = await ahead.next()
        assert (view["type"], view["seq"]) == ("view", seq)  # where the game stands, not where the client was
        assert ahead.events == []


async def test_reconnecting_while_others_play_loses_and_repeats_nothing(table: Table) -> None:
    await table.start()
    pol, est = table.seat("POL"), table.seat("EST")
    since = est.last_seq
    await est.close()
    refs = [await pol.send_command({"type": "send_message", "text": f"burst {i}"}) for i in range(40)]
    async with table.connect(table.keys["EST"].token, since=since, name="EST-racing") as again:
        await again.welcome()
        answers = [await pol.answer(ref) for ref in refs]
        assert all(a["type"] == "ack" for a in answers)
        final = answers[-1]["seq"]
        await again.view_at(final)
        assert [f["seq"] for f in again.events] == list(range(since + 1, final + 1))
        texts = [f["event"]["message"]["text"] for f in again.events[-40:]]
        assert texts == [f"burst {i}" for i in range(40)]
        assert [a["seq"] for a in answers] == list(range(final - 39, final + 1))


async def test_a_command_sent_again_under_its_key_is_answered_and_not_played_twice(table: Table) -> None:
    """The connection dropped before the answer came: the client reconnects and sends the command again under the
    key it chose for it.  It is answered with the seq it was played at, whatever the rules would say now."""
    await table.start()
    est, pol = table.seat("EST"), table.seat("POL")

    async def keyed(seat: Seat, key: object, command: Frame) -> Frame:
        ref = seat.new_ref()
        await seat.send_raw(json.dumps({"type": "command", "ref": ref, "key": key, "command": command}))
        return await seat.answer(ref)

    message = {"type": "send_message", "text": "Only once"}
    first = await keyed(est, "m-1", message)
    assert first == {"type": "ack", "ref": first["ref"], "seq": first["seq"]}
    await pol.view_at(first["seq"])
    await est.close()
    async with table.connect(table.keys["EST"].token, since=first["seq"], name="EST-again") as again:
        await again.welcome()
        repeated = await keyed(again, "m-1", message)
        assert (repeated["type"], repeated["seq"], repeated.get("repeated")) == ("ack", first["seq"], True)

        # The same key from another seat is another command; a new key is a new command.
        theirs = await keyed(pol, "m-1", {"type": "send_message", "text": "Also once"})
        again_new = await keyed(again, "m-2", message)
        assert "repeated" not in theirs and "repeated" not in again_new
        assert first["seq"] < theirs["seq"] < again_new["seq"]

        # One the rules would refuse the second time (the phase has moved on) is answered all the same.
        view = await rest_view(table.http, table.game, table.game.facilitator_key)
        advance = {"type": "advance_phase", "from_round": view["round"], "from_phase": view["phase"]}
        advanced = await keyed(table.fac, "adv-1", advance)
        assert advanced["type"] == "ack"
        advanced_again = await keyed(table.fac, "adv-1", advance)
        assert (advanced_again["type"], advanced_again["seq"], advanced_again["repeated"]) == (
            "ack",
            advanced["seq"],
            True,
        )
        stale = await keyed(table.fac, "adv-2", advance)
        assert (stale["type"], stale["code"]) == ("refusal", "stale_phase")

        for bad in ("", "x" * 65, "with space", 7):
            refusal = await keyed(again, bad, message)
            assert (refusal["type"], refusal["code"]) == ("refusal", "bad_key"), bad

        # Over REST, the key is the Idempotency-Key header.
        url = f"/api/games/{table.game.game_id}/commands"
        headers = {**bearer(table.keys["USA"].token), "Idempotency-Key": "r-1"}
        posted = await table.http.post(url, json=message, headers=headers)
        posted_again = await table.http.post(url, json=message, headers=headers)
        assert posted.status_code == posted_again.status_code == 200, posted.text
        assert posted_again.json() == {"seq": posted.json()["seq"], "repeated": True}
        assert posted.json()["repeated"] is False
        assert_error(
            await table.http.post(url, json=message, headers={**headers, "Idempotency-Key": "a b"}), 400, "bad_key"
        )

        await table.at(posted.json()["seq"], ["fac"])
        log = (
            await table.http.get(f"/api/games/{table.game.game_id}/events", headers=bearer(table.game.facilitator_key))
        ).json()
        texts = [e["event"]["message"]["text"] for e in log if e["event"]["type"] == "message_sent"]
        assert texts == ["Only once", "Also once", "Only once", "Only once"]
        phases = [(e["event"]["round"], e["event"]["phase"]) for e in log if e["event"]["type"] == "phase_began"]
        assert len(phases) == len(set(phases))


# --- many games ----------------------------------------------------------------------------------------


async def test_many_games_in_one_process_stay_isolated(url: str, http: httpx.AsyncClient) -> None:
    count, messages = 4, 8
    games = await asyncio.gather(*(create_game(http, title=f"Game {i}") for i in range(count)))
    tokens = await asyncio.gather(*(claim_seat(http, g, "delegation", "EST", f"EST {i}") for i, g in enumerate(games)))
    async with contextlib.AsyncExitStack() as stack:
        seats: list[tuple[Seat, Seat]] = []
        for i, game in enumerate(games):
            fac = await stack.enter_async_context(Seat(ws_base(url), game.game_id, game.facilitator_key, name=f"f{i}"))
            est = await stack.enter_async_context(Seat(ws_base(url), game.game_id, tokens[i].token, name=f"e{i}"))
            seats.append((fac, est))
        for fac, est in seats:
            await fac.welcome()
            await est.welcome()
            await fac.view_at(3)
            await est.view_at(3)

        async def play(i: int) -> int:
            fac = seats[i][0]
            await fac.ack({"type": "start_game"})
            seq = 0
            for n in range(messages):
                seq = await fac.ack({"type": "broadcast", "text": f"game-{i}-announcement-{n}"})
            return seq

        finals = await asyncio.gather(*(play(i) for i in range(count)))
        assert len(set(finals)) == 1, "every game counts its own seqs"
        for i, (fac, est) in enumerate(seats):
            for seat in (fac, est):
                view = await seat.view_at(finals[i])
                assert view["title"] == f"Game {i}"
                assert view["announcements"] == [f"game-{i}-announcement-{n}" for n in range(messages)]
                assert_contiguous(seat, 4, finals[i])
                text = json.dumps(seat.frames)
                strangers = [j for j in range(count) if j != i and f"game-{j}-" in text]
                assert not strangers, f"{seat.name} received events of games {strangers}"
        await asyncio.gather(*(s.settle(0.2) for pair in seats for s in pair))
        assert [s.last_seq for pair in seats for s in pair] == [f for f in finals for _ in range(2)]


# --- bad input -----------------------------------------------------------------------------------------


async def test_malformed_frames_get_errors_and_the_socket_keeps_working(table: Table) -> None:
    est = table.seat("EST")
    await table.start()

    await est.send_raw("this is not json")
    error = await est.next()
    assert (error["type"], error["code"]) == ("error", "bad_json")
    await est.send_raw("[1, 2, 3]")
    assert (await est.next())["code"] == "bad_frame"
    await est.send_raw(json.dumps({"type": "dance", "ref": "d1"}))
    unknown = await est.answer("d1")
    assert (unknown["type"], unknown["code"]) == ("error", "unknown_frame")
    await est.send_raw(json.dumps({"type": "ping", "ref": "p1"}))
    pong = await est.answer("p1")
    assert pong["type"] == "pong" and abs(pong["now"] - time.time()) < 5  # the clock countdowns are set by

    missing = await est.refused({"type": "table_proposal", "kind": "joint_statement"})
    assert missing["code"] == "malformed_command" and "proposal" in missing["reason"]
    negative = await est.refused({"type": "pledge", "proposal": "P1", "forces": -3})
    assert negative["code"] == "malformed_command" and "forces" in negative["reason"]
    bad_member = await est.refused({"type": "send_message", "to": ["estonia"], "text": "hi"})
    assert bad_member["code"] == "malformed_command" and "to" in bad_member["reason"]
    unknown_type = await est.refused({"type": "launch_missiles"})
    assert unknown_type["code"] == "malformed_command"
    await est.send_raw(json.dumps({"type": "command", "ref": "n1", "command": "send_message"}))
    assert (await est.answer("n1"))["code"] == "malformed_command"

    seq = await est.ack({"type": "send_message", "text": "still here"})
    assert (await est.view_at(seq))["messages"][0]["text"] == "still here"
    assert est.close_code is None
    assert (await rest_view(table.http, table.game, table.game.facilitator_key))["seq"] == seq


async def test_a_command_the_server_fails_on_is_answered_under_its_ref_and_plays_once_when_sent_again(
    table: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure of ours on a command (its database gone for a moment, say) answers that command by its ref, so the
    player's client settles it and says so, instead of waiting on it; sent again under its key, it is played once,
    whether the failure came before its events were stored or after."""
    appended = EventStore.append
    failures: list[str] = []

    async def fails(self: EventStore, *args: Any, **kwargs: Any) -> Any:
        if not failures:
            failures.append("before its events were stored")
            raise RuntimeError("the database went away")
        stored = await appended(self, *args, **kwargs)
        if len(failures) == 1:
            failures.append("once they were stored")
            raise RuntimeError("the database went away before it answered")
        return stored

    est = table.seat("EST")

    async def send(ref: str, key: str) -> Frame:
        command = {"type": "send_message", "text": key.replace("-", " ")}
        frame = {"type": "command", "ref": ref, "key": key, "command": command}
        await est.send_raw(json.dumps(frame))
        return await est.answer(ref)

    await table.start()
    monkeypatch.setattr(EventStore, "append", fails)
    failed = await send("first", "first-words")
    assert failed == {
        "type": "error",
        "ref": "first",
        "code": "internal_error",
        "reason": "The server failed on this frame; send it again.",
    }
    failed_again = await send("first-again", "first-words")
    assert failed_again["ref"] == "first-again" and failed_again["code"] == "internal_error"
    monkeypatch.setattr(EventStore, "append", appended)
    answer = await send("first-once-more", "first-words")
    assert answer["type"] == "ack" and answer.get("repeated") is True, answer
    assert (await est.command({"type": "send_message", "text": "and after"}))["type"] == "ack"
    view = await rest_view(table.http, table.game, table.game.facilitator_key)
    assert [m["text"] for m in view["messages"]].count("first words") == 1, view["messages"]


async def test_a_binary_frame_gets_an_error_and_the_socket_keeps_working(table: Table) -> None:
    est = table.seat("EST")
    await table.start()
    await est.send_raw(json.dumps({"type": "ping", "ref": "b1"}).encode())
    with contextlib.suppress(SeatClosed, TimeoutError):
        await est.answer("b1", timeout=2)
    assert est.close_code is None, f"the server dropped the socket ({est.close_code}) on a binary frame"
    errors = [f for f in est.frames if f["type"] == "error"]
    assert errors or est.frames[-1].get("ref") == "b1"
    seq = await est.ack({"type": "send_message", "text": "after a binary frame"})
    assert seq > 0


async def test_a_client_that_leaves_mid_burst_is_not_a_server_error(
    table: Table, caplog: pytest.LogCaptureFixture
) -> None:
    await table.start()
    caplog.set_level(logging.ERROR)
    seat = table.connect(table.keys["POL"].token, name="leaver")
    await seat.open()
    await seat.welcome()
    for i in range(40):
        await seat.send_command({"type": "send_message", "text": f"parting words {i}"})
    await seat.close()  # without waiting for the answers
    await table.fac.settle(0.5)

    # The server played what it had received, and the others carry on.
    seq = await table.seat("EST").ack({"type": "send_message", "text": "still here"})
    texts = [m["text"] for m in (await table.fac.view_at(seq))["messages"]]
    assert texts[-1] == "still here" and "parting words 0" in texts
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() + " " + repr(r.exc_info[1] if r.exc_info else None) for r in errors]


async def test_a_server_stopping_closes_with_1012_even_a_socket_that_is_still_sending(
    database_url: str, anyio_backend: str
) -> None:
    """The close frame must reach a client that keeps sending: closing the connection with its frames unread would
    make the kernel reset it, and the reset overtakes the close frame (the client would see 1006, not 1012)."""
    server = LiveServer(database_url, commands_per_second=10_000, burst=10_000, flood_limit=10_000)
    await server.start()
    stopped = False
    try:
        async with client(server.url) as http:
            game = await create_game(http)
        seats = [Seat(ws_base(server.url), game.game_id, game.facilitator_key, name=f"fac{i}") for i in range(8)]
        for seat in seats:
            await seat.open()
            await seat.welcome()

        async def keep_sending(seat: Seat) -> None:
            with contextlib.suppress(SeatClosed, ConnectionError, OSError):
                while True:
                    await seat.send_raw(json.dumps({"type": "ping", "ref": seat.new_ref(), "pad": "x" * 4000}))
                    await asyncio.sleep(0)

        senders = [asyncio.create_task(keep_sending(seat)) for seat in seats]
        await asyncio.sleep(0.3)
        await server.stop()
        stopped = True
        codes = [await seat.wait_closed() for seat in seats]
        for task in senders:
            task.cancel()
        await asyncio.gather(*senders, return_exceptions=True)
        assert codes == [1012] * len(seats)
    finally:
        if not stopped:
            await server.stop()


@pytest.fixture
async def small_frames(database_url: str, anyio_backend: str) -> AsyncIterator[str]:
    async with live_server(database_url, max_frame_bytes=1024) as base:
        yield base


def _message_frame(text: str, ref: str) -> str:
    return json.dumps(
        {"type": "command", "ref": ref, "command": {"type": "send_message", "text": text}}, ensure_ascii=False
    )


async def test_an_oversized_frame_closes_that_socket_with_1009_and_only_that_one(small_frames: str) -> None:
    async with client(small_frames) as http, open_table(small_frames, http) as table:
        await table.start()
        est, pol = table.seat("EST"), table.seat("POL")
        padding = 1024 - len(_message_frame("", "fits"))
        exact = _message_frame("x" * padding, "fits")
        assert len(exact.encode()) == 1024
        await est.send_raw(exact)
        assert (await est.answer("fits"))["type"] == "ack"

        await est.send_raw(_message_frame("x" * (padding + 1), "too-big"))
        assert await est.wait_closed() == 1009
        assert "1024" in est.close_reason
        assert not any(f.get("ref") == "too-big" for f in est.frames)

        seq = await pol.ack({"type": "send_message", "text": "the others carry on"})
        assert all(v["seq"] == seq for v in (await table.at(seq, ["POL", "USA", "fac"])).values())
        async with table.connect(table.keys["EST"].token, since=est.last_seq, name="EST-back") as back:
            await back.welcome()
            await back.view_at(seq)
            assert [f["seq"] for f in back.events] == [seq]
            assert (await back.command({"type": "send_message", "text": "back"}))["type"] == "ack"


async def test_the_frame_limit_counts_bytes_not_characters(small_frames: str) -> None:
    async with client(small_frames) as http:
        game = await create_game(http)
        est = await claim_seat(http, game, "delegation", "EST")
        async with Seat(ws_base(small_frames), game.game_id, est.token, name="EST") as seat:
            await seat.welcome()
            await seat.next()
            frame = _message_frame("é" * 600, "wide")
            assert len(frame) < 1024 < len(frame.encode())
            await seat.send_raw(frame)
            with contextlib.suppress(SeatClosed, TimeoutError):
                await seat.answer("wide", timeout=3)
            assert seat.close_code == 1009
