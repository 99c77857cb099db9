"""The interval and verdict maths of docs/design.md §9 against published values.

Wilson intervals and Newcombe's method-10 differences are checked against
Newcombe, "Interval estimation for the difference between independent
proportions", Statistics in Medicine 17 (1998), tables I and II.
"""

from __future__ import annotations

import math

import pytest

from windtunnel_dash.analysis.intervals import (
    IMPROVED,
    NO_CLEAR_CHANGE,
    REGRESSED,
    Estimate,
    difference,
    quantile_interval,
    quantile_ranks,
    verdict,
    wilson,
)


def _close(e: Estimate, value: float | None, low: float, high: float, tol: float = 5e-5) -> bool:
    same_value = value is None and e.value is None or e.value is not None and math.isclose(e.value, value, abs_tol=tol)
    return same_value and math.isclose(e.low, low, abs_tol=tol) and math.isclose(e.high, high, abs_tol=tol)


@pytest.mark.parametrize(("x", "n", "low", "high"), [
    (81, 263, 0.2553, 0.3662),  # Newcombe table I
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_matches_newcombes_table(x: int, n: int, low: float, high: float) -> None:
    assert _close(wilson(x, n), x / n, low, high)


def test_wilson_at_n_0_knows_nothing() -> None:
    assert wilson(0, 0) == Estimate(None, 0.0, 1.0)


def test_wilson_at_n_1() -> None:
    assert _close(wilson(1, 1), 1.0, 0.2065, 1.0)  # z²/(1+z²) from the top
    assert _close(wilson(0, 1), 0.0, 0.0, 0.7935)


def test_wilson_at_n_10_and_its_exact_ends_at_p_0_and_1() -> None:
    assert _close(wilson(5, 10), 0.5, 0.2366, 0.7634)
    zero, one = wilson(0, 10), wilson(10, 10)
    assert zero.low == 0.0 and one.high == 1.0  # exactly: an end at p = 0 or 1 is not a rounding away
    assert _close(zero, 0.0, 0.0, 0.2775) and _close(one, 1.0, 0.7225, 1.0)


def test_wilson_at_n_10000_is_close_to_the_normal_interval() -> None:
    e = wilson(9500, 10_000)
    assert _close(e, 0.95, 0.94555, 0.95410)
    half = 1.959964 * math.sqrt(0.95 * 0.05 / 10_000)
    assert math.isclose(e.high - e.low, 2 * half, rel_tol=1e-3)
    assert wilson(0, 10_000).low == 0.0 and wilson(10_000, 10_000).high == 1.0


@pytest.mark.parametrize(("a", "b", "low", "high"), [
    ((56, 70), (48, 80), 0.0524, 0.3339),  # Newcombe table II, method 10
    ((9, 10), (3, 10), 0.1705, 0.8090),
    ((6, 7), (2, 7), 0.0582, 0.8062),
    ((5, 56), (0, 29), -0.0381, 0.1926),
    ((0, 10), (0, 20), -0.1611, 0.2775),
    ((10, 10), (20, 20), -0.2775, 0.1611),  # both at p = 1
])
def test_difference_of_proportions_matches_newcombes_method_10(a, b, low: float, high: float) -> None:
    assert _close(difference(wilson(*a), wilson(*b)), a[0] / a[1] - b[0] / b[1], low, high)


def test_a_run_with_nothing_yet_has_no_difference_and_no_verdict() -> None:
    d = difference(wilson(0, 0), wilson(90, 100))
    assert d == Estimate(None, None, None)
    assert verdict(d, higher_is_better=True) == NO_CLEAR_CHANGE


def test_verdicts_follow_the_interval_and_the_direction_of_better() -> None:
    worse = difference(wilson(60, 100), wilson(95, 100))  # the pass rate fell clearly
    assert worse.high < 0
    assert verdict(worse, higher_is_better=True) == REGRESSED
    assert verdict(worse, higher_is_better=False) == IMPROVED  # e.g. an error rate that fell
    assert verdict(difference(wilson(95, 100), wilson(60, 100)), higher_is_better=True) == IMPROVED
    # an early lead of three instances is not called: 3/3 or 1 failure in 4 against 95/100 spans 0
    assert verdict(difference(wilson(3, 3), wilson(95, 100)), higher_is_better=True) == NO_CLEAR_CHANGE
    assert verdict(difference(wilson(3, 4), wilson(95, 100)), higher_is_better=True) == NO_CLEAR_CHANGE
    assert verdict(Estimate(-1.0, None, 2.0), higher_is_better=True) == NO_CLEAR_CHANGE  # an open end


def test_quantile_intervals_are_order_statistics_and_open_when_too_few() -> None:
    assert quantile_ranks(0, 0.5) == (None, None)
    assert quantile_ranks(1, 0.5) == (None, None)  # one value cannot bound its median
    assert quantile_ranks(100, 0.5) == (40, 61)  # 50 ± 1.96·5, outward
    values = [float(v) for v in range(1, 101)]
    assert quantile_interval(values, 0.5, 50.0) == Estimate(50.0, 40.0, 61.0)
    low, high = quantile_ranks(10, 0.95)
    assert low == 8 and high is None  # the top of a p95 of 10 values is open
    d = difference(Estimate(200.0, 190.0, 210.0), Estimate(100.0, 95.0, 104.0))
    assert d.value == 100.0 and math.isclose(d.low, 100 - math.hypot(10, 4))
    assert verdict(d, higher_is_better=False) == REGRESSED
