"""No input crashes the server and no reconnect loses a frame.

* Reconnect fuzz: seats drop (closed or cut) and come back with `since` at random while others play; each
  client's seqs stay gapless and duplicate-free, and its final view is the server's view for that seat.
* REST fuzz: Schemathesis generates requests from the app's own OpenAPI document, some aimed at a real game with
  real credentials; no answer is a 5xx and every answer conforms to the document.
* WebSocket fuzz: malformed, hostile, huge, deeply nested, binary and flooding frames, each answered with a
  structured error or refusal or a clean close (1008, 1009), while another game is served on time and the
  server's memory stays bounded.

Counts are small by default; WARGAME_FULL=1 runs the full ones (docs/operations.md).  Figures are printed
(`pytest -s`).  Runs on SQLite, or on PostgreSQL when DATABASE_URL is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
import math
import random
import statistics
import string
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.integration.live import (
    SEED,
    Frame,
    Game,
    ProcessServer,
    Seat,
    bearer,
    claim_seat,
    client,
    create_game,
    live_server,
    rest_view,
    scaled,
    ws_base,
)

pytestmark = pytest.mark.anyio

RECONNECTS = scaled(100, 1000)
REST_CASES = scaled(200, 1000)
WS_FRAMES = scaled(1000, 10_000)
RSS_GROWTH_LIMIT_MB = 128
"""Generous: the fuzz adds events to one game; what must not happen is growth with the number of frames."""


# --- reconnect fuzz ------------------------------------------------------------------------------------


@dataclass
class Client:
    """One seat's client across reconnects: every event seq it received, over every socket, in order."""

    name: str
    token: str
    seat: Seat | None = None
    seen: list[int] = field(default_factory=list)
    sockets: int = 0

    @property
    def last(self) -> int:
        return self.seen[-1] if self.seen else 0


async def connect_client(url: str, game: Game, c: Client) -> None:
    seat = Seat(ws_base(url), game.game_id, c.token, since=c.last, name=f"{c.name}#{c.sockets}")
    await seat.open()
    await seat.welcome()
    c.seat, c.sockets = seat, c.sockets + 1


async def disconnect_client(c: Client, how: str) -> None:
    """Drop the socket: a clean close, or the transport cut under it; keep every event it did receive."""
    seat, c.seat = c.seat, None
    assert seat is not None
    if how == "cut" and seat._socket is not None:
        seat._socket.transport.abort()
    await seat.close()
    seqs = [f["seq"] for f in seat.events]
    assert seqs == list(range(c.last + 1, c.last + 1 + len(seqs))), f"{seat.name} after {c.last}: {seqs}"
    c.seen += seqs


async def chatter(
    c: Client, rng: random.Random, texts: Iterator[int], members: list[str], budget: asyncio.Semaphore
) -> None:
    """Commands from this seat whenever it is connected; answers are not awaited (the socket may drop).  Each takes
    one from `budget`, which the reconnect loop fills, so the game grows with the reconnects and not with time."""
    while True:
        await budget.acquire()
        await asyncio.sleep(rng.uniform(0, 0.01))
        seat = c.seat
        if seat is not None:
            if c.name == "fac":
                # Mostly commands that do not make every later view longer, so the views stay small.
                command: Frame = (
                    {"type": "extend_phase", "seconds": 1}
                    if rng.random() < 0.7
                    else {"type": "broadcast", "text": f"bulletin {next(texts)}"}
                )
            else:
                to = rng.sample([m for m in members if m != c.name], k=rng.randint(0, 2))
                command = {"type": "send_message", "to": to, "text": f"{c.name} {next(texts)}"}
            with contextlib.suppress(ConnectionClosed, AssertionError):
                await seat.send_command(command)


async def quiet_seq(http: httpx.AsyncClient, game: Game, quiet: float = 0.3) -> int:
    """The game's seq once it has not moved for `quiet` seconds."""
    seq = -1
    while True:
        now = (await rest_view(http, game, game.facilitator_key))["seq"]
        if now == seq:
            return seq
        seq = now
        await asyncio.sleep(quiet)


