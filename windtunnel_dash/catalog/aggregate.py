"""Running aggregates of one run, kept by its tailer so no update needs a full scan.

Counts by status, per scenario, and a sorted list of durations for the
nearest-rank percentiles. The tailer writes the resulting absolute values into
the run's row with each batch, so every reader gets them from one row, and two
workers ingesting the same file write the same numbers (DESIGN.md §7).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from windtunnel_dash.artifacts.status import ERROR, PASSED, nearest_rank, pass_rate

from .rows import ScenarioStats

NO_SCENARIO = "(no scenario)"


class RunAggregate:
    __slots__ = ("passed", "failed", "errors", "_scenarios", "_durations", "_pending")

    def __init__(self) -> None:
        self.passed = self.failed = self.errors = 0
        self._scenarios: dict[str, list[int]] = {}  # id → [total, passed, failed, errors]
        self._durations: list[float] = []
        self._pending: list[float] = []

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str | None, str, float | None]]) -> "RunAggregate":
        """Rebuild from stored (scenario_id, status, duration_ms) rows, e.g. after a restart."""
        agg = cls()
        for scenario_id, status, duration in rows:
            agg.add(scenario_id, status, duration)
        return agg

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errors

    def add(self, scenario_id: str | None, status: str, duration_ms: float | None) -> None:
        counts = self._scenarios.get(scenario_id or NO_SCENARIO)
        if counts is None:
            counts = self._scenarios[scenario_id or NO_SCENARIO] = [0, 0, 0, 0]
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
            self._pending.append(duration_ms)

    def percentiles(self) -> tuple[float | None, float | None, float | None]:
        if self._pending:
            self._durations.extend(self._pending)
            self._durations.sort()  # timsort merges the sorted run with the new tail cheaply
            self._pending.clear()
        d = self._durations
        return nearest_rank(d, 50), nearest_rank(d, 95), nearest_rank(d, 99)

    def pass_rate(self) -> float:
        return pass_rate(self.passed, self.total)

    def scenarios_json(self) -> str:
        return json.dumps(sorted([sid, *counts] for sid, counts in self._scenarios.items()))


def scenarios_from_json(text: str) -> list[ScenarioStats]:
    """The per-scenario counts stored in a run's row, as typed rows."""
    out = []
    for sid, total, passed, failed, errors in json.loads(text or "[]"):
        out.append(ScenarioStats(sid, total, passed, failed, errors, pass_rate(passed, total)))
    return out
