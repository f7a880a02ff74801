"""Nothing acknowledged is ever lost: the server process is killed (SIGKILL) at random moments while bots play,
or stopped (SIGTERM) with commands in flight, and started again on the same database.

After every kill: each command the server acknowledged is in the log at the seq it was acknowledged with, no
command is stored twice, the log replays to the snapshots' hashes, and each seat that resumes with `since` gets
exactly the events it missed.  Counts are small by default; WARGAME_FULL=1 runs the full ones (see
docs/operations.md).  Runs on SQLite, or on PostgreSQL when DATABASE_URL is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import random
import re
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from game_rules import EVENT_ADAPTER, State, evolve, state_hash
from server.bots.delegation import DelegationBot
from server.replay import replay_game
from server.store import EventStore, StoredEvent
from tests.integration.live import (
    SEED,
    Frame,
    Game,
    LiveServer,
    ProcessServer,
    Seat,
    SeatClosed,
    bearer,
    claim_seat,
    client,
    create_game,
    free_port,
    rest_view,
    scaled,
    ws_base,
)

pytestmark = pytest.mark.anyio

KILLS = scaled(5, 50)
STOPS = scaled(2, 10)
SCENARIO = "baltic-demo"
MEMBERS = ("EST", "POL", "USA", "DEU")
MAX_IN_FLIGHT = 6
UNIQUE_TEXTS = ("send_message", "broadcast")
CHATTER = re.compile(r"(?:[A-Z]{3} says|bulletin) \d+")
"""The players' chatter carries a counter, so each such command can be found in the log by its text (the bots'
own messages repeat from round to round)."""

# The event a command's acknowledged seq points at (its last event), where that is always the same type.
LAST_EVENT = {
    "send_message": "message_sent",
    "broadcast": "announced",
    "table_proposal": "proposal_tabled",
    "concur": "position_taken",
    "object": "position_taken",
    "concur_with_reservation": "position_taken",
    "break_silence": "silence_broken",
    "vote": "vote_cast",
    "pledge": "forces_pledged",
    "request_consultation": "consultation_requested",
}


# --- one game and the players that outlive server processes ---------------------------------------------


@dataclass
class Player:
    """One seat's client across any number of sockets: what it sent, what was acknowledged, what it saw."""

    name: str
    token: str
    member: str | None = None
    seen: list[int] = field(default_factory=list)
    """Seqs of every event frame received, over every socket, in arrival order."""
    sent: dict[str, Frame] = field(default_factory=dict)
    acked: dict[str, int] = field(default_factory=dict)
    seat: Seat | None = None
    decided: set[str] = field(default_factory=set)
    pending: set[str] = field(default_factory=set)
    """Refs sent on the current socket and not answered yet."""

    @property
    def last(self) -> int:
        return self.seen[-1] if self.seen else 0


@dataclass
class Table:
    game: Game
    players: dict[str, Player]
    bots: dict[str, DelegationBot]
    ended: bool = False


async def new_table(http: httpx.AsyncClient, url: str) -> Table:
    game = await create_game(http, SCENARIO, title="Crash drill")
    players = {"fac": Player("fac", game.facilitator_key)}
    for member in MEMBERS:
        key = await claim_seat(http, game, "delegation", member, f"{member} bot")
        players[member] = Player(member, key.token, member)
    observer = await claim_seat(http, game, "observer", None, "Observer")
    players["obs"] = Player("obs", observer.token)
    bots = {m: DelegationBot(m, players[m].token, "unused", SEED) for m in MEMBERS}
    return Table(game, players, bots)


async def resume(url: str, table: Table) -> None:
    """Every player reconnects with `since` = the last event it saw; what comes back is exactly the rest."""
    for player in table.players.values():
        seat = Seat(ws_base(url), table.game.game_id, player.token, since=player.last, name=player.name)
        player.seat = seat
        player.pending.clear()
        await seat.open()
        welcome = await seat.welcome()
        assert welcome["since"] == player.last
        frames = await seat.until(lambda f: f["type"] == "view")
        backlog = [f["seq"] for f in frames[:-1]]
        assert all(f["type"] == "event" for f in frames[:-1]), frames[:-1]
        assert backlog == list(range(player.last + 1, frames[-1]["seq"] + 1)), (player.name, player.last, backlog)


def latest_view(seat: Seat) -> Frame | None:
    views = seat.views
    return views[-1]["view"] if views else None


def unanswered(player: Player) -> int:
    seat = player.seat
    assert seat is not None
    for ref in list(player.pending):
        future = seat._answers.get(ref)
        if future is not None and future.done():
            player.pending.discard(ref)
    return len(player.pending)


