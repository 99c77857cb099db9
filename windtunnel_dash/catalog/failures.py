"""Failure signatures of a run, tallied incrementally (docs/design.md §9 "new failure kinds").

Only failed and errored instances are looked at (ix_instances_rank), each
once: a tally per run keeps a cursor and moves it to the run's head when asked,
so a live comparison costs each update the failures that arrived since the
last one, and a complete baseline is tallied once. An errored instance's
signature is its error text; a failed one needs its failing HTTP steps (the
steps table marks them) and its assertions, whose lines are re-read from the
run's files for those instances only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, bindparam, false, select

from windtunnel_dash.analysis.signatures import (
    NOTHING_RECORDED,
    FailedAssertion,
    FailedStep,
    Signature,
    error_signature,
    failed_signature,
)
from windtunnel_dash.artifacts import layout
from windtunnel_dash.artifacts.records import Assertion, Step
from windtunnel_dash.artifacts.spans import read_spans
from windtunnel_dash.artifacts.status import ERROR, FAILED, STATUS_RANK

from .writes import ASSERTIONS, INSTANCES, STEPS, key_of

IN_CHUNK = 500  # instance ids per IN (...) query
RETRIES = 3  # looks at a failed instance with nothing recorded (yet: its step lines may trail its instance line)
_TALLIES_KEPT = 64
_I, _S, _A = INSTANCES.c, STEPS.c, ASSERTIONS.c
# Built once, bound per call (a live page runs them with every update).
_RUN_KEY = key_of(bindparam("run_id"))
_FAILURES = (
    select(_I.instance_id, _I.status, _I.error)
    .where(_I.run_key == _RUN_KEY, _I.status_rank.in_((STATUS_RANK[FAILED], STATUS_RANK[ERROR])),
           _I.seq > bindparam("after"), _I.seq <= bindparam("upto"))
    .order_by(_I.seq)
)
_FAILED_HTTP_STEPS = select(_S.instance_id, _S.step_index, _S.pos, _S.size).where(
    _S.run_key == _RUN_KEY, _S.instance_id.in_(bindparam("ids", expanding=True)), _S.ok == false(),
    _S.step_type == "http",
)
_ASSERTION_SPANS = (
    select(_A.instance_id, _A.pos, _A.size)
    .where(_A.run_key == _RUN_KEY, _A.instance_id.in_(bindparam("ids", expanding=True)))
    .order_by(_A.assertion_seq)
)


@dataclass(frozen=True, slots=True)
class RunPosition:
    """Where a run's rows stand in the catalog: what a tally catches up to."""

    run_id: str
    path: Path
    generation: int
    head: int
    step_head: int
    assertion_head: int
    complete: bool


@dataclass(frozen=True, slots=True)
class Kind:
    signature: Signature
    count: int
    example_instance_id: str


@dataclass
class _Pending:
    instance_id: str
    attempts: int = 0


@dataclass
class SignatureTally:
    """Counts per signature of one run (one generation of its rows), up to `cursor`."""

    generation: int
    cursor: int = 0
    kinds: dict[Signature, list] = field(default_factory=dict)  # signature → [count, example instance id]
    pending: dict[str, _Pending] = field(default_factory=dict)  # failed, nothing recorded for it yet
    heads_seen: tuple[int, int] = (0, 0)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(self) -> list[Kind]:
        """Every kind so far (a failure still waiting for its lines is not counted yet)."""
        return [Kind(sig, count, example) for sig, (count, example) in self.kinds.items()]

    def _count(self, sig: Signature, instance_id: str) -> None:
        entry = self.kinds.get(sig)
        if entry is None:
            self.kinds[sig] = [1, instance_id]
        else:
            entry[0] += 1

    def catch_up(self, engine: Engine, at: RunPosition) -> None:
        """Tally the failures in (cursor, head]; look again at pending ones whenever the run moved on
        (RETRIES looks at most, or until the run is complete, then they count as NOTHING_RECORDED)."""
        heads = (at.step_head, at.assertion_head)
        if at.head <= self.cursor and heads == self.heads_seen and not (at.complete and self.pending):
            return
        look = list(self.pending.values())
        if at.head > self.cursor:
            for instance_id, status, error in _failures(engine, at.run_id, self.cursor, at.head):
                if status == ERROR:
                    self._count(error_signature(error or ""), instance_id)
                else:
                    look.append(_Pending(instance_id))
            self.cursor = at.head
        self.heads_seen = heads
        found = _failed_signatures(engine, at, [p.instance_id for p in look]) if look else {}
        for p in look:
            sig = found.get(p.instance_id)
            p.attempts += 1
            if sig is None and not at.complete and p.attempts < RETRIES:
                self.pending[p.instance_id] = p
                continue
            self.pending.pop(p.instance_id, None)
            self._count(sig or NOTHING_RECORDED, p.instance_id)


def _failures(engine: Engine, run_id: str, after: int, upto: int) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(_FAILURES, {"run_id": run_id, "after": after, "upto": upto})]


def _failed_signatures(engine: Engine, at: RunPosition, instance_ids: list[str]) -> dict[str, Signature]:
    """The signature of each failed instance that has a failing HTTP step or assertion recorded."""
    steps: dict[str, list[FailedStep]] = {}
    assertions: dict[str, list[FailedAssertion]] = {}
    for i in range(0, len(instance_ids), IN_CHUNK):
        ids = instance_ids[i:i + IN_CHUNK]
        params = {"run_id": at.run_id, "ids": ids}
        with engine.connect() as conn:
            step_spans = conn.execute(_FAILED_HTTP_STEPS, params).all()
            assertion_spans = conn.execute(_ASSERTION_SPANS, params).all()
        for step_span, obj in zip(step_spans, read_spans(at.path / layout.STEPS, step_spans), strict=True):
            code = Step.from_dict(obj).observation.get("status_code")
            code = code if isinstance(code, int) and not isinstance(code, bool) else None
            steps.setdefault(step_span.instance_id, []).append(FailedStep(step_span.step_index, code))
        for span, obj in zip(assertion_spans, read_spans(at.path / layout.ASSERTIONS, assertion_spans), strict=True):
            a = Assertion.from_dict(obj)
            if a.passed is False:
                assertions.setdefault(span.instance_id, []).append(FailedAssertion(a.step_index, a.assertion_name))
    found = {}
    for instance_id in set(steps) | set(assertions):
        sig = failed_signature(steps.get(instance_id, ()), assertions.get(instance_id, ()))
        if sig is not None:
            found[instance_id] = sig
    return found


class Tallies:
    """The process's tallies, one per run (most recently used kept), shared by every page and request."""

    def __init__(self, kept: int = _TALLIES_KEPT) -> None:
        self._kept = kept
        self._tallies: OrderedDict[str, SignatureTally] = OrderedDict()
        self._lock = threading.Lock()

    def kinds(self, engine: Engine, at: RunPosition) -> list[Kind]:
        """The run's failure kinds up to its head (thread-safe; one catch-up at a time per run)."""
        with self._lock:
            tally = self._tallies.get(at.run_id)
            if tally is None or tally.generation != at.generation:  # new, or its rows were rebuilt
                tally = self._tallies[at.run_id] = SignatureTally(at.generation)
            self._tallies.move_to_end(at.run_id)
            while len(self._tallies) > self._kept:
                self._tallies.popitem(last=False)
        with tally.lock:
            tally.catch_up(engine, at)
            return tally.snapshot()


TALLIES = Tallies()
