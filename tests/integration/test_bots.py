"""Bots play whole games against the real server over real sockets: uvicorn on a free loopback port,
REST to create the game and claim the seats, one WebSocket per seat.  No mocks."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI

from game_rules import COMMAND_ADAPTER, Refusal, state_hash
from game_rules.engine import decide, evolve, replay
from game_rules.scenario import parse_scenario
from game_rules.state import CHAIR
from game_rules.views import FACILITATOR, Viewer, view
from server import scenarios
from server.app import create_app
from server.bots.delegation import DelegationBot, consultation_lead, exposed_members
from server.bots.game import play_game, rest, websocket_url
from server.bots.seat import BotError, SeatBot
from server.bots.tables import BotSeats
from server.config import Settings
from server.live_demo import running_server
from server.lobby import Lobby
from server.replay import replay_game
from tests.unit.scripted import Table

SCENARIO = "baltic-demo"
SEED = 3
"""Under this seed some proposals are adopted, some blocked, and some pledges fall short (asserted below)."""
PAUSE = 0.05


@dataclass
class LiveServer:
    base_url: str
    app: FastAPI
    database_url: str

    @property
    def lobby(self) -> Lobby:
        found: Lobby = self.app.state.lobby
        return found


@pytest.fixture
async def live(database_url: str, anyio_backend: str) -> AsyncIterator[LiveServer]:
    app = create_app(Settings(database_url=database_url))
    async with running_server(app) as base_url:
        yield LiveServer(base_url, app, database_url)


@pytest.mark.anyio
@pytest.mark.timeout(120)
async def test_bots_play_a_whole_game_that_replays_to_the_live_state(live: LiveServer) -> None:
    outcome = await play_game(live.base_url, SCENARIO, SEED, PAUSE)
    scenario = scenarios.builtin()[SCENARIO]

    assert outcome.status == "ended"
    assert outcome.rounds == scenario.rounds == outcome.rounds_reached
    assert outcome.phases_played == [(r, p.name) for r in range(1, scenario.rounds + 1) for p in scenario.phases]
    assert outcome.refusals == []

    room = await live.lobby.room(outcome.game_id)
    state = room.state
    assert state.status == "ended"
    assert outcome.events == state.seq
    assert {p.id: p.outcome for p in outcome.proposals} == {p.id: p.outcome for p in state.proposals.values()}

    outcomes = [p.outcome for p in state.proposals.values()]
    assert "adopted" in outcomes
    assert any(o != "adopted" for o in outcomes)
    assert "blocked" in outcomes
    assert "pending" not in outcomes
    assert {p.round for p in outcome.proposals} == set(range(1, scenario.rounds + 1))

    # Pledges only against adopted deploy_forces proposals, and on each of those from every member.
    deployments = [p for p in state.proposals.values() if p.kind == "deploy_forces" and p.outcome == "adopted"]
    assert deployments
    for p in state.proposals.values():
        if p.pledges:
            assert (p.kind, p.outcome) == ("deploy_forces", "adopted"), p.id
    for p in deployments:
        assert set(p.pledges) == set(state.members)
    assert any(r.below_fair_share for r in outcome.adopted if r.kind == "deploy_forces")
    assert outcome.shortfalls == {p.id: max(0, (p.forces_required or 0) - sum(p.pledges.values())) for p in deployments}

    # The exposed members argued national actions; the facilitator rated each and a die decided it.
    exposed = exposed_members(view(state, FACILITATOR))
    assert state.actions and {a.member for a in state.actions.values()} <= set(exposed)
    for action in state.actions.values():
        assert action.result and action.reasons and action.roll is not None, action
        assert action.roll.strength == "strong" and action.ruling == (
            "accepted" if action.roll.succeeded else "rejected"
        )
    assert [a["id"] for a in outcome.actions] == list(state.actions)

    # Every delegation seat was claimed as a bot, and the game's log replays to the live state.
    seats = [s for s in await live.lobby.store.seats(outcome.game_id) if s.role == "delegation"]
    assert sorted(s.member or "" for s in seats) == sorted(state.members)
    assert all(s.is_bot for s in seats)
    report = await replay_game(live.database_url, outcome.game_id)
    assert report.consistent, report.text()
    assert report.events == state.seq
    assert report.final_hash == state_hash(state)


@pytest.mark.parametrize(
    "scenario", ["baltic-hybrid", "eu-solidarity", "grid-cyber", "rio-border", "csto-border", "anzus-pacific"]
)
def test_every_delegation_bot_names_the_same_member_to_ask_for_consultation(scenario: str) -> None:
    """Injects reach some members and not others, so the delegations' views differ; two bots that each thought it
    was their turn to ask would ask at once, and the rules would refuse the one that joined the other."""
    state = replay([scenarios.builtin()[scenario].opening(seed=SEED)])
    seen_apart = 0
    for step in range(13):
        command = {"type": "advance_phase", "from_round": state.round, "from_phase": state.phase}
        decision = decide(state, COMMAND_ADAPTER.validate_python(command if step else {"type": "start_game"}), CHAIR)
        assert not isinstance(decision, Refusal), decision
        for event in decision:
            state = evolve(state, event)
        views = [view(state, Viewer(role="delegation", member=m)) for m in state.members]
        seen_apart += len({len(v["injects"]) for v in views}) > 1
        for seed in range(20):
            assert len({consultation_lead(v, seed) for v in views}) == 1, (state.round, state.phase, seed)
    assert seen_apart, "the delegations' views differ somewhere in the game"


@pytest.mark.anyio
@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("scenario", "victim", "how", "status"),
    [
        ("eu-solidarity", "FIN", "the victim", "active"),  # Art. 42(7): the victim invokes alone
        ("anzus-pacific", "AUS", "the victim", "active"),  # Art. IV: each party acts by its constitutional processes
        ("rio-border", "COL", "the council", "confirmed"),  # Art. 3: the Organ of Consultation votes it
        ("grid-cyber", "LTU", "the council", "confirmed"),  # cumulative cyber attacks: the council, case by case
        ("csto-border", "TJK", "the council", "confirmed"),  # Art. 4: at the victim's request (else refused)
    ],
)
async def test_a_bot_whose_member_is_attacked_seeks_collective_defence_the_treatys_way(
    live: LiveServer, scenario: str, victim: str, how: str, status: str
) -> None:
    outcome = await play_game(live.base_url, scenario, SEED, 0.0)
    assert outcome.status == "ended" and outcome.refusals == [], outcome.refusals
    (invocation,) = outcome.invocations
    assert (invocation["victim"], invocation["status"]) == (victim, status)
    proposals = [p for p in outcome.proposals if p.kind == "invoke_collective_defence"]
    if how == "the victim":
        assert invocation["key"] == victim and proposals == []
    else:
        (proposal,) = proposals
        assert (proposal.id, proposal.tabled_by, proposal.outcome) == (invocation["key"], victim, "adopted")


STRIKE = """
id: strike
title: A strike on Estonia
ruleset: {ruleset}
rounds: 1
members:
  - {{code: EST, intelligence: 0.0}}
  - {{code: USA, intelligence: 1.0}}
  - {{code: POL}}