async def send(player: Player, command: Frame) -> None:
    assert player.seat is not None
    ref = player.seat.new_ref()
    player.sent[ref] = command
    player.pending.add(ref)
    await player.seat.send_command(command, ref)


async def play_delegation(table: Table, player: Player, rng: random.Random, texts: Iterator[int]) -> None:
    """What the bot's rules call for on the latest view, plus chatter, pipelined without waiting for answers."""
    assert player.seat is not None and player.member is not None
    bot = table.bots[player.member]
    while True:
        if unanswered(player) >= MAX_IN_FLIGHT:
            await asyncio.sleep(0.005)
            continue
        view = latest_view(player.seat)
        if view is not None and view["status"] == "running":
            for key, command in bot.plan(view):
                if key not in player.decided:
                    player.decided.add(key)
                    await send(player, command)
            if rng.random() < 0.5:
                await send(player, {"type": "send_message", "text": f"{player.name} says {next(texts)}"})
        await asyncio.sleep(rng.uniform(0.0, 0.03))


async def play_facilitator(table: Table, player: Player, rng: random.Random, texts: Iterator[int]) -> None:
    assert player.seat is not None
    while True:
        if unanswered(player) >= MAX_IN_FLIGHT:
            await asyncio.sleep(0.005)
            continue
        view = latest_view(player.seat)
        if view is not None:
            if view["status"] == "lobby":
                await send(player, {"type": "start_game"})
                await asyncio.sleep(0.05)
                continue
            if view["status"] == "ended":
                table.ended = True
                return
            await send(player, {"type": "broadcast", "text": f"bulletin {next(texts)}"})
            if rng.random() < 0.04:
                advance = {"type": "advance_phase", "from_round": view["round"], "from_phase": view["phase"]}
                await send(player, advance)
        await asyncio.sleep(rng.uniform(0.0, 0.02))


async def play_until_killed(server: ProcessServer, table: Table, rng: random.Random, texts: Iterator[int]) -> None:
    """Bots and chatter on every seat; SIGKILL after a random moment, mid-flight."""
    tasks = [
        asyncio.create_task(
            play_facilitator(table, p, random.Random(rng.random()), texts)
            if name == "fac"
            else play_delegation(table, p, random.Random(rng.random()), texts)
        )
        for name, p in table.players.items()
        if name != "obs"
    ]
    try:
        await asyncio.sleep(rng.uniform(0.05, 1.5))
        await server.crash()
    finally:
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        # A send on a socket the dead server left is expected; anything else is a failure of the test's players.
        if isinstance(result, BaseException) and not isinstance(
            result, asyncio.CancelledError | ConnectionClosed | SeatClosed
        ):
            raise result


async def collect(table: Table) -> None:
    """After the kill: every socket was cut (1006); record acks and the event seqs each seat saw."""
    for player in table.players.values():
        seat = player.seat
        assert seat is not None
        assert await seat.wait_closed() == 1006, (player.name, seat.close_code)
        await seat.close()
        for frame in seat.frames:
            if frame.get("type") == "ack" and frame.get("ref") in player.sent:
                player.acked[frame["ref"]] = frame["seq"]
        player.seen += [f["seq"] for f in seat.events]
        assert player.seen == list(range(1, player.last + 1)), f"{player.name}: gap or duplicate in {player.seen}"
        player.seat = None


def snapshot_state(snapshot_json: str | None, events: list[StoredEvent]) -> State:
    state = State.model_validate_json(snapshot_json) if snapshot_json else State()
    for stored in events:
        if stored.seq > state.seq:
            state = evolve(state, EVENT_ADAPTER.validate_json(stored.payload))
    return state


