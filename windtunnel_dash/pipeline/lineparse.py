"""A block of whole lines → the catalog fields of each readable line. Pure, so a worker process can run it.

Rows leave out what depends on the run's state (run id, seq, older-layout step
numbers): the tailer adds those in file order. Parsing is most of ingest's
cost, so on a big backlog the tailer hands blocks to worker processes while it
commits the previous block (DESIGN.md §4: ingest must keep up with runners).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from windtunnel_dash.artifacts import layout
from windtunnel_dash.artifacts.reader import is_blank, parse_line
from windtunnel_dash.artifacts.records import Assertion, Instance, as_bool, as_dict, as_int, as_num, as_renamed, as_str
from windtunnel_dash.artifacts.status import classify

from ..catalog.tables import STATUS_RANK

MISSING_LAST = 1e300  # sorts after every real duration in both directions (dur_asc / dur_desc)


@dataclass(slots=True)
class Parsed:
    rows: list[tuple]
    unreadable: int


def iso_epoch(value: str | None) -> float | None:
    """Epoch seconds of an ISO-8601 time (naive means UTC), None when it is not one."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def _objects(data: bytes, pos: int, unreadable: list[int]) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """(pos, size, object) of each readable line of `data`, which starts at byte `pos` of its file."""
    for raw in data.split(b"\n")[:-1]:
        size = len(raw)
        if not is_blank(raw):
            obj = parse_line(raw)
            if obj is None:
                unreadable[0] += 1
            else:
                yield pos, size, obj
        pos += size + 1


def instance_fields(data: bytes, pos: int) -> Parsed:
    """Rows: INSTANCE_FIELDS without run_id and seq (instance_id may be empty: the tailer numbers it)."""
    rows: list[tuple] = []
    unreadable = [0]
    for pos, size, obj in _objects(data, pos, unreadable):
        inst = Instance.from_dict(obj)
        status = classify(inst.passed, inst.error)
        duration = inst.duration_ms
        rows.append((
            inst.instance_id, inst.correlation_id, inst.scenario_id, inst.passed, status, STATUS_RANK[status],
            inst.error, duration, MISSING_LAST if duration is None else duration,
            MISSING_LAST if duration is None else -duration, inst.started_at, inst.completed_at,
            iso_epoch(inst.completed_at), pos, size,
        ))
    return Parsed(rows, unreadable[0])


def step_fields(data: bytes, pos: int) -> Parsed:
    """Rows: STEP_FIELDS without run_id and step_seq; step_index None in the older layout."""
    rows: list[tuple] = []
    unreadable = [0]
    for pos, size, obj in _objects(data, pos, unreadable):
        # records.Step's rules, field by field: a whole Step (its extra dict, timestamp, run id) is a third of ingest
        observation = as_dict(obj.get("observation"))
        rows.append((as_str(obj.get("instance_id")) or "", as_str(obj.get("correlation_id")), as_int(obj.get("step_index")),
                     as_renamed(obj, "step_name", "action_name"), as_renamed(obj, "step_type", "action_type"),
                     as_bool(observation.get("ok")), as_num(observation.get("latency_ms")), pos, size))
    return Parsed(rows, unreadable[0])


def assertion_fields(data: bytes, pos: int) -> Parsed:
    """Rows: ASSERTION_FIELDS without run_id and assertion_seq."""
    rows: list[tuple] = []
    unreadable = [0]
    for pos, size, obj in _objects(data, pos, unreadable):
        assertion = Assertion.from_dict(obj)
        rows.append((assertion.instance_id, assertion.step_index, pos, size))
    return Parsed(rows, unreadable[0])


PARSERS = {layout.INSTANCES: instance_fields, layout.STEPS: step_fields, layout.ASSERTIONS: assertion_fields}


def parse_block(name: str, data: bytes, pos: int) -> Parsed:
    """Entry point for worker processes (a module-level function pickles by name)."""
    return PARSERS[name](data, pos)