exercise:
  catalogue:
    - {{id: strike, kind: armed_attack, title: Missiles hit Tapa, targets: [EST],
       evidence: {{attributed_to: the adversary, confidence: 0.8}}}}
"""
"""Estonia's services read the evidence at 0.38-0.58, the United States' at 0.86 or more (game_rules/injects.py)."""


def victims_plan(table: Table) -> dict[str, dict[str, Any]]:
    """What Estonia's bot would send now, by decision key."""
    bot = DelegationBot("EST", "unused", "ws://unused", SEED)
    return dict(bot.plan(view(table.state, Viewer(role="delegation", member="EST"))))


def struck(ruleset: str) -> Table:
    table = Table(parse_scenario(STRIKE.format(ruleset=ruleset)))
    table.do(CHAIR, type="start_game", at=0.0)
    table.to("council")
    table.do(CHAIR, type="inject", template="strike")
    return table


def test_a_victims_bot_invokes_conditionally_and_confirms_once_an_allys_evidence_is_shared() -> None:
    table = struck("nato")
    plan = victims_plan(table)
    tabling = plan["invocation:1"]
    assert (tabling["kind"], tabling["victim"], tabling["attack"]) == (
        "invoke_collective_defence",
        "EST",
        {"kind": "armed", "in_treaty_area": True, "attributed": False},
    )
    table.do("EST", **tabling)
    for member in ("EST", "USA", "POL"):
        table.do(member, type="concur", proposal=tabling["proposal"])
    table.do(CHAIR, type="close", proposal=tabling["proposal"])
    assert table.state.invocations[tabling["proposal"]].status == "conditional"
    assert not any(key.startswith("confirm:") for key in victims_plan(table)), "not on Estonia's own reading"
    (american,) = [r for r in table.state.reports.values() if r.owner == "USA"]
    table.do("USA", type="share_intelligence", report=american.id, to=["EST"])
    confirming = victims_plan(table)[f"confirm:{tabling['proposal']}"]
    table.do("EST", **confirming)
    assert table.state.invocations[tabling["proposal"]].status == "confirmed"


