"""The served process's garbage collection between commands (server/collector.py)."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import weakref
from collections.abc import Iterator

import pytest

from server.collector import QUIET, Collector, collect_between_commands


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def pair() -> Node:
    """One of two objects that hold each other: once nothing else holds them, only a collection frees them."""
    a, b = Node(), Node()
    a.other, b.other = b, a
    return a


def cycle() -> weakref.ref[Node]:
    """Garbage only a collection frees, and a way to see whether it did."""
    return weakref.ref(pair())


@pytest.fixture
def automatic_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.anyio
async def test_the_task_turns_automatic_collection_off_and_frees_cycles_itself() -> None:
    assert gc.isenabled()
    task = asyncio.create_task(collect_between_commands(period=0.001))
    await asyncio.sleep(0.01)
    assert not gc.isenabled()
    garbage = [cycle() for _ in range(2000)]  # past the young generation's threshold
    for _ in range(200):
        await asyncio.sleep(0.002)
        if not any(ref() is not None for ref in garbage):
            break
    assert not any(ref() is not None for ref in garbage), "the cycles made while it ran were never collected"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert gc.isenabled()


@pytest.mark.anyio
async def test_a_callback_that_holds_the_loop_up_is_told_at_debug_level(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="wargame.collector")
    task = asyncio.create_task(collect_between_commands(period=0.001))
    await asyncio.sleep(0.01)
    time.sleep(0.1)  # what a stalled flush does to the event loop
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    held = [r.getMessage() for r in caplog.records if "held up" in r.getMessage()]
    assert any(float(message.split()[-2]) >= 50 for message in held), held


@pytest.mark.anyio
async def test_where_collection_is_off_already_the_task_leaves_it_so(automatic_off: None) -> None:
    await asyncio.wait_for(collect_between_commands(period=0.001), 1)
    assert not gc.isenabled()


def test_nothing_is_collected_before_the_young_threshold(automatic_off: None) -> None:
    collector = Collector(young=100_000, middle=10, old=10)
    collector.step(0.0)
    ref = cycle()
    assert collector.step(0.001) is None
    assert ref() is not None


def test_young_collections_then_a_middle_one(automatic_off: None) -> None:
    collector = Collector(young=50, middle=3, old=1_000)
    collector.full()
    done = []
    keep = []
    for i in range(40):
        keep.append([[] for _ in range(60)])  # survivors, so that the older generations fill
        done.append(collector.step(i * 0.001))
    assert done.count(0) >= 3 * done.count(1) > 0
    assert 2 not in done
    assert collector.pending > 0


def busy_until_a_quarter(collector: Collector, keep: list[object]) -> float:
    """Busy: a young collection due at every look, until what reached the oldest generation is a quarter of what
    was there after the last full collection; the time of the last look."""
    now = 0.0
    while collector.pending * 4 <= collector.settled:
        keep.append([[] for _ in range(250)])
        now += 0.001
        assert collector.step(now) != 2
    return now


def old_garbage() -> weakref.ref[Node]:
    """Garbage in the oldest generation, where only a full collection finds it."""
    held = pair()
    ref = weakref.ref(held)
    gc.collect(1)
    return ref


def test_a_full_collection_waits_for_a_quiet_moment(automatic_off: None, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="wargame.collector")
    collector = Collector(young=200, middle=1, old=1)
    collector.full()
    keep: list[object] = []
    now = busy_until_a_quarter(collector, keep)
    assert collector.pending < collector.settled  # not yet as much again: no need to collect under load
    ref = old_garbage()
    assert collector.step(now + QUIET / 2) is None
    assert ref() is not None
    assert collector.step(now + 2 * QUIET) == 2
    assert ref() is None
    assert collector.pending == 0
    assert "full collection, a quiet moment" in caplog.records[-1].getMessage()  # LOG_LEVEL=debug tells when


def test_under_steady_load_a_full_collection_runs_once_the_old_generation_doubled(automatic_off: None) -> None:
    collector = Collector(young=50, middle=1, old=1)
    collector.full()
    settled = collector.settled
    keep: list[list[list[object]]] = []
    now = 0.0
    done = None
    while done != 2:
        keep.append([[] for _ in range(60)])
        now += 0.001
        done = collector.step(now)
        assert now < 60, "no full collection however far the oldest generation grew"
    assert len(keep) * 61 > settled / 2  # it waited past the quarter at which CPython would have run it
    assert collector.settled > settled


def test_a_quiet_moment_does_not_wait_for_ten_middle_collections(automatic_off: None) -> None:
    """A server fills the oldest generation when games are set up and players join, then waits for the start."""
    collector = Collector(young=200, middle=1, old=1_000)
    collector.full()
    keep: list[object] = []
    now = busy_until_a_quarter(collector, keep)
    ref = old_garbage()
    assert collector.step(now + 2 * QUIET) == 2
    assert ref() is None


def test_a_moment_with_commands_is_not_quiet_even_without_young_collections(automatic_off: None) -> None:
    """At 100 commands a second a young collection may be due only every second or two: what the rooms did tells."""
    last_command = [0.0]
    collector = Collector(young=200, middle=1, old=1_000, activity=lambda: last_command[0])
    collector.full()
    keep: list[object] = []
    now = busy_until_a_quarter(collector, keep)
    ref = old_garbage()
    last_command[0] = now + 1.5 * QUIET
    assert collector.step(now + 2 * QUIET) is None
    assert ref() is not None
    assert collector.step(now + 3 * QUIET) == 2
    assert ref() is None
