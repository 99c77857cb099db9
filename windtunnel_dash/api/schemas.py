"""Typed shapes of the API's JSON, for the OpenAPI docs and for checking answers in tests.

The rows in catalog/rows.py produce the JSON (`to_api()`); these models only
describe it. `extra="forbid"` makes a test that validates a real answer fail
as soon as the two drift apart in either direction.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from windtunnel_dash.artifacts.status import InstanceStatus, RunStatus


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Stats(_Model):
    total: int
    passed: int
    failed: int
    errors: int
    passRate: float
    planned: int | None
    p50Ms: float | None
    p95Ms: float | None
    p99Ms: float | None


class ScenarioStats(_Model):
    scenarioId: str
    total: int
    passed: int
    failed: int
    errors: int
    passRate: float


class Run(_Model):
    runId: str
    sutName: str | None
    scenarioIds: list[str]
    startedAt: str | None
    completedAt: str | None
    status: RunStatus
    statusReason: str | None
    planned: int | None
    durationMs: float | None
    stats: Stats
    unreadableLines: int


class RunDetail(Run):
    scenarios: list[ScenarioStats]
    config: dict[str, Any]


class RunPage(_Model):
    runs: list[Run]
    total: int


class Instance(_Model):
    """A row of the instance list, and the data of `instance_complete`."""

    instanceId: str
    correlationId: str | None
    scenarioId: str | None
    passed: bool | None
    durationMs: float | None
    status: InstanceStatus
    error: str | None
    completedAt: str | None
    startedAt: str | None
    seq: int


class InstancePage(_Model):
    items: list[Instance]
    total: int
    page: int
    limit: int


class Assertion(_Model):
    assertionName: str | None
    passed: bool | None
    expected: Any
    actual: Any
    message: str | None


class Step(_Model):
    stepIndex: int
    stepName: str | None
    stepType: str | None
    timestamp: str | None
    observation: dict[str, Any]
    assertions: list[Assertion]


class InstanceDetail(Instance):
    entryData: Any
    steps: list[Step]


class PipelineWarning(_Model):
    """Something that keeps the pipeline from doing its job right now (also shown in every page's header)."""

    key: str
    message: str
    fix: str


class Health(_Model):
    status: Literal["ok"]
    liveSubscribers: int
    backgroundTasks: int  # the pages' background tasks running (0 once every tab has closed)
    watch: Literal["inotify", "polling", "mixed"]
    warnings: list[PipelineWarning]
    pid: int = Field(description="process id of the worker that answered")
    ingesting: list[str] = Field(description="ids of the runs this worker ingests now (empty unless it leads)")


class ErrorDetail(_Model):
    message: str
    code: int


class ErrorBody(_Model):
    error: ErrorDetail


class StepComplete(_Model):
    instanceId: str
    correlationId: str | None
    stepIndex: int
    stepName: str | None
    stepType: str | None
    ok: bool | None
    latencyMs: float | None


class Heartbeat(_Model):
    ts: str
    seq: int


class RunComplete(_Model):
    completedAt: str | None
    finalStats: Stats


STREAM_MESSAGES: dict[str, type[BaseModel]] = {
    "instance_complete": Instance,
    "stats_update": Stats,
    "step_complete": StepComplete,
    "heartbeat": Heartbeat,
    "run_complete": RunComplete,
    "error": ErrorDetail,
}
