"""Load on live sockets: the game server against a bare WebSocket broadcast server, with the same clients.

Run: `python -m bench.load --games 100 --seats 10 --rate 100 --seconds 30 [--processes 1|2]`

For the game server it starts `wargame serve` (one process, or two sharing PostgreSQL and a Redis bus), creates
G games of the demo scenario over REST with S seats each (the facilitator and S-1 delegations), has each
facilitator start its game and bring it to the council with a proposal on the table, then opens one WebSocket
per seat.  Before and after opening them, while they are idle, it reads the server's VmRSS: the difference
per socket is the memory a seat costs.  Then the delegations send commands that are always accepted there
(`send_message` to the whole alliance, and `concur_with_reservation` on the proposal from the heads of
delegation, alternately) at a fixed
total rate, spread over the games, open loop (a slow answer does not slow the next command).  Each command
carries a unique token in its text; the latency of a command is from its send to the moment the LAST seat of
its game received the event frame carrying that token.  Every event frame's seq is checked per socket: a gap or
a duplicate is counted.  Then it runs bench/bare_server.py with the same clients and the same schedule, and
prints our p99 as a ratio of the bare server's.  With `--rounds N` it runs each server N times, alternating
(game, bare, bare, game, ...), and also compares all rounds' latencies pooled: on a shared machine one pair of
runs can land in a quiet minute and a busy one.  With `--interleave SECONDS` both servers are up with all their
sockets open at once, and the load moves between them every SECONDS (game, bare, bare, game, ...): a machine
that slows or speeds up over the minutes of a round then does so for both alike.

The clients run on a CPU of their own and the servers on the others (`placement`), and the clients' garbage
collector is off while they load a server (`paused_collector`): what is measured is the server's time, not the
load generator's.

Everything is on loopback, every wait is bounded, and the game server's database is EMPTIED first: by default
a temporary SQLite file (one process); with `--database-url` the database's name must contain "bench" or "scale"
unless `--reset-any-database` is given.  Results and the exact command line: docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

MEMBERS = ("EST", "POL", "USA", "DEU", "FRA", "LTU")
EVENT_PREFIX = '{"type":"event","seq":'
VIEW_PREFIX = '{"type":"view","seq":'
UPDATE_PREFIX = '{"type":"update","seq":'
ACK_PREFIX = '{"type":"ack"'
PRESENCE_PREFIX = '{"type":"presence"'
MARK = "~LT"
FILLER = "Our delegation supports the text as amended; we ask that the communique mention air defence."
SETUP_CONCURRENCY = 8
CONNECT_CONCURRENCY = 50
START_TIMEOUT = 120.0
STEP_TIMEOUT = 300.0
"""Upper bound of each setup step (games, seats, sockets); the run fails rather than waits longer."""
DRAIN_TIMEOUT = 15.0
IDLE_SETTLE = 3.0
WARMUP = 3.0
PY_SPY_OPTIONS = ("--rate", "200", "--format", "raw", "--nonblocking")

T = TypeVar("T")


# --- processes -------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def system_busy(count_io_wait: bool = False) -> tuple[float, float]:
    """(busy, total) CPU time of the whole machine so far, in clock ticks (from /proc/stat); with
    `count_io_wait`, time waiting for the disk counts as busy (the store's commits wait for it too)."""
    ticks = [float(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = ticks[3] + (0 if count_io_wait else ticks[4])
    return sum(ticks) - idle, sum(ticks)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def placement() -> tuple[list[int], list[int]] | None:
    """The CPUs of the servers and of the clients: the clients on the last CPU this process may use, the servers
    on the others; None on a machine with one.

    Left to itself, the scheduler wakes a client on the CPU of the server process that wrote to its socket
    (Linux's wake-affine placement), where it waits for the server to give the CPU up: a server that goes on
    working after its push (the game server brings every seat's view up to date) then delays the receipt it has
    already sent, by as long as that work takes.  Clients on other machines, as a seminar's are, are not
    delayed so; nor are clients on a CPU of their own."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None
    return cpus[:-1], cpus[-1:]


@dataclass
class Server:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    cpus: list[int] | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [*self.argv, "--port", str(self.port)], env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        # Popen returns once the child has exec'd, long before its interpreter starts a thread: all inherit this.
        if self.cpus is not None:
            os.sched_setaffinity(self.process.pid, self.cpus)
        deadline = time.monotonic() + START_TIMEOUT
        async with httpx.AsyncClient(base_url=self.url, timeout=5, trust_env=False) as http:
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/healthz")).status_code == 200:
                        return
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not come up (exit {self.process.poll()}); see {self.log}")
                await asyncio.sleep(0.1)

    def pause(self, paused: bool) -> None:
        """Stop the process where it is (SIGSTOP), or let it go on (SIGCONT)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGSTOP if paused else signal.SIGCONT)

    def stop(self) -> None:
        self.pause(False)
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def reset_database(url: str) -> None:
    """Drop the app's tables: each run starts from an empty store (the server migrates it again)."""
    from sqlalchemy import create_engine, text

    from server.db import downgrade, sync_url

    with contextlib.suppress(Exception):
        downgrade(url, "base")
    engine = create_engine(sync_url(url))
    try:
        with engine.begin() as connection:
            for table in ("snapshots", "events", "seats", "games", "alembic_version"):
                cascade = "" if url.startswith("sqlite") else " CASCADE"
                connection.execute(text(f"DROP TABLE IF EXISTS {table}{cascade}"))
    finally:
        engine.dispose()


# --- clients ---------------------------------------------------------------------------------------------


@dataclass
class Game:
    game_id: str
    probes: list[Probe] = field(default_factory=list)
    players: list[Probe] = field(default_factory=list)
    """The probes that send commands: the delegations."""


@dataclass
class Stats:
    sent: int = 0
    measured: int = 0
    latencies: list[float] = field(default_factory=list)
    acks: int = 0
    errors: list[str] = field(default_factory=list)
    gaps: int = 0
    duplicates: int = 0
    events: int = 0
    views: int = 0
    frames: int = 0
    received_bytes: int = 0
    closed: int = 0
    timeline: list[tuple[float, float]] = field(default_factory=list)
    """(send time, latency) of every measured command."""


class Probe:
    """One seat's socket: parses only the head of each frame, and finds the token in event frames."""

    __slots__ = ("game", "hello", "run", "seq", "socket", "task", "url")

    def __init__(self, run: Run, game: Game, url: str, hello: dict[str, Any]) -> None:
        self.run, self.game, self.url, self.hello = run, game, url, hello
        self.seq = 0
        self.socket: ClientConnection | None = None
        self.task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self.socket = await connect(self.url, proxy=None, open_timeout=30, ping_interval=None, max_size=2**24)
        await self.socket.send(json.dumps(self.hello))
        async with asyncio.timeout(30):
            while True:
                frame = await self.socket.recv()
                assert isinstance(frame, str)
                if frame.startswith(VIEW_PREFIX):
                    self.seq = int(frame[len(VIEW_PREFIX) : frame.index(",", len(VIEW_PREFIX))])
                    break
                if not frame.startswith('{"type":"welcome"'):
                    raise RuntimeError(f"unexpected frame before the view: {frame[:200]}")
        self.task = asyncio.create_task(self._read(self.socket))

    async def _read(self, sock: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for frame in sock:
                self.run.on_frame(self, frame if isinstance(frame, str) else frame.decode())
        if not self.run.closing:
            self.run.stats.closed += 1

    async def close(self) -> None:
        if self.socket is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.socket.close(), 5)
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task


class Run:
    """The clients of one server under test, and what they measured."""

    def __init__(self) -> None:
        self.games: list[Game] = []
        self.stats = Stats()
        self.pending: dict[int, list[Any]] = {}
        self.closing = False
        self.window_wall = 0.0
        """Epoch time the first measured window began (to line it up with server logs)."""

    @property
    def probes(self) -> list[Probe]:
        return [p for g in self.games for p in g.probes]

    def on_frame(self, probe: Probe, frame: str) -> None:
        now = time.perf_counter()
        stats = self.stats
        stats.frames += 1
        stats.received_bytes += len(frame)
        if frame.startswith(EVENT_PREFIX):
            end = frame.index(",", len(EVENT_PREFIX))
            seq = int(frame[len(EVENT_PREFIX) : end])
            if seq <= probe.seq:
                stats.duplicates += 1
            elif seq > probe.seq + 1:
                stats.gaps += seq - probe.seq - 1
            probe.seq = max(probe.seq, seq)
            stats.events += 1
            at = frame.find(MARK, end)
            if at >= 0:
                token = int(frame[at + len(MARK) : frame.index("~", at + len(MARK))])
                waiting = self.pending.get(token)
                if waiting is not None:
                    waiting[1] -= 1
                    if waiting[1] == 0:
                        del self.pending[token]
                        if waiting[2]:
                            stats.latencies.append(now - waiting[0])
                            stats.timeline.append((waiting[0], now - waiting[0]))
        elif frame.startswith((UPDATE_PREFIX, VIEW_PREFIX)):
            stats.views += 1
        elif frame.startswith(ACK_PREFIX):
            stats.acks += 1
        elif frame.startswith(PRESENCE_PREFIX):
            pass  # who is connected: neither a push of a command nor an error
        elif len(stats.errors) < 10_000:
            stats.errors.append(frame[:300])

    async def drive(self, rate: float, seconds: float, warmup: float) -> tuple[float, float]:
        """Send commands at `rate` per second in total, round robin over the games; returns the measured
        window (start, end) in perf_counter time."""
        loop = asyncio.get_running_loop()
        total = int(rate * (warmup + seconds))
        first = self.stats.sent  # the tokens go on from the last window's
        start = loop.time() + 0.05
        warm_end = start + warmup
        window_start = window_end = 0.0
        for i in range(first, first + total):
            at = start + (i - first) / rate
            if (delay := at - loop.time()) > 0:
                await asyncio.sleep(delay)
            measured = at >= warm_end
            if measured and not window_start:
                window_start = time.perf_counter()
                self.window_wall = self.window_wall or time.time()
            game = self.games[i % len(self.games)]
            # Positions are taken by the heads of delegation, the first player of each member; anyone messages.
            senders = game.players[: len(MEMBERS)] if i % 2 else game.players
            sender = senders[(i // len(self.games)) % len(senders)]
            text = f"{MARK}{i}~ {FILLER}"
            if i % 2:
                command = {"type": "concur_with_reservation", "proposal": "P1", "reservation": text}
            else:
                command = {"type": "send_message", "text": text}
            frame = json.dumps({"type": "command", "ref": i, "command": command})
            assert sender.socket is not None
            self.pending[i] = [time.perf_counter(), len(game.probes), measured]
            self.stats.sent += 1
            self.stats.measured += measured
            try:
                await sender.socket.send(frame)
            except ConnectionClosed:
                self.stats.errors.append(f"send on a closed socket ({sender.url})")
        window_end = time.perf_counter()
        return window_start, window_end

    async def drain(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(DRAIN_TIMEOUT):
                while any(waiting[2] for waiting in self.pending.values()):
                    await asyncio.sleep(0.05)

    @property
    def missing(self) -> int:
        return sum(1 for waiting in self.pending.values() if waiting[2])


async def bounded(items: Iterable[T], limit: int, action: Callable[[T], Awaitable[Any]], timeout: float) -> None:
    """`action` on every item, `limit` at a time, all within `timeout` seconds."""
    gate = asyncio.Semaphore(limit)

    async def one(item: T) -> None:
        async with gate:
            await action(item)

    async with asyncio.timeout(timeout):
        await asyncio.gather(*(one(item) for item in items))


# --- the game server's setup -------------------------------------------------------------------------------


async def command(http: httpx.AsyncClient, game_id: str, token: str, body: dict[str, Any]) -> int:
    response = await http.post(
        f"/api/games/{game_id}/commands", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    if response.status_code != 200:
        raise RuntimeError(f"setup command {body} failed: {response.status_code} {response.text}")
    seq: int = response.json()["seq"]
    return seq


async def set_up_game(http: httpx.AsyncClient, index: int, seats: int) -> tuple[str, list[tuple[str, str]]]:
    """A demo game in its council phase with proposal P1 open for an hour; returns its id and its seats'
    (role, token), the facilitator first."""
    response = await http.post("/api/games", json={"scenario": "baltic-demo", "title": f"load {index}"})
    if response.status_code != 201:
        raise RuntimeError(f"creating a game failed: {response.status_code} {response.text}")
    created = response.json()
    game_id, key = created["game_id"], created["facilitator_key"]
    tokens = [("facilitator", key)]
    for n in range(seats - 1):
        body = {
            "join_code": created["join_code"],
            "role": "delegation",
            "member": MEMBERS[n % len(MEMBERS)],
            "player": f"p{n}",
        }
        claimed = await http.post(f"/api/games/{game_id}/seats", json=body)
        if claimed.status_code != 201:
            raise RuntimeError(f"claiming a seat failed: {claimed.status_code} {claimed.text}")
        tokens.append(("delegation", claimed.json()["token"]))
    await command(http, game_id, key, {"type": "start_game"})
    await command(http, game_id, key, {"type": "advance_phase", "from_round": 1, "from_phase": "briefing"})
    await command(http, game_id, key, {"type": "advance_phase", "from_round": 1, "from_phase": "deliberation"})
    await command(http, game_id, key, {"type": "extend_phase", "seconds": 3600})
    table = {"type": "table_proposal", "proposal": "P1", "kind": "joint_statement", "text": "Joint statement"}
    await command(http, game_id, tokens[1][1], table)
    return game_id, tokens


# --- one measured run ----------------------------------------------------------------------------------------


@dataclass
class Result:
    label: str
    sockets: int
    rss_before_kib: int
    rss_after_kib: int
    rate_sent: float
    window: float
    latencies: list[float]
    stats: Stats
    missing: int
    window_wall: float
    cpu_percent: float
    client_cpu_percent: float
    machine_busy_percent: float
    """Of all CPUs, during the run."""
    others_cpu_percent: float
    """CPU (% of one core) used by everything else: PostgreSQL, Redis, and whatever else runs on the machine."""
    load_average: str

    @property
    def rss_per_socket_kib(self) -> float:
        return (self.rss_after_kib - self.rss_before_kib) / max(1, self.sockets)

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
        return ordered[rank] * 1000

    def row(self) -> str:
        s = self.stats
        return (
            f"{self.label:<28} {self.sockets:>7} {self.rate_sent:>7.1f} {self.percentile(50):>7.1f} "
            f"{self.percentile(95):>7.1f} {self.percentile(99):>7.1f} {self.percentile(100):>7.1f} "
            f"{s.events / self.window:>9.0f} {len(s.errors):>6} {s.gaps:>5} {s.duplicates:>5} {self.missing:>7} "
            f"{self.rss_per_socket_kib:>8.1f} {self.cpu_percent:>6.0f}% {self.client_cpu_percent:>6.0f}% "
            f"{self.others_cpu_percent:>6.0f}%"
        )

    def as_dict(self) -> dict[str, Any]:
        s = self.stats
        return {
            "label": self.label,
            "sockets": self.sockets,
            "commands_per_s": round(self.rate_sent, 1),
            "measured_commands": s.measured,
            "p50_ms": round(self.percentile(50), 2),
            "p95_ms": round(self.percentile(95), 2),
            "p99_ms": round(self.percentile(99), 2),
            "max_ms": round(self.percentile(100), 2),
            "event_pushes_per_s": round(s.events / self.window),
            "frames_per_s": round(s.frames / self.window),
            "received_mb_per_s": round(s.received_bytes / self.window / 1e6, 2),
            "errors": len(s.errors),
            "error_samples": s.errors[:3],
            "gaps": s.gaps,
            "duplicates": s.duplicates,
            "missing": self.missing,
            "sockets_closed_by_server": s.closed,
            "rss_before_mib": round(self.rss_before_kib / 1024, 1),
            "rss_after_mib": round(self.rss_after_kib / 1024, 1),
            "rss_per_idle_socket_kib": round(self.rss_per_socket_kib, 1),
            "server_cpu_percent": round(self.cpu_percent),
            "client_cpu_percent": round(self.client_cpu_percent),
            "machine_busy_percent": round(self.machine_busy_percent),
            "others_cpu_percent": round(self.others_cpu_percent),
            "load_average_after": self.load_average,
            "window_began_at": round(self.window_wall, 2),
            "per_second": self.per_second(),
        }

    def per_second(self) -> list[dict[str, float]]:
        """p50 and max latency (ms) of the commands sent in each second of the measured window."""
        if not self.stats.timeline:
            return []
        start = min(t for t, _ in self.stats.timeline)
        buckets: dict[int, list[float]] = {}
        for sent, latency in self.stats.timeline:
            buckets.setdefault(int(sent - start), []).append(latency * 1000)
        return [
            {"second": k, "p50_ms": round(sorted(v)[len(v) // 2], 1), "max_ms": round(max(v), 1), "n": len(v)}
            for k, v in sorted(buckets.items())
        ]


HEADER = (
    f"{'server':<28} {'sockets':>7} {'cmd/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} "
    f"{'pushes/s':>9} {'errors':>6} {'gaps':>5} {'dups':>5} {'missing':>7} {'KiB/sock':>8} {'srvCPU':>7} "
    f"{'cliCPU':>7} {'other':>7}"
)


@contextlib.contextmanager
def paused_collector() -> Iterator[None]:
    """No garbage collection in the clients while they load a server.  Their thousand sockets make a large heap,
    and a collection of its older generations stops every client for several milliseconds, every few hundred
    commands, like clockwork: counted against the server, they were most of its slowest 1% of commands.  What the load
    allocates is freed by reference counting as it goes; the objects of the set-up are moved out of the
    collector's sight first, and it runs again afterwards."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


async def wait_for_quiet(limit: float, busy_below: float = 25.0) -> None:
    """Wait (at most `limit` seconds) until the machine is nearly idle: other people's work skews latency."""
    deadline = time.monotonic() + limit
    quiet = 0
    while time.monotonic() < deadline:
        before = system_busy(count_io_wait=True)
        await asyncio.sleep(2.0)
        after = system_busy(count_io_wait=True)
        busy = (after[0] - before[0]) / max(1.0, after[1] - before[1]) * 100
        quiet = quiet + 1 if busy < busy_below else 0
        if quiet == 3:  # 6 s in a row
            return
        if not quiet:
            print(f"  machine {busy:.0f}% busy (CPU and disk waits); waiting for it to quieten", flush=True)
    print("  the machine did not quieten; measuring anyway (see the 'other' column)", flush=True)


@dataclass
class Usage:
    """What loading a server took, summed over the windows it was loaded in."""

    wall: float = 0.0
    """Seconds of load, warm-up and drain included."""
    measured: float = 0.0
    """Seconds in which measured commands were sent."""
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    busy_ticks: float = 0.0
    total_ticks: float = 0.0

    @property
    def machine_busy(self) -> float:
        """Of all CPUs, % busy while loaded."""
        return self.busy_ticks / max(1.0, self.total_ticks) * 100

    @property
    def server_percent(self) -> float:
        """Of one core."""
        return self.server_cpu / max(1e-9, self.wall) * 100

    @property
    def client_percent(self) -> float:
        """Of one core."""
        return self.client_cpu / max(1e-9, self.wall) * 100

    @property
    def others(self) -> float:
        """CPU (% of one core) used by everything but the server and the clients."""
        return self.machine_busy * (os.cpu_count() or 1) - self.server_percent - self.client_percent


@dataclass
class Subject:
    """A server under test (one process or two) and the clients that load it."""

    label: str
    run: Run
    servers: list[Server]
    rss_before_kib: int = 0
    rss_after_kib: int = 0
    usage: Usage = field(default_factory=Usage)

    @property
    def pids(self) -> list[int]:
        return [s.pid for s in self.servers]

    async def connect(self) -> None:
        """Every seat's socket, and the memory they cost the server while idle."""
        await asyncio.sleep(1.0)
        self.rss_before_kib = sum(rss_kib(pid) for pid in self.pids)
        await bounded(self.run.probes, CONNECT_CONCURRENCY, lambda p: p.open(), STEP_TIMEOUT)
        await asyncio.sleep(IDLE_SETTLE)
        self.rss_after_kib = sum(rss_kib(pid) for pid in self.pids)
        print(
            f"  {self.label}: {len(self.run.probes)} sockets open; "
            f"RSS {self.rss_before_kib / 1024:.1f} -> {self.rss_after_kib / 1024:.1f} MiB",
            flush=True,
        )

    async def close(self) -> None:
        self.run.closing = True
        await bounded(self.run.probes, CONNECT_CONCURRENCY, lambda p: p.close(), STEP_TIMEOUT)

    def result(self) -> Result:
        usage, stats = self.usage, self.run.stats
        return Result(
            label=self.label,
            sockets=len(self.run.probes),
            rss_before_kib=self.rss_before_kib,
            rss_after_kib=self.rss_after_kib,
            rate_sent=stats.measured / max(1e-9, usage.measured),
            window=max(1e-9, usage.wall),
            latencies=stats.latencies,
            stats=stats,
            missing=self.run.missing,
            window_wall=self.run.window_wall,
            cpu_percent=usage.server_percent,
            client_cpu_percent=usage.client_percent,
            machine_busy_percent=usage.machine_busy,
            others_cpu_percent=usage.others,
            load_average=Path("/proc/loadavg").read_text().split()[0],
        )


async def load(subject: Subject, args: argparse.Namespace, seconds: float, profile: str = "") -> None:
    """`seconds` of measured commands at `args.rate` on `subject` (after `args.warmup` of unmeasured ones), and
    until their pushes have arrived; what it took is added to `subject.usage`.  With `profile`, py-spy records
    the servers meanwhile into files named from it."""
    pids = subject.pids
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    profilers = [
        subprocess.Popen(
            [
                spy,
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(int(seconds + args.warmup)),
                *PY_SPY_OPTIONS,
                "--output",
                f"{profile}.{subject.label.split()[0]}.{n}.txt",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n, pid in enumerate(pids)
        if profile
    ]
    if args.priority:
        for pid in pids:  # the servers under test (and, in main, this client) ahead of the machine's other work
            os.setpriority(os.PRIO_PROCESS, pid, -args.priority)
    if args.wait_for_quiet:
        await wait_for_quiet(args.wait_for_quiet)
    cpu_before = sum(cpu_seconds(pid) for pid in pids)
    busy_before = system_busy()
    client_before = time.process_time()
    wall_before = time.perf_counter()
    with paused_collector():
        window_start, window_end = await subject.run.drive(args.rate, seconds, args.warmup)
        await subject.run.drain()
    usage = subject.usage
    usage.wall += time.perf_counter() - wall_before
    usage.measured += max(0.0, window_end - window_start)
    usage.server_cpu += sum(cpu_seconds(pid) for pid in pids) - cpu_before
    usage.client_cpu += time.process_time() - client_before
    busy_after = system_busy()
    usage.busy_ticks += busy_after[0] - busy_before[0]
    usage.total_ticks += busy_after[1] - busy_before[1]
    for profiler in profilers:
        profiler.wait(60)


@contextlib.asynccontextmanager
async def game_server(args: argparse.Namespace, workdir: Path) -> AsyncIterator[Subject]:
    """The game server started on an empty store, its games set up; the sockets not yet open."""
    env = {k: v for k, v in os.environ.items() if k not in ("BUS_URL", "WORKERS", "DATABASE_URL")}
    env["DATABASE_URL"] = args.database_url
    env["WS_PER_MESSAGE_DEFLATE"] = "true" if args.deflate else "false"
    env["SQLITE_FLUSH_INTERVAL"] = str(args.sqlite_flush_interval)
    if args.processes > 1:
        env["BUS_URL"] = args.bus_url
        env["BUS_CHANNEL"] = f"wargame:bench:{uuid.uuid4().hex}"
    argv = [sys.executable, *args.serve.split(), "--host", "127.0.0.1"]
    servers = [
        Server(f"wargame#{i}", argv, env, workdir / f"wargame-{i}.log", cpus=args.server_cpus)
        for i in range(args.processes)
    ]
    label = f"wargame ({args.processes} process{'es' if args.processes > 1 else ''})"
    subject = Subject(label, Run(), servers)
    try:
        for server in servers:  # one after the other: the first one migrates the empty database
            await server.start()
        async with httpx.AsyncClient(base_url=servers[0].url, timeout=60, trust_env=False) as http:
            made: list[tuple[str, list[tuple[str, str]]]] = []

            async def make(index: int) -> None:
                made.append(await set_up_game(http, index, args.seats))

            t0 = time.perf_counter()
            await bounded(range(args.games), SETUP_CONCURRENCY, make, STEP_TIMEOUT)
            print(f"  {len(made)} games set up in {time.perf_counter() - t0:.1f} s", flush=True)
        for game_id, tokens in made:
            game = Game(game_id)
            for n, (role, token) in enumerate(tokens):
                server = servers[n % len(servers)]
                url = f"{server.ws_url}/ws/games/{game_id}"
                probe = Probe(subject.run, game, url, {"type": "hello", "token": token})
                game.probes.append(probe)
                if role == "delegation":
                    game.players.append(probe)
            subject.run.games.append(game)
        yield subject
    finally:
        subject.run.closing = True
        for server in servers:
            server.stop()


@contextlib.asynccontextmanager
async def bare_server(args: argparse.Namespace, workdir: Path) -> AsyncIterator[Subject]:
    """bench/bare_server.py started, with as many games and seats as the game server's; no socket open yet."""
    argv = [sys.executable, "-m", "bench.bare_server", "--host", "127.0.0.1", *(["--deflate"] if args.deflate else [])]
    if args.bare_durable:
        argv += ["--durable", str(workdir / "bare.db")]
    server = Server("bare", argv, dict(os.environ), workdir / "bare.log", cpus=args.server_cpus)
    subject = Subject("bare Starlette, durable" if args.bare_durable else "bare Starlette broadcast", Run(), [server])
    try:
        await server.start()
        for g in range(args.games):
            game = Game(f"bare{g}")
            for n in range(args.seats):
                hello = {"type": "hello", "token": f"bare{g}-{n}"}
                probe = Probe(subject.run, game, f"{server.ws_url}/ws/games/{game.game_id}", hello)
                game.probes.append(probe)
                if n > 0:
                    game.players.append(probe)
            subject.run.games.append(game)
        yield subject
    finally:
        subject.run.closing = True
        server.stop()


async def measured(subject: Subject, args: argparse.Namespace) -> Result:
    """One round: the sockets opened, `args.seconds` of load, the sockets closed."""
    await subject.connect()
    await load(subject, args, args.seconds, args.py_spy or "")
    await subject.close()
    return subject.result()


async def interleaved(args: argparse.Namespace, workdir: Path) -> list[Result]:
    """Both servers up with all their sockets open at once, loaded in turn for `args.interleave` seconds at a
    time (game, bare, bare, game, ...) until each has had `args.seconds`: whatever the machine does over the run,
    it does to both within seconds of each other.  The server not loaded is stopped meanwhile (SIGSTOP), so
    that its own timers (collections at a quiet moment, pings, flushes) do not take the CPU from the other."""
    slices = max(1, math.ceil(args.seconds / args.interleave))
    async with game_server(args, workdir) as game, bare_server(args, workdir) as bare:
        await game.connect()
        await bare.connect()
        for n in range(slices):
            for subject in (game, bare) if n % 2 == 0 else (bare, game):
                for server in (*game.servers, *bare.servers):
                    server.pause(server not in subject.servers)
                await load(subject, args, args.seconds / slices)
        for server in (*game.servers, *bare.servers):
            server.pause(False)
        await game.close()
        await bare.close()
        return [game.result(), bare.result()]


def pooled(results: list[Result]) -> Result:
    """The latencies of several runs of one server as one run's."""
    first = results[0]
    latencies = [latency for result in results for latency in result.latencies]
    return replace(first, latencies=latencies, window=sum(r.window for r in results))


# --- the command -----------------------------------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, IndexError, ValueError):
        kib = int(Path("/proc/meminfo").read_text().splitlines()[0].split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    system = f"{platform.system()} {platform.release()}; Python {platform.python_version()}"
    return f"{os.cpu_count()} CPUs ({model}){memory}; {system}"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--games", type=int, default=100)
    parser.add_argument("--seats", type=int, default=10, help="per game: the facilitator and SEATS-1 delegations")
    parser.add_argument("--rate", type=float, default=100.0, help="commands per second, in total")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds of load (after a warm-up)")
    parser.add_argument("--warmup", type=float, default=WARMUP, help="seconds of load before measuring")
    parser.add_argument("--processes", type=int, choices=(1, 2), default=1)
    parser.add_argument("--database-url", help="default: a temporary SQLite file; the database is EMPTIED")
    parser.add_argument("--reset-any-database", action="store_true", help="empty a database of any name")
    parser.add_argument("--bus-url", default="redis://127.0.0.1:6379/0", help="with --processes 2")
    parser.add_argument(
        "--deflate", action="store_true", help="both servers compress frames (the clients always offer it)"
    )
    parser.add_argument(
        "--bare-durable",
        action="store_true",
        help="the bare server commits each event to a SQLite file, flushed, before broadcasting it (as the game "
        "server's default store does)",
    )
    parser.add_argument(
        "--sqlite-flush-interval",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="the game server's SQLITE_FLUSH_INTERVAL (default 0: every commit flushed before it is shown)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        metavar="N",
        help="run the two servers N times each, in the order game, bare, bare, game, ..., and compare the latencies "
        "of all rounds pooled: the machine's drift over the run then weighs on both alike",
    )
    parser.add_argument(
        "--interleave",
        type=float,
        default=0,
        metavar="SECONDS",
        help="in each round, start both servers and open all their sockets, then load them in turn SECONDS at a "
        "time (game, bare, bare, game, ...), each after its own warm-up, until each has had --seconds: "
        "the machine's drift over the round then weighs on both within seconds of each other",
    )
    parser.add_argument("--skip-bare", action="store_true", help="do not run the bare server")
    parser.add_argument("--bare-only", action="store_true", help="run only the bare server")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--serve", default="-m server.cli serve", help="how python starts the game server")
    parser.add_argument(
        "--wait-for-quiet",
        type=float,
        default=0,
        metavar="SECONDS",
        help="before loading, wait up to SECONDS for the machine to be under 25%% busy (the sockets are already open)",
    )
    parser.add_argument(
        "--priority",
        type=int,
        default=0,
        metavar="N",
        help="run the servers and clients at nice -N (root): "
        "on a shared machine, other people's work then disturbs the measurement less",
    )
    parser.add_argument(
        "--no-pin",
        dest="pin",
        action="store_false",
        help="let the scheduler place servers and clients (default: the clients on a CPU of their own, the servers "
        "on the others)",
    )
    parser.add_argument("--logs", metavar="DIR", help="keep the servers' logs there (default: thrown away)")
    parser.add_argument("--py-spy", metavar="PREFIX", help="profile the servers under load (py-spy raw stacks)")
    args = parser.parse_args(argv)
    if args.games < 1 or args.seats < 2 or args.rate <= 0 or args.seconds <= 0 or args.seconds > 3600:
        parser.error("need games >= 1, seats >= 2, rate > 0 and 0 < seconds <= 3600")
    if not 1 <= args.rounds <= 20:
        parser.error("need 1 <= rounds <= 20")
    if args.interleave and (args.interleave < 1 or args.skip_bare or args.bare_only or args.py_spy):
        parser.error("--interleave needs at least 1 second, both servers, and no --py-spy")
    if args.database_url:
        from server.config import normalise_database_url

        args.database_url = normalise_database_url(args.database_url)
        name = args.database_url.rsplit("/", 1)[-1].lower()
        if not args.reset_any_database and "bench" not in name and "scale" not in name:
            parser.error(f"the run empties its database; {name!r} is not named *bench* or *scale*")
    elif args.processes > 1:
        parser.error("two processes share one store: pass --database-url postgresql+psycopg://.../wargame_scale")
    return args


async def main_async(args: argparse.Namespace) -> int:
    print(f"machine: {machine()}")
    args.server_cpus = None
    if args.pin and (cpus := placement()) is not None:
        args.server_cpus, client_cpus = cpus
        os.sched_setaffinity(0, client_cpus)
        print(f"CPUs: servers on {args.server_cpus}, clients on {client_cpus}")
    else:
        print("CPUs: servers and clients wherever the scheduler puts them")
    if args.priority:
        os.setpriority(os.PRIO_PROCESS, 0, -args.priority)
    print(
        f"load: {args.games} games x {args.seats} seats = {args.games * args.seats} sockets, {args.rate:g} commands/s "
        f"for {args.seconds:g} s after {args.warmup:g} s of warm-up; game server: {args.processes} process(es)",
        flush=True,
    )
    results: list[Result] = []
    given_database = args.database_url
    with tempfile.TemporaryDirectory(prefix="wargame-load-") as tmp:
        workdir = Path(args.logs or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        runs = [run for run, skipped in (("game", args.bare_only), ("bare", args.skip_bare)) if not skipped]
        for round_ in range(args.rounds):
            for which in runs if round_ % 2 == 0 else reversed(runs):
                if which == "bare" and not args.interleave:
                    async with bare_server(args, workdir) as bare:
                        results.append(await measured(bare, args))
                    continue
                if which == "bare":  # loaded in turn with the game server
                    continue
                if given_database:
                    reset_database(given_database)
                else:  # a new file each round, as a new database each round on PostgreSQL
                    args.database_url = f"sqlite+aiosqlite:///{workdir / f'load-{round_}.db'}"
                flush = f", flushed every {args.sqlite_flush_interval:g} s" if args.sqlite_flush_interval else ""
                print(f"game server store: {args.database_url}{flush}", flush=True)
                if args.interleave:
                    results.extend(await interleaved(args, workdir))
                    continue
                async with game_server(args, workdir) as game:
                    results.append(await measured(game, args))
    print()
    print(HEADER)
    for result in results:
        print(result.row())
    ours = [r for r in results if r.label.startswith("wargame")]
    baseline = [r for r in results if r.label.startswith("bare")]
    if ours and baseline:
        ratios = [o.percentile(99) / b.percentile(99) for o, b in zip(ours, baseline, strict=True)]
        print(f"\np99 ratio, game server / bare server: {', '.join(f'{r:.2f}x' for r in ratios)}")
        if args.rounds > 1:
            mine, theirs = pooled(ours), pooled(baseline)
            print(
                f"all {args.rounds} rounds pooled: p50 {mine.percentile(50):.1f} / {theirs.percentile(50):.1f} ms, "
                f"p99 {mine.percentile(99):.1f} / {theirs.percentile(99):.1f} ms, "
                f"ratio {mine.percentile(99) / theirs.percentile(99):.2f}x"
            )
    for result in results:
        if result.stats.errors:
            print(f"{result.label}: first errors: {result.stats.errors[:3]}")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"machine": machine(), "args": vars(args), "results": [r.as_dict() for r in results]}, indent=2)
        )
    clean = all(not r.stats.errors and not r.stats.gaps and not r.stats.duplicates and not r.missing for r in results)
    return 0 if clean else 1


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main_async(args))
    return uvloop.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