def defence(plan: dict[str, dict[str, Any]]) -> list[str]:
    """The collective-defence steps in a bot's plan (not its messages, its own proposals or its positions)."""
    return [
        key for key in plan if key in ("invoke", "request_assistance") or key.startswith(("invocation:", "confirm:"))
    ]


@pytest.mark.parametrize(
    ("ruleset", "steps"),
    [("csto", ["request_assistance", "invocation:1"]), ("eu-42-7", ["invoke"]), ("anzus", ["invoke"])],
)
def test_a_victims_bot_takes_the_treatys_steps_in_order(ruleset: str, steps: list[str]) -> None:
    table = struck(ruleset)
    for step in steps:
        plan = victims_plan(table)
        assert defence(plan) == [step]
        table.do("EST", **plan[step])
    assert defence(victims_plan(table)) == [], "nothing sought twice: invoked, or the invocation before the council"


@pytest.mark.anyio
@pytest.mark.timeout(120)
async def test_the_same_seed_plays_the_same_game(live: LiveServer) -> None:
    first = await play_game(live.base_url, SCENARIO, SEED, PAUSE)
    second = await play_game(live.base_url, SCENARIO, SEED, PAUSE)
    assert first.game_id != second.game_id

    def summary(outcome: Any) -> list[tuple[Any, ...]]:
        return [(p.id, p.kind, p.outcome, p.positions, p.pledges) for p in outcome.proposals]

    assert summary(first) == summary(second)
    assert first.events == second.events


class Blunderer(SeatBot):
    """Sends commands the server refuses, then leaves."""

    answers: list[bool]

    async def play(self) -> None:
        await self.wait_until(lambda: self.view is not None, 10, "the first view")
        self.answers = [
            await self.command({"type": "table_proposal", "proposal": "P1", "kind": "joint_statement"}),
            await self.command({"type": "pledge", "proposal": "P1", "forces": -3}),
            await self.command({"type": "start_game"}),
        ]


@pytest.mark.anyio
@pytest.mark.timeout(60)
async def test_a_refused_command_is_recorded_and_the_bot_carries_on(live: LiveServer) -> None:
    created = await rest("POST", f"{live.base_url}/api/games", {"scenario": SCENARIO})
    claim = {"join_code": created["join_code"], "role": "delegation", "member": "EST", "player": "EST bot"}
    seat = await rest("POST", f"{live.base_url}/api/games/{created['game_id']}/seats", {**claim, "is_bot": True})
    bot = Blunderer("EST", seat["token"], websocket_url(live.base_url, created["game_id"]))
    await bot.run()
    assert bot.answers == [False, False, False]
    assert [n.code for n in bot.refusals] == ["game_lobby", "malformed_command", "facilitator_only"]
    assert bot.view is not None and bot.view["status"] == "lobby"


