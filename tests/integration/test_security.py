"""Nothing leaked, nobody acts beyond their seat, nobody floods: authorisation, credentials, secrets, limits.

* Every command type against every role, over the socket and over REST: each forbidden combination refused for
  its authority reason, each allowed one never refused for authority (the rules may still refuse it).
* Credentials are long and random, stored only as hashes, revoked when a seat is reassigned, never logged.
* Over seeded bot games on every shipped scenario, no payload sent to a seat carries another member's secret
  objectives or brief, the adversary's brief (but to the red cell), intelligence it was not given, or private
  messages and injects between others.
* Frames over the seat's rate are refused with `rate_limited`; a flood far beyond it is closed with 1008.

Runs on SQLite, or on PostgreSQL when DATABASE_URL is set; WARGAME_FULL=1 plays more bot games.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import math
import random
import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

import server.auth as auth
from game_rules.commands import (
    ANY_TIME_COMMANDS,
    COMMAND_ADAPTER,
    EVERY_PHASE_COMMANDS,
    NATIONAL_VOICE_COMMANDS,
    SYSTEM_COMMANDS,
    WHITE_CELL_COMMANDS,
)
from server import scenarios
from server.bots.delegation import DelegationBot
from server.bots.facilitator import FacilitatorBot
from server.bots.game import websocket_url
from server.bots.seat import Readiness
from server.db import make_engine
from server.limits import SeatLimits, TokenBucket
from server.logs import JsonFormatter, RedactCredentials
from server.store import EventStore
from tests.integration.live import (
    FULL,
    SEED,
    Frame,
    Game,
    Seat,
    SeatKey,
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

SEEDS_PER_SCENARIO = 3 if FULL else 1
SPIES = 3 if FULL else 2
"""Members that get a second seat held by the test, which records everything and makes private traffic."""


@pytest.fixture
async def url(database_url: str, anyio_backend: str) -> AsyncIterator[str]:
    async with live_server(database_url) as base:
        yield base


@pytest.fixture
async def http(url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with client(url) as session:
        yield session


def error_code(response: httpx.Response) -> str:
    body = response.json()
    assert list(body) == ["error"], body
    code: str = body["error"]["code"]
    return code


# --- the authorisation matrix ------------------------------------------------------------------------

ROLES = ("delegation", "deputy", "red_cell", "observer", "umpire", "facilitator", "bad_credential")
"""`deputy` is a second player of the delegation's member state: the first one heads the delegation."""
AUTHORITY = frozenset(
    {
        "facilitator_only",
        "server_only",
        "read_only",
        "not_a_member",
        "red_cell_only",
        "observers_only",
        "evaluators_only",
        "chair_only",
        "not_your_report",
        "not_victim",
        "not_head_of_delegation",
        "bad_credential",
    }
)
"""Refusals that say who may not do a thing; every other code is a rule of play (phase, state, arguments)."""
MEMBER_COMMANDS = NATIONAL_VOICE_COMMANDS | {"send_message", "propose_action", "share_intelligence", "offer_sharing"}
"""What only a member sends: what commits it (its head of delegation's) and what any of its players may."""


CHAIR_AS_MEMBER = frozenset({"table_proposal", "confirm_attribution", "send_message"})
"""By the rules the chair also tables drafts, records the attribution of an attack (docs/rules.md) and writes to
delegations in its channel with each."""
EVALUATION_COMMANDS = frozenset({"rate_capability", "plan_corrective_action", "drop_corrective_action"})
"""The after-action report's ratings and improvement plan: the white cell's and the umpires'."""
EVALUATION_ORDER = ("rate_capability", "plan_corrective_action", "drop_corrective_action")
"""Probed in this order: the plan has a row to drop by then."""


def command_types() -> set[str]:
    """Every command type the server accepts, from the command union itself (so a new one cannot be missed)."""
    return set(COMMAND_ADAPTER.json_schema()["discriminator"]["mapping"])


def expected_refusal(role: str, kind: str) -> str | None:
    """The authority refusal a role gets for a command type, or None where the role may send it."""
    if role == "bad_credential":
        return "bad_credential"
    if kind in EVALUATION_COMMANDS:
        return None if role in ("facilitator", "umpire") else "evaluators_only"
    if kind == "give_feedback":  # every participant's, from its own seat
        return None
    if role in ("observer", "umpire"):
        return None if kind in ANY_TIME_COMMANDS else "read_only"
    if kind in SYSTEM_COMMANDS:
        return "server_only"
    if kind in WHITE_CELL_COMMANDS:
        return None if role == "facilitator" else "facilitator_only"
    if kind in ANY_TIME_COMMANDS:
        return None if role == "facilitator" else "observers_only"
    if kind == "adversary_move":
        return None if role == "red_cell" else "red_cell_only"
    assert kind in MEMBER_COMMANDS, kind
    if role == "deputy":
        return "not_head_of_delegation" if kind in NATIONAL_VOICE_COMMANDS else None
    if role == "delegation" or (role == "facilitator" and kind in CHAIR_AS_MEMBER):
        return None
    return "not_victim" if kind == "confirm_attribution" else "not_a_member"


def expected(role: str, label: str, command: Frame) -> str | None:
    return FORBIDDEN_BY_WHAT_IT_NAMES.get((role, label)) or expected_refusal(role, command["type"])


@dataclass
class Matrix:
    url: str
    http: httpx.AsyncClient
    game: Game
    tokens: dict[str, str]
    seats: dict[str, Seat] = field(default_factory=dict)
    outcomes: dict[tuple[str, str, str], str] = field(default_factory=dict)
    """(role, command label, transport) -> "ack" or the refusal code."""

    async def ws(self, role: str, command: Frame) -> str:
        if role == "bad_credential":
            async with Seat(ws_base(self.url), self.game.game_id, self.tokens[role], name="forged") as seat:
                frame = await seat.next()
                assert (frame["type"], await seat.wait_closed()) == ("error", 1008), frame
                code: str = frame["code"]
                return "bad_credential" if code == "bad_hello" else code
        answer = await self.seats[role].command(command)
        return "ack" if answer["type"] == "ack" else str(answer["code"])

    async def rest(self, role: str, command: Frame) -> str:
        response = await rest_command(self.http, self.game, self.tokens[role], command)
        if response.status_code == 200:
            return "ack"
        assert response.status_code in (401, 403, 409), response.text
        return error_code(response)

    async def probe(self, label: str, command: Frame) -> None:
        """Forbidden roles first (they change nothing), then the allowed ones."""
        ordered = sorted(ONLY_FOR.get(label, ROLES), key=lambda r: expected(r, label, command) is None)
        for role in ordered:
            for transport in ("ws", "rest"):
                send = self.ws if transport == "ws" else self.rest
                self.outcomes[(role, label, transport)] = await send(role, command)

    async def view(self, role: str = "facilitator") -> Frame:
        return await rest_view(self.http, self.game, self.tokens[role])

    async def advance(self) -> None:
        view = await self.view()
        response = await rest_command(
            self.http,
            self.game,
            self.tokens["facilitator"],
            {"type": "advance_phase", "from_round": view["round"], "from_phase": view["phase"]},
        )
        assert response.status_code == 200, response.text


