"""A run writer any Python runner can use, producing exactly what the reader reads (docs/design.md §2).

Every record becomes one complete line, appended with a single write and
flushed, under a lock: a tailer never sees a torn line even when several
threads or asyncio tasks share the writer. `manifest.json` and
`summary.json` appear atomically (temp file + rename), so a watcher never
reads half of one. The summary is computed from the lines this writer wrote,
with the same status rules as everything else (status.classify).
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from ..timefmt import utc_iso
from . import layout
from .records import Assertion, Instance, Manifest, Step, Summary
from .status import ERROR, PASSED, InstanceStatus, classify, nearest_rank, pass_rate

_encode = json.JSONEncoder(separators=(",", ":")).encode  # ASCII output: always valid UTF-8
_dumps = orjson.dumps
_NEWLINE = orjson.OPT_APPEND_NEWLINE

InstanceLike = Instance | Mapping[str, Any]
StepLike = Step | Mapping[str, Any]
AssertionLike = Assertion | Mapping[str, Any]


def new_run_id(now: datetime | None = None) -> str:
    """run_YYYYMMDD_HHMMSS_xxxx: sorts by start time; the suffix keeps same-second runs apart."""
    now = now or datetime.now(UTC)
    return f"run_{now:%Y%m%d_%H%M%S}_{secrets.token_hex(2)}"


def write_json_atomic(path: Path, data: Mapping[str, Any]) -> None:
    """Write a JSON file so readers see either nothing or all of it."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def encode_line(record: Any, run_id: str | None = None) -> bytes:
    """One JSONL line for a record or mapping; `run_id` is stamped on when given and the record has none."""
    data = record if isinstance(record, Mapping) else record.to_dict()
    if run_id is not None and data.get("run_id") is None:
        data = {**data, "run_id": run_id}
    try:
        return _dumps(data, option=_NEWLINE)  # fast path: what lets the simulator write thousands a second
    except TypeError:  # lone surrogates, huge ints, non-str keys: the stdlib encoder copes
        return (_encode(data) + "\n").encode("ascii")


@dataclass(frozen=True, slots=True)
class EncodedInstance:
    """An instance line plus what the summary needs from it, computed as a reader will read it back."""

    line: bytes
    status: InstanceStatus
    duration_ms: float | None


def encode_instance(instance: InstanceLike, run_id: str | None = None) -> EncodedInstance:
    record = Instance.from_dict(instance) if isinstance(instance, Mapping) else instance
    return EncodedInstance(encode_line(instance, run_id), classify(record.passed, record.error), record.duration_ms)


