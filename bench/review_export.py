"""Benchmark: replay and export of a 10,000-event stored game (prints figures; not a test).

    python -m bench.review_export [--events 10000] [--database-url URL]

Builds a long game of the baltic-hybrid scenario by scripted play on the rules core, stores it (SQLite file
in a temporary folder unless --database-url is given), then times each step a review makes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from game_rules import COMMAND_ADAPTER, EVENT_ADAPTER, Refusal, State, decide, evolve, state_hash
from game_rules.events import Event
from game_rules.state import CHAIR, SYSTEM
from server import db, export, report, scenarios, workbook
from server.replay import replay_game
from server.store import EventStore


def long_game(n: int) -> list[Event]:
    """Scripted play until `n` events: consultations, proposals, positions, pledges, messages, phases."""
    scenario = scenarios.builtin()["baltic-hybrid"].model_copy(update={"rounds": 200})
    opening = scenario.opening(seed=1)
    state = evolve(State(), opening)
    log: list[Event] = [opening]
    codes = list(state.members)

    def do(actor: str, command: dict[str, object]) -> None:
        nonlocal state
        decision = decide(state, COMMAND_ADAPTER.validate_python(command), actor)
        if not isinstance(decision, Refusal):
            for e in decision:
                state = evolve(state, e)
            log.extend(decision)

    for i, c in enumerate(codes):
        do(SYSTEM, {"type": "claim_seat", "seat": f"s{i}", "role": "delegation", "member": c, "player": c})
    do(CHAIR, {"type": "start_game", "at": 0.0})
    k = 0
    while len(log) < n and state.status != "ended":
        k += 1
        phase = state.phase
        for c in codes:
            do(c, {"type": "send_message", "to": [codes[(k + 1) % len(codes)]], "text": f"note {k} from {c}"})
        if phase == "council":
            for j in range(12):
                pid = f"P{k}-{j}"
                do(codes[j % len(codes)], {"type": "table_proposal", "proposal": pid, "kind": "joint_statement"})
                for c in codes:
                    do(c, {"type": "concur", "proposal": pid})
        do(CHAIR, {"type": "advance_phase", "from_round": state.round, "from_phase": state.phase, "at": float(k)})
    return log[:n]


def timed(label: str, rows: list[tuple[str, float]]):  # type: ignore[no-untyped-def]
    class _T:
        def __enter__(self) -> None:
            self.t = time.perf_counter()

        def __exit__(self, *_: object) -> None:
            rows.append((label, time.perf_counter() - self.t))

    return _T()


async def run(n: int, url: str | None) -> None:
    log = long_game(n)
    folder = Path(tempfile.mkdtemp(prefix="wargame-bench-"))
    url = url or f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    await asyncio.to_thread(db.upgrade, url)
    store = EventStore.from_url(url)
    rows: list[tuple[str, float]] = []
    try:
        game = await store.create_game(
            scenario="baltic-hybrid",
            ruleset="nato",
            title="bench",
            join_code="BENCH1",
            facilitator_key_hash="x" * 64,
            seed=1,
        )
        payloads = [(e.type, EVENT_ADAPTER.dump_json(e).decode()) for e in log]
        with timed("store (append in chunks of 500)", rows):
            for i in range(0, len(payloads), 500):
                await store.append(game.id, i, payloads[i : i + 500])
        with timed("load (read + parse)", rows):
            loaded = await export.load(store, game.id)
        assert loaded is not None
        with timed("replay (fold only)", rows):
            state = State()
            for _, event in loaded.log:
                state = evolve(state, event)
        with timed("wargame replay --verify (read, parse, fold, hash)", rows):
            checked = await replay_game(url, game.id)
        assert checked.consistent and checked.final_hash == state_hash(state)
        with timed("review (timeline, proposals, ratings)", rows):
            r = export.reviewed(loaded)
        with timed("export json", rows):
            text = json.dumps(export.to_json(loaded, r.state))
        with timed("export csv (every table)", rows):
            tables = export.csv_tables(loaded, r)
        with timed("export xlsx (every table in one workbook)", rows):
            book = workbook.workbook(loaded, r)
        with timed("export markdown report", rows):
            md = report.markdown(export.info(loaded, r), r)
        with timed("export html report", rows):
            page = report.html_report(export.info(loaded, r), r)
    finally:
        await store.dispose()
    print(f"Python {sys.version.split()[0]}; {len(log)} events; store {url.split(':')[0]}")
    print(
        f"json {len(text) / 1e6:.1f} MB, csv {sum(map(len, tables.values())) / 1e6:.1f} MB, "
        f"xlsx {len(book) / 1e6:.1f} MB, "
        f"md {len(md) / 1e3:.0f} kB, html {len(page) / 1e3:.0f} kB; {len(r.proposals)} proposals"
    )
    for label, seconds in rows:
        print(f"  {label:<52} {seconds * 1000:9.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    asyncio.run(run(args.events, args.database_url))


if __name__ == "__main__":
    main()
