"""A run against its baseline (docs/design.md §9): which baseline, the deltas, the new failure kinds.

Both runs' figures come from their run rows (the tailer's running aggregates:
counts, and latency percentiles with their intervals, overall and per
scenario), so an update reads two rows, never a run's instances. Failure kinds
come from the incremental tallies in failures.py: a complete baseline is
tallied once, the running run only for what arrived since the last update.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine, bindparam, select

from windtunnel_dash.analysis.intervals import Estimate, Verdict, difference, verdict, wilson
from windtunnel_dash.artifacts.layout import is_safe_run_id

from .aggregate import Figures, figures_from_json
from .failures import TALLIES, Kind, RunPosition
from .writes import RUNS

NONE = "none"  # ?baseline=none: comparison turned off
OPTIONS_SHOWN = 30  # runs offered by the "Compare with" selector
_CANDIDATES_SCANNED = 200  # same-SUT complete runs looked at for the default (newest first)
KINDS_SHOWN = 20
Choice = Literal["default", "chosen", "none"]

_R = RUNS.c
# Built once, bound per call: a live page runs these with every update, and building a statement
# costs more than SQLite answering it.
_FIGURES = select(
    _R.run_id, _R.path, _R.sut_name, _R.scenario_ids, _R.start_key, _R.started_at, _R.complete, _R.generation,
    _R.head, _R.step_head, _R.assertion_head, _R.total, _R.passed, _R.errors, _R.scenarios,
).where(_R.run_id == bindparam("run_id"))
_CANDIDATES = (
    select(_R.run_id, _R.scenario_ids)
    .where(_R.complete.is_(True), _R.sut_name == bindparam("sut"), _R.start_key < bindparam("start_key"),
           _R.run_id != bindparam("run_id"))
    .order_by(_R.start_key.desc(), _R.run_id.desc()).limit(_CANDIDATES_SCANNED)
)
_OPTIONS = (
    select(_R.run_id, _R.started_at, _R.sut_name, _R.complete).where(_R.run_id != bindparam("run_id"))
    .order_by(_R.start_key.desc(), _R.run_id.desc()).limit(bindparam("limit"))
)


@dataclass(frozen=True, slots=True)
class RunFigures:
    """One run as a comparison sees it: identity, position, counts and latency figures."""

    position: RunPosition
    sut_name: str | None
    scenario_ids: tuple[str, ...]  # sorted: the scenario *set*
    start_key: str
    started_at: str | None
    total: int
    passed: int
    errors: int
    figures: Figures

    @property
    def run_id(self) -> str:
        return self.position.run_id


def read_figures(engine: Engine, run_id: str) -> RunFigures | None:
    """The run's row (one primary-key read), or None when the catalog does not hold it."""
    with engine.connect() as conn:
        r = conn.execute(_FIGURES, {"run_id": run_id}).first()
    if r is None:
        return None
    return RunFigures(
        position=RunPosition(r.run_id, Path(r.path), r.generation, r.head, r.step_head, r.assertion_head,
                             bool(r.complete)),
        sut_name=r.sut_name, scenario_ids=tuple(sorted(json.loads(r.scenario_ids))), start_key=r.start_key,
        started_at=r.started_at, total=r.total, passed=r.passed, errors=r.errors,
        figures=figures_from_json(r.scenarios),
    )


def default_baseline(engine: Engine, run: RunFigures) -> str | None:
    """The most recent complete run with the same SUT and scenario set that started before `run`."""
    if run.sut_name is None:
        return None
    with engine.connect() as conn:
        candidates = conn.execute(
            _CANDIDATES, {"sut": run.sut_name, "start_key": run.start_key, "run_id": run.run_id}).all()
    for run_id, scenario_ids in candidates:
        if tuple(sorted(json.loads(scenario_ids))) == run.scenario_ids:
            return run_id
    return None


@dataclass(frozen=True, slots=True)
class BaselineOption:
    run_id: str
    started_at: str | None
    sut_name: str | None
    complete: bool


def baseline_options(engine: Engine, run_id: str, limit: int = OPTIONS_SHOWN) -> list[BaselineOption]:
    """The newest runs other than `run_id`: what the selector offers besides the default and none."""
    with engine.connect() as conn:
        rows = conn.execute(_OPTIONS, {"run_id": run_id, "limit": limit}).all()
    return [BaselineOption(r.run_id, r.started_at, r.sut_name, bool(r.complete)) for r in rows]


