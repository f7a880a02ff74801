"""`wargame demo`: the real server, in this process, and a whole game played by bots over WebSockets.

The server runs on a free loopback port with a SQLite file in a temporary folder; six delegation bots and
a facilitator bot play every round through the same protocol as people; the outcome is printed with the
final state hash, checked against a replay of the stored events.  `wargame demo --script` prints the
scripted council transcript instead (`server.council_demo`).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TextIO

import uvicorn
from fastapi import FastAPI

from game_rules import state_hash
from server import wire
from server.app import create_app
from server.bots.game import GameOutcome, ProposalResult, play_game, rest
from server.bots.seat import BotError
from server.config import Settings
from server.lobby import Lobby
from server.replay import ReplayReport, replay_game
from server.scenarios import FIRST_GAME

DEFAULT_SEED = 3
"""A seed under which, in baltic-demo, some proposals are adopted and some are blocked."""
DEFAULT_PAUSE = 0.2
STARTUP_TIMEOUT = 30.0
SHUTDOWN_TIMEOUT = 15.0
GAME_TIMEOUT = 120.0


def _loopback_socket() -> socket.socket:
    # IPPROTO_TCP named, asyncio sets TCP_NODELAY on each accepted connection; with protocol 0 it does not, and
    # a response written in two parts waits for the client's delayed ACK (40 ms a request on plain asyncio).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
    except OSError:
        sock.close()
        raise
    return sock


@contextlib.asynccontextmanager
async def running_server(app: FastAPI, *, startup_timeout: float = STARTUP_TIMEOUT) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on a free loopback port as a task of this loop; yields the base URL."""
    sock = _loopback_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_config=None,
        log_level="warning",
        access_log=False,
        ws=wire.PROTOCOL,
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)

    async def serve() -> None:
        try:
            await server.serve(sockets=[sock])
        except SystemExit as stopped:  # uvicorn exits when the app's startup fails
            raise RuntimeError(f"the server stopped while starting (exit {stopped.code})") from None

    task = asyncio.create_task(serve(), name="uvicorn")
    base = f"http://127.0.0.1:{port}"
    try:
        await _wait_until_up(server, task, base, startup_timeout)
        yield base
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(task), SHUTDOWN_TIMEOUT)
        except TimeoutError:
            server.force_exit = True
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        finally:
            sock.close()


async def _wait_until_up(server: uvicorn.Server, task: asyncio.Task[None], base: str, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if task.done():
            task.result()  # raises why it stopped
            raise RuntimeError("the server stopped before it answered")
        if server.started:
            with contextlib.suppress(BotError):
                if (await rest("GET", f"{base}/healthz")).get("status") == "ok":
                    return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"the server did not answer {base}/healthz in {timeout:g} s")


# --- printing -----------------------------------------------------------------------------------------

STANCES = {"concur": "concur", "reserve": "reservation", "object": "OBJECT"}


def _positions(p: ProposalResult) -> str:
    if p.procedure == "consensus":
        return ", ".join(f"{m} {STANCES.get(s, s)}" for m, s in p.positions.items()) or "no positions"
    if p.procedure == "silence":
        return f"silence broken by {', '.join(p.silence_broken_by)}" if p.silence_broken_by else "silence kept"
    return ", ".join(f"{m} {c}" for m, c in p.votes.items()) or "no votes"


def _terms(p: ProposalResult) -> str:
    if p.forces_required is not None:
        return f"{p.kind} ({p.forces_required} forces)"
    if p.amount is not None:
        return f"{p.kind} ({p.amount:g} million)"
    return p.kind


