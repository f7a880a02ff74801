"""The game's only randomness: draws from the seed and a counter, each value written into an event.

Replay never draws again: it reads the values from the events, and `evolve` only advances the counter.
"""

from __future__ import annotations

import hashlib


def draw(seed: int, counter: int) -> float:
    """A uniform value in [0, 1) that depends on nothing but the seed and the draw's number."""
    digest = hashlib.sha256(f"{seed}:{counter}".encode()).digest()
    return int.from_bytes(digest[:7], "big") / float(1 << 56)


def draws(seed: int, counter: int, n: int) -> tuple[float, ...]:
    return tuple(draw(seed, counter + i) for i in range(n))