# -- deltas --------------------------------------------------------------------------------------------


def _r(x: float | None, digits: int) -> float | None:
    return None if x is None else round(x, digits)


@dataclass(frozen=True, slots=True)
class Delta:
    """This run's figure, the baseline's, their difference with its 95% interval, and the verdict."""

    run: float | None
    baseline: float | None
    delta: Estimate
    verdict: Verdict

    def to_api(self, digits: int) -> dict[str, Any]:
        d = self.delta
        return {"run": _r(self.run, digits), "baseline": _r(self.baseline, digits), "delta": _r(d.value, digits),
                "low": _r(d.low, digits), "high": _r(d.high, digits), "verdict": self.verdict}


def _scaled(e: Estimate, k: float) -> Estimate:
    return Estimate(*(None if x is None else x * k for x in (e.value, e.low, e.high)))


def _proportion_delta(a: tuple[int, int], b: tuple[int, int], *, higher_is_better: bool) -> Delta:
    """Proportions as percentages, their difference in points (Wilson per run, Newcombe for the difference)."""
    ea, eb = wilson(*a), wilson(*b)
    d = _scaled(difference(ea, eb), 100.0)
    return Delta(_scaled(ea, 100.0).value, _scaled(eb, 100.0).value, d, verdict(d, higher_is_better=higher_is_better))


def _latency_delta(a: Estimate, b: Estimate) -> Delta:
    d = difference(a, b)
    return Delta(a.value, b.value, d, verdict(d, higher_is_better=False))


@dataclass(frozen=True, slots=True)
class Counts:
    total: int
    passed: int
    errors: int


@dataclass(frozen=True, slots=True)
class RowDelta:
    """One row of the comparison (the run overall, or one scenario); its verdict is the pass rate's (§9)."""

    scenario_id: str | None
    run_total: int
    baseline_total: int
    pass_rate: Delta
    error_rate: Delta
    p50: Delta
    p95: Delta

    @property
    def verdict(self) -> Verdict:
        return self.pass_rate.verdict

    def to_api(self) -> dict[str, Any]:
        return {
            "scenarioId": self.scenario_id, "verdict": self.verdict, "runTotal": self.run_total,
            "baselineTotal": self.baseline_total, "passRate": self.pass_rate.to_api(3),
            "errorRate": self.error_rate.to_api(3), "p50Ms": self.p50.to_api(3), "p95Ms": self.p95.to_api(3),
        }


_NO_LATENCY = Estimate(None, None, None)


def row_delta(scenario_id: str | None, a: Counts, b: Counts, a_lat: tuple[Estimate, Estimate],
              b_lat: tuple[Estimate, Estimate]) -> RowDelta:
    return RowDelta(
        scenario_id, a.total, b.total,
        _proportion_delta((a.passed, a.total), (b.passed, b.total), higher_is_better=True),
        _proportion_delta((a.errors, a.total), (b.errors, b.total), higher_is_better=False),
        _latency_delta(a_lat[0], b_lat[0]), _latency_delta(a_lat[1], b_lat[1]),
    )


def _scenario_rows(run: RunFigures, base: RunFigures) -> list[RowDelta]:
    """One row per scenario of either run (a scenario only one side has compares with nothing: n = 0)."""
    ours = {s.counts.scenario_id: s for s in run.figures.scenarios}
    theirs = {s.counts.scenario_id: s for s in base.figures.scenarios}
    rows = []
    for sid in sorted(set(ours) | set(theirs)):
        a, b = ours.get(sid), theirs.get(sid)
        rows.append(row_delta(
            sid,
            Counts(a.counts.total, a.counts.passed, a.counts.errors) if a else Counts(0, 0, 0),
            Counts(b.counts.total, b.counts.passed, b.counts.errors) if b else Counts(0, 0, 0),
            (a.p50, a.p95) if a else (_NO_LATENCY, _NO_LATENCY),
            (b.p50, b.p95) if b else (_NO_LATENCY, _NO_LATENCY),
        ))
    return rows


def new_kinds(run: list[Kind], base: list[Kind]) -> list[Kind]:
    """Signatures this run has and the baseline does not, most frequent first."""
    known = {k.signature for k in base}
    return sorted((k for k in run if k.signature not in known), key=lambda k: (-k.count, k.signature))