@pytest.mark.timeout(scaled(90, 900))
async def test_random_reconnects_lose_and_repeat_nothing(database_url: str, anyio_backend: str) -> None:
    rng = random.Random(SEED)
    texts = itertools.count(1)
    members = ["EST", "POL", "USA"]
    async with live_server(database_url) as url, client(url) as http:
        game = await create_game(http, title="Reconnect fuzz")
        clients = {"fac": Client("fac", game.facilitator_key)}
        for m in members:
            clients[m] = Client(m, (await claim_seat(http, game, "delegation", m, m)).token)
        clients["obs"] = Client("obs", (await claim_seat(http, game, "observer", None, "Obs")).token)
        for c in clients.values():
            await connect_client(url, game, c)
        assert clients["fac"].seat is not None
        await clients["fac"].seat.ack({"type": "start_game"})
        budget = asyncio.Semaphore(0)
        players = [
            asyncio.create_task(chatter(c, random.Random(rng.random()), texts, members, budget))
            for c in clients.values()
        ]
        ways: Counter[str] = Counter()
        began = time.monotonic()
        try:
            for _ in range(RECONNECTS):
                for _ in range(rng.randint(0, 3)):
                    budget.release()
                await asyncio.sleep(rng.uniform(0, 0.01))
                c = clients[rng.choice(list(clients))]
                how = rng.choice(["close", "cut"])
                ways[how] += 1
                await disconnect_client(c, how)
                await asyncio.sleep(rng.choice([0, 0, 0.001, 0.01, 0.05]))
                await connect_client(url, game, c)
                await asyncio.sleep(rng.uniform(0, 0.01))
        finally:
            for task in players:
                task.cancel()
            await asyncio.gather(*players, return_exceptions=True)
        elapsed = time.monotonic() - began

        # Commands still in flight land, and the phase deadline must not move the game on while we compare.
        paused = await http.post(
            f"/api/games/{game.game_id}/commands", json={"type": "pause_game"}, headers=bearer(game.facilitator_key)
        )
        assert paused.status_code == 200, paused.text
        final = await quiet_seq(http, game)
        for c in clients.values():
            seat = c.seat
            assert seat is not None
            view = await seat.view_at(final)
            assert view == await rest_view(http, game, c.token), f"{c.name}: its view is not the server's"
            await disconnect_client(c, "close")
            assert c.seen == list(range(1, final + 1)), f"{c.name}: gap or duplicate"
    print(
        f"reconnect fuzz: {RECONNECTS} reconnects ({dict(ways)}), {final} events, "
        f"{sum(len(c.seen) for c in clients.values())} event frames checked over "
        f"{sum(c.sockets for c in clients.values())} sockets, {elapsed:.1f} s"
    )


# --- REST fuzz (Schemathesis) ------------------------------------------------------------------------------


@dataclass
class RestFuzz:
    url: str
    game: Game
    tokens: list[str]
    seat_ids: list[str]
    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


def _aim(fuzz: RestFuzz, case: Any, rng: random.Random) -> None:
    """Point part of the generated requests at a real game, real seats and real credentials."""
    params = case.path_parameters or {}
    if "game_id" in params and rng.random() < 0.7:
        params["game_id"] = fuzz.game.game_id
    if "seat_id" in params and rng.random() < 0.5:
        params["seat_id"] = rng.choice(fuzz.seat_ids)
    if "join_code" in params and rng.random() < 0.5:
        params["join_code"] = fuzz.game.join_code
    body = case.body if isinstance(case.body, dict) else None
    if body is not None and "join_code" in body and rng.random() < 0.5:
        body["join_code"] = fuzz.game.join_code
    if rng.random() < 0.7:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {rng.choice(fuzz.tokens)}"}


def _record(fuzz: RestFuzz, operation: Any, case: Any, response: Any, checks: tuple[Any, ...]) -> None:
    fuzz.statuses[response.status_code] += 1
    for check in checks:
        try:
            case.validate_response(response, checks=[check])
        except BaseException as failed:  # Schemathesis raises a FailureGroup (an exception group)
            label = operation.label
            if len(fuzz.failures) < 20:
                fuzz.failures.append(f"{label} [{check.__name__}] {response.status_code}: {failed}")