async def check_log(database_url: str, table: Table) -> int:
    """With the server dead: the log holds every acknowledged command once, and replays consistently."""
    store = EventStore.from_url(database_url)
    try:
        log = await store.read(table.game.game_id)
        snapshot = await store.latest_snapshot(table.game.game_id)
    finally:
        await store.dispose()
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    events = {e.seq: json.loads(e.payload) for e in log}
    texts = [
        e["message"]["text"] if e["type"] == "message_sent" else e["text"]
        for e in events.values()
        if e["type"] in ("message_sent", "announced")
    ]
    ours = {
        c["text"]
        for p in table.players.values()
        for c in p.sent.values()
        if c["type"] in UNIQUE_TEXTS and CHATTER.fullmatch(c["text"])
    }
    twice = [t for t in ours if texts.count(t) > 1]
    assert not twice, f"commands stored twice: {twice}"
    for player in table.players.values():
        for ref, seq in player.acked.items():
            command = player.sent[ref]
            assert seq in events, f"{player.name}: acknowledged {command} at seq {seq}, lost (log ends at {len(log)})"
            expected = LAST_EVENT.get(command["type"])
            if expected is not None:
                assert events[seq]["type"] == expected, (command, events[seq])
            if command["type"] == "send_message" and command["text"] in ours:
                assert events[seq]["message"]["text"] == command["text"]
            if command["type"] == "broadcast":
                assert events[seq]["text"] == command["text"]

    report = await replay_game(database_url, table.game.game_id)
    assert report.consistent, report.text()
    assert report.events == len(log)
    # What a restarted server loads (latest snapshot + the events after it) is what replaying every event gives.
    loaded = snapshot_state(snapshot.state if snapshot else None, log)
    assert state_hash(loaded) == report.final_hash
    return len(log)


@dataclass
class Figures:
    kills: int = 0
    acked: int = 0
    events: int = 0
    games: int = 0
    resumed_sockets: int = 0
    snapshots_checked: int = 0
    started: float = field(default_factory=time.monotonic)

    def line(self) -> str:
        return (
            f"crash loop: {self.kills} SIGKILLs, {self.games} games, {self.events} events, {self.acked} acks all in "
            f"the log, {self.resumed_sockets} resumed sockets without gap or duplicate, "
            f"{self.snapshots_checked} snapshots checked, {time.monotonic() - self.started:.1f} s"
        )


@pytest.mark.timeout(scaled(150, 1500))
@pytest.mark.parametrize("flush_interval", ["0", "0.05"])
async def test_killed_at_random_moments_the_server_loses_no_acknowledged_command(
    database_url: str, flush_interval: str, anyio_backend: str
) -> None:
    """Also with SQLite's log flushed on a timer: a commit not yet flushed is the operating system's, and a killed
    process does not take it along (only a power cut would)."""
    if flush_interval != "0" and not database_url.startswith("sqlite"):
        pytest.skip("SQLITE_FLUSH_INTERVAL is SQLite's")
    rng = random.Random(SEED)
    texts = itertools.count(1)
    figures = Figures()
    tables: list[Table] = []
    server = ProcessServer(database_url, {"SQLITE_FLUSH_INTERVAL": flush_interval})
    try:
        for _ in range(KILLS):
            await server.start()
            async with client(server.url) as http:
                if not tables or tables[-1].ended:
                    tables.append(await new_table(http, server.url))
                    figures.games += 1
                table = tables[-1]
                await resume(server.url, table)
                figures.resumed_sockets += len(table.players)
            await play_until_killed(server, table, rng, texts)
            figures.kills += 1
            await collect(table)
            await check_log(database_url, table)

        # One last start: every seat resumes once more, and its view is what the server says it is.
        await server.start()
        async with client(server.url) as http:
            for table in tables:
                await resume(server.url, table)
                for player in table.players.values():
                    assert player.seat is not None
                    view = latest_view(player.seat)
                    assert view == await rest_view(http, table.game, player.token), player.name
                    await player.seat.close()
                    player.seat = None
        await server.crash()
        for table in tables:
            figures.events += await check_log(database_url, table)
            figures.acked += sum(len(p.acked) for p in table.players.values())
            figures.snapshots_checked += (await replay_game(database_url, table.game.game_id)).snapshots_checked
    finally:
        for table in tables:
            for player in table.players.values():
                if player.seat is not None:
                    await player.seat.close()
        await server.crash()
    print(figures.line())
    assert figures.acked > 0 and figures.kills == KILLS


# --- SIGTERM: a clean stop finishes what is in flight -----------------------------------------------------


async def rest_broadcasts(
    http: httpx.AsyncClient, game: Game, texts: Iterator[int], out: dict[str, int | None]
) -> None:
    """Broadcasts over REST, one after another; `out[text]` is the acked seq, or None when no answer came."""
    while True:
        text = f"rest {next(texts)}"
        out[text] = None
        try:
            response = await http.post(
                f"/api/games/{game.game_id}/commands",
                json={"type": "broadcast", "text": text},
                headers=bearer(game.facilitator_key),
            )
        except httpx.TransportError:
            return
        if response.status_code != 200:
            return
        out[text] = response.json()["seq"]


