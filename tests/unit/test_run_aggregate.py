"""A run's running aggregates give the same exact figures as sorting every duration (catalog/aggregate.py).

The durations are held in sorted blocks that split as they fill; a tiny block size makes the
examples split many times, with duplicates and values landing before, between and after blocks.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from windtunnel_dash.analysis.intervals import quantile_interval
from windtunnel_dash.artifacts.status import nearest_rank
from windtunnel_dash.catalog import aggregate
from windtunnel_dash.catalog.aggregate import COMPARED_PERCENTILES, NO_SCENARIO, RunAggregate

ROWS = st.lists(st.tuples(
    st.sampled_from(["a", "b", None]),
    st.sampled_from(["passed", "failed", "error"]),
    st.one_of(st.none(), st.integers(0, 40).map(float), st.floats(0, 1e6, allow_nan=False)),
), max_size=300)


def _intervals(values: list[float]) -> list[list[float | None]]:
    out = []
    for pct in COMPARED_PERCENTILES:
        e = quantile_interval(values, pct / 100, nearest_rank(values, pct))
        out.append([e.value, e.low, e.high])
    return out


@pytest.fixture(autouse=True)
def tiny_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aggregate, "BLOCK", 3)


@given(rows=ROWS)
def test_figures_equal_those_of_the_sorted_durations(rows: list[tuple[str | None, str, float | None]]) -> None:
    agg = RunAggregate.from_rows(rows)
    every = sorted(d for _, _, d in rows if d is not None)
    assert agg.percentiles() == (nearest_rank(every, 50), nearest_rank(every, 95), nearest_rank(every, 99))
    stored = json.loads(agg.scenarios_json())
    assert stored["latency"] == _intervals(every)
    for sid, total, passed, failed, errors, latency in stored["scenarios"]:
        mine = [r for r in rows if (r[0] or NO_SCENARIO) == sid]
        assert (total, passed, failed, errors) == (
            len(mine), sum(r[1] == "passed" for r in mine), sum(r[1] == "failed" for r in mine),
            sum(r[1] == "error" for r in mine))
        assert latency == _intervals(sorted(r[2] for r in mine if r[2] is not None))
    assert agg.total == len(rows)


def test_figures_follow_each_addition() -> None:
    """Percentiles asked between additions (as the tailer asks after each batch) see every value so far."""
    agg, seen = RunAggregate(), []
    for n in range(200):
        duration = float((n * 37) % 101)
        agg.add("a", "passed", duration)
        seen.append(duration)
        ordered = sorted(seen)
        assert agg.percentiles() == (nearest_rank(ordered, 50), nearest_rank(ordered, 95), nearest_rank(ordered, 99))


VALUES = st.lists(st.one_of(st.integers(-5, 40).map(float), st.floats(-1e6, 1e6, allow_nan=False)), max_size=200)


@given(first=VALUES, then=VALUES)
def test_sorted_values_hold_every_value_in_order_whether_added_in_bulk_or_one_by_one(
        first: list[float], then: list[float]) -> None:
    values = aggregate.SortedValues()
    values.extend(first)  # into an empty one: one sort
    values.extend(then)  # fewer than it holds: one by one; more: one sort of everything
    every = sorted(first + then)
    assert list(values) == every and len(values) == len(every)
    if every:
        assert (values[-1], values[-len(every)]) == (every[-1], every[0])


@given(values=VALUES, buckets=st.integers(1, 12), low=st.floats(-100, 100), width=st.floats(0.5, 1e5))
def test_bucket_counts_equal_counting_each_value(values: list[float], buckets: int, low: float, width: float) -> None:
    """Blocks inside one bucket, blocks across several, and values below or above every bucket (clamped)."""
    sorted_values = aggregate.SortedValues()
    sorted_values.extend(values)

    def bucket_of(value: float) -> int:
        return int((value - low) // width)

    expected = [0] * buckets
    for value in values:
        expected[min(max(bucket_of(value), 0), buckets - 1)] += 1
    assert sorted_values.bucket_counts(bucket_of, buckets) == expected


@given(parts=st.lists(VALUES, max_size=4))
def test_merged_values_index_like_the_sorted_union(parts: list[list[float]]) -> None:
    """Every order statistic (and from the end), through duplicates shared across parts and empty parts."""
    held = []
    for values in parts:
        held.append(aggregate.SortedValues())
        held[-1].extend(values)
    merged, every = aggregate.MergedValues(held), sorted(v for values in parts for v in values)
    assert len(merged) == len(every)
    assert [merged[i] for i in range(len(every))] == every
    assert [merged[-i] for i in range(1, len(every) + 1)] == every[::-1]
    with pytest.raises(IndexError):
        merged[len(every)]


@given(values=VALUES, probe=st.one_of(st.integers(-6, 41).map(float), st.floats(-1e6, 1e6, allow_nan=False)))
def test_rank_counts_the_values_below_and_at_most(values: list[float], probe: float) -> None:
    held = aggregate.SortedValues()
    for value in values:  # one by one: blocks split, duplicates straddle them
        held.add(value)
    assert held.rank(probe) == sum(v < probe for v in values)
    assert held.rank(probe, at_most=True) == sum(v <= probe for v in values)