class Dropper(SeatBot):
    """Loses its connection while the answer to its message is on the way, reconnects, and sends it again."""

    answers: list[bool]
    dropped = False

    def _on_frame(self, frame: dict[str, Any]) -> None:
        if frame.get("type") == "ack" and not self.dropped:
            self.dropped = True
            assert self._ws is not None
            self._ws.transport.abort()  # the answer goes down with the connection
            return
        super()._on_frame(frame)

    async def play(self) -> None:
        await self.wait_until(lambda: self.view is not None and self.view["status"] == "running", 10, "the start")
        self.answers = [await self.command({"type": "send_message", "text": "Estonia requests consultations."}, "ask")]


@pytest.mark.anyio
@pytest.mark.timeout(60)
async def test_a_bot_sends_a_command_again_after_a_lost_answer_and_it_is_played_once(live: LiveServer) -> None:
    created = await rest("POST", f"{live.base_url}/api/games", {"scenario": SCENARIO})
    game_id = created["game_id"]
    claim = {"join_code": created["join_code"], "role": "delegation", "member": "EST", "player": "EST bot"}
    seat = await rest("POST", f"{live.base_url}/api/games/{game_id}/seats", {**claim, "is_bot": True})
    start = {"type": "start_game"}
    await rest("POST", f"{live.base_url}/api/games/{game_id}/commands", start, created["facilitator_key"])
    bot = Dropper("EST", seat["token"], websocket_url(live.base_url, game_id))
    await bot.run()

    assert bot.dropped and bot.answers == [True]  # the second session's answer: played before, not again
    messages = (await live.lobby.room(game_id)).state.messages
    assert [m.text for m in messages] == ["Estonia requests consultations."]


@pytest.mark.timeout(150)
@pytest.mark.anyio
@pytest.mark.timeout(120)
async def test_bots_play_the_tables_nobody_in_the_room_plays_and_are_put_back_after_a_restart(live: LiveServer) -> None:
    base = live.base_url
    created = await rest("POST", f"{base}/api/games", {"scenario": SCENARIO, "facilitator": "White Cell"})
    game, key = f"{base}/api/games/{created['game_id']}", created["facilitator_key"]
    claim = {"join_code": created["join_code"], "role": "delegation", "member": "EST", "player": "Kaja"}
    kaja = await rest("POST", f"{game}/seats", claim)
    with pytest.raises(BotError, match="HTTP 403"):
        await rest("POST", f"{game}/bots", {}, kaja["token"])
    seated = await rest("POST", f"{game}/bots", {}, key)
    bots = {s["member"]: s["seat_id"] for s in seated}
    assert sorted(bots) == ["DEU", "FRA", "LTU", "POL", "USA"] and all(s["is_bot"] for s in seated)
    assert await rest("POST", f"{game}/bots", {}, key) == [], "every table is played"

    async def bots_connected() -> set[str]:
        return {s["member"] for s in await rest("GET", f"{game}/seats", None, key) if s["connected"] and s["is_bot"]}

    async def positions_on_k1() -> set[str]:
        view = await rest("GET", f"{game}/view", None, key)
        return set(next((p["positions"] for p in view["proposals"] if p["id"] == "K1"), {}))

    await _until(lambda found: found == set(bots), bots_connected, "every bot connected")
    await rest("POST", f"{game}/commands", {"type": "start_game"}, key)
    for phase in ("briefing", "deliberation"):
        await rest("POST", f"{game}/commands", {"type": "advance_phase", "from_round": 1, "from_phase": phase}, key)
    table = {"type": "table_proposal", "proposal": "K1", "kind": "joint_statement", "text": "Estonia asks for it"}
    await rest("POST", f"{game}/commands", table, kaja["token"])
    await _until(lambda found: found >= set(bots), positions_on_k1, "every bot's position on K1")

    # A restart ends the bots; their seats stay.  Seating bots again puts bots back at those seats.
    playing: BotSeats = live.app.state.bots
    await playing.stop()
    await _until(lambda found: not found, bots_connected, "the bots gone")
    back = await rest("POST", f"{game}/bots", {}, key)
    assert {s["member"]: s["seat_id"] for s in back} == bots
    await _until(lambda found: found == set(bots), bots_connected, "every bot back")

    # A latecomer at a table a bot plays takes over from it, and heads the delegation.
    pierre = await rest("POST", f"{game}/seats", {**claim, "member": "FRA", "player": "Pierre"})
    seats = (await rest("GET", f"{game}/view", None, key))["seats"]
    assert bots["FRA"] not in seats and seats[pierre["seat"]["seat_id"]]["head"] is True
    await _until(lambda found: found == set(bots) - {"FRA"}, bots_connected, "the French bot gone")
    assert {seats[bots[m]]["bot"] for m in ("DEU", "LTU")} == {True} and seats[kaja["seat"]["seat_id"]]["bot"] is False

    # A bot's seat given to a person is theirs: putting the bots back after a restart leaves it alone.
    await rest("POST", f"{game}/seats/{bots['DEU']}/reassign", {"player": "Anke"}, key)
    anke = (await rest("GET", f"{game}/view", None, key))["seats"][bots["DEU"]]
    assert (anke["player"], anke["bot"]) == ("Anke", False)
    await playing.stop()
    await _until(lambda found: not found, bots_connected, "the bots gone again")
    again = await rest("POST", f"{game}/bots", {}, key)
    assert sorted(s["member"] for s in again) == ["LTU", "POL", "USA"]
    await _until(lambda found: found == {"LTU", "POL", "USA"}, bots_connected, "the bots back but the German")