async def ws_broadcasts(fac: Seat, texts: Iterator[int], sent: dict[str, str], rng: random.Random) -> None:
    """Broadcasts over the socket, pipelined: `sent[ref]` is each one's text."""
    while True:
        text = f"ws {next(texts)}"
        ref = fac.new_ref()
        sent[ref] = text
        await fac.send_command({"type": "broadcast", "text": text}, ref)
        await asyncio.sleep(rng.uniform(0, 0.004))


@pytest.mark.timeout(scaled(90, 600))
async def test_a_sigterm_finishes_commands_in_flight_and_never_acks_one_it_loses(
    database_url: str, anyio_backend: str
) -> None:
    rng = random.Random(SEED + 1)
    texts = itertools.count(1)
    server = ProcessServer(database_url)
    acked_total = stored_unacked = stored_total = 0
    try:
        await server.start()
        async with client(server.url) as http:
            game = await create_game(http, SCENARIO, title="Stop drill")
        for _ in range(STOPS):
            if server.port == 0 or server._process is None:
                await server.start()
            async with client(server.url) as http:
                fac = Seat(ws_base(server.url), game.game_id, game.facilitator_key, name="fac")
                await fac.open()
                await fac.welcome()
                view = await fac.view_at(0)
                if view["status"] == "lobby":
                    await fac.ack({"type": "start_game"})
                sent: dict[str, str] = {}
                over_rest: dict[str, int | None] = {}
                rest = asyncio.create_task(rest_broadcasts(http, game, texts, over_rest))

                ws = asyncio.create_task(ws_broadcasts(fac, texts, sent, rng))
                await asyncio.sleep(rng.uniform(0.1, 0.6))
                process = server._process
                assert process is not None
                began = time.monotonic()
                await server.stop()  # SIGTERM
                took = time.monotonic() - began
                for task in (ws, rest):
                    task.cancel()
                await asyncio.gather(ws, rest, return_exceptions=True)
                # Uvicorn shuts down cleanly, then re-raises the signal it caught: exit by SIGTERM, not a kill.
                assert process.returncode in (0, -signal.SIGTERM), f"exit {process.returncode} on SIGTERM"
                assert took < 10, f"the clean stop took {took:.1f} s"
                # 1012 "service restart", even to a client that was still sending (server/wire.py's shutdown).
                assert await fac.wait_closed() == 1012
                await fac.close()
                acked_ws = {
                    sent[f["ref"]]: f["seq"] for f in fac.frames if f.get("type") == "ack" and f.get("ref") in sent
                }
            store = EventStore.from_url(database_url)
            try:
                log = {e.seq: json.loads(e.payload) for e in await store.read(game.game_id)}
            finally:
                await store.dispose()
            stored = {e["text"]: seq for seq, e in log.items() if e["type"] == "announced"}
            acked = {**acked_ws, **{t: s for t, s in over_rest.items() if s is not None}}
            for text, seq in acked.items():
                assert stored.get(text) == seq, f"{text!r} was acknowledged at seq {seq} and is not there"
            tried = set(sent.values()) | set(over_rest)
            unacked_stored = [t for t in tried if t in stored and t not in acked]
            acked_total += len(acked)
            stored_unacked += len(unacked_stored)
            stored_total += len([t for t in tried if t in stored])
            report = await replay_game(database_url, game.game_id)
            assert report.consistent, report.text()
    finally:
        await server.crash()
    print(
        f"SIGTERM drill: {STOPS} stops, {acked_total} acks all stored at their seq, {stored_total} stored, "
        f"{stored_unacked} stored whose ack the closing socket could not carry"
    )
    assert acked_total > 0


# --- operations: readiness, structured logs, `wargame serve` under SIGTERM ----------------------------------


class _Hanging:
    """A store whose database never answers: it stopped responding."""

    async def ping(self) -> None:
        await asyncio.sleep(3600)


async def test_readyz_answers_503_while_the_database_does_not(database_url: str, anyio_backend: str) -> None:
    live = LiveServer(database_url, ready_timeout=0.5)
    await live.start()
    try:
        assert live.server is not None
        app = live.server.config.app
        async with client(live.url) as http:
            ready = await http.get("/readyz")
            assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
            store = app.state.store
            unreachable = EventStore.from_url("sqlite+aiosqlite:////nonexistent/directory/wargame.db")
            try:
                app.state.store = unreachable
                down = await http.get("/readyz")
                app.state.store = _Hanging()
                began = time.monotonic()
                hung = await http.get("/readyz")
                waited = time.monotonic() - began
                alive = await http.get("/healthz")
            finally:
                app.state.store = store
                await unreachable.dispose()
            assert down.status_code == 503 and down.json()["error"]["code"] == "not_ready", down.text
            assert hung.status_code == 503 and "timed out" in hung.json()["error"]["message"] and waited < 3
            assert alive.status_code == 200  # liveness is not readiness: the process itself is fine
            assert (await http.get("/readyz")).status_code == 200
    finally:
        await live.stop()