def samples(est_report: str, pol_report: str, pol_seat: str) -> dict[str, Frame]:
    """One well-formed command of every type, naming things that exist where that matters."""
    return {
        "request_consultation": {"type": "request_consultation", "joined_by": ["POL"]},
        "table_proposal": {"type": "table_proposal", "proposal": "M1", "kind": "joint_statement", "text": "We"},
        "concur": {"type": "concur", "proposal": "M1"},
        "object": {"type": "object", "proposal": "M1"},
        "concur_with_reservation": {"type": "concur_with_reservation", "proposal": "M1", "reservation": "r"},
        "break_silence": {"type": "break_silence", "proposal": "M1"},
        "vote": {"type": "vote", "proposal": "M1", "choice": "yes"},
        "confirm_attribution": {"type": "confirm_attribution", "proposal": "I1"},
        "request_assistance": {"type": "request_assistance"},
        "invoke": {"type": "invoke", "attack": {"kind": "armed"}},
        "pledge": {"type": "pledge", "proposal": "M1", "forces": 2},
        "send_message": {"type": "send_message", "to": ["POL"], "text": "matrix"},
        "send_message (to the white cell)": {"type": "send_message", "to": ["chair"], "text": "matrix"},
        "propose_action": {"type": "propose_action", "text": "matrix action"},
        "share_intelligence": {"type": "share_intelligence", "report": est_report, "to": ["POL"]},
        "offer_sharing": {"type": "offer_sharing", "partner": "POL"},
        "adversary_move": {"type": "adversary_move", "change": 1},
        "record_observation": {"type": "record_observation", "text": "note", "member": "EST"},
        "rate_capability": {"type": "rate_capability", "capability": "Burden-sharing", "rating": "S", "reason": "r"},
        "plan_corrective_action": {
            "type": "plan_corrective_action",
            "capability": "Burden-sharing",
            "action": "Publish fair shares",
            "responsible": "J5",
        },
        "drop_corrective_action": {"type": "drop_corrective_action", "item": "CA1"},
        "give_feedback": {"type": "give_feedback", "rating": 4, "went_well": "matrix"},
        "claim_seat": {"type": "claim_seat", "seat": "x", "role": "delegation", "member": "EST", "player": "p"},
        "start_game": {"type": "start_game"},
        "pause_game": {"type": "pause_game"},
        "resume_game": {"type": "resume_game"},
        "extend_phase": {"type": "extend_phase", "seconds": 5},
        "set_rounds": {"type": "set_rounds", "rounds": 2},  # one round less: the matrix still visits every phase
        "advance_phase": {"type": "advance_phase", "from_round": 99, "from_phase": "nowhere"},
        "end_when_done": {"type": "end_when_done", "on": True},
        # Not the phase under way: a member's is refused for that, not for authority.
        "declare_done": {"type": "declare_done", "round": 99, "phase": "nowhere"},
        "end_game": {"type": "end_game"},
        # Not a moment behind the game: the white cell's is refused for that, not for authority, and play goes on.
        "rewind_game": {"type": "rewind_game", "to_seq": 1_000_000, "note": "matrix"},
        "inject": {"type": "inject", "title": "matrix", "visible_to": ["POL"]},
        "broadcast": {"type": "broadcast", "text": "matrix"},
        "rule_on_action": {"type": "rule_on_action", "action": "A1", "ruling": "accepted"},
        "roll_for_action": {"type": "roll_for_action", "action": "A1", "strength": "fair"},
        "hold_msel": {"type": "hold_msel", "number": 2},
        "reassign_seat": {"type": "reassign_seat", "seat": pol_seat, "player": "Successor"},
        "release_seat": {"type": "release_seat", "seat": pol_seat},
        "appoint_head": {"type": "appoint_head", "seat": pol_seat},
        "close": {"type": "close", "proposal": "M1"},
        # Naming another member where that matters: a report it does not own; an attack on another member.
        "share_intelligence (another member's report)": {
            "type": "share_intelligence",
            "report": pol_report,
            "to": ["USA"],
        },
        "confirm_attribution (of an attack on another member)": {"type": "confirm_attribution", "proposal": "I1"},
    }


FORBIDDEN_BY_WHAT_IT_NAMES = {
    ("delegation", "share_intelligence (another member's report)"): "not_your_report",
    ("deputy", "share_intelligence (another member's report)"): "not_your_report",
    ("other_delegation", "confirm_attribution (of an attack on another member)"): "not_victim",
}
ONLY_FOR = {"confirm_attribution (of an attack on another member)": ("other_delegation",)}
"""Rows probed with one seat only: POL confirming the attribution of an attack on EST."""