@dataclass(frozen=True, slots=True)
class Comparison:
    run_id: str
    choice: Choice
    baseline: RunFigures | None  # None: turned off, or no suitable run
    overall: RowDelta | None = None
    scenarios: tuple[RowDelta, ...] = ()
    new_failure_kinds: tuple[Kind, ...] = ()
    new_failure_count: int = 0  # instances with a new kind, all of them (the list is cut at KINDS_SHOWN)

    @property
    def reason(self) -> str | None:
        """Why there is nothing to compare with, in words for the page and the API."""
        if self.baseline is not None:
            return None
        if self.choice == "none":
            return "Comparison is turned off."
        return "No complete run with the same SUT and scenarios started before this one."

    def to_api(self) -> dict[str, Any]:
        base = self.baseline
        return {
            "runId": self.run_id,
            "choice": self.choice,
            "baseline": None if base is None else {
                "runId": base.run_id, "sutName": base.sut_name, "startedAt": base.started_at,
                "complete": base.position.complete,
            },
            "reason": self.reason,
            "overall": None if self.overall is None else self.overall.to_api(),
            "scenarios": [s.to_api() for s in self.scenarios],
            "newFailureKinds": [
                {"kind": k.signature.kind, "signature": k.signature.text, "label": k.signature.label,
                 "count": k.count, "exampleInstanceId": k.example_instance_id}
                for k in self.new_failure_kinds
            ],
            "newFailureCount": self.new_failure_count,
        }


class UnknownBaseline(LookupError):
    """The baseline the request names is not a run."""


def compare(engine: Engine, run: RunFigures, baseline: str | None) -> Comparison:
    """`run` against `baseline` (a run id; None: the default; NONE: off). Raises UnknownBaseline."""
    if baseline == NONE:
        return Comparison(run.run_id, "none", None)
    choice: Choice = "default" if baseline is None else "chosen"
    if baseline is None:
        baseline = default_baseline(engine, run)
        if baseline is None:
            return Comparison(run.run_id, choice, None)
    base = read_figures(engine, baseline) if is_safe_run_id(baseline) else None
    if base is None:
        raise UnknownBaseline(baseline)
    return compare_figures(engine, run, base, choice)


def compare_figures(engine: Engine, run: RunFigures, base: RunFigures, choice: Choice) -> Comparison:
    ours, theirs = run.figures, base.figures
    overall = row_delta(None, Counts(run.total, run.passed, run.errors), Counts(base.total, base.passed, base.errors),
                        (ours.p50, ours.p95), (theirs.p50, theirs.p95))
    fresh = new_kinds(TALLIES.kinds(engine, run.position), TALLIES.kinds(engine, base.position))
    return Comparison(
        run.run_id, choice, base, overall, tuple(_scenario_rows(run, base)),
        tuple(fresh[:KINDS_SHOWN]), sum(k.count for k in fresh),
    )


# -- the run list's column --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListDelta:
    """A listed run's pass-rate delta against its default baseline."""

    baseline_id: str
    pass_rate: Delta


def list_deltas(engine: Engine, run_ids: list[str]) -> dict[str, ListDelta]:
    """Each run's pass-rate delta against its default baseline (runs without one are left out).

    One query for every run of the listed runs' SUTs, newest first, so a page of 100 runs costs
    one read, not 100 baseline look-ups.
    """
    if not run_ids:
        return {}
    listed = set(run_ids)
    with engine.connect() as conn:
        suts = select(_R.sut_name).where(_R.run_id.in_(run_ids), _R.sut_name.is_not(None)).distinct()
        rows = conn.execute(
            select(_R.run_id, _R.sut_name, _R.scenario_ids, _R.start_key, _R.complete, _R.passed, _R.total)
            .where(_R.sut_name.in_(suts)).order_by(_R.start_key.desc(), _R.run_id.desc())
        ).all()
    groups: dict[tuple, list] = {}  # (sut, scenario set) → its runs, newest first
    for r in rows:
        groups.setdefault((r.sut_name, tuple(sorted(json.loads(r.scenario_ids)))), []).append(r)
    out = {}
    for runs in groups.values():
        for i, r in enumerate(runs):
            if r.run_id not in listed:
                continue
            base = next((b for b in runs[i + 1:] if b.complete and b.start_key < r.start_key), None)
            if base is not None:
                out[r.run_id] = ListDelta(base.run_id, _proportion_delta(
                    (r.passed, r.total), (base.passed, base.total), higher_is_better=True))
    return out