def _operation_test(
    fuzz: RestFuzz, operation: Any, examples: int, seed: int, session: Any, rng: random.Random
) -> Callable[[], None]:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = (not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance)

    @hypothesis_seed(seed)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def one(case: Any) -> None:
        fuzz.cases += 1
        _aim(fuzz, case, rng)
        response = case.call(base_url=fuzz.url, session=session, timeout=15)
        _record(fuzz, operation, case, response, checks)

    test: Callable[[], None] = one
    return test


def _run_schemathesis(fuzz: RestFuzz, raw_schema: dict[str, Any], target: int) -> None:
    """Blocking: runs in a worker thread while the live server answers in the test's event loop."""
    import requests
    import schemathesis

    schema = schemathesis.openapi.from_dict(raw_schema)
    operations = [result.ok() for result in schema.get_all_operations()]
    session = requests.Session()
    session.trust_env = False  # loopback: never via a proxy
    rng = random.Random(SEED)
    for round_ in range(6):
        examples = max(5, math.ceil((target - fuzz.cases) * 1.2 / len(operations)))
        for operation in operations:
            _operation_test(fuzz, operation, examples, SEED + round_, session, rng)()
        if fuzz.cases >= target:
            return


@pytest.mark.timeout(scaled(120, 900))
async def test_generated_requests_get_no_server_error_and_answers_that_match_the_schema(
    database_url: str, anyio_backend: str
) -> None:
    async with live_server(database_url) as url, client(url) as http:
        game = await create_game(http, title="REST fuzz")
        keys = [
            await claim_seat(http, game, "delegation", "EST", "Kaja"),
            await claim_seat(http, game, "observer", None, "Obs"),
            await claim_seat(http, game, "umpire", None, "Ump"),
            await claim_seat(http, game, "red_cell", None, "Red"),
        ]
        started = await http.post(
            f"/api/games/{game.game_id}/commands",
            json={"type": "start_game"},
            headers={"Authorization": f"Bearer {game.facilitator_key}"},
        )
        assert started.status_code == 200, started.text
        raw_schema = (await http.get("/openapi.json")).json()
        fuzz = RestFuzz(
            url,
            game,
            tokens=[game.facilitator_key, *(k.token for k in keys), "not-a-credential"],
            seat_ids=[k.seat_id for k in keys],
        )
        began = time.monotonic()
        await anyio.to_thread.run_sync(functools.partial(_run_schemathesis, fuzz, raw_schema, REST_CASES))
        elapsed = time.monotonic() - began
        assert (await http.get("/healthz")).status_code == 200
    print(
        f"REST fuzz: {fuzz.cases} generated requests, statuses {dict(sorted(fuzz.statuses.items()))}, {elapsed:.1f} s"
    )
    assert not fuzz.failures, "\n\n".join(fuzz.failures)
    assert fuzz.cases >= REST_CASES


# --- WebSocket fuzz ----------------------------------------------------------------------------------------

FRAME_LIMIT = 64 * 1024
FUZZ_RATE = {"COMMANDS_PER_SECOND": "1000", "BURST": "500", "FLOOD_LIMIT": "300"}
"""High enough that one-at-a-time frames are never limited; floods of 2,500 go far beyond and are closed."""
FLOODS = {200: 600, 500: 2500, 3000: 600, 5500: 2500, 8000: 600, 9500: 2500}
"""After so many hostile frames, a flood of so many pings sent without waiting."""
ANSWERS = ("ack", "refusal", "error", "pong")
ERROR_CODES = {"bad_json", "bad_frame", "unknown_frame", "rate_limited"}