@pytest.mark.timeout(120)
async def test_every_command_against_every_role_is_refused_exactly_where_it_must_be(
    url: str, http: httpx.AsyncClient
) -> None:
    game = await create_game(http, title="Authorisation matrix")
    keys = {
        "delegation": await claim_seat(http, game, "delegation", "EST", "Kaja"),
        "deputy": await claim_seat(http, game, "delegation", "EST", "Kai"),
        "other_delegation": await claim_seat(http, game, "delegation", "POL", "Piotr"),
        "red_cell": await claim_seat(http, game, "red_cell", None, "Red"),
        "observer": await claim_seat(http, game, "observer", None, "Obs"),
        "umpire": await claim_seat(http, game, "umpire", None, "Ump"),
    }
    others = {m: (await claim_seat(http, game, "delegation", m, m)).token for m in ("USA", "DEU", "FRA", "LTU")}
    tokens = {role: key.token for role, key in keys.items()}
    tokens |= {"facilitator": game.facilitator_key, "bad_credential": auth.new_token()}
    matrix = Matrix(url, http, game, tokens)
    async with contextlib.AsyncExitStack() as stack:
        for role in ("delegation", "deputy", "other_delegation", "red_cell", "observer", "umpire", "facilitator"):
            seat = Seat(ws_base(url), game.game_id, tokens[role], name=role)
            matrix.seats[role] = await stack.enter_async_context(seat)
            await seat.welcome()

        start = await rest_command(http, game, tokens["facilitator"], {"type": "start_game"})
        assert start.status_code == 200, start.text
        reports = {r["owner"]: r["id"] for r in (await matrix.view())["reports"]}
        commands = samples(reports["EST"], reports["POL"], keys["other_delegation"].seat_id)
        assert {c["type"] for c in commands.values()} == command_types(), "a command type is missing here"

        # Phase by phase, each member command (and the red cell's move) where its phase allows it.
        done: set[str] = set()
        white_cell = [k for k in commands if commands[k]["type"] in WHITE_CELL_COMMANDS]
        while (view := await matrix.view())["status"] == "running":
            allows = [*next(p["allows"] for p in view["phases"] if p["name"] == view["phase"]), *EVERY_PHASE_COMMANDS]
            if view["phase"] == "council" and not view["invocations"]:
                await conditional_invocation(matrix, {**others, "POL": tokens["other_delegation"]})
            for label, command in commands.items():
                if label not in done and command["type"] in allows:
                    done.add(label)
                    await matrix.probe(label, command)
            if view["phase"] == "council" and "close" not in done:
                # The white cell's commands, mid-game, once the proposal they name exists; then the open ones.
                for label in [*white_cell, "claim_seat", "record_observation", *EVALUATION_ORDER]:
                    if commands[label]["type"] not in ("end_game", "advance_phase"):
                        done.add(label)
                        await matrix.probe(label, commands[label])
                if (await matrix.view())["status"] == "paused":
                    await rest_command(http, game, tokens["facilitator"], {"type": "resume_game"})
            if view["round"] == view["rounds"] and view["phase"] == view["phases"][-1]["name"]:
                break
            await matrix.advance()
        await matrix.probe("advance_phase", commands["advance_phase"])
        await matrix.probe("end_game", commands["end_game"])
        await matrix.probe("give_feedback", commands["give_feedback"])  # the form opens at the end
        done |= {"advance_phase", "end_game", "give_feedback"}
        assert done == set(commands), f"never probed: {set(commands) - done}"

    forbidden = allowed = 0
    wrong: list[str] = []
    for (role, label, transport), outcome in sorted(matrix.outcomes.items()):
        refusal = expected(role, label, commands[label])
        if refusal is not None:
            forbidden += 1
            if outcome != refusal:
                wrong.append(f"{role} {label} over {transport}: {outcome}, expected refusal {refusal}")
        else:
            allowed += 1
            if outcome in AUTHORITY:
                wrong.append(f"{role} {label} over {transport}: refused for authority ({outcome})")
    codes = Counter(matrix.outcomes.values())
    print(
        f"authorisation matrix: {len(commands)} commands x {len(ROLES)} roles x 2 transports = "
        f"{len(matrix.outcomes)} cases (with the rows that name another member); {forbidden} forbidden, all "
        f"refused for their reason; {allowed} allowed, none "
        f"refused for authority; outcomes {dict(codes)}"
    )
    assert not wrong, "\n".join(wrong)
    rows = sum(len(ONLY_FOR.get(label, ROLES)) for label in commands)
    assert len(matrix.outcomes) == rows * 2


async def conditional_invocation(matrix: Matrix, members: dict[str, str]) -> None:
    """EST, attacked by an unattributed armed attack, has the council invoke collective defence (I1),
    conditionally: so that confirming the attribution is something EST (and the chair) may do."""
    proposal = {
        "type": "table_proposal",
        "proposal": "I1",
        "kind": "invoke_collective_defence",
        "victim": "EST",
        "attack": {"kind": "armed", "attributed": False},
    }
    steps = [(matrix.tokens["delegation"], proposal)]
    steps += [(token, {"type": "concur", "proposal": "I1"}) for token in members.values()]
    steps.append((matrix.tokens["facilitator"], {"type": "close", "proposal": "I1"}))
    for token, command in steps:
        response = await rest_command(matrix.http, matrix.game, token, command)
        assert response.status_code == 200, (command, response.text)
    invocations = (await matrix.view())["invocations"]
    assert [(i["victim"], i["status"]) for i in invocations] == [("EST", "conditional")]


@pytest.mark.parametrize("field_name", ["actor", "as", "on_behalf_of", "member", "seat", "sender", "by"])
def test_no_command_carries_who_sends_it(field_name: str) -> None:
    """Acting on another member's behalf is impossible by construction: a field naming the actor is malformed."""
    legitimate = {"record_observation": {"member"}, "claim_seat": {"seat", "member"}, "reassign_seat": {"seat"}}
    tried = 0
    for command in samples("R1", "R2", "seat").values():
        if field_name in command or field_name in legitimate.get(command["type"], set()):
            continue
        with pytest.raises(ValueError, match="Extra inputs are not permitted"):
            COMMAND_ADAPTER.validate_python({**command, field_name: "USA"})
        tried += 1
    assert tried >= 27


# --- credentials -------------------------------------------------------------------------------------


def test_credentials_are_long_random_and_distinct() -> None:
    tokens = [auth.new_token() for _ in range(4000)]
    assert len(set(tokens)) == len(tokens)
    assert all(len(t) == 32 and re.fullmatch(r"[A-Za-z0-9_-]{32}", t) for t in tokens)  # 24 random bytes each
    # Each character carries close to the log2(64) = 6 bits of a uniform draw over the URL-safe alphabet.
    counts = Counter(itertools.chain.from_iterable(tokens))
    total = sum(counts.values())
    entropy = -sum(n / total * math.log2(n / total) for n in counts.values())
    assert len(counts) == 64 and entropy > 5.99, (len(counts), entropy)
    print(f"credentials: 32 URL-safe characters, {entropy:.4f} bits per character, ~{entropy * 32:.0f} bits each")
    codes = [auth.new_join_code() for _ in range(4000)]
    assert all(re.fullmatch(r"[A-HJ-NP-Z2-9]{6}", c) for c in codes)


async def test_credentials_are_stored_only_as_hashes(url: str, http: httpx.AsyncClient, database_url: str) -> None:
    game = await create_game(http)
    seat = await claim_seat(http, game, "delegation", "EST", "Kaja")
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            stored = [
                json.dumps([str(v) for v in row])
                for table in ("games", "seats", "events")
                for row in (await connection.execute(text(f"SELECT * FROM {table}"))).all()
            ]
    finally:
        await engine.dispose()
    dump = "\n".join(stored)
    assert game.facilitator_key not in dump and seat.token not in dump
    assert auth.token_hash(seat.token) in dump and auth.token_hash(game.facilitator_key) in dump


