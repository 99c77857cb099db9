"""lineparse's typed fast decode gives exactly the rows the tolerant records give, whatever the line holds.

The oracle builds each row by field name (ingest_rows), so the parser's positional builders are tied
to the named contract the tailer, writer and store read rows by.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from windtunnel_dash.artifacts.ingest_rows import AssertionLineRow, InstanceLineRow, StepLineRow
from windtunnel_dash.artifacts.reader import parse_line
from windtunnel_dash.artifacts.records import Assertion, Instance, Step
from windtunnel_dash.artifacts.status import STATUS_RANK, classify
from windtunnel_dash.pipeline.lineparse import MISSING_LAST, assertion_fields, instance_fields, iso_epoch, step_fields

# Each key mostly gets a value of its usual type (the fast decode's case), often any JSON value
# (numbers as ids, integral floats as step numbers, objects where text is expected: the records' case).
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([2.0, "", "x", "inst_1", "é"]),
)
anything = st.one_of(scalars, st.lists(scalars, max_size=2), st.dictionaries(st.sampled_from(["ok", "a"]), scalars, max_size=2))
text = st.none() | st.sampled_from(["", "x", "inst_1", "é"])
number = st.none() | st.integers(-5, 5) | st.floats(allow_nan=False, allow_infinity=False)
flag = st.none() | st.booleans()


def objects(usual: dict[str, st.SearchStrategy]) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({}, optional={key: st.one_of(value, value, anything) for key, value in usual.items()})


INSTANCE = {"instance_id": text, "correlation_id": text, "scenario_id": text, "started_at": text,
            "completed_at": text, "duration_ms": number, "passed": flag, "error": text, "entry_data": anything,
            "other": anything}
OBSERVATION = {"ok": flag, "latency_ms": number, "body": anything}
STEP = {"instance_id": text, "correlation_id": text, "step_index": number, "step_name": text, "step_type": text,
        "action_name": text, "action_type": text, "observation": objects(OBSERVATION), "other": anything}
ASSERTION = {"instance_id": text, "step_index": number, "other": anything}
KEY = 7


def block(objs: list[dict]) -> bytes:
    return b"".join(json.dumps(o).encode() + b"\n" for o in objs)


def records(data: bytes, from_dict) -> list[tuple[int, int, object]]:
    """The oracle: (pos, size, record) of each line, read the exact way."""
    out, pos = [], 0
    for raw in data.split(b"\n")[:-1]:
        out.append((pos, len(raw), from_dict(parse_line(raw))))
        pos += len(raw) + 1
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(objects(INSTANCE), min_size=1, max_size=5))
def test_instance_rows_equal_the_records(objs):
    data = block(objs)
    parsed = instance_fields(data, 0, KEY)
    want = []
    for pos, size, i in records(data, Instance.from_dict):
        status, missing = classify(i.passed, i.error), i.duration_ms is None
        want.append(InstanceLineRow(
            run_key=KEY, seq=0, instance_id=i.instance_id, correlation_id=i.correlation_id, scenario_id=i.scenario_id,
            passed=i.passed, status=status, status_rank=STATUS_RANK[status], error=i.error, duration_ms=i.duration_ms,
            dur_asc=MISSING_LAST if missing else i.duration_ms, dur_desc=MISSING_LAST if missing else -i.duration_ms,
            started_at=i.started_at, completed_at=i.completed_at, completed_ts=iso_epoch(i.completed_at), pos=pos,
            size=size,
        ))
    assert (parsed.rows, parsed.unreadable) == (want, 0)


@settings(max_examples=300, deadline=None)
@given(st.lists(objects(STEP), min_size=1, max_size=5))
def test_step_rows_equal_the_records(objs):
    data = block(objs)
    parsed = step_fields(data, 0, KEY)
    steps = records(data, Step.from_dict)
    want = [StepLineRow(run_key=KEY, step_seq=pos + 1, instance_id=s.instance_id, correlation_id=s.correlation_id,
                        step_index=s.step_index, step_name=s.step_name, step_type=s.step_type, ok=s.ok,
                        latency_ms=s.latency_ms, pos=pos, size=size) for pos, size, s in steps]
    unnumbered = any(s.step_index is None for _, _, s in steps)
    assert (parsed.rows, parsed.unreadable, parsed.unnumbered) == (want, 0, unnumbered)


@settings(max_examples=100, deadline=None)
@given(st.lists(objects(ASSERTION), min_size=1, max_size=5))
def test_assertion_rows_equal_the_records(objs):
    data = block(objs)
    parsed = assertion_fields(data, 0, KEY)
    want = [AssertionLineRow(run_key=KEY, assertion_seq=pos + 1, instance_id=a.instance_id, step_index=a.step_index,
                             pos=pos, size=size) for pos, size, a in records(data, Assertion.from_dict)]
    assert (parsed.rows, parsed.unreadable) == (want, 0)


def test_lines_the_fast_decode_refuses_are_decided_by_the_reader():
    lines = [
        b'{"instance_id": "a", "body": "\xff"}',  # not UTF-8 in a value the fast decode would skip
        b'{"instance_id": "b", "observation": {"latency_ms": NaN}}',  # json accepts NaN; as_num drops it
        b'{"instance_id": "c", "observation": {"latency_ms": 1e400}}',  # out of a double's range
        b'["d"]',  # not an object
        b"   ",  # blank: neither a row nor unreadable
        b'{"instance_id": "e", "step_index": 1} trailing',
        b'{"instance_id": "f", "step_index": 2.0, "action_name": "older"}',
    ]
    parsed = step_fields(b"\n".join(lines) + b"\n", 0, KEY)
    assert parsed.unreadable == 3
    rows = [StepLineRow._make(r) for r in parsed.rows]
    assert [(r.instance_id, r.step_index, r.step_name, r.latency_ms) for r in rows] == [
        ("b", None, None, None), ("c", None, None, None), ("f", 2, "older", None)]
