"""Rate limits per seat: a token bucket for each seat, shared by every socket that seat has open.

A seat may send `burst` frames back to back, then `rate` frames a second on average.  A frame over the limit
is answered (a `rate_limited` refusal or error) and changes nothing; a seat that keeps sending far beyond the
limit has its socket closed (see `server/ws.py`).  `rate` 0 turns the limit off.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

Clock = Callable[[], float]


class TokenBucket:
    """`burst` tokens at most, refilled at `rate` tokens a second; each frame takes one."""

    __slots__ = ("_clock", "_tokens", "_updated", "burst", "rate")

    def __init__(self, rate: float, burst: int, clock: Clock = time.monotonic) -> None:
        if rate < 0 or burst < 1:
            raise ValueError("a token bucket needs rate >= 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()

    @property
    def tokens(self) -> float:
        self._refill()
        return self._tokens

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._updated = now
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)

    def take(self, cost: float = 1.0) -> bool:
        """Take `cost` tokens if there are that many; False (and nothing taken) otherwise."""
        if self.rate == 0:
            return True
        self._refill()
        if self._tokens >= cost:
            self._tokens -= cost
            return True
        return False

    def full(self) -> bool:
        return self.tokens >= self.burst

    def retry_after(self, cost: float = 1.0) -> float:
        """Seconds until `cost` tokens will be there."""
        if self.rate == 0:
            return 0.0
        return max(0.0, (cost - self.tokens) / self.rate)


class SeatLimits:
    """One bucket per seat.  Buckets that have refilled are forgotten when the table grows, so a long-running
    server keeps only the seats that sent something recently."""

    def __init__(self, rate: float, burst: int, clock: Clock = time.monotonic, *, prune_at: int = 10_000) -> None:
        TokenBucket(rate, burst, clock)  # checks the figures once, here, not on the first frame
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._prune_at = prune_at
        self._buckets: dict[str, TokenBucket] = {}

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def bucket(self, seat_id: str) -> TokenBucket:
        found = self._buckets.get(seat_id)
        if found is None:
            if len(self._buckets) >= self._prune_at:
                self._prune()
            found = self._buckets[seat_id] = TokenBucket(self.rate, self.burst, self._clock)
        return found

    def allow(self, seat_id: str) -> bool:
        """Whether this seat may send one more frame now (and count it if so)."""
        return not self.enabled or self.bucket(seat_id).take()

    def retry_after(self, seat_id: str) -> float:
        return self.bucket(seat_id).retry_after()

    def refusal(self, seat_id: str) -> tuple[float, str]:
        """Seconds until this seat may send again, and the reason a refusal gives (sockets and REST alike)."""
        wait = self.retry_after(seat_id)
        return (
            wait,
            f"Too many frames: a seat may send {self.rate:g} a second, {self.burst} at once; wait {wait:.2f} s.",
        )

    def _prune(self) -> None:
        for seat_id in [s for s, b in self._buckets.items() if b.full()]:
            del self._buckets[seat_id]

    def __len__(self) -> int:
        return len(self._buckets)


def seat_limits(app: Any) -> SeatLimits:
    """The app's limits per seat, shared by its sockets and its REST commands; made on first use from the
    settings (`commands_per_second`, `burst`)."""
    state = app.state
    limits: SeatLimits | None = getattr(state, "seat_limits", None)
    if limits is None:
        settings = state.settings
        limits = state.seat_limits = SeatLimits(settings.commands_per_second, settings.burst)
    return limits