def render(outcome: GameOutcome, live_hash: str, replay: ReplayReport, wall_seconds: float) -> str:
    lines = [
        f"Game {outcome.game_id}: {outcome.title} ({outcome.ruleset}), seed {outcome.seed}",
        f"Seats: {', '.join(f'{code} bot' for code in outcome.members)}, and a facilitator bot",
    ]
    for round_ in range(1, outcome.rounds + 1):
        phases = [phase for r, phase in outcome.phases_played if r == round_]
        lines.append(f"\nRound {round_} ({' > '.join(phases) or 'not reached'})")
        consulted = [m for m in outcome.members if (round_, m) in outcome.consultations]
        if consulted:
            lines.append(f"  consultation requested by {', '.join(consulted)}")
        for a in (a for a in outcome.actions if a["round"] == round_):
            lines.append(f"  action {a['id']} by {a['member']}: {a['text']}")
            ruling = str(a.get("ruling") or "not ruled on").upper()
            if roll := a.get("roll"):
                strength = roll["strength"].replace("_", " ")
                ruling = f"{strength} argument, rolled {roll['value']} ({roll['target']}+ needed): {ruling}"
            lines.append(f"           {ruling}")
        for p in (p for p in outcome.proposals if p.round == round_):
            lines.append(f"  {p.id:<8} {_terms(p)}, tabled by {p.tabled_by}: {p.outcome.upper().replace('_', ' ')}")
            lines.append(f"           {_positions(p)}")
            for member, reservation in p.reservations.items():
                lines.append(f"           {member}: {reservation}")
        for p in outcome.proposals:
            if p.kind != "deploy_forces" or not p.adopted or not p.pledges or p.round != round_:
                continue
            lines.append(f"  pledges on {p.id} (requirement {p.forces_required}), pledged / fair share:")
            for member, share in p.fair_shares.items():
                pledged = p.pledges.get(member, 0)
                flag = "  below fair share" if member in p.below_fair_share else ""
                lines.append(f"    {member}: {pledged:3} / {share:5.1f}{flag}")
            lines.append(f"    shortfall {p.shortfall}")
    adopted, other = outcome.adopted, outcome.not_adopted
    lines.append(
        f"\n{len(outcome.proposals)} proposals: {len(adopted)} adopted ({', '.join(p.id for p in adopted) or '-'}), "
        f"{len(other)} not adopted ({', '.join(f'{p.id} {p.outcome}' for p in other) or '-'})"
    )
    for i in outcome.invocations:
        how = f"by proposal {i['key']}" if i.get("proposal") else "by the victim itself"
        lines.append(f"Collective defence for {i['victim']} ({i['attack']['kind']} attack), {how}: {i['status']}")
    shortfalls = outcome.shortfalls
    if shortfalls:
        each = ", ".join(f"{pid} {short}" for pid, short in shortfalls.items())
        lines.append(f"Deployments adopted: {len(shortfalls)}; shortfall {sum(shortfalls.values())} forces ({each})")
    lines.append(
        f"{outcome.events} events, {outcome.messages} messages, {len(outcome.refusals)} refusals; "
        f"status {outcome.status} after round {outcome.rounds_reached} of {outcome.rounds}"
    )
    for note in outcome.refusals:
        lines.append(f"  refused {note.seat} {note.command} ({note.code}): {note.reason}")
    verdict = "matches" if replay.consistent and replay.final_hash == live_hash else "DOES NOT MATCH"
    lines.append(f"Final state hash {live_hash}; replay of {replay.events} stored events {verdict}")
    lines.append(f"Game played in {outcome.elapsed_seconds:.1f} s; total wall time {wall_seconds:.1f} s")
    return "\n".join(lines) + "\n"


# --- the command --------------------------------------------------------------------------------------


async def _demo(scenario: str, seed: int, pause: float, out: TextIO, began: float) -> bool:
    with tempfile.TemporaryDirectory(prefix="wargame-demo-") as folder:
        database_url = f"sqlite+aiosqlite:///{Path(folder) / 'demo.db'}"
        app = create_app(Settings(database_url=database_url))
        async with running_server(app) as base:
            out.write(f"Server on {base} (in-process; SQLite in {folder}); bots play {scenario!r}...\n")
            out.flush()
            outcome = await play_game(base, scenario, seed, pause, timeout=GAME_TIMEOUT)
            lobby: Lobby = app.state.lobby
            live_hash = state_hash((await lobby.room(outcome.game_id)).state)
        replay = await replay_game(database_url, outcome.game_id)
    out.write(render(outcome, live_hash, replay, time.monotonic() - began))
    return outcome.status == "ended" and replay.consistent and replay.final_hash == live_hash


def main(
    out: TextIO | None = None,
    *,
    scenario: str = FIRST_GAME,
    seed: int = DEFAULT_SEED,
    pause: float = DEFAULT_PAUSE,
) -> int:
    out = out or sys.stdout
    began = time.monotonic()
    try:
        ok = asyncio.run(_demo(scenario, seed, pause, out, began))
    except (BotError, RuntimeError, OSError) as problem:
        out.write(f"demo failed after {time.monotonic() - began:.1f} s: {problem}\n")
        return 1
    return 0 if ok else 1
