"""The game server with the CPU time of each stage of a command counted, for `bench.load` to run instead of
`wargame serve`: where a command's CPU goes on a server under load, which a sampling profiler sees poorly (py-spy
misses most of the samples of a busy uvloop, and with `--gil` it counts what holds the interpreter's lock).

    python -m bench.load --games 100 --seats 10 --rate 100 --seconds 40 --skip-bare \\
        --sqlite-flush-interval 0.05 --serve "-m bench.stages serve" --logs DIR

Every `EVERY` seconds in which commands were played, the server's log (DIR/wargame-0.log) gets a line with the
commands played and, per command, the CPU time of the event loop's thread (user and system) and of each stage.
Each stage is timed by that thread's CPU clock around the call.  On SQLite nothing in `Room.submit` gives the loop
to another task (the append runs in the loop unless another connection is writing), so the stages hold only the
command's own work; on PostgreSQL the append and everything around it also count what other tasks did while the
driver waited.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from server import rooms, store
from server.frames import Shown

EVERY = float(os.environ.get("STAGES_EVERY", "10"))
"""Seconds between the log's lines (`STAGES_EVERY`: the tests ask for shorter)."""

STAGES: dict[str, tuple[Any, str]] = {
    "submit": (rooms.Room, "submit"),  # the whole command: each stage below is part of it
    "decide": (rooms, "decide"),  # the rules
    "append": (store.EventStore, "append"),  # the durable write
    "updates": (Shown, "update_frames"),  # what changed in each viewer's view
    "writes": (rooms.Room, "_send"),  # every frame to every socket: framing and the transport's write
}

spent: dict[str, float] = dict.fromkeys(STAGES, 0.0)
calls: dict[str, int] = dict.fromkeys(STAGES, 0)
"""Each stage's calls: `submit`'s are the commands."""


def _counted(stage: str, call: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(call):

        @functools.wraps(call)
        async def timed_coroutine(*args: Any, **kwargs: Any) -> Any:
            calls[stage] += 1
            began = time.thread_time()
            try:
                return await call(*args, **kwargs)
            finally:
                spent[stage] += time.thread_time() - began

        return timed_coroutine

    @functools.wraps(call)
    def timed(*args: Any, **kwargs: Any) -> Any:
        calls[stage] += 1
        began = time.thread_time()
        try:
            return call(*args, **kwargs)
        finally:
            spent[stage] += time.thread_time() - began

    return timed


def _report(loop_thread: int) -> None:
    clock = time.pthread_getcpuclockid(loop_thread)
    last_commands, last_loop, last_spent = calls["submit"], time.clock_gettime(clock), dict(spent)
    while True:
        time.sleep(EVERY)
        played, loop = calls["submit"] - last_commands, time.clock_gettime(clock)
        if played:
            stages = " ".join(f"{s} {(spent[s] - last_spent[s]) / played * 1000:.3f}" for s in STAGES)
            per_command = (loop - last_loop) / played * 1000
            print(
                f"stages over {EVERY:.0f} s: {played} commands; ms of CPU a command: event loop's thread "
                f"{per_command:.3f}, {stages}",
                file=sys.stderr,
                flush=True,
            )
        last_commands, last_loop, last_spent = calls["submit"], loop, dict(spent)


def main() -> int:
    for stage, (owner, name) in STAGES.items():
        setattr(owner, name, _counted(stage, getattr(owner, name)))
    threading.Thread(target=_report, args=(threading.get_ident(),), name="stages", daemon=True).start()
    from server.cli import main as serve

    return serve(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
