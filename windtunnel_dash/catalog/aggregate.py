"""Running aggregates of one run, kept by its tailer so no update needs a full scan.

Counts by status, per scenario, and sorted durations (overall and per
scenario) for the nearest-rank percentiles and their 95% intervals (the
baseline comparison, docs/design.md §9). The tailer writes the resulting absolute
values into the run's row with each batch, so every reader gets them from one
row, and two workers ingesting the same file write the same numbers (docs/design.md §7).
"""

from __future__ import annotations

import bisect
import itertools
import json
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from windtunnel_dash.analysis.intervals import Estimate, quantile_interval
from windtunnel_dash.artifacts.status import ERROR, PASSED, nearest_rank, pass_rate

from .rows import ScenarioStats

NO_SCENARIO = "(no scenario)"
COMPARED_PERCENTILES = (50, 95)  # latency figures a comparison shows, with intervals
BLOCK = 1000  # durations per sorted block (half the most a block holds before it splits)


class SortedValues(Sequence[float]):
    """Values (durations, completion times) kept sorted, in blocks of at most 2 × BLOCK doubles (array('d')).

    A run keeps every duration for its exact percentiles, so the layout is what a long run pays for:
    8 bytes a value instead of a float object and a list slot (40), and an insert moves one block
    instead of re-sorting the whole run (which grew to ~50 ms a batch at 900k instances, and so did
    every later batch's lag). Indexing an order statistic walks the blocks' cumulative lengths.
    """

    __slots__ = ("_blocks", "_maxes", "_ends", "_len")

    def __init__(self) -> None:
        self._blocks: list[array[float]] = []
        self._maxes: list[float] = []  # last (largest) value of each block
        self._ends: list[int] | None = []  # cumulative block lengths; None: stale after an insert
        self._len = 0

    def add(self, value: float) -> None:
        if not self._blocks:
            self._blocks.append(array("d", (value,)))
            self._maxes.append(value)
        else:
            i = min(bisect.bisect_left(self._maxes, value), len(self._blocks) - 1)
            block = self._blocks[i]
            bisect.insort(block, value)
            self._maxes[i] = block[-1]
            if len(block) > 2 * BLOCK:
                self._blocks[i:i + 1] = [block[:BLOCK], block[BLOCK:]]
                self._maxes[i:i + 1] = [block[BLOCK - 1], block[-1]]
        self._ends = None
        self._len += 1

    def extend(self, values: list[float]) -> None:
        """Add many: one by one when they are few, else one sort of everything (a run's first load)."""
        if len(values) <= self._len:
            for value in values:
                self.add(value)
            return
        every = sorted(itertools.chain(itertools.chain.from_iterable(self._blocks), values))
        self._blocks = [array("d", every[i:i + BLOCK]) for i in range(0, len(every), BLOCK)]
        self._maxes = [block[-1] for block in self._blocks]
        self._ends = None
        self._len = len(every)

    def bucket_counts(self, bucket_of: Callable[[float], int], buckets: int) -> list[int]:
        """How many values fall in each of `buckets` buckets; `bucket_of` (clamped to 0..buckets-1 here) must
        not decrease as the value grows. A block within one bucket is counted whole, and a block spanning
        several is cut by bisection: a few hundred steps for a million values, not a million."""
        def clamped(value: float) -> int:
            return min(max(bucket_of(value), 0), buckets - 1)

        counts = [0] * buckets
        for block in self._blocks:
            first, last = clamped(block[0]), clamped(block[-1])
            start = 0
            for b in range(first, last):
                end = bisect.bisect_left(block, b + 1, lo=start, key=clamped)
                counts[b] += end - start
                start = end
            counts[last] += len(block) - start
        return counts

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, index):  # an order statistic (0-based; negative from the end, as a list's)
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError(index)
        ends = self._cumulative()
        i = bisect.bisect_right(ends, index)
        return self._blocks[i][index - (ends[i - 1] if i else 0)]

    def rank(self, value: float, *, at_most: bool = False) -> int:
        """How many values are below `value` (with at_most, at most `value`). Blocks hold ascending runs of
        values, so every block before the one found is wholly below and every block after it wholly above."""
        find = bisect.bisect_right if at_most else bisect.bisect_left
        i = find(self._maxes, value)
        if i == len(self._blocks):
            return self._len
        return (self._cumulative()[i - 1] if i else 0) + find(self._blocks[i], value)

    def _cumulative(self) -> list[int]:
        if self._ends is None:
            self._ends = list(itertools.accumulate(map(len, self._blocks)))
        return self._ends