async def test_a_reassigned_seat_loses_every_door_its_old_credential_opened(url: str, http: httpx.AsyncClient) -> None:
    game = await create_game(http)
    est = await claim_seat(http, game, "delegation", "EST", "Kaja")
    start = await rest_command(http, game, game.facilitator_key, {"type": "start_game"})
    assert start.status_code == 200
    response = await http.post(
        f"/api/games/{game.game_id}/seats/{est.seat_id}/reassign",
        json={"player": "Successor"},
        headers=bearer(game.facilitator_key),
    )
    assert response.status_code == 200, response.text
    new = response.json()["token"]
    assert new != est.token and len(new) == 32
    base = f"/api/games/{game.game_id}"
    for method, path, body in (
        ("GET", "/view", None),
        ("GET", "/events", None),
        ("GET", "/seats", None),
        ("POST", "/commands", {"type": "send_message", "text": "still me?"}),
        ("GET", "/review/summary", None),
    ):
        old = await http.request(method, base + path, json=body, headers=bearer(est.token))
        assert (old.status_code, error_code(old)) == (401, "bad_credential"), (path, old.text)
        fresh = await http.request(method, base + path, json=body, headers=bearer(new))
        assert fresh.status_code in (200, 403), (path, fresh.text)  # 403: delegations review after the end
    async with Seat(ws_base(url), game.game_id, est.token, name="old") as stale:
        assert (await stale.next())["code"] == "bad_hello"
        assert await stale.wait_closed() == 1008
    # Reassigning again revokes the second credential too; the facilitator's key cannot be reassigned away.
    again = await http.post(
        f"{base}/seats/{est.seat_id}/reassign", json={"player": "Third"}, headers=bearer(game.facilitator_key)
    )
    assert again.status_code == 200
    assert (await http.get(f"{base}/view", headers=bearer(new))).status_code == 401
    facilitator_seat = game.facilitator_seat
    own = await http.post(
        f"{base}/seats/{facilitator_seat}/reassign", json={"player": "Usurper"}, headers=bearer(game.facilitator_key)
    )
    assert own.status_code == 404


async def test_a_released_seat_is_shown_out_and_its_delegation_hands_its_voice_on(
    url: str, http: httpx.AsyncClient
) -> None:
    game = await create_game(http)
    kaja = await claim_seat(http, game, "delegation", "EST", "Kaja")
    kai = await claim_seat(http, game, "delegation", "EST", "Kai")
    base = f"/api/games/{game.game_id}"
    over_rest = await rest_command(http, game, game.facilitator_key, {"type": "release_seat", "seat": kaja.seat_id})
    assert (over_rest.status_code, error_code(over_rest)) == (403, "release_by_endpoint"), over_rest.text
    async with Seat(ws_base(url), game.game_id, kaja.token, name="kaja") as shown_out:
        await shown_out.welcome()
        by_a_player = await http.delete(f"{base}/seats/{kaja.seat_id}", headers=bearer(kai.token))
        assert by_a_player.status_code == 403, by_a_player.text
        released = await http.delete(f"{base}/seats/{kaja.seat_id}", headers=bearer(game.facilitator_key))
        assert released.status_code == 204, released.text
        assert await shown_out.wait_closed() == 1000
    assert (await http.get(f"{base}/view", headers=bearer(kaja.token))).status_code == 401
    seats = (await http.get(f"{base}/view", headers=bearer(kai.token))).json()["seats"]
    assert kaja.seat_id not in seats and seats[kai.seat_id]["head"] is True
    listed = (await http.get(f"{base}/seats", headers=bearer(kai.token))).json()
    assert [s["seat_id"] for s in listed] == [game.facilitator_seat, kai.seat_id]
    again = await http.delete(f"{base}/seats/{kaja.seat_id}", headers=bearer(game.facilitator_key))
    assert (again.status_code, error_code(again)) == (404, "unknown_seat")
    own = await http.delete(f"{base}/seats/{game.facilitator_seat}", headers=bearer(game.facilitator_key))
    assert (own.status_code, error_code(own)) == (404, "unknown_seat")


async def test_a_deleted_game_is_gone_with_everything_stored_of_it(
    url: str, http: httpx.AsyncClient, database_url: str
) -> None:
    game = await create_game(http)
    kept = await create_game(http, title="Another seminar's game")
    kaja = await claim_seat(http, game, "delegation", "EST", "Kaja")
    base = f"/api/games/{game.game_id}"
    async with Seat(ws_base(url), game.game_id, kaja.token, name="kaja") as shown_out:
        await shown_out.welcome()
        await rest_command(http, game, game.facilitator_key, {"type": "start_game"})
        in_play = await http.delete(base, headers=bearer(game.facilitator_key))
        assert (in_play.status_code, error_code(in_play)) == (409, "game_in_play"), in_play.text
        by_a_player = await http.delete(base, headers=bearer(kaja.token))
        assert by_a_player.status_code == 403, by_a_player.text
        ended = await http.post(f"{base}/end", headers=bearer(game.facilitator_key))
        assert ended.status_code == 200, ended.text
        deleted = await http.delete(base, headers=bearer(game.facilitator_key))
        assert deleted.status_code == 204, deleted.text
        assert await shown_out.wait_closed() == 1000
    for token in (game.facilitator_key, kaja.token):
        gone = await http.get(f"{base}/view", headers=bearer(token))
        assert (gone.status_code, error_code(gone)) == (404, "unknown_game"), gone.text
    assert (await http.get(f"/api/join/{game.join_code}")).status_code == 404
    assert [g["game_id"] for g in (await http.get("/api/games")).json()] == [kept.game_id]
    another_facilitator = await http.delete(base, headers=bearer(kept.facilitator_key))
    assert another_facilitator.status_code == 404, another_facilitator.text
    store = EventStore.from_url(database_url)
    try:
        assert await store.read(game.game_id) == [] and await store.seats(game.game_id) == []
        assert await store.snapshots(game.game_id) == []
        assert len(await store.read(kept.game_id)) >= 1, "the other game keeps its record"
    finally:
        await store.dispose()