class RunWriter:
    """open → write_instance / write_step / write_assertion / write_batch → finalize.

    Usable as a context manager; leaving the block finalizes, as a cancelled
    turbulence run also writes its summary.
    """

    def __init__(
        self,
        runs_dir: Path | str,
        run_id: str | None = None,
        *,
        sut_name: str | None = None,
        scenario_ids: Iterable[str] = (),
        seed: int | None = None,
        config: Mapping[str, Any] | None = None,
        planned: int | None = None,
        turbulence_version: str | None = None,
        started_at: datetime | None = None,
    ) -> None:
        self.started_at = started_at or datetime.now(UTC)
        self.run_id = run_id or new_run_id(self.started_at)
        if not layout.is_safe_run_id(self.run_id):
            raise ValueError(f"not a usable run id: {self.run_id!r}")
        self.dir = Path(runs_dir) / self.run_id
        run_config = dict(config or {})
        if planned is not None:
            run_config["instances"] = planned
        self.manifest = Manifest(
            run_id=self.run_id,
            started_at=utc_iso(self.started_at),
            sut_name=sut_name,
            scenario_ids=list(scenario_ids),
            seed=seed,
            config=run_config,
            turbulence_version=turbulence_version,
        )
        self._lock = threading.Lock()
        self._files: dict[str, BinaryIO] = {}
        self._is_open = False
        self._opened_at = 0.0
        self._counts = {PASSED: 0, "failed": 0, ERROR: 0}
        self._durations: list[float] = []
        self._steps = 0
        self._assertions = 0
        self.summary: Summary | None = None

    # -- lifecycle -------------------------------------------------------------

    def open(self) -> RunWriter:
        """Create runs/<run_id>/ (it must not exist yet) with its manifest and empty line files."""
        self.dir.mkdir(parents=True, exist_ok=False)
        self._start()
        self._is_open = True
        self._opened_at = time.monotonic()
        return self

    def __enter__(self) -> RunWriter:
        return self if self._is_open else self.open()

    def __exit__(self, *exc: object) -> None:
        self.finalize()

    def finalize(self, *, completed_at: datetime | None = None, duration_ms: float | None = None) -> Summary:
        """Close the line files and write summary.json from what was written (once; later calls return it)."""
        with self._lock:
            if self.summary is not None:
                return self.summary
            if not self._is_open:
                raise RuntimeError("finalize() before open()")
            self._stop()
            if duration_ms is None:
                duration_ms = round((time.monotonic() - self._opened_at) * 1000.0, 3)
            self.summary = self._summary(completed_at or datetime.now(UTC), duration_ms)
        write_json_atomic(self.dir / layout.SUMMARY, self.summary.to_dict())
        return self.summary

    def _summary(self, completed_at: datetime, duration_ms: float) -> Summary:
        durations = sorted(self._durations)
        total = sum(self._counts.values())
        return Summary(
            completed_at=utc_iso(completed_at),
            total_instances=total,
            pass_count=self._counts[PASSED],
            fail_count=self._counts["failed"],
            error_count=self._counts[ERROR],
            pass_rate=pass_rate(self._counts[PASSED], total),
            duration_ms=duration_ms,
            p50_latency_ms=nearest_rank(durations, 50),
            p95_latency_ms=nearest_rank(durations, 95),
            p99_latency_ms=nearest_rank(durations, 99),
            extra={"run_id": self.run_id, "total_steps": self._steps, "total_assertions": self._assertions},
        )

    # -- lines -----------------------------------------------------------------

    def write_instance(self, instance: InstanceLike) -> None:
        self.write_batch(instances=(instance,))

    def write_step(self, step: StepLike) -> None:
        self.write_batch(steps=(step,))

    def write_assertion(self, assertion: AssertionLike) -> None:
        self.write_batch(assertions=(assertion,))

    def write_batch(
        self,
        *,
        instances: Iterable[InstanceLike] = (),
        steps: Iterable[StepLike] = (),
        assertions: Iterable[AssertionLike] = (),
    ) -> None:
        """Append many records, one write per file; steps and assertions land before instances.

        That order is what lets a reader see an instance's steps while it is
        still in flight, and never an instance whose steps are still missing.
        """
        self.write_encoded(
            instances=[encode_instance(i, self.run_id) for i in instances],
            steps=[encode_line(s, self.run_id) for s in steps],
            assertions=[encode_line(a) for a in assertions],
        )

    def write_encoded(
        self,
        *,
        instances: Sequence[EncodedInstance] = (),
        steps: Sequence[bytes] = (),
        assertions: Sequence[bytes] = (),
    ) -> None:
        """write_batch for lines encoded ahead of time (the simulator encodes as it plans, keeping only bytes)."""
        with self._lock:
            if self.summary is not None or not self._is_open:
                raise RuntimeError(f"run {self.run_id} is not open for writing")
            self._append(layout.STEPS, steps)
            self._append(layout.ASSERTIONS, assertions)
            self._append(layout.INSTANCES, [i.line for i in instances])
            self._steps += len(steps)
            self._assertions += len(assertions)
            for instance in instances:
                self._counts[instance.status] += 1
                if instance.duration_ms is not None:
                    self._durations.append(instance.duration_ms)

    # -- where the lines go (SqliteRunWriter puts them in the runner's database instead) ------------------

    def _start(self) -> None:
        """The manifest and the (empty) line files."""
        write_json_atomic(self.dir / layout.MANIFEST, self.manifest.to_dict())
        self._files = {name: open(self.dir / name, "ab") for name in layout.LINE_FILES}

    def _stop(self) -> None:
        for handle in self._files.values():
            handle.close()

    def _append(self, name: str, lines: Sequence[bytes]) -> None:
        if lines:
            handle = self._files[name]
            handle.write(b"".join(lines))
            handle.flush()