class MergedValues(Sequence[float]):
    """The order statistics of several SortedValues taken together, without a merged copy of their values.

    The run's percentiles are those of its scenarios' durations merged: kept once, per scenario, a long
    run pays 8 bytes a duration instead of 16. An order statistic is found by bisecting the value range:
    each round takes the middle of the widest remaining candidate range and ranks it in every part.
    """

    __slots__ = ("_parts",)

    def __init__(self, parts: Iterable[SortedValues]) -> None:
        self._parts = parts  # a live view (a dict's values): a scenario seen later counts too

    def __len__(self) -> int:
        return sum(map(len, self._parts))

    def __getitem__(self, index):  # an order statistic (0-based; negative from the end, as a list's)
        parts = list(self._parts)
        n = sum(map(len, parts))
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(index)
        lo, hi = [0] * len(parts), list(map(len, parts))  # per part, where the answer may still be
        while True:
            j = max(range(len(parts)), key=lambda k: hi[k] - lo[k])
            pivot = parts[j][(lo[j] + hi[j]) // 2]
            below = [p.rank(pivot) for p in parts]
            if index < sum(below):
                hi = [min(h, b) for h, b in zip(hi, below, strict=True)]
                continue
            at_most = [p.rank(pivot, at_most=True) for p in parts]
            if index < sum(at_most):
                return pivot
            lo = [max(low, a) for low, a in zip(lo, at_most, strict=True)]


def intervals(values: Sequence[float]) -> list[list[float | None]]:
    """[value, low, high] of each compared percentile of ascending `values`."""
    out = []
    for pct in COMPARED_PERCENTILES:
        e = quantile_interval(values, pct / 100, nearest_rank(values, pct))
        out.append([e.value, e.low, e.high])
    return out


class RunAggregate:
    __slots__ = ("passed", "failed", "errors", "_scenarios", "_durations", "_by_scenario")

    def __init__(self) -> None:
        self.passed = self.failed = self.errors = 0
        self._scenarios: dict[str, list[int]] = {}  # id → [total, passed, failed, errors]
        self._by_scenario: dict[str, SortedValues] = {}
        self._durations = MergedValues(self._by_scenario.values())  # the run's: its scenarios' together

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str | None, str, float | None]]) -> RunAggregate:
        """Rebuild from stored (scenario_id, status, duration_ms) rows, e.g. after a restart."""
        agg = cls()
        for scenario_id, status, duration in rows:
            agg.add(scenario_id, status, duration)
        return agg

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errors

    def add(self, scenario_id: str | None, status: str, duration_ms: float | None) -> None:
        key = scenario_id or NO_SCENARIO
        counts = self._scenarios.get(key)
        if counts is None:
            counts = self._scenarios[key] = [0, 0, 0, 0]
            self._by_scenario[key] = SortedValues()
        counts[0] += 1
        if status == PASSED:
            self.passed += 1
            counts[1] += 1
        elif status == ERROR:
            self.errors += 1
            counts[3] += 1
        else:
            self.failed += 1
            counts[2] += 1
        if duration_ms is not None:
            self._by_scenario[key].add(duration_ms)

    def percentiles(self) -> tuple[float | None, float | None, float | None]:
        d = self._durations
        return nearest_rank(d, 50), nearest_rank(d, 95), nearest_rank(d, 99)

    def pass_rate(self) -> float:
        return pass_rate(self.passed, self.total)

    def scenarios_json(self) -> str:
        """The run row's `scenarios` column: per-scenario counts and latency intervals, and the run's."""
        rows = sorted([sid, *counts, intervals(self._by_scenario[sid])] for sid, counts in self._scenarios.items())
        return json.dumps({"scenarios": rows, "latency": intervals(self._durations)})


@dataclass(frozen=True, slots=True)
class ScenarioFigures:
    """One scenario's counts and latency percentiles with their intervals, as a comparison needs them."""

    counts: ScenarioStats
    p50: Estimate
    p95: Estimate


@dataclass(frozen=True, slots=True)
class Figures:
    """Everything a run row's `scenarios` column holds."""

    scenarios: list[ScenarioFigures]
    p50: Estimate
    p95: Estimate


_UNKNOWN = Estimate(None, None, None)


def _estimates(latency: list | None) -> tuple[Estimate, Estimate]:
    if not latency:
        return _UNKNOWN, _UNKNOWN
    p50, p95 = (Estimate(*triple) for triple in latency)
    return p50, p95


def figures_from_json(text: str) -> Figures:
    """The `scenarios` column parsed; a row written before latency intervals were kept (a plain list of
    counts) gives unknown latency figures."""
    data = json.loads(text or "[]")
    rows, latency = (data, None) if isinstance(data, list) else (data["scenarios"], data["latency"])
    scenarios = []
    for sid, total, passed, failed, errors, *rest in rows:
        p50, p95 = _estimates(rest[0] if rest else None)
        counts = ScenarioStats(sid, total, passed, failed, errors, pass_rate(passed, total))
        scenarios.append(ScenarioFigures(counts, p50, p95))
    p50, p95 = _estimates(latency)
    return Figures(scenarios, p50, p95)


def scenarios_from_json(text: str) -> list[ScenarioStats]:
    """The per-scenario counts stored in a run's row, as typed rows."""
    return [s.counts for s in figures_from_json(text).scenarios]
