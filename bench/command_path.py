"""One command's path through a room, without sockets: decide, append (the durable commit), fold, and the
frames for ten seats (the facilitator and nine delegations, as in bench/load.py), written to in-memory wires.

Run: `python -m bench.command_path [--history 50 500] [--commands 200] [--database-url URL]`

For each history length (commands already in the game's log, half of them messages, whose number the views
grow with), it plays `--commands` more, alternately `send_message` and `concur_with_reservation`, one after the
other, and prints the wall time and the process CPU time per command, with p50 / p99 of the wall time, and the
KiB of frames the ten seats were sent per command.  The store is a temporary SQLite file unless `--database-url`
names another (its games are left there).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from game_rules import COMMAND_ADAPTER, Command
from server.db import upgrade
from server.lobby import Lobby, acting, viewer_for
from server.rooms import Accepted, Connection, Room, Rooms
from server.store import EventStore, SeatRecord

MEMBERS = ("EST", "POL", "USA", "DEU", "FRA", "LTU")
FILLER = "Our delegation supports the text as amended; we ask that the communique mention air defence."


class Sink:
    """A seat's wire that keeps nothing but a count of what it was sent: what a socket costs is bench/load.py's
    business."""

    closed = False
    written = 0

    def write(self, frame: str) -> bool:
        self.written += len(frame)
        return True

    def close(self, code: int, reason: str) -> None:
        self.closed = True


def command(i: int) -> Command:
    text = f"{FILLER} #{i}"
    if i % 2:
        return COMMAND_ADAPTER.validate_python(
            {"type": "concur_with_reservation", "proposal": "P1", "reservation": text}
        )
    return COMMAND_ADAPTER.validate_python({"type": "send_message", "text": text})


async def play(room: Room, seat: SeatRecord, cmd: Command) -> None:
    actor = acting(seat, cmd)
    assert isinstance(actor, str), actor
    result = await room.submit(cmd, actor)
    assert isinstance(result, Accepted), result


async def measure(url: str, history: int, commands: int) -> dict[str, float]:
    store = EventStore.from_url(url)
    try:
        lobby = Lobby(store, Rooms(store, time.time))
        created = await lobby.create_game("baltic-demo", None, "White Cell")
        game_id, code = created.game.id, created.game.join_code
        delegates = [
            (await lobby.claim_seat(game_id, code, "delegation", MEMBERS[n % len(MEMBERS)], f"p{n}")).seat
            for n in range(9)
        ]
        room = await lobby.room(game_id)
        for setup in (
            {"type": "start_game"},
            {"type": "advance_phase", "from_round": 1, "from_phase": "briefing"},
            {"type": "advance_phase", "from_round": 1, "from_phase": "deliberation"},
            {"type": "extend_phase", "seconds": 36000},
        ):
            await play(room, created.seat, COMMAND_ADAPTER.validate_python(setup))
        table = {"type": "table_proposal", "proposal": "P1", "kind": "joint_statement", "text": "Joint statement"}
        await play(room, delegates[0], COMMAND_ADAPTER.validate_python(table))
        for i in range(history):
            await play(room, delegates[i % 9], command(i))
        sinks = [Sink() for _ in range(10)]
        for seat, sink in zip((created.seat, *delegates), sinks, strict=True):
            conn = Connection(seat_id=seat.id, viewer=viewer_for(seat), wire=sink, credential=seat.credential_hash)
            await room.join(conn, None)
        joined = sum(sink.written for sink in sinks)
        walls: list[float] = []
        cpu = time.process_time()
        for i in range(history, history + commands):
            began = time.perf_counter()
            await play(room, delegates[i % 9], command(i))
            walls.append(time.perf_counter() - began)
        cpu = time.process_time() - cpu
    finally:
        await store.dispose()
    walls.sort()
    return {
        "wall_ms": statistics.fmean(walls) * 1000,
        "p50_ms": walls[len(walls) // 2] * 1000,
        "p99_ms": walls[min(len(walls) - 1, round(len(walls) * 0.99))] * 1000,
        "cpu_ms": cpu / commands * 1000,
        "kib": (sum(sink.written for sink in sinks) - joined) / commands / 1024,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--history", type=int, nargs="+", default=[50, 500])
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'path.db'}"
        upgrade(url)
        store = url.split(":")[0]
        print(f"{platform.machine()}, {os.cpu_count()} CPUs; Python {sys.version.split()[0]}; store {store}")
        columns = f"{'history':>8} {'wall ms':>8} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms':>7} {'KiB out':>8}"
        print(f"{columns}   per command, 10 seats")
        for history in args.history:
            figures = await measure(url, history, args.commands)
            print(
                f"{history:>8} {figures['wall_ms']:>8.2f} {figures['p50_ms']:>7.2f} {figures['p99_ms']:>7.2f} "
                f"{figures['cpu_ms']:>7.2f} {figures['kib']:>8.1f}"
            )


if __name__ == "__main__":
    asyncio.run(main())
