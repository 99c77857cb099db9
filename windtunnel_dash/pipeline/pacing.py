"""At most one release per interval, latest value wins (docs/design.md §4 "Cadence").

For what only needs to be current, not complete (a run's counts): a value that
comes too soon after the last release is held, and replaced by any later one,
until the interval has passed. Leading edge: an isolated value goes at once.
The caller passes the time, so the rule is tested without a clock.
"""

from __future__ import annotations

import math
from typing import Generic, TypeVar

T = TypeVar("T")


class Paced(Generic[T]):
    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._released_at = -math.inf
        self._held: T | None = None

    def offer(self, value: T, now: float) -> T | None:
        """Hold `value` (replacing any held one); returns it when it may go now."""
        self._held = value
        return self.take(now)

    def take(self, now: float) -> T | None:
        """The held value, when its time has come (it is then released), else None."""
        if self._held is None or now < self._released_at + self.interval_s:
            return None
        value, self._held = self._held, None
        self._released_at = now
        return value

    def due_in(self, now: float) -> float | None:
        """Seconds until the held value may go (0: now); None when nothing is held."""
        if self._held is None:
            return None
        return max(0.0, self._released_at + self.interval_s - now)
