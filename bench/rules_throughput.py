"""Throughput of the rules core on a realistic log: replay, replay from JSON, and hashing the state.

Run: `python -m bench.rules_throughput [--events N] [--runs R]`.  The log is built through `decide`, as a
game would build it: a NATO council of 16 allies tabling proposals of every kind, taking consensus and
silence positions (with objections and reservations), the chair closing them, pledges against adopted
force requirements, invocations confirmed on attribution, and consultations.  Exits 1 if replaying the
log does not give the state the game reached live.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import get_args

import pydantic
from pydantic import TypeAdapter

from game_rules.commands import (
    BreakSilence,
    CloseProposal,
    Command,
    Concur,
    ConcurWithReservation,
    ConfirmAttribution,
    PledgeForces,
    RaiseObjection,
    RequestConsultation,
    TableProposal,
)
from game_rules.engine import decide, evolve, replay, state_hash
from game_rules.events import EVENT_ADAPTER, Event, GameOpened
from game_rules.refusal import Refusal
from game_rules.rulesets import AttackKind, ProposalKind
from game_rules.state import CHAIR, Attack, Member, Requirement, State

TARGET_REPLAY_EVENTS_PER_S = 200_000

ALLIES: tuple[tuple[str, int], ...] = (
    ("USA", 16),
    ("DEU", 16),
    ("GBR", 11),
    ("FRA", 10),
    ("ITA", 8),
    ("CAN", 7),
    ("ESP", 6),
    ("TUR", 5),
    ("POL", 4),
    ("NLD", 3),
    ("BEL", 2),
    ("NOR", 2),
    ("DNK", 2),
    ("CZE", 1),
    ("PRT", 1),
    ("GRC", 1),
)
EVENT_LIST: TypeAdapter[list[Event]] = TypeAdapter(list[Event])


@dataclass
class Builder:
    """Plays commands through `decide` and folds their events, stopping at exactly `limit` events."""

    limit: int
    state: State = field(default_factory=State)
    log: list[Event] = field(default_factory=list)
    refused: int = 0

    def open(self, opening: GameOpened) -> None:
        self._fold(opening)

    @property
    def full(self) -> bool:
        return len(self.log) >= self.limit

    def do(self, actor: str, command: Command) -> bool:
        """Whether the command was accepted; a refusal is counted (the script means few)."""
        if self.full:
            return False
        decision = decide(self.state, command, actor)
        if isinstance(decision, Refusal):
            self.refused += 1
            return False
        for event in decision:
            if self.full:
                break
            self._fold(event)
        return True

    def _fold(self, event: Event) -> None:
        self.state = evolve(self.state, event)
        self.log.append(event)


def build_log(limit: int) -> Builder:
    builder = Builder(limit)
    builder.open(GameOpened(ruleset="nato", members=tuple(Member(code=c, cost_share=s) for c, s in ALLIES)))
    allies = [code for code, _ in ALLIES]
    kinds: tuple[ProposalKind, ...] = get_args(ProposalKind)
    attacks = [
        Attack(kind=kind, attributed=attributed) for kind in get_args(AttackKind) for attributed in (False, True)
    ]
    invoked: set[tuple[str, Attack]] = set()

    for number in itertools.count(1):
        if builder.full:
            break
        proposal = f"P{number:05d}"
        tabler = allies[number % len(allies)]
        if number <= len(allies):  # each ally asks for consultations once, joined by its neighbours
            builder.do(tabler, RequestConsultation(joined_by=(allies[number - 2], allies[(number + 1) % len(allies)])))
        kind = kinds[number % len(kinds)]
        victim, attack = allies[(number // len(kinds)) % len(allies)], attacks[number % len(attacks)]
        if kind == "invoke_collective_defence":
            if (victim, attack) in invoked:
                kind = "joint_statement"
            else:
                invoked.add((victim, attack))
        silence = number % 4 == 3 and kind != "invoke_collective_defence"
        builder.do(
            CHAIR if number % 3 == 0 else tabler,
            TableProposal(
                proposal=proposal,
                kind=kind,
                procedure="silence" if silence else "consensus",
                text=f"Draft {kind.replace('_', ' ')} {number}: the Council, having consulted, agrees as follows.",
                victim=victim if kind == "invoke_collective_defence" else None,
                attack=attack if kind == "invoke_collective_defence" else None,
                requirement=Requirement(forces=1_000 + 250 * (number % 40)) if kind == "deploy_forces" else None,
                amount=2.5e6 * (1 + number % 7) if kind == "common_funding" else None,
            ),
        )
        if silence:
            if number % 16 == 7:
                builder.do(allies[(number * 5) % len(allies)], BreakSilence(proposal=proposal))
        else:
            objector = allies[(number * 7) % len(allies)] if number % 8 == 1 else None
            for index, ally in enumerate(allies):
                if ally == objector:
                    builder.do(ally, RaiseObjection(proposal=proposal))
                elif (index + number) % 6 == 0:
                    reservation = f"{ally} concurs subject to its parliament's approval of item {number}."
                    builder.do(ally, ConcurWithReservation(proposal=proposal, reservation=reservation))
                else:
                    builder.do(ally, Concur(proposal=proposal))
            if number % 5 == 2:  # a reservation withdrawn: the ally now concurs outright
                builder.do(allies[(number + 4) % len(allies)], Concur(proposal=proposal))
        builder.do(CHAIR, CloseProposal(proposal=proposal))
        closed = builder.state.proposals.get(proposal)
        if closed is None or closed.outcome != "adopted":
            continue
        if kind == "deploy_forces":
            required = closed.forces_required or 0
            for index, (ally, share) in enumerate(ALLIES):
                pledge = required * share // 95 + (50 if index % 3 == 0 else -20 if index % 3 == 1 else 0)
                builder.do(ally, PledgeForces(proposal=proposal, forces=max(0, pledge)))
        elif kind == "invoke_collective_defence" and not attack.attributed:
            builder.do(victim, ConfirmAttribution(proposal=proposal))
    return builder


def best_of(runs: int, work: Callable[[], object]) -> float:
    """The fastest of `runs` timings of `work`, in seconds (garbage collected before each, left on)."""
    best = float("inf")
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def replay_json_lines(lines: list[str]) -> State:
    state = State()
    for line in lines:
        state = evolve(state, EVENT_ADAPTER.validate_json(line))
    return state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=10_000, help="length of the log (default 10000)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measurement; the best is kept")
    args = parser.parse_args(argv)
    if args.events < 1 or args.runs < 1:
        parser.error("--events and --runs must be at least 1")

    started = time.perf_counter()
    built = build_log(args.events)
    build_s = time.perf_counter() - started
    log, live = built.log, built.state
    live_hash = state_hash(live)
    n = len(log)
    lines = [EVENT_ADAPTER.dump_json(event).decode() for event in log]
    array = "[" + ",".join(lines) + "]"
    hash_calls = 20

    t_replay = best_of(args.runs, lambda: replay(log))
    t_lines = best_of(args.runs, lambda: replay_json_lines(lines))
    t_array = best_of(args.runs, lambda: replay(EVENT_LIST.validate_json(array)))
    t_hash = best_of(args.runs, lambda: [state_hash(live) for _ in range(hash_calls)]) / hash_calls

    hashes = {
        "replay": state_hash(replay(log)),
        "JSON lines": state_hash(replay_json_lines(lines)),
        "JSON array": state_hash(replay(EVENT_LIST.validate_json(array))),
    }

    proposals = live.proposals.values()
    print("rules throughput: alliance crisis wargame")
    print(f"python {platform.python_version()} ({platform.python_implementation()}), pydantic {pydantic.VERSION}")
    print(
        f"log: {n:,} events built through decide in {build_s:.2f} s ({built.refused} refusals): nato, "
        f"{len(live.members)} members, {len(live.proposals)} proposals "
        f"({sum(p.outcome == 'adopted' for p in proposals)} adopted, "
        f"{sum(p.outcome == 'blocked' for p in proposals)} blocked), "
        f"{len(live.invocations)} invocations, {len(live.consultations)} consultations; "
        f"{len(array) / 1e6:.1f} MB of JSON"
    )
    print(f"target: replay >= {TARGET_REPLAY_EVENTS_PER_S:,} events/s")
    print(f"timing: time.perf_counter, best of {args.runs} runs")
    print()
    print(f"{'measurement':<44}{'best time':>12}{'throughput':>22}")
    rows = [
        ("(1) replay of parsed events (evolve)", t_replay),
        ("(2) replay from JSON, event by event", t_lines),
        ("(3) replay from JSON, list[Event] array", t_array),
    ]
    for label, seconds in rows:
        rate = n / seconds
        verdict = "meets target" if rate >= TARGET_REPLAY_EVENTS_PER_S else "BELOW target"
        print(f"{label:<44}{seconds * 1e3:>9.1f} ms{rate:>15,.0f} ev/s  {verdict}")
    print(f"{'(4) state_hash of the final state':<44}{t_hash * 1e3:>9.2f} ms{'per call':>22}")
    print()
    print(f"final state hash: {live_hash}")
    mismatched = [name for name, found in hashes.items() if found != live_hash]
    if mismatched:
        print(f"FAIL: replayed state differs from the live one ({', '.join(mismatched)})")
        return 1
    print("replayed hash equals live hash (parsed, JSON lines, JSON array): ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