async def test_no_credential_reaches_the_logs(
    url: str, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Every logger at DEBUG (the SQL and its parameters too, and the access log) through a whole session."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="uvicorn.access")
    caplog.set_level(logging.DEBUG, logger="uvicorn.error")
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")  # SQLAlchemy holds its loggers at WARNING
    game = await create_game(http)
    est = await claim_seat(http, game, "delegation", "EST", "Kaja")
    obs = await claim_seat(http, game, "observer", None, "Obs")
    secrets_seen = [game.facilitator_key, est.token, obs.token]
    async with Seat(ws_base(url), game.game_id, game.facilitator_key, name="fac") as fac:
        await fac.welcome()
        await fac.ack({"type": "start_game"})
        async with Seat(ws_base(url), game.game_id, est.token, name="est") as seat:
            await seat.welcome()
            await seat.ack({"type": "send_message", "to": ["POL"], "text": "hello"})
            await seat.refused({"type": "start_game"})
            await seat.send_raw("not json")
            await seat.send_raw(json.dumps({"type": "hello", "token": est.token}))
        forged = auth.new_token()
        secrets_seen.append(forged)
        async with Seat(ws_base(url), game.game_id, forged, name="forged") as intruder:
            assert (await intruder.next())["code"] == "bad_hello"
        for token in (est.token, obs.token, forged, "Bearer-ish " + forged):
            await http.get(f"/api/games/{game.game_id}/view", headers=bearer(token))
            await http.get(f"/api/games/{game.game_id}/events", headers=bearer(token))
            await rest_command(http, game, token, {"type": "send_message", "text": "over REST"})
        response = await http.post(
            f"/api/games/{game.game_id}/seats/{est.seat_id}/reassign",
            json={"player": "Successor"},
            headers=bearer(game.facilitator_key),
        )
        secrets_seen.append(response.json()["token"])
        await http.post(f"/api/games/{game.game_id}/end", headers=bearer(game.facilitator_key))
    await asyncio.sleep(0.2)
    # The server's records only: the test's own clients (httpx, websockets.client) log what they send.
    records = [r for r in caplog.records if not r.name.startswith(CLIENT_LOGGERS)]
    assert any(r.name == "uvicorn.access" for r in records) and any(r.name.startswith("sqlalchemy") for r in records)

    def leaks(text_: str) -> list[str]:
        return [s for s in secrets_seen if s in text_]

    # What the server's own code logs (and the SQL it runs, with its parameters) never holds a credential...
    ours = [r for r in records if r.name.startswith(("wargame", "uvicorn.access", "sqlalchemy", "fastapi"))]
    for record in ours:
        assert not leaks(f"{record.getMessage()} {record.exc_text} {record.__dict__}"), record.getMessage()[:200]
    # ...and what libraries trace at DEBUG (the WebSocket protocol logs every frame, the hello too) is masked by
    # the filter every handler of `wargame serve` carries, before the formatter writes a line.
    traced = [r for r in records if leaks(r.getMessage())]
    redact, formatter = RedactCredentials(), JsonFormatter()
    for record in records:
        assert redact.filter(record)
        line = formatter.format(record)
        assert not leaks(line), f"a credential would be logged: {line[:300]}"
        json.loads(line)
    print(
        f"logs: {len(records)} server records at DEBUG from {len({r.name for r in records})} loggers; none from "
        f"our code holds a credential; {len(traced)} library frame traces did, all masked by RedactCredentials"
    )


CLIENT_LOGGERS = ("httpx", "httpcore", "websockets.client")


async def test_the_facilitator_key_is_checked_with_a_constant_time_comparison(
    url: str, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    game = await create_game(http)
    compared: list[tuple[str, str]] = []
    real = auth.hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((str(a), str(b)))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    response = await rest_command(http, game, game.facilitator_key, {"type": "start_game"})
    assert response.status_code == 200
    key_hash = auth.token_hash(game.facilitator_key)
    assert any(key_hash in pair for pair in compared), "the facilitator key was not compared in constant time"


def test_same_secret_compares_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, Any]] = []
    monkeypatch.setattr(auth.hmac, "compare_digest", lambda a, b: calls.append((a, b)) or a == b)
    token = auth.new_token()
    assert auth.same_secret(token, auth.token_hash(token))
    assert not auth.same_secret(token + "x", auth.token_hash(token))
    assert len(calls) == 2


# --- secrets over seeded bot games -----------------------------------------------------------------------


class RecordingBot(DelegationBot):
    """A delegation bot that keeps every frame the server sends it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.frames: list[Frame] = []

    def _on_frame(self, frame: Frame) -> None:
        self.frames.append(frame)
        super()._on_frame(frame)


@dataclass
class Listener:
    """A seat the test holds itself: it records everything and, on each new phase, makes mischief."""

    name: str
    member: str | None
    token: str
    seat: Seat | None = None
    extra: list[Any] = field(default_factory=list)
    """REST payloads fetched for this seat after the game."""


async def mischief(
    listener: Listener, rng: random.Random, members: list[str], count: itertools.count[int], game_over: asyncio.Event
) -> None:
    """Private messages, intelligence sharing, offers, free-form actions (and targeted injects from the white
    cell), a few at the start of every phase: things other seats must never see."""
    seat = listener.seat
    assert seat is not None
    played: set[tuple[int, str | None]] = set()
    while not game_over.is_set():
        view = seat.views[-1]["view"] if seat.views else None
        if view is None or view["status"] != "running" or (view["round"], view["phase"]) in played:
            await asyncio.sleep(0.01)
            continue
        played.add((view["round"], view["phase"]))
        for _ in range(rng.randint(1, 3) if FULL else 1):
            n = next(count)
            if listener.member is None:  # the white cell
                to = rng.sample(members, k=rng.randint(1, 2))
                command: Frame = {
                    "type": "inject",
                    "title": f"#eyes-only-{n}#",
                    "text": f"#inject-{n}#",
                    "visible_to": to,
                }
            else:
                others = [m for m in members if m != listener.member]
                own = [r["id"] for r in view["reports"] if r["owner"] == listener.member]
                choice = rng.random()
                if choice < 0.5:
                    to = rng.sample(others, k=rng.randint(1, 2))
                    command = {"type": "send_message", "to": to, "text": f"#private-{listener.member}-{n}#"}
                elif choice < 0.7 and own:
                    command = {"type": "share_intelligence", "report": rng.choice(own), "to": [rng.choice(others)]}
                elif choice < 0.8:
                    command = {"type": "offer_sharing", "partner": rng.choice(others)}
                else:
                    command = {"type": "propose_action", "text": f"#action-{listener.member}-{n}#"}
            with contextlib.suppress(Exception):
                await seat.command(command)


MARKED = re.compile(r"#[a-z-]+-(?:[A-Z]{3}-)?\d+#")


def dump(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False)


@dataclass
class Secrets:
    """What each member may not see, read from the white cell's complete log."""

    members: list[str]
    objectives: dict[str, list[str]]
    private: list[tuple[frozenset[str], str]]
    """(audience, text) of messages, free-form actions and injects meant for some members only."""
    reports: dict[str, tuple[str, set[str]]]
    """report id -> (owner, members it was shared with)"""
    briefs: dict[str, str]
    """member -> its brief, as secret as its objectives"""
    repertoire: frozenset[str]
    """The adversary's brief and the titles and texts of the catalogue entries its ladder lists: the red cell, which
    plays the adversary, knows them, even those it would deliver to some members only."""

    @classmethod
    def from_log(cls, log: list[Frame]) -> Secrets:
        events = [e["event"] for e in log]
        opened = events[0]
        assert opened["type"] == "game_opened"
        objectives = {m["code"]: [s for o in m["objectives"] for s in (o["id"], o["text"])] for m in opened["members"]}
        private: list[tuple[frozenset[str], str]] = []
        reports: dict[str, tuple[str, set[str]]] = {}
        for e in events:
            match e["type"]:
                case "message_sent" if e["message"]["recipients"]:
                    message = e["message"]
                    private.append((frozenset([message["sender"], *message["recipients"]]), message["text"]))
                case "action_proposed":
                    private.append((frozenset([e["member"]]), e["text"]))
                case "inject_delivered" if e["inject"]["visible_to"] is not None:
                    audience = frozenset(e["inject"]["visible_to"])
                    private += [(audience, e["inject"]["title"]), (audience, e["inject"]["text"])]
                case "intelligence_reported":
                    reports[e["report"]] = (e["owner"], set())
                case "intelligence_shared":
                    reports[e["report"]][1].add(e["member"])
        exercise = opened.get("exercise", {})  # absent where all is default (no catalogue, no ladder)
        listed = {i for rung in exercise.get("adversary", {}).get("ladder", []) for i in rung.get("injects", [])}
        texts = [(t["title"], t.get("text", "")) for t in exercise.get("catalogue", []) if t["id"] in listed]
        adversary = exercise.get("adversary", {}).get("brief", "")
        private += [(frozenset(), adversary)] if adversary else []
        repertoire = frozenset(s for pair in [*texts, (adversary, "")] for s in pair if s)
        briefs = {m["code"]: m["brief"] for m in opened["members"] if m.get("brief")}
        return cls(sorted(objectives), objectives, private, reports, briefs, repertoire)

    def forbidden_texts(self, member: str | None, knows: frozenset[str] = frozenset()) -> list[str]:
        own = set(self.objectives.get(member or "", []))  # two members may share an objective's wording
        texts = [t for code, ts in self.objectives.items() if code != member for t in ts if t not in own]
        texts += [brief for code, brief in self.briefs.items() if code != member]
        visible = {t for audience, t in self.private if member in audience} | knows
        texts += [t for audience, t in self.private if member not in audience and t not in visible and len(t) > 3]
        return texts

    def may_know_report(self, member: str | None, report: str) -> bool:
        owner, shared = self.reports[report]
        return member is not None and (member == owner or member in shared)


