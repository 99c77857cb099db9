"""The values a run's charts bucket, kept sorted and brought up to date by reading only the rows after them.

A chart's buckets are equal-width between the run's smallest and largest value, so every new extreme
moves every edge: counts kept per bucket would go stale, and re-counting with a scan of the whole run
cost each refresh ~1 ms per thousand instances (126 ms at 109k) and grew with the run. Here each run's
durations and completion times (per status) are held sorted (aggregate.SortedValues, 8 bytes a value);
a refresh reads the rows committed since the last one, by seq, and counts each bucket by bisection.
The counts equal a scan of the whole run's: the same doubles, each in the bucket whose lower edge is at or below it.

Bound: the values of the CHART_RUNS runs charted last (16 bytes an instance); another run's first
chart reads its rows once. A run rebuilt from its files (a new generation) starts over.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator

from sqlalchemy import Engine, bindparam, select

from windtunnel_dash.artifacts.status import INSTANCE_STATUSES

from .aggregate import SortedValues
from .writes import INSTANCES, key_of

CHART_RUNS = 4
_I = INSTANCES.c
_ROWS_AFTER = (
    select(_I.status, _I.duration_ms, _I.completed_ts)
    .where(_I.run_key == key_of(bindparam("run_id")), _I.seq > bindparam("after"), _I.seq <= bindparam("upto"))
)


class RunValues:
    """One run's chart values up to `head` of `generation`."""

    __slots__ = ("generation", "head", "durations", "completed")

    def __init__(self, generation: int) -> None:
        self.generation = generation
        self.head = 0
        self.durations = SortedValues()
        self.completed: dict[str, SortedValues] = {status: SortedValues() for status in INSTANCE_STATUSES}  # → completed_ts


def bucket_function(low: float, width: float) -> Callable[[float], int]:
    """A value's bucket: the one whose lower edge is at or below it (floor; values are never below `low`).
    Both databases count alike: the SQL this replaced cast to INTEGER, which Postgres rounds, so its
    charts put the upper half of every bucket in the next one."""
    return lambda value: int((value - low) / width)


class ChartValues:
    """Each charted run's values, for the CHART_RUNS runs charted last. Thread-safe: one reader at a time."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._runs: OrderedDict[str, RunValues] = OrderedDict()
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def values(self, run_id: str, generation: int, head: int) -> Iterator[RunValues]:
        """The run's values up to at least `head` (a generation's rows are only ever appended), held for the
        caller's count: no other thread adds to them meanwhile."""
        with self._lock:
            run = self._runs.get(run_id)
            if run is None or run.generation != generation:
                run = RunValues(generation)
            self._runs[run_id] = run
            self._runs.move_to_end(run_id)
            while len(self._runs) > CHART_RUNS:
                self._runs.popitem(last=False)
            if head > run.head:
                self._read(run_id, run, head)
            yield run

    def _read(self, run_id: str, run: RunValues, head: int) -> None:
        durations: list[float] = []
        completed: dict[str, list[float]] = {status: [] for status in run.completed}
        with self._engine.connect() as conn:
            for status, duration, completed_ts in conn.execute(
                    _ROWS_AFTER, {"run_id": run_id, "after": run.head, "upto": head}):
                if duration is not None:
                    durations.append(duration)
                if completed_ts is not None:
                    completed[status].append(completed_ts)
        run.durations.extend(durations)
        for status, values in completed.items():
            run.completed[status].extend(values)
        run.head = head
