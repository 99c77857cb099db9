"""What catalog queries return: typed, read-only rows shared by the API and the pages.

`to_api()` gives the camelCase JSON of docs/design.md §5, so the stream, REST and
anything else that serialises a row say the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from windtunnel_dash.artifacts.status import InstanceStatus, RunStatus


@dataclass(frozen=True, slots=True)
class Stats:
    total: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    pass_rate: float = 0.0
    planned: int | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "passed": self.passed,
            "failed": self.failed,
            "errors": self.errors,
            "passRate": self.pass_rate,
            "planned": self.planned,
            "p50Ms": self.p50_ms,
            "p95Ms": self.p95_ms,
            "p99Ms": self.p99_ms,
        }


@dataclass(frozen=True, slots=True)
class ScenarioStats:
    scenario_id: str
    total: int
    passed: int
    failed: int
    errors: int
    pass_rate: float

    def to_api(self) -> dict[str, Any]:
        return {
            "scenarioId": self.scenario_id,
            "total": self.total,
            "passed": self.passed,
            "failed": self.failed,
            "errors": self.errors,
            "passRate": self.pass_rate,
        }


@dataclass(frozen=True, slots=True)
class RunRow:
    run_id: str
    sut_name: str | None
    scenario_ids: list[str]
    started_at: str | None
    completed_at: str | None
    status: RunStatus
    planned: int | None
    stats: Stats
    unreadable_lines: int = 0
    duration_ms: float | None = None  # completed runs; running ones tick from started_at
    status_reason: str | None = None  # why a run is in `error` (unreadable manifest)
    config: dict[str, Any] = field(default_factory=dict)
    scenarios: list[ScenarioStats] = field(default_factory=list)  # filled by get_run only

    def to_api(self, *, detail: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "runId": self.run_id,
            "sutName": self.sut_name,
            "scenarioIds": list(self.scenario_ids),
            "startedAt": self.started_at,
            "completedAt": self.completed_at,
            "status": self.status,
            "statusReason": self.status_reason,
            "planned": self.planned,
            "durationMs": self.duration_ms,
            "stats": self.stats.to_api(),
            "unreadableLines": self.unreadable_lines,
        }
        if detail:
            out["scenarios"] = [s.to_api() for s in self.scenarios]
            out["config"] = self.config
        return out


@dataclass(frozen=True, slots=True)
class InstanceRow:
    seq: int
    instance_id: str
    correlation_id: str | None
    scenario_id: str | None
    passed: bool | None
    duration_ms: float | None
    status: InstanceStatus
    error: str | None
    completed_at: str | None
    started_at: str | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "instanceId": self.instance_id,
            "correlationId": self.correlation_id,
            "scenarioId": self.scenario_id,
            "passed": self.passed,
            "durationMs": self.duration_ms,
            "status": self.status,
            "error": self.error,
            "completedAt": self.completed_at,
            "startedAt": self.started_at,
            "seq": self.seq,
        }

    def approx_bytes(self) -> int:
        """Its size as a stream message, about: the error text is the one field of any length."""
        return MESSAGE_BYTES + len(self.error or "")


@dataclass(frozen=True, slots=True)
class StepEvent:
    """One step line as the live stream reports it (`step_complete`)."""

    step_seq: int  # 1-based position among the run's readable step lines
    instance_id: str
    correlation_id: str | None
    step_index: int
    step_name: str | None
    step_type: str | None
    ok: bool | None
    latency_ms: float | None

    def to_api(self) -> dict[str, Any]:
        return {
            "instanceId": self.instance_id,
            "correlationId": self.correlation_id,
            "stepIndex": self.step_index,
            "stepName": self.step_name,
            "stepType": self.step_type,
            "ok": self.ok,
            "latencyMs": self.latency_ms,
        }

    def approx_bytes(self) -> int:
        return MESSAGE_BYTES


MESSAGE_BYTES = 200  # about what a row's stream message takes besides its error text (ids, times, keys)

R = TypeVar("R", "InstanceRow", "StepEvent")


def up_to_bytes(rows: Iterable[R], max_bytes: int) -> list[R]:
    """The leading rows until they weigh `max_bytes` (at least one row); an iterator's rest is never read.

    Bounds what one delivery of the stream holds when error texts are long, whatever its row count.
    """
    taken: list[R] = []
    size = 0
    for row in rows:
        taken.append(row)
        size += row.approx_bytes()
        if size >= max_bytes:
            break
    return taken


@dataclass(frozen=True, slots=True)
class AssertionRow:
    assertion_name: str | None
    passed: bool | None
    expected: Any
    actual: Any
    message: str | None

    def to_api(self) -> dict[str, Any]:
        return {
            "assertionName": self.assertion_name,
            "passed": self.passed,
            "expected": self.expected,
            "actual": self.actual,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class StepDetail:
    step_index: int
    step_name: str | None
    step_type: str | None
    timestamp: str | None
    observation: dict[str, Any]
    assertions: list[AssertionRow]

    def to_api(self) -> dict[str, Any]:
        return {
            "stepIndex": self.step_index,
            "stepName": self.step_name,
            "stepType": self.step_type,
            "timestamp": self.timestamp,
            "observation": self.observation,
            "assertions": [a.to_api() for a in self.assertions],
        }


@dataclass(frozen=True, slots=True)
class InstanceDetail:
    instance: InstanceRow
    entry_data: Any
    steps: list[StepDetail]

    def to_api(self) -> dict[str, Any]:
        return {
            **self.instance.to_api(),
            "entryData": self.entry_data,
            "steps": [s.to_api() for s in self.steps],
        }


@dataclass(frozen=True, slots=True)
class TimelineBucket:
    """Completions in one interval of the run, by status (the detail page's chart)."""

    start: str  # ISO time of the bucket's start
    passed: int
    failed: int
    errors: int


@dataclass(frozen=True, slots=True)
class LatencyBucket:
    """Instances whose duration falls in [low_ms, high_ms) (the latency distribution)."""

    low_ms: float
    high_ms: float
    count: int