def check_payloads(
    secrets: Secrets, who: str, member: str | None, payloads: list[Any], knows: frozenset[str] = frozenset()
) -> int:
    """Every payload, as JSON text, holds none of the seat's forbidden texts and names no report it may not know."""
    forbidden = secrets.forbidden_texts(member, knows)
    # The test's own private texts are marked #...#: one findall and a set lookup.  The rest (the scenario's
    # objectives, the bots' words) in one scan; the JSON escapes the texts and the payload alike.
    marked = {t for t in forbidden if MARKED.fullmatch(t)}
    escaped = sorted({json.dumps(t, ensure_ascii=False)[1:-1] for t in forbidden if t not in marked}, key=len)
    pattern = re.compile("|".join(map(re.escape, reversed(escaped))))
    for payload in payloads:
        text_ = dump(payload)
        leaked = marked.intersection(MARKED.findall(text_))
        assert not leaked, f"{who} ({member}) received {leaked}: {text_[:300]}"
        found = pattern.search(text_) if escaped else None
        assert found is None, f"{who} ({member}) received {found.group()!r}: {text_[:300]}"
        for report in _reports_in(payload):
            assert secrets.may_know_report(member, report), f"{who} ({member}) learnt of report {report}"
    return len(payloads)


def _reports_in(payload: Any) -> list[str]:
    """Report ids a payload reveals: a view's reports (socket frame or REST), intelligence events (socket frame or
    the REST log)."""
    if isinstance(payload, list):  # GET /events
        return [r for entry in payload for r in _reports_in({"type": "event", **entry})]
    if payload.get("type") == "view":
        payload = payload["view"]
    if "you" in payload:
        return [r["id"] for r in payload["reports"]]
    event = payload.get("event") if payload.get("type") == "event" else None
    if event and event["type"] in ("intelligence_reported", "intelligence_shared"):
        return [event["report"]]
    return []


async def secret_game(url: str, http: httpx.AsyncClient, scenario: str, seed: int) -> tuple[int, int, int]:
    response = await http.post(
        "/api/games", json={"scenario": scenario, "facilitator": "Chair (bot)", "seed": seed, "title": "Secrets"}
    )
    assert response.status_code == 201, response.text
    created = response.json()
    game = Game(created["game_id"], created["join_code"], created["facilitator_key"], created["seat"]["seat_id"])
    members = [m["code"] for m in (await http.get(f"/api/join/{game.join_code}")).json()["members"]]
    ws_url = websocket_url(url, game.game_id)
    readiness = Readiness(members)
    bots: list[RecordingBot] = []
    listeners: list[Listener] = []
    spies = random.Random(seed).sample(members, k=SPIES)
    for m in members:
        bot_key = await claim_seat(http, game, "delegation", m, f"{m} bot")
        bots.append(RecordingBot(m, bot_key.token, ws_url, seed, readiness=readiness, patience=60))
        if m in spies:
            token = (await claim_seat(http, game, "delegation", m, f"{m} spy")).token
            listeners.append(Listener(f"{m} spy", m, token))
    for role in ("observer", "red_cell"):
        listeners.append(Listener(role, None, (await claim_seat(http, game, role, None, role)).token))
    white_cell = Listener("white cell", None, game.facilitator_key)
    chair = FacilitatorBot(game.facilitator_key, ws_url, phase_pause=0.05, phase_timeout=5, readiness=readiness)
    rng = random.Random(seed)
    count = itertools.count(1)
    game_over = asyncio.Event()
    async with contextlib.AsyncExitStack() as stack:
        for listener in [*listeners, white_cell]:
            listener.seat = await stack.enter_async_context(
                Seat(ws_base(url), game.game_id, listener.token, since=0, name=listener.name)
            )
            await listener.seat.welcome()
        schemers = [
            asyncio.create_task(mischief(lst, random.Random(rng.random()), members, count, game_over))
            for lst in [*listeners[:SPIES], white_cell]
        ]
        try:
            async with asyncio.timeout(120), asyncio.TaskGroup() as group:
                for bot in (*bots, chair):
                    group.create_task(bot.run())
        finally:
            game_over.set()
            await asyncio.gather(*schemers, return_exceptions=True)
        final = (await rest_view(http, game, game.facilitator_key))["seq"]
        for listener in listeners:
            assert listener.seat is not None
            await listener.seat.view_at(final)
    log = (await http.get(f"/api/games/{game.game_id}/events", headers=bearer(game.facilitator_key))).json()
    secrets = Secrets.from_log(log)
    assert secrets.private, "the game made no private traffic to check"
    checked = 0
    for listener in listeners:
        assert listener.seat is not None
        listener.extra = [
            await rest_view(http, game, listener.token),
            (await http.get(f"/api/games/{game.game_id}/events", headers=bearer(listener.token))).json(),
        ]
        knows = secrets.repertoire if listener.name == "red_cell" else frozenset()
        payloads = [*listener.seat.frames, *listener.extra]
        checked += check_payloads(secrets, listener.name, listener.member, payloads, knows)
        # And the check has something to find: each member's own secrets do reach it.
        own = listener.extra[0]["members"].get(listener.member or "", {}).get("objectives", [])
        assert [o["text"] for o in own] == secrets.objectives.get(listener.member or "", [])[1::2]
    for bot in bots:
        rest = [await rest_view(http, game, bot.token)]
        checked += check_payloads(secrets, f"{bot.member} bot", bot.member, [*bot.frames, *rest])
    return checked, len(secrets.private), final


