"""Catalog queries: what the pages, the API and the hub ask, answered from indexed tables.

Methods are synchronous and thread-safe (a pooled connection per call); async
callers use `await asyncio.to_thread(...)`. Run-level numbers come from the
run's row (kept current by the tailer), so none of them scans a run's instances.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Generator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Engine, bindparam, func, select

from windtunnel_dash.artifacts import layout
from windtunnel_dash.artifacts.records import Assertion, Instance, Step
from windtunnel_dash.artifacts.spans import records_at
from windtunnel_dash.artifacts.status import (
    ERROR,
    FAILED,
    INSTANCE_STATUSES,
    PASSED,
    STATUS_RANK,
    pass_rate,
    run_status,
)

from ..timefmt import utc_iso
from .aggregate import scenarios_from_json
from .chart_values import ChartValues, bucket_function
from .database import make_engine
from .rows import (
    AssertionRow,
    InstanceDetail,
    InstanceRow,
    LatencyBucket,
    RunRow,
    Stats,
    StepDetail,
    StepEvent,
    TimelineBucket,
    up_to_bytes,
)
from .writes import ASSERTIONS, INSTANCES, RUNS, STEPS, key_of

RUN_SORTS = {
    "-started": (RUNS.c.start_key.desc(), RUNS.c.run_id.desc()),
    "started": (RUNS.c.start_key, RUNS.c.run_id),
    "-passRate": (RUNS.c.pass_rate.desc(), RUNS.c.run_id),
    "passRate": (RUNS.c.pass_rate, RUNS.c.run_id),
    "-duration": (RUNS.c.duration_ms.is_(None), RUNS.c.duration_ms.desc(), RUNS.c.run_id),
    "duration": (RUNS.c.duration_ms.is_(None), RUNS.c.duration_ms, RUNS.c.run_id),
}
_I = INSTANCES.c
INSTANCE_SORTS = {
    "seq": (_I.seq,),
    "-seq": (_I.seq.desc(),),
    "durationMs": (_I.dur_asc, _I.seq),
    "-durationMs": (_I.dur_desc, _I.seq),
    "status": (_I.status_rank, _I.seq),
}
INSTANCE_COLUMNS = (
    _I.seq, _I.instance_id, _I.correlation_id, _I.scenario_id, _I.passed, _I.duration_ms, _I.status, _I.error,
    _I.completed_at, _I.started_at,
)
_S = STEPS.c
STEP_EVENT_COLUMNS = (
    _S.step_seq, _S.instance_id, _S.correlation_id, _S.step_index, _S.step_name, _S.step_type, _S.ok, _S.latency_ms,
)
MAX_PAGE = 500
_UNBOUNDED = 2**62
# The hub's reads run after every commit for every reader: built once, bound per call.
_RUN_BY_ID = select(RUNS).where(RUNS.c.run_id == bindparam("run_id"))
_INSTANCES_AFTER = (
    select(*INSTANCE_COLUMNS)
    .where(_I.run_key == key_of(bindparam("run_id")), _I.seq > bindparam("after"), _I.seq <= bindparam("upto"))
    .order_by(_I.seq).limit(bindparam("limit"))
)
_STEPS_AFTER = (
    select(*STEP_EVENT_COLUMNS)
    .where(_S.run_key == key_of(bindparam("run_id")), _S.step_seq > bindparam("after"), _S.step_seq <= bindparam("upto"))
    .order_by(_S.step_seq).limit(bindparam("limit"))
)
_CACHE_SIZE = 64


@dataclass(frozen=True, slots=True)
class RunChanges:
    """A consistent read for a hub subscriber: the run now, and what came after its cursors."""

    run: RunRow
    head: int
    step_head: int
    generation: int
    complete: bool
    instances: list[InstanceRow]
    steps: list[StepEvent]


def instance_row(r: Any) -> InstanceRow:
    """The InstanceRow of anything naming the instances columns: a query's row, or an ingest_rows.InstanceLineRow
    the tailer just committed."""
    return InstanceRow(
        seq=r.seq, instance_id=r.instance_id, correlation_id=r.correlation_id, scenario_id=r.scenario_id,
        passed=r.passed, duration_ms=r.duration_ms, status=r.status, error=r.error,
        completed_at=r.completed_at, started_at=r.started_at,
    )


def _contains(column: Any, q: str) -> Any:
    return func.lower(column).contains(q.lower(), autoescape=True)


def _iso(ts: float) -> str:
    return utc_iso(datetime.fromtimestamp(ts, UTC), "auto")


class Catalog:
    def __init__(self, db_url: str, *, stall_timeout_s: float = 120.0, schema: bool = True) -> None:
        self.engine: Engine = make_engine(db_url, schema=schema)
        self.stall_timeout_s = stall_timeout_s
        self._cache: OrderedDict[tuple, Any] = OrderedDict()  # (query, run, generation, head, arg) → answer
        self._cache_lock = threading.Lock()
        self._chart_values = ChartValues(self.engine)

    # -- runs ----------------------------------------------------------------------------------------

    def _run_row(self, r: Any, now: float, *, detail: bool = False) -> RunRow:
        stalled = not r.complete and r.last_modified > 0 and now - r.last_modified > self.stall_timeout_s
        status = run_status(
            complete=r.complete, manifest_error=r.manifest_error is not None, stalled=stalled,
            failures=r.failed + r.errors,
        )
        return RunRow(
            run_id=r.run_id, sut_name=r.sut_name, scenario_ids=json.loads(r.scenario_ids),
            started_at=r.started_at, completed_at=r.completed_at, status=status, planned=r.planned,
            stats=self._stats(r), unreadable_lines=r.unreadable, duration_ms=r.duration_ms,
            status_reason=r.manifest_error, config=json.loads(r.config) if detail else {},
            scenarios=scenarios_from_json(r.scenarios) if detail else [],
        )

    def run_row_from_values(self, run_id: str, values: dict[str, Any]) -> RunRow:
        """The run as `get_run` would answer it, from the run-row values a tailer just committed."""
        return self._run_row(SimpleNamespace(run_id=run_id, **values), time.time(), detail=True)

    @staticmethod
    def _stats(r: Any) -> Stats:
        return Stats(
            total=r.total, passed=r.passed, failed=r.failed, errors=r.errors, pass_rate=r.pass_rate,
            planned=r.planned, p50_ms=r.p50_ms, p95_ms=r.p95_ms, p99_ms=r.p99_ms,
        )

    def _run_record(self, conn: Any, run_id: str) -> Any:
        return conn.execute(_RUN_BY_ID, {"run_id": run_id}).first()

    def list_runs(self, *, limit: int = 100, offset: int = 0, sort: str = "-started", q: str = "") -> tuple[list[RunRow], int]:
        order = RUN_SORTS.get(sort)
        if order is None:
            raise ValueError(f"unknown sort {sort!r}")
        where = []
        if q:
            where.append(_contains(RUNS.c.run_id, q) | _contains(func.coalesce(RUNS.c.sut_name, ""), q))
        now = time.time()
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(RUNS).where(*where).order_by(*order).limit(max(0, limit)).offset(max(0, offset))
            ).all()
            total = conn.execute(select(func.count()).select_from(RUNS).where(*where)).scalar_one()
        return [self._run_row(r, now) for r in rows], total

    def run_ids(self) -> set[str]:
        with self.engine.connect() as conn:
            return set(conn.execute(select(RUNS.c.run_id)).scalars())

    def get_run(self, run_id: str) -> RunRow | None:
        with self.engine.connect() as conn:
            r = self._run_record(conn, run_id)
        return self._run_row(r, time.time(), detail=True) if r else None

    def run_stats(self, run_id: str) -> Stats:
        with self.engine.connect() as conn:
            r = self._run_record(conn, run_id)
        return self._stats(r) if r else Stats()

    def status_counts(self, run_id: str, q: str = "") -> Stats:
        """Counts per status of the instances matching `q` (the filter bar's numbers)."""
        if not q:
            stats = self.run_stats(run_id)
            return Stats(stats.total, stats.passed, stats.failed, stats.errors, stats.pass_rate, stats.planned)
        with self.engine.connect() as conn:
            counts: dict[str, int] = dict(conn.execute(
                select(_I.status, func.count()).where(_I.run_key == key_of(run_id), self._q_filter(q)).group_by(_I.status)
            ).all())
        passed, failed, errors = counts.get(PASSED, 0), counts.get(FAILED, 0), counts.get(ERROR, 0)
        total = passed + failed + errors
        return Stats(total, passed, failed, errors, pass_rate(passed, total))

    # -- instances -----------------------------------------------------------------------------------

    @staticmethod
    def _q_filter(q: str) -> Any:
        return _contains(_I.instance_id, q) | _contains(func.coalesce(_I.correlation_id, ""), q)

    def _instance_view(self, run_id: str, status: str | None, sort: str, q: str) -> tuple[list[Any], tuple]:
        """The WHERE clauses and ORDER BY of a view of a run's instances (filter, search, sort)."""
        order = INSTANCE_SORTS.get(sort)
        if order is None:
            raise ValueError(f"unknown sort {sort!r}")
        if status is not None and status not in INSTANCE_STATUSES:
            raise ValueError(f"unknown status {status!r}")
        where = [_I.run_key == key_of(run_id)]
        if status:
            where.append(_I.status_rank == STATUS_RANK[status])  # ix_instances_rank
        if q:
            where.append(self._q_filter(q))
        return where, order

    def list_instances(
        self, run_id: str, *, status: str | None = None, sort: str = "-seq", page: int = 1, limit: int = 50, q: str = ""
    ) -> tuple[list[InstanceRow], int]:
        where, order = self._instance_view(run_id, status, sort, q)
        if page < 1:
            raise ValueError("page must be 1 or more")
        limit = max(0, min(limit, MAX_PAGE))
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*INSTANCE_COLUMNS).where(*where).order_by(*order).limit(limit).offset((page - 1) * limit)
            ).all()
            if q:
                total = conn.execute(select(func.count()).select_from(INSTANCES).where(*where)).scalar_one()
            else:
                r = self._run_record(conn, run_id)
                by_status: dict[str | None, int] = {} if r is None else {
                    None: r.total, PASSED: r.passed, FAILED: r.failed, ERROR: r.errors}
                total = by_status.get(status, 0)  # status was checked by _instance_view
        return [instance_row(r) for r in rows], total

    def iter_instances(
        self, run_id: str, *, status: str | None = None, sort: str = "-seq", q: str = "", chunk: int = 1000
    ) -> Generator[list[InstanceRow]]:
        """Every instance of a view, in its order, `chunk` rows at a time (exports).

        One statement on one connection, fetched as it is consumed: the rows are one
        consistent snapshot (lines landing meanwhile are not half in it), and a
        100,000-instance run is never held in memory whole.
        """
        where, order = self._instance_view(run_id, status, sort, q)
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=chunk).execute(
                select(*INSTANCE_COLUMNS).where(*where).order_by(*order)
            )
            for rows in result.partitions(chunk):
                yield [instance_row(r) for r in rows]

    def latest_failures(self, run_id: str, limit: int = 10) -> list[InstanceRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*INSTANCE_COLUMNS).where(_I.run_key == key_of(run_id), _I.status_rank.in_((STATUS_RANK[FAILED], STATUS_RANK[ERROR])))
                .order_by(_I.seq.desc()).limit(limit)
            ).all()
        return [instance_row(r) for r in rows]

    def get_instance(self, run_id: str, instance_id: str) -> InstanceDetail | None:
        with self.engine.connect() as conn:
            r = conn.execute(
                select(*INSTANCE_COLUMNS, _I.pos, _I.size).where(_I.run_key == key_of(run_id), _I.instance_id == instance_id)
                .order_by(_I.seq).limit(1)
            ).first()
            if r is None:
                return None
            run_path = Path(conn.execute(select(RUNS.c.path).where(RUNS.c.run_id == run_id)).scalar_one())
            step_rows = conn.execute(
                select(_S.step_index, _S.pos, _S.size).where(_S.run_key == key_of(run_id), _S.instance_id == instance_id)
                .order_by(_S.step_seq)
            ).all()
            assertion_rows = conn.execute(
                select(ASSERTIONS.c.pos, ASSERTIONS.c.size)
                .where(ASSERTIONS.c.run_key == key_of(run_id), ASSERTIONS.c.instance_id == instance_id)
                .order_by(ASSERTIONS.c.assertion_seq)
            ).all()
        by_step: dict[int | None, list[AssertionRow]] = {}
        for obj in records_at(run_path, layout.ASSERTIONS, assertion_rows):
            a = Assertion.from_dict(obj)
            by_step.setdefault(a.step_index, []).append(
                AssertionRow(a.assertion_name, a.passed, a.expected, a.actual, a.message)
            )
        steps = []
        for (step_index, _, _), obj in zip(step_rows, records_at(run_path, layout.STEPS, step_rows), strict=True):
            s = Step.from_dict(obj)
            steps.append(StepDetail(step_index, s.step_name, s.step_type, s.timestamp, s.observation,
                                    by_step.pop(step_index, [])))
        for step_index, orphans in by_step.items():  # assertions naming no step we have: still shown
            steps.append(StepDetail(-1 if step_index is None else step_index, None, None, None, {}, orphans))
        [entry] = records_at(run_path, layout.INSTANCES, [r])
        return InstanceDetail(instance=instance_row(r), entry_data=Instance.from_dict(entry).entry_data, steps=steps)

    # -- charts (cached per run head: a page polling them at 10/s costs one count per change) ------------
    # Each count reads only the rows committed since the last (chart_values.py), so a refresh costs the same
    # at 900k instances as at 1k.

    def _cached(self, key: tuple, compute: Any) -> Any:
        with self._cache_lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = compute()
        with self._cache_lock:
            self._cache[key] = value
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return value

    def _run_version(self, run_id: str) -> tuple[int, int] | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(RUNS.c.generation, RUNS.c.head).where(RUNS.c.run_id == run_id)).first()
        return None if r is None else (r.generation, r.head)

    def timeline(self, run_id: str, buckets: int = 60) -> list[TimelineBucket]:
        version = self._run_version(run_id)
        if version is None or buckets < 1:
            return []
        return self._cached(("timeline", run_id, *version, buckets), lambda: self._timeline(run_id, *version, buckets))

    def _timeline(self, run_id: str, generation: int, head: int, buckets: int) -> list[TimelineBucket]:
        with self._chart_values.values(run_id, generation, head) as values:
            by_status = values.completed
            found = [v for v in by_status.values() if v]
            if not found:
                return []
            low, high = min(v[0] for v in found), max(v[-1] for v in found)
            width = (high - low) / buckets or 1.0
            bucket_of = bucket_function(low, width)
            passed, failed, errors = (by_status[s].bucket_counts(bucket_of, buckets) for s in (PASSED, FAILED, ERROR))
        return [TimelineBucket(_iso(low + i * width), *cells) for i, cells in enumerate(zip(passed, failed, errors, strict=True))]

    def latency_histogram(self, run_id: str, buckets: int = 20) -> list[LatencyBucket]:
        version = self._run_version(run_id)
        if version is None or buckets < 1:
            return []
        return self._cached(("latency", run_id, *version, buckets), lambda: self._histogram(run_id, *version, buckets))

    def _histogram(self, run_id: str, generation: int, head: int, buckets: int) -> list[LatencyBucket]:
        with self._chart_values.values(run_id, generation, head) as values:
            durations = values.durations
            if not durations:
                return []
            low, high = durations[0], durations[-1]
            width = (high - low) / buckets or 1.0
            counts = durations.bucket_counts(bucket_function(low, width), buckets)
        return [LatencyBucket(low + i * width, low + (i + 1) * width, n) for i, n in enumerate(counts)]

    # -- the hub's read ------------------------------------------------------------------------------

    def changes_since(self, run_id: str, seq: int, step_seq: int | None, limit: int = 5000,
                      max_bytes: int = _UNBOUNDED) -> RunChanges | None:
        """The run and its instances after `seq` (and steps after `step_seq` unless None), up to its head.

        At most `limit` rows of each, and no more than reach `max_bytes` (rows.up_to_bytes): the rows
        are fetched one by one, so the ones past the budget are never read, nor their database pages.
        The run row is read first: its head and `complete` were committed together, so
        "complete and nothing left after the cursor" means the final drain was delivered.
        """
        instances: list[InstanceRow] = []
        steps: list[StepEvent] = []
        with self.engine.connect() as conn:
            r = self._run_record(conn, run_id)
            if r is None:
                return None
            if r.head > seq:
                with conn.execute(
                    _INSTANCES_AFTER, {"run_id": run_id, "after": seq, "upto": r.head, "limit": limit}
                ) as found:
                    instances = up_to_bytes(map(instance_row, found), max_bytes)
            if step_seq is not None and r.step_head > step_seq:
                with conn.execute(
                    _STEPS_AFTER, {"run_id": run_id, "after": step_seq, "upto": r.step_head, "limit": limit}
                ) as found:
                    steps = up_to_bytes((StepEvent(*s) for s in found), max_bytes)
        return RunChanges(
            run=self._run_row(r, time.time()), head=r.head, step_head=r.step_head, generation=r.generation,
            complete=r.complete, instances=instances, steps=steps,
        )