SAMPLES: list[Frame] = [
    {"type": "request_consultation", "joined_by": ["POL"]},
    {"type": "table_proposal", "proposal": "F1", "kind": "joint_statement", "text": "Fuzz"},
    {"type": "concur", "proposal": "F1"},
    {"type": "object", "proposal": "F1"},
    {"type": "concur_with_reservation", "proposal": "F1", "reservation": "r"},
    {"type": "break_silence", "proposal": "F1"},
    {"type": "vote", "proposal": "F1", "choice": "yes"},
    {"type": "close", "proposal": "F1"},
    {"type": "confirm_attribution", "proposal": "F1"},
    {"type": "request_assistance"},
    {"type": "invoke", "attack": {"kind": "armed"}},
    {"type": "pledge", "proposal": "F1", "forces": 3},
    {"type": "send_message", "to": ["POL"], "text": "fuzz"},
    {"type": "propose_action", "text": "fuzz"},
    {"type": "start_game"},
    {"type": "pause_game"},
    {"type": "resume_game"},
    {"type": "extend_phase", "seconds": 5},
    {"type": "set_rounds", "rounds": 4},
    {"type": "advance_phase", "from_round": 1, "from_phase": "briefing"},
    {"type": "declare_done", "round": 1, "phase": "briefing"},
    {"type": "end_when_done", "on": True},
    {"type": "inject", "title": "fuzz", "visible_to": ["EST"]},
    {"type": "broadcast", "text": "fuzz"},
    {"type": "rule_on_action", "action": "A1", "ruling": "accepted"},
    {"type": "roll_for_action", "action": "A1", "strength": "fair"},
    {"type": "claim_seat", "seat": "s", "role": "delegation", "member": "EST", "player": "p"},
    {"type": "reassign_seat", "seat": "s", "player": "p"},
    {"type": "share_intelligence", "report": "R1", "to": ["POL"]},
    {"type": "offer_sharing", "partner": "POL"},
    {"type": "adversary_move", "change": 1},
    {"type": "record_observation", "text": "fuzz", "member": "EST", "about_seq": 1},
    {"type": "rate_capability", "capability": "Burden-sharing", "rating": "M", "reason": "fuzz"},
    {
        "type": "plan_corrective_action",
        "item": "CA1",
        "capability": "Burden-sharing",
        "issue": "fuzz",
        "action": "fuzz",
        "responsible": "fuzz",
        "start": "2027-01-01",
        "completion": "2027-02-01",
    },
    {"type": "drop_corrective_action", "item": "CA1"},
    {"type": "give_feedback", "rating": 3, "went_well": "fuzz", "to_improve": "fuzz"},
]
"""Every command type but end_game (which would leave nothing else to fuzz), each in a valid form."""
NASTY_STRINGS = [
    "",
    "\x00",
    "\ud800",
    "\udfff\ud800",
    "\u202e\u200b\ufeff",
    "💣" * 50,
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "%s%n%x",
    "\n\r\t\x1b[31m",
    "A" * 5000,
    "null",
]
NASTY_NUMBERS: list[Any] = [0, -1, 2**31, 2**63, -(2**63) - 1, 10**30, 1e308, -0.0, 0.1, 1e-320, True, False]