async def test_play_goes_on_after_postgresql_drops_every_connection_of_the_server(
    database_url: str, anyio_backend: str
) -> None:
    """A PostgreSQL restart or failover closes every connection the server holds, idle in its pool or not: the next
    command, read and deadline check each find a new one, and no seat notices."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's connections")
    name = f"wargame-{os.getpid()}-{time.monotonic_ns()}"
    tagged = f"{database_url}{'&' if '?' in database_url else '?'}application_name={name}"
    live = LiveServer(tagged)
    await live.start()
    try:
        async with client(live.url) as http:
            game = await create_game(http)
            delegation = await claim_seat(http, game, member="EST")
            async with (
                Seat(ws_base(live.url), game.game_id, game.facilitator_key, name="white") as white,
                Seat(ws_base(live.url), game.game_id, delegation.token, name="EST") as est,
            ):
                await est.until(lambda frame: frame["type"] == "view")
                await white.ack({"type": "start_game"})
                dropped = await asyncio.to_thread(_terminate_connections, database_url, name)
                assert dropped >= 1, "the server held no connection to drop"
                seq = await white.ack({"type": "advance_phase", "from_round": 1, "from_phase": "briefing"})
                await est.until(lambda frame: frame["type"] == "event" and frame["seq"] == seq)
                view = await rest_view(http, game, delegation.token)
                assert (view["seq"], view["phase"]) == (seq, "deliberation"), view
                dropped_again = await asyncio.to_thread(_terminate_connections, database_url, name)
                assert dropped_again >= 1, "the command and the read opened new connections"
                said = await est.ack({"type": "send_message", "text": "still here"})
                assert said == seq + 1
                await white.until(lambda frame: frame["type"] == "event" and frame["seq"] == said)
    finally:
        await live.stop()


def _terminate_connections(database_url: str, application_name: str) -> int:
    """What a PostgreSQL restart does to a client: its server processes end, the sockets close.  Only the
    connections of the server under test (by their application name) are ended; returns how many."""
    import psycopg

    dsn = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", (application_name,)
        ).fetchall()
    return sum(1 for (ended,) in rows if ended)


async def test_wargame_serve_writes_json_lines_masks_credentials_and_stops_cleanly_on_sigterm(
    database_url: str, tmp_path: Path, anyio_backend: str
) -> None:
    port = free_port()
    out, err = (tmp_path / "stdout.log").open("wb"), (tmp_path / "stderr.log").open("wb")
    env = {**os.environ, "LOG_LEVEL": "debug"}  # debug: the WebSocket protocol traces every frame, hellos too
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.cli", "serve", "--json-logs", "--port", str(port),
        "--database-url", database_url, stdout=out, stderr=err, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        async with client(url) as http:
            for _ in range(300):
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/readyz")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            game = await create_game(http)
            est = await claim_seat(http, game, "delegation", "EST", "Kaja")
            async with Seat(ws_base(url), game.game_id, est.token, name="EST") as seat:
                await seat.welcome()
                await seat.refused({"type": "start_game"})
            await http.get(f"/api/games/{game.game_id}/view", headers=bearer(est.token))
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        out.close()
        err.close()
    lines = [ln for f in ("stdout.log", "stderr.log") for ln in (tmp_path / f).read_text().splitlines() if ln]
    records = [json.loads(ln) for ln in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    messages = [r["message"] for r in records]
    assert any("Alliance crisis wargame on" in m for m in messages), "the banner is a JSON line too"
    assert any(r["logger"] == "uvicorn.access" and "/readyz" in r["message"] for r in records)
    assert any(r["logger"] == "wargame.ws" and r.get("game_id") == game.game_id and r.get("seat_id") for r in records)
    assert any("[redacted]" in m for m in messages), "the frame trace of the hello should be there, masked"
    text_ = "\n".join(lines)
    assert est.token not in text_ and game.facilitator_key not in text_
    assert any("Finished server process" in m for m in messages), "no clean shutdown on SIGTERM"
    assert process.returncode in (0, -signal.SIGTERM)
    print(f"wargame serve --json-logs: {len(records)} JSON lines, credentials masked, clean stop on SIGTERM")