@pytest.mark.anyio
@pytest.mark.timeout(120)
async def test_after_a_restart_the_bots_go_back_to_their_seats_by_themselves(live: LiveServer) -> None:
    base = live.base_url
    created = await rest("POST", f"{base}/api/games", {"scenario": SCENARIO, "facilitator": "White Cell"})
    key = created["facilitator_key"]
    claim = {"join_code": created["join_code"], "role": "delegation", "member": "EST", "player": "Kaja"}
    await rest("POST", f"{base}/api/games/{created['game_id']}/seats", claim)
    seated = await rest("POST", f"{base}/api/games/{created['game_id']}/bots", {"members": ["POL", "USA"]}, key)
    ended = await rest("POST", f"{base}/api/games", {"scenario": SCENARIO, "facilitator": "White Cell"})
    await rest("POST", f"{base}/api/games/{ended['game_id']}/bots", {"members": ["DEU"]}, ended["facilitator_key"])
    await rest("POST", f"{base}/api/games/{ended['game_id']}/commands", {"type": "end_game"}, ended["facilitator_key"])

    # The same database behind a new server process (a new app, on another port): nobody presses anything.
    again = create_app(Settings(database_url=live.database_url))
    await live.app.state.bots.stop()
    async with running_server(again) as second:
        game = f"{second}/api/games/{created['game_id']}"

        async def bots_connected() -> set[str]:
            seats = await rest("GET", f"{game}/seats", None, key)
            return {s["member"] for s in seats if s["connected"] and s["is_bot"]}

        await _until(lambda found: found == {"POL", "USA"}, bots_connected, "the bots back at their seats")
        seats = {s["member"]: s["seat_id"] for s in await rest("GET", f"{game}/seats", None, key) if s["is_bot"]}
        assert seats == {s["member"]: s["seat_id"] for s in seated}, "the same seats, not new ones"
        bots: BotSeats = again.state.bots
        finished = await rest("GET", f"{second}/api/games/{ended['game_id']}/seats", None, ended["facilitator_key"])
        assert not any(bots.playing(s["seat_id"]) for s in finished), "no bot goes back to a game that has ended"


async def _until(holds: Callable[[set[str]], bool], read: Callable[[], Awaitable[set[str]]], what: str) -> None:
    """Read until what is read holds (30 s at most): bots act when they hear the news."""
    for _ in range(300):
        if holds(await read()):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within 30 s: {what}")


def test_wargame_demo_plays_a_game_and_prints_the_outcome() -> None:
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "demo"], capture_output=True, text=True, timeout=120, check=False
    )
    wall = time.monotonic() - began
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for expected in ("Round 1", "Round 3", "ADOPTED", "BLOCKED", "pledged / fair share", "below fair share"):
        assert expected in out, expected
    assert "status ended after round 3 of 3" in out
    assert "stored events matches" in out
    assert "total wall time" in out
    assert "Traceback" not in done.stderr
    assert wall < 60
