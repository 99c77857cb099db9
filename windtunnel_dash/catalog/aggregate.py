"""Running aggregates of one run, kept by its tailer so no update needs a full scan.

Counts by status, per scenario, and sorted lists of durations (overall and per
scenario) for the nearest-rank percentiles and their 95% intervals (the
baseline comparison, docs/design.md §9). The tailer writes the resulting absolute
values into the run's row with each batch, so every reader gets them from one
row, and two workers ingesting the same file write the same numbers (docs/design.md §7).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from windtunnel_dash.analysis.intervals import Estimate, quantile_interval
from windtunnel_dash.artifacts.status import ERROR, PASSED, nearest_rank, pass_rate

from .rows import ScenarioStats

NO_SCENARIO = "(no scenario)"
COMPARED_PERCENTILES = (50, 95)  # latency figures a comparison shows, with intervals


class _Durations:
    """Durations kept sorted lazily: appends wait in `pending` until a percentile is asked for."""

    __slots__ = ("values", "pending")

    def __init__(self) -> None:
        self.values: list[float] = []
        self.pending: list[float] = []

    def settled(self) -> list[float]:
        if self.pending:
            self.values.extend(self.pending)
            self.values.sort()  # timsort merges the sorted run with the new tail cheaply
            self.pending.clear()
        return self.values

    def intervals(self) -> list[list[float | None]]:
        """[value, low, high] of each compared percentile."""
        values = self.settled()
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
        self._durations = _Durations()
        self._by_scenario: dict[str, _Durations] = {}

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
            self._by_scenario[key] = _Durations()
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
            self._durations.pending.append(duration_ms)
            self._by_scenario[key].pending.append(duration_ms)

    def percentiles(self) -> tuple[float | None, float | None, float | None]:
        d = self._durations.settled()
        return nearest_rank(d, 50), nearest_rank(d, 95), nearest_rank(d, 99)

    def pass_rate(self) -> float:
        return pass_rate(self.passed, self.total)

    def scenarios_json(self) -> str:
        """The run row's `scenarios` column: per-scenario counts and latency intervals, and the run's."""
        rows = sorted([sid, *counts, self._by_scenario[sid].intervals()] for sid, counts in self._scenarios.items())
        return json.dumps({"scenarios": rows, "latency": self._durations.intervals()})


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