def _value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice(NASTY_NUMBERS)
    if kind == 2:
        return rng.choice(NASTY_STRINGS)
    if kind == 3:
        return "".join(rng.choice(string.printable) for _ in range(rng.randint(0, 40)))
    if kind == 4:
        return rng.randint(-(2**70), 2**70)
    if kind == 5:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {_key(rng): _value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def _key(rng: random.Random) -> str:
    return rng.choice(["type", "ref", "command", "proposal", "text", "to", "member", "actor", "token", "seat", "x"])


def _mutated_command(rng: random.Random) -> Frame:
    command = dict(rng.choice(SAMPLES))
    for _ in range(rng.randint(0, 3)):
        match rng.randrange(4):
            case 0 if len(command) > 1:
                command.pop(rng.choice([k for k in command if k != "type"]))
            case 1:
                command[rng.choice([*command, _key(rng)])] = _value(rng)
            case 2:
                command["type"] = rng.choice([*(s["type"] for s in SAMPLES), "launch_missiles", "", "CONCUR"])
            case _:
                pass
    return command


def _ref(rng: random.Random, n: int) -> Any:
    return rng.choice([f"f{n}", n, f"f{n}", None, True, 1.5, "r" * 65, [n], {"n": n}, "é" * 10, -n, 10**70])


@dataclass(frozen=True)
class Fuzzed:
    kind: str
    data: str | bytes

    @property
    def too_big(self) -> bool:
        return len(self.data.encode() if isinstance(self.data, str) else self.data) > FRAME_LIMIT


def fuzz_frame(rng: random.Random, n: int) -> Fuzzed:
    """One hostile frame; `n` makes refs unique.  Frames over the limit must close the socket with 1009."""
    kind = rng.choices(
        [
            "command",
            "mutated",
            "garbage",
            "truncated",
            "not_object",
            "unknown_type",
            "ping",
            "nested",
            "numbers",
            "long",
            "binary",
            "oversize",
            "duplicate_keys",
        ],
        weights=[6, 20, 6, 6, 4, 5, 5, 4, 4, 3, 4, 1, 2],
    )[0]
    ref = _ref(rng, n)
    match kind:
        case "command":
            return Fuzzed(kind, json.dumps({"type": "command", "ref": ref, "command": rng.choice(SAMPLES)}))
        case "mutated":
            frame: Frame = {"type": "command", "ref": ref, "command": _mutated_command(rng)}
            if rng.random() < 0.2:
                frame[_key(rng)] = _value(rng)
            return Fuzzed(kind, json.dumps(frame))
        case "garbage":
            return Fuzzed(kind, "".join(rng.choice(string.printable + '{}[]":,') for _ in range(rng.randint(0, 200))))
        case "truncated":
            text = json.dumps({"type": "command", "ref": ref, "command": rng.choice(SAMPLES)})
            return Fuzzed(kind, text[: rng.randint(0, len(text) - 1)])
        case "not_object":
            return Fuzzed(kind, rng.choice(["[]", "[1,2]", "1", '"command"', "null", "true", "  ", "", "1e999"]))
        case "unknown_type":
            return Fuzzed(kind, json.dumps({"type": _value(rng), "ref": ref, "command": {"type": "start_game"}}))
        case "ping":
            return Fuzzed(kind, json.dumps({"type": "ping", "ref": ref}))
        case "nested":
            depth = rng.choice([50, 500, 2000, 20_000])
            opener, closer = rng.choice([("[", "]"), ('{"a":', "}")])
            inner = opener * depth + "1" + closer * depth
            if rng.random() < 0.5:
                inner = json.dumps({"type": "command", "ref": "deep"})[:-1] + f',"command":{inner}}}'
            return Fuzzed(kind, inner)
        case "numbers":
            raw = rng.choice(["NaN", "Infinity", "-Infinity", "1e999", "9" * 5000, "-0", "1" + "0" * 400])
            return Fuzzed(
                kind, f'{{"type":"command","ref":{raw},"command":{{"type":"pledge","proposal":"F1","forces":{raw}}}}}'
            )
        case "long":
            size = rng.randint(FRAME_LIMIT // 2, FRAME_LIMIT - 100)
            filler = "x" * size
            return Fuzzed(
                kind, json.dumps({"type": "command", "ref": ref, "command": {"type": "send_message", "text": filler}})
            )
        case "binary":
            return Fuzzed(kind, rng.randbytes(rng.randint(0, 512)))
        case "oversize":
            size = rng.randint(FRAME_LIMIT + 1, FRAME_LIMIT * 4)
            return Fuzzed(kind, rng.choice(["y" * size, rng.randbytes(size)]))
        case _:
            return Fuzzed(
                kind, f'{{"type":"ping","type":"command","ref":"f{n}","command":{{"type":"start_game"}},"ref":"g{n}"}}'
            )


def expected_ref(data: str | bytes) -> Any:
    """The protocol's rule: a string or integer ref of at most 64 characters is echoed; anything else is not."""
    if isinstance(data, bytes):
        return None
    try:
        frame = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(frame, dict):
        return None
    ref = frame.get("ref")
    if isinstance(ref, bool) or not isinstance(ref, str | int) or len(str(ref)) > 64:
        return None
    return ref


class FuzzSocket:
    """A bare socket for hostile frames: every frame it receives is kept; answers are queued in order."""

    def __init__(self, url: str, token: str, name: str) -> None:
        self.url, self.token, self.name = url, token, name
        self.ws: ClientConnection | None = None
        self.answers: asyncio.Queue[Frame] = asyncio.Queue()
        self.reader: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()
        self.close_codes: Counter[int | None] = Counter()
        self.sockets = 0

    async def open(self) -> None:
        self._welcome: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.ws = await connect(self.url, proxy=None, max_size=2**24, open_timeout=10, close_timeout=2)
        self.closed = asyncio.Event()
        self.answers = asyncio.Queue()
        self.sockets += 1
        await self.ws.send(json.dumps({"type": "hello", "token": self.token}))
        self.reader = asyncio.create_task(self._read(self.ws))
        welcome = json.loads(await asyncio.wait_for(self._welcome, 10))
        assert welcome["type"] == "welcome", welcome

    async def _read(self, ws: ClientConnection) -> None:
        first = True
        try:
            async for message in ws:
                assert isinstance(message, str), "the server sends text frames only"
                if first:
                    first = False
                    self._welcome.set_result(message)
                    continue
                frame = json.loads(message)
                if frame.get("type") in ANSWERS:
                    self.answers.put_nowait(frame)
        except ConnectionClosed:
            pass
        finally:
            self.close_codes[ws.close_code] += 1
            self.closed.set()

    async def reopen(self) -> None:
        await self.close()
        await self.open()

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 5)
        if self.reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.reader, 5)
        self.ws = self.reader = None

    async def send(self, data: str | bytes) -> bool:
        assert self.ws is not None
        try:
            await self.ws.send(data)
        except ConnectionClosed:
            return False
        return True

    async def answer(self, timeout: float = 10.0) -> Frame | None:
        """The next answer, or None when the socket closed first."""
        getter = asyncio.ensure_future(self.answers.get())
        closing = asyncio.ensure_future(self.closed.wait())
        try:
            await asyncio.wait({getter, closing}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closing.cancel()
            if not getter.done():
                getter.cancel()
        if getter.done() and not getter.cancelled():
            return getter.result()
        if not self.answers.empty():
            return self.answers.get_nowait()
        assert self.closed.is_set(), f"{self.name}: no answer within {timeout} s and the socket is still open"
        return None


def check_answer(answer: Frame, sent: Fuzzed, tally: Counter[str]) -> None:
    kind = answer["type"]
    assert kind in ANSWERS, answer
    assert answer.get("ref") == expected_ref(sent.data), (sent.kind, str(sent.data)[:200], answer)
    if kind in ("error", "refusal"):
        assert isinstance(answer.get("code"), str) and answer["code"], answer
        assert isinstance(answer.get("reason"), str) and answer["reason"], answer
        assert answer["code"] != "internal_error", (sent.kind, str(sent.data)[:300], answer)
    if kind == "error":
        assert answer["code"] in ERROR_CODES, answer
    tally[f"{kind}:{answer.get('code', '')}" if kind in ("error", "refusal") else kind] += 1


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc")


@dataclass
class Probe:
    """Another game, played on time while the fuzz goes on: a broadcast every few milliseconds, each acked."""

    latencies: list[float] = field(default_factory=list)

    async def run(self, seat: Seat, stop: asyncio.Event) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            began = time.monotonic()
            await seat.ack({"type": "broadcast", "text": f"meanwhile {n}"})
            self.latencies.append(time.monotonic() - began)
            await asyncio.sleep(0.02)


async def _flood(sock: FuzzSocket, n: int, size: int, tally: Counter[str]) -> None:
    """`size` frames without waiting; each is answered (many with rate_limited) or the socket closes with 1008."""
    frames = [Fuzzed("flood", json.dumps({"type": "ping", "ref": f"fl{n}-{i}"})) for i in range(size)]
    sent = 0
    for frame in frames:
        if not await sock.send(frame.data):
            break
        sent += 1
    answered = 0
    while answered < sent:
        answer = await sock.answer()
        if answer is None:
            assert sock.close_codes[1008] >= 1, f"flood closed with {dict(sock.close_codes)}"
            tally["flood:closed_1008"] += 1
            break
        check_answer(answer, frames[answered], tally)
        answered += 1


@pytest.mark.timeout(scaled(120, 900))
async def test_hostile_frames_get_answers_or_a_clean_close_and_memory_stays_bounded(
    database_url: str, anyio_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in FUZZ_RATE.items():
        monkeypatch.setenv(name, value)  # the server process reads its settings from the environment
    rng = random.Random(SEED)
    server = ProcessServer(database_url)
    await server.start()
    sockets: list[FuzzSocket] = []
    stop = asyncio.Event()
    probe = Probe()
    tally: Counter[str] = Counter()
    try:
        assert server._process is not None
        pid = server._process.pid
        async with client(server.url) as http:
            target = await create_game(http, title="Fuzz target")
            est = await claim_seat(http, target, "delegation", "EST", "Kaja")
            obs = await claim_seat(http, target, "observer", None, "Obs")
            other = await create_game(http, title="Meanwhile")
        url = f"{ws_base(server.url)}/ws/games/{target.game_id}"
        for token, name in ((est.token, "EST"), (obs.token, "obs"), (target.facilitator_key, "fac")):
            sock = FuzzSocket(url, token, name)
            await sock.reopen()
            sockets.append(sock)
        async with Seat(ws_base(server.url), other.game_id, other.facilitator_key, name="meanwhile") as bystander:
            await bystander.welcome()
            watcher = asyncio.create_task(probe.run(bystander, stop))
            await asyncio.sleep(0.3)
            rss_before = rss_mb(pid)
            began = time.monotonic()
            flooded = 0
            for n in range(1, WS_FRAMES + 1):
                sock = rng.choice(sockets)
                if n in FLOODS:
                    await _flood(sock, n, FLOODS[n], tally)
                    flooded += FLOODS[n]
                    if sock.closed.is_set():
                        await sock.reopen()
                frame = fuzz_frame(rng, n)
                tally[f"sent:{frame.kind}"] += 1
                assert await sock.send(frame.data)
                answer = await sock.answer()
                if frame.too_big:
                    assert answer is None and sock.close_codes[1009] >= 1, (answer, dict(sock.close_codes))
                else:
                    assert answer is not None, (frame.kind, str(frame.data)[:200], dict(sock.close_codes))
                    check_answer(answer, frame, tally)
                if sock.closed.is_set():
                    await sock.reopen()
                assert not watcher.done(), "the other game stopped being served"
            elapsed = time.monotonic() - began
            stop.set()
            await watcher
            for sock in sockets:
                await sock.close()
            await asyncio.sleep(0.5)
            rss_after = rss_mb(pid)
            # The server is still whole: the fuzzed game and the other one both answer.
            async with client(server.url) as http:
                assert (await http.get("/readyz")).status_code == 200
                await rest_view(http, target, target.facilitator_key)
            await bystander.ack({"type": "broadcast", "text": "after the fuzz"})
    finally:
        stop.set()
        for sock in sockets:
            await sock.close()
        await server.crash()
    codes = Counter[int | None]()
    for sock in sockets:
        codes.update(sock.close_codes)
    unexpected = {code: count for code, count in codes.items() if code not in (1000, 1008, 1009)}
    assert not unexpected, f"sockets closed with {unexpected}"
    slowest = max(probe.latencies)
    print(
        f"WS fuzz: {n} hostile frames and {flooded} flood frames in {elapsed:.1f} s over "
        f"{sum(s.sockets for s in sockets)} sockets; answers "
        f"{dict(sorted((k, v) for k, v in tally.items() if not k.startswith('sent:')))}; closes {dict(codes)}; "
        f"other game: {len(probe.latencies)} acks, median {statistics.median(probe.latencies) * 1000:.1f} ms, "
        f"max {slowest * 1000:.0f} ms; server RSS {rss_before:.1f} MB before, {rss_after:.1f} MB after "
        f"(+{rss_after - rss_before:.1f} MB)"
    )
    assert slowest < 5.0, "the other game waited too long while the fuzz went on"
    assert rss_after - rss_before < RSS_GROWTH_LIMIT_MB