@pytest.mark.timeout(120 if not FULL else 900)
@pytest.mark.parametrize("scenario", sorted(scenarios.builtin()))
async def test_no_seat_receives_what_is_secret_from_it(url: str, http: httpx.AsyncClient, scenario: str) -> None:
    payloads = secrets_checked = events = 0
    for seed in range(SEED, SEED + SEEDS_PER_SCENARIO):
        checked, private, final = await secret_game(url, http, scenario, seed)
        payloads, secrets_checked, events = payloads + checked, secrets_checked + private, events + final
    print(
        f"secrets ({scenario}): {SEEDS_PER_SCENARIO} bot games, {events} events, {secrets_checked} private "
        f"messages/actions/injects, {payloads} payloads checked"
    )


def test_the_secret_check_catches_a_leak() -> None:
    log = [
        {"seq": 1, "event": {"type": "game_opened", "members": [
            {"code": "EST", "objectives": [{"id": "est-x", "text": "Estonia's aim"}]},
            {"code": "POL", "objectives": [{"id": "pol-y", "text": "Poland's aim"}]},
        ]}},
        {"seq": 2, "event": {"type": "message_sent", "message": {
            "sender": "POL", "recipients": ["USA"], "text": "#private-POL-1#"}}},
        {"seq": 3, "event": {"type": "intelligence_reported", "report": "R1", "owner": "POL"}},
    ]  # fmt: skip
    secrets = Secrets.from_log(log)
    assert check_payloads(secrets, "EST", "EST", [{"type": "view", "view": {"you": {}, "reports": [], "x": "ok"}}])
    for leak in (
        {"type": "event", "seq": 1, "event": {"text": "Poland's aim"}},
        {"type": "event", "seq": 2, "event": {"text": "#private-POL-1#"}},
        {"type": "event", "seq": 3, "event": {"type": "intelligence_reported", "report": "R1"}},
        {"type": "view", "view": {"you": {}, "reports": [{"id": "R1"}]}},
    ):
        with pytest.raises(AssertionError):
            check_payloads(secrets, "EST", "EST", [leak])


# --- rate and size limits ----------------------------------------------------------------------------------


