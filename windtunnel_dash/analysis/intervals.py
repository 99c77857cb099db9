"""95% intervals and the verdict rule of docs/design.md §9.

A proportion gets the Wilson score interval (sane at n = 0, 1 and at p = 0 or 1,
unlike the textbook p ± z·se). A difference of two proportions combines the
two Wilson intervals by Newcombe's hybrid score method (1998, method 10), and
a difference of two percentiles combines distribution-free order-statistic
intervals the same way (MOVER), so every delta is judged by one rule: a
verdict only when its interval excludes 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Z95 = 1.959963984540054
Verdict = Literal["regressed", "improved", "no clear change"]
REGRESSED: Verdict = "regressed"
IMPROVED: Verdict = "improved"
NO_CLEAR_CHANGE: Verdict = "no clear change"


@dataclass(frozen=True, slots=True)
class Estimate:
    """A figure with its 95% interval; an open end (None) means the data cannot bound it yet."""

    value: float | None
    low: float | None
    high: float | None


def wilson(successes: int, n: int, z: float = Z95) -> Estimate:
    """The Wilson score interval of successes/n; at n = 0 nothing is known: value None, interval [0, 1]."""
    if n <= 0:
        return Estimate(None, 0.0, 1.0)
    p = successes / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    low = 0.0 if successes <= 0 else max(0.0, centre - half)  # exact ends: rounding must not open them
    high = 1.0 if successes >= n else min(1.0, centre + half)
    return Estimate(p, low, high)


def difference(a: Estimate, b: Estimate) -> Estimate:
    """a − b with a 95% interval from the two intervals (MOVER; Newcombe's method 10 for Wilson ones).

    Either value unknown → no difference; an open end of either interval → an open end here.
    """
    if a.value is None or b.value is None:
        return Estimate(None, None, None)
    d = a.value - b.value
    low = high = None
    if a.low is not None and b.high is not None:
        low = d - math.hypot(a.value - a.low, b.high - b.value)
    if a.high is not None and b.low is not None:
        high = d + math.hypot(a.high - a.value, b.value - b.low)
    return Estimate(d, low, high)


def quantile_ranks(n: int, q: float, z: float = Z95) -> tuple[int | None, int | None]:
    """1-based ranks of the order statistics bounding the q-quantile of n values at 95% (normal
    approximation to the binomial); None where that rank falls outside 1..n (the end stays open)."""
    if n <= 0:
        return None, None
    spread = z * math.sqrt(n * q * (1 - q))
    low = math.floor(n * q - spread)
    high = math.ceil(n * q + spread) + 1
    return (low if low >= 1 else None), (high if high <= n else None)


def quantile_interval(sorted_values: Sequence[float], q: float, value: float | None) -> Estimate:
    """`value` (the nearest-rank q-quantile of `sorted_values`) with its distribution-free 95% interval."""
    low, high = quantile_ranks(len(sorted_values), q)
    return Estimate(
        value,
        None if low is None else sorted_values[low - 1],
        None if high is None else sorted_values[high - 1],
    )


def verdict(delta: Estimate, *, higher_is_better: bool) -> Verdict:
    """regressed / improved when the interval excludes 0 on the worse / better side, else no clear change."""
    if delta.value is None:
        return NO_CLEAR_CHANGE
    if delta.low is not None and delta.low > 0:
        return IMPROVED if higher_is_better else REGRESSED
    if delta.high is not None and delta.high < 0:
        return REGRESSED if higher_is_better else IMPROVED
    return NO_CLEAR_CHANGE
