"""Typed records for the five artifact files, read tolerantly (docs/design.md §2).

`from_dict` never raises on a JSON object: wrong-typed fields become None,
unknown keys are kept in `extra`, and the older layout's names
(`scenarios`, `started_at`, `action_name`, ...) are mapped onto the new ones.
`to_dict` writes the newer layout, so writer and reader round-trip.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any


def as_str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, bool)):
        return str(value)
    return None


def as_num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if value == value and abs(value) != float("inf") else None


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def as_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_renamed(data: Mapping[str, Any], key: str, older_key: str) -> str | None:
    """The newer key's text if it has one, else the older layout's (an empty string is still a value)."""
    value = as_str(data.get(key))
    return value if value is not None else as_str(data.get(older_key))


def _extra(data: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in known}


def _fields_dict(record: Any) -> dict[str, Any]:
    """A record as its line: unknown keys first, then every field under its own name."""
    out = dict(record.extra)
    out.update((f.name, getattr(record, f.name)) for f in fields(record) if f.name != "extra")
    return out


@dataclass(slots=True)
class Manifest:
    run_id: str
    started_at: str | None = None
    sut_name: str | None = None
    scenario_ids: list[str] = field(default_factory=list)
    seed: int | None = None
    config: dict[str, Any] = field(default_factory=dict)
    turbulence_version: str | None = None
    completed_at: str | None = None  # older layout only: there it marks a complete run
    extra: dict[str, Any] = field(default_factory=dict)

    _KNOWN = frozenset(
        {"run_id", "timestamp", "started_at", "sut_name", "scenario_ids", "scenarios",
         "seed", "config", "turbulence_version", "completed_at"}
    )

    @property
    def planned(self) -> int | None:
        """The planned instance total this project's writer records in `config.instances`."""
        planned = as_int(self.config.get("instances"))
        return planned if planned is not None and planned >= 0 else None

    @classmethod
    def from_dict(cls, data: dict[str, Any], dir_name: str) -> Manifest:
        scenarios = data.get("scenario_ids", data.get("scenarios"))
        return cls(
            run_id=dir_name,  # the directory name is the run id, whatever the file says
            started_at=as_renamed(data, "timestamp", "started_at"),
            sut_name=as_str(data.get("sut_name")),
            scenario_ids=[s for s in (as_str(x) for x in scenarios) if s] if isinstance(scenarios, list) else [],
            seed=as_int(data.get("seed")),
            config=as_dict(data.get("config")),
            turbulence_version=as_str(data.get("turbulence_version")),
            completed_at=as_str(data.get("completed_at")),
            extra=_extra(data, cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        out = {
            "run_id": self.run_id,
            "timestamp": self.started_at,
            "sut_name": self.sut_name,
            "scenario_ids": list(self.scenario_ids),
            "seed": self.seed,
            "config": dict(self.config),
            "turbulence_version": self.turbulence_version,
        }
        if self.completed_at is not None:
            out["completed_at"] = self.completed_at
        return {**self.extra, **out}


@dataclass(slots=True)
class Instance:
    instance_id: str
    run_id: str | None = None
    correlation_id: str | None = None
    scenario_id: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    duration_ms: float | None = None
    passed: bool | None = None
    entry_data: Any = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    _KNOWN = frozenset(
        {"instance_id", "run_id", "correlation_id", "scenario_id", "started_at",
         "completed_at", "duration_ms", "passed", "entry_data", "error"}
    )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Instance:
        error = data.get("error")
        return cls(
            instance_id=as_str(data.get("instance_id")) or "",
            run_id=as_str(data.get("run_id")),
            correlation_id=as_str(data.get("correlation_id")),
            scenario_id=as_str(data.get("scenario_id")),
            started_at=as_str(data.get("started_at")),
            completed_at=as_str(data.get("completed_at")),
            duration_ms=as_num(data.get("duration_ms")),
            passed=as_bool(data.get("passed")),
            entry_data=data.get("entry_data"),
            # A non-string error is still an error the runner reported: keep its text.
            error=error if isinstance(error, str) or error is None else str(error),
            extra=_extra(data, cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        return _fields_dict(self)


@dataclass(slots=True)
class Step:
    instance_id: str
    step_index: int | None = None  # None in the older layout: the reader numbers steps by order
    step_name: str | None = None
    step_type: str | None = None
    run_id: str | None = None
    correlation_id: str | None = None
    timestamp: str | None = None
    observation: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    _KNOWN = frozenset(
        {"instance_id", "run_id", "correlation_id", "step_index", "step_name", "step_type",
         "action_name", "action_type", "timestamp", "observation"}
    )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Step:
        return cls(
            instance_id=as_str(data.get("instance_id")) or "",
            step_index=as_int(data.get("step_index")),
            step_name=as_renamed(data, "step_name", "action_name"),
            step_type=as_renamed(data, "step_type", "action_type"),
            run_id=as_str(data.get("run_id")),
            correlation_id=as_str(data.get("correlation_id")),
            timestamp=as_str(data.get("timestamp")),
            observation=as_dict(data.get("observation")),
            extra=_extra(data, cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        return _fields_dict(self)

    @property
    def ok(self) -> bool | None:
        return as_bool(self.observation.get("ok"))

    @property
    def latency_ms(self) -> float | None:
        return as_num(self.observation.get("latency_ms"))


@dataclass(slots=True)
class Assertion:
    instance_id: str
    step_index: int | None = None
    assertion_name: str | None = None
    passed: bool | None = None
    expected: Any = None
    actual: Any = None
    message: str | None = None
    timestamp: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    _KNOWN = frozenset(
        {"instance_id", "step_index", "assertion_name", "passed", "expected", "actual",
         "message", "timestamp"}
    )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Assertion:
        return cls(
            instance_id=as_str(data.get("instance_id")) or "",
            step_index=as_int(data.get("step_index")),
            assertion_name=as_str(data.get("assertion_name")),
            passed=as_bool(data.get("passed")),
            expected=data.get("expected"),
            actual=data.get("actual"),
            message=as_str(data.get("message")),
            timestamp=as_str(data.get("timestamp")),
            extra=_extra(data, cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        return _fields_dict(self)


@dataclass(slots=True)
class Summary:
    completed_at: str | None = None
    total_instances: int | None = None
    pass_count: int | None = None
    fail_count: int | None = None
    error_count: int | None = None
    pass_rate: float | None = None
    duration_ms: float | None = None
    p50_latency_ms: float | None = None
    p95_latency_ms: float | None = None
    p99_latency_ms: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    _KNOWN = frozenset(
        {"completed_at", "total_instances", "pass_count", "fail_count", "error_count",
         "pass_rate", "duration_ms", "p50_latency_ms", "p95_latency_ms", "p99_latency_ms"}
    )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Summary:
        return cls(
            completed_at=as_str(data.get("completed_at")),
            total_instances=as_int(data.get("total_instances")),
            pass_count=as_int(data.get("pass_count")),
            fail_count=as_int(data.get("fail_count")),
            error_count=as_int(data.get("error_count")),
            pass_rate=as_num(data.get("pass_rate")),
            duration_ms=as_num(data.get("duration_ms")),
            p50_latency_ms=as_num(data.get("p50_latency_ms")),
            p95_latency_ms=as_num(data.get("p95_latency_ms")),
            p99_latency_ms=as_num(data.get("p99_latency_ms")),
            extra=_extra(data, cls._KNOWN),
        )

    def to_dict(self) -> dict[str, Any]:
        return _fields_dict(self)