def test_a_token_bucket_allows_its_burst_then_its_rate() -> None:
    now = [100.0]
    bucket = TokenBucket(rate=2, burst=3, clock=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    assert bucket.retry_after() == pytest.approx(0.5)
    now[0] += 0.5
    assert bucket.take() and not bucket.take()
    now[0] += 100
    assert bucket.tokens == 3  # never more than the burst
    assert TokenBucket(rate=0, burst=1).take() and all(TokenBucket(0, 1).take() for _ in range(1000))
    with pytest.raises(ValueError):
        TokenBucket(rate=-1, burst=1)


def test_seat_limits_are_per_seat_and_forget_idle_seats() -> None:
    now = [0.0]
    limits = SeatLimits(rate=1, burst=2, clock=lambda: now[0], prune_at=10)
    assert [limits.allow("a") for _ in range(3)] == [True, True, False]
    assert limits.allow("b")
    for i in range(20):
        limits.allow(f"s{i}")
    now[0] += 10  # every bucket refills
    limits.allow("late")
    assert len(limits) <= 12


@pytest.fixture
async def limited(database_url: str, anyio_backend: str) -> AsyncIterator[str]:
    async with live_server(database_url, commands_per_second=1, burst=3, flood_limit=6) as base:
        yield base


async def _started_table(http: httpx.AsyncClient) -> tuple[Game, SeatKey, SeatKey]:
    game = await create_game(http)
    est = await claim_seat(http, game, "delegation", "EST", "Kaja")
    pol = await claim_seat(http, game, "delegation", "POL", "Piotr")
    assert (await rest_command(http, game, game.facilitator_key, {"type": "start_game"})).status_code == 200
    return game, est, pol


async def test_commands_over_the_rate_are_refused_and_change_nothing(limited: str) -> None:
    async with client(limited) as http:
        game, est, pol = await _started_table(http)
        await _rate_limited_commands(limited, http, game, est, pol)


async def _rate_limited_commands(url: str, http: httpx.AsyncClient, game: Game, est: SeatKey, pol: SeatKey) -> None:
    limited = url
    async with Seat(ws_base(limited), game.game_id, est.token, name="EST") as seat:
        await seat.welcome()
        before = (await rest_view(http, game, game.facilitator_key))["seq"]
        refs = [await seat.send_command({"type": "send_message", "text": f"burst {i}"}) for i in range(8)]
        answers = [await seat.answer(ref) for ref in refs]
        acked = [a for a in answers if a["type"] == "ack"]
        limited_ = [a for a in answers if a["type"] == "refusal" and a["code"] == "rate_limited"]
        assert len(acked) == 3 and len(limited_) == 5, answers
        assert all(a["ref"] in refs and "a second" in a["reason"] and a["retry_after"] > 0 for a in limited_)
        after = await rest_view(http, game, game.facilitator_key)
        assert after["seq"] == before + len(acked)
        assert [m["text"] for m in after["messages"]] == [f"burst {i}" for i in range(len(acked))]

        # Another seat is not held back; a second socket of the same seat shares its bucket.
        async with Seat(ws_base(limited), game.game_id, pol.token, name="POL") as other:
            await other.welcome()
            assert (await other.command({"type": "send_message", "text": "POL is free"}))["type"] == "ack"
        async with Seat(ws_base(limited), game.game_id, est.token, name="EST-2") as twin:
            await twin.welcome()
            assert (await twin.command({"type": "send_message", "text": "twin"}))["code"] == "rate_limited"
            pong = await twin.answer(await _ping(twin))
            assert (pong["type"], pong["code"]) == ("error", "rate_limited")  # every frame counts, not just commands

        await asyncio.sleep(1.1)  # one a second: a token back
        assert (await seat.command({"type": "send_message", "text": "after a pause"}))["type"] == "ack"
        assert seat.close_code is None


async def test_rest_commands_share_the_seats_allowance_and_say_when_to_retry(limited: str) -> None:
    async with client(limited) as http:
        game, est, _ = await _started_table(http)
        before = (await rest_view(http, game, game.facilitator_key))["seq"]
        answers = [
            await rest_command(http, game, est.token, {"type": "send_message", "text": f"r{i}"}) for i in range(5)
        ]
        assert [a.status_code for a in answers] == [200, 200, 200, 429, 429], [a.text for a in answers]
        assert error_code(answers[-1]) == "rate_limited" and int(answers[-1].headers["Retry-After"]) >= 1
        assert (await rest_view(http, game, game.facilitator_key))["seq"] == before + 3
        async with Seat(ws_base(limited), game.game_id, est.token, name="EST") as seat:
            await seat.welcome()
            assert (await seat.command({"type": "send_message", "text": "socket"}))["code"] == "rate_limited"


async def test_a_reassignment_is_only_by_the_endpoint_that_hands_out_the_new_credential(
    url: str, http: httpx.AsyncClient
) -> None:
    game = await create_game(http)
    est = await claim_seat(http, game, "delegation", "EST", "Kaja")
    command = {"type": "reassign_seat", "seat": est.seat_id, "player": "Successor"}
    over_rest = await rest_command(http, game, game.facilitator_key, command)
    assert (over_rest.status_code, error_code(over_rest)) == (403, "reassign_by_endpoint"), over_rest.text
    async with Seat(ws_base(url), game.game_id, game.facilitator_key, name="chair") as chair:
        await chair.welcome()
        refusal = await chair.command(command)
        assert (refusal["type"], refusal["code"]) == ("refusal", "reassign_by_endpoint")
        assert "/reassign" in refusal["reason"]
    assert (await http.get(f"/api/games/{game.game_id}/view", headers=bearer(est.token))).status_code == 200


async def _ping(seat: Seat) -> str:
    ref = seat.new_ref()
    await seat.send_raw(json.dumps({"type": "ping", "ref": ref}))
    return ref


async def test_a_flood_far_beyond_the_rate_is_closed_with_1008_and_only_that_socket(limited: str) -> None:
    async with client(limited) as http:
        game, est, pol = await _started_table(http)
        await _flood(limited, game, est, pol)


async def _flood(limited: str, game: Game, est: SeatKey, pol: SeatKey) -> None:
    async with Seat(ws_base(limited), game.game_id, pol.token, name="POL") as bystander:
        await bystander.welcome()
        async with Seat(ws_base(limited), game.game_id, est.token, name="EST") as flooder:
            await flooder.welcome()
            for i in range(200):
                with contextlib.suppress(Exception):
                    await flooder.send_raw(json.dumps({"type": "ping", "ref": f"p{i}"}))
            assert await flooder.wait_closed() == 1008
            assert flooder.close_reason == "rate limit exceeded"
            answers = [f for f in flooder.frames if f.get("type") in ("pong", "error")]
            assert [f["ref"] for f in answers] == [f"p{i}" for i in range(len(answers))], "an answer went missing"
            assert 3 + 6 <= len(answers) < 200
            assert {f.get("code") for f in answers if f["type"] == "error"} == {"rate_limited"}
        assert (await bystander.command({"type": "send_message", "text": "unaffected"}))["type"] == "ack"
        await asyncio.sleep(1.1)  # a token back: the seat may play again
        async with Seat(ws_base(limited), game.game_id, est.token, name="EST-back") as back:
            await back.welcome()
            assert (await back.command({"type": "send_message", "text": "back"}))["type"] == "ack"


@pytest.fixture
async def small_frames(database_url: str, anyio_backend: str) -> AsyncIterator[str]:
    async with live_server(database_url, max_frame_bytes=512) as base:
        yield base


async def test_the_frame_limit_covers_the_hello_too(small_frames: str) -> None:
    async with client(small_frames) as http:
        game = await create_game(http)
        est = await claim_seat(http, game, "delegation", "EST")
        big = json.dumps({"type": "hello", "token": est.token, "pad": "x" * 600})
        seat = Seat(ws_base(small_frames), game.game_id, est.token, name="big-hello")
        await seat.open(big)
        try:
            assert await seat.wait_closed() == 1009
            assert not [f for f in seat.frames if f["type"] in ("welcome", "view")]
        finally:
            await seat.close()
        url = f"{ws_base(small_frames)}/ws/games/{game.game_id}"
        async with connect(url, proxy=None, open_timeout=10) as binary:
            await binary.send(json.dumps({"type": "hello", "token": est.token}).encode())
            assert json.loads(await asyncio.wait_for(binary.recv(), 10))["code"] == "bad_hello"
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(binary.recv(), 10)
            assert binary.close_code == 1008


@pytest.mark.parametrize(
    "setting",
    [{"commands_per_second": -1}, {"burst": 0}, {"flood_limit": 0}, {"max_frame_bytes": "lots"}],
)
def test_limit_settings_are_validated(setting: dict[str, Any]) -> None:
    from pydantic import ValidationError

    from server.config import Settings

    with pytest.raises(ValidationError):
        Settings(**setting)


def test_limit_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from server.config import Settings

    monkeypatch.setenv("COMMANDS_PER_SECOND", "7.5")
    monkeypatch.setenv("BURST", "11")
    monkeypatch.setenv("FLOOD_LIMIT", "13")
    monkeypatch.setenv("MAX_FRAME_BYTES", "2048")
    settings = Settings()
    assert (settings.commands_per_second, settings.burst, settings.flood_limit, settings.max_frame_bytes) == (
        7.5,
        11,
        13,
        2048,
    )


# --- 5xx the REST fuzz (test_fuzz.py) once found: each is a readable 4xx now ------------------------------


async def test_a_non_ascii_join_code_is_refused_not_a_server_error(url: str, http: httpx.AsyncClient) -> None:
    game = await create_game(http)
    body = {"join_code": "ÉÉÉÉÉÉ", "role": "delegation", "member": "EST", "player": "x"}
    response = await http.post(f"/api/games/{game.game_id}/seats", json=body)
    assert response.status_code == 403, response.text


async def test_a_malformed_member_code_is_refused_not_a_server_error(url: str, http: httpx.AsyncClient) -> None:
    game = await create_game(http)
    body = {"join_code": game.join_code, "role": "observer", "member": "json", "player": "x"}
    response = await http.post(f"/api/games/{game.game_id}/seats", json=body)
    assert response.status_code == 422, response.text
    assert "member" in response.text


async def test_a_huge_events_cursor_is_refused_not_a_server_error(url: str, http: httpx.AsyncClient) -> None:
    game = await create_game(http)
    for after in (2**31, 2**40, 2**64):  # seqs are INTEGER columns (32-bit on PostgreSQL)
        response = await http.get(
            f"/api/games/{game.game_id}/events?after={after}", headers=bearer(game.facilitator_key)
        )
        assert response.status_code == 422, response.text
    for seq in (2**31, 2**40):
        response = await http.get(
            f"/api/games/{game.game_id}/review/state?seq={seq}", headers=bearer(game.facilitator_key)
        )
        assert response.status_code == 422, response.text
    async with Seat(ws_base(url), game.game_id, game.facilitator_key, since=2**40, name="far") as far:
        assert (await far.next())["code"] == "bad_hello"
        assert await far.wait_closed() == 1008


async def test_a_huge_fork_seed_is_refused_not_a_server_error(url: str, http: httpx.AsyncClient) -> None:
    game = await create_game(http)
    response = await http.post(
        f"/api/games/{game.game_id}/fork", json={"at_seq": 1, "seed": 2**70}, headers=bearer(game.facilitator_key)
    )
    assert response.status_code == 422, response.text


async def test_a_nul_in_a_name_is_refused_not_a_server_error(url: str, http: httpx.AsyncClient) -> None:
    response = await http.post("/api/games", json={"scenario": "baltic-demo", "title": "a\x00b"})
    assert response.status_code == 422, response.text
    assert "NUL" in response.text
    game = await create_game(http)
    body = {"join_code": game.join_code, "role": "observer", "player": "x\x00"}
    response = await http.post(f"/api/games/{game.game_id}/seats", json=body)
    assert response.status_code == 422, response.text
