"""lineparse's typed fast decode gives exactly the rows the tolerant records give, whatever the line holds."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from windtunnel_dash.artifacts.reader import parse_line
from windtunnel_dash.artifacts.records import Assertion, Instance, Step
from windtunnel_dash.pipeline.lineparse import assertion_fields, instance_fields, step_fields

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
    got = [(r[2], r[3], r[4], r[5], r[8], r[9], r[12], r[13], r[15], r[16]) for r in parsed.rows]
    want = [(i.instance_id, i.correlation_id, i.scenario_id, i.passed, i.error, i.duration_ms, i.started_at,
             i.completed_at, pos, size) for pos, size, i in records(data, Instance.from_dict)]
    assert (got, parsed.unreadable) == (want, 0)


@settings(max_examples=300, deadline=None)
@given(st.lists(objects(STEP), min_size=1, max_size=5))
def test_step_rows_equal_the_records(objs):
    data = block(objs)
    parsed = step_fields(data, 0, KEY)
    want = [(KEY, pos + 1, s.instance_id, s.correlation_id, s.step_index, s.step_name, s.step_type, s.ok,
             s.latency_ms, pos, size) for pos, size, s in records(data, Step.from_dict)]
    assert (parsed.rows, parsed.unreadable) == (want, 0)


@settings(max_examples=100, deadline=None)
@given(st.lists(objects(ASSERTION), min_size=1, max_size=5))
def test_assertion_rows_equal_the_records(objs):
    data = block(objs)
    parsed = assertion_fields(data, 0, KEY)
    want = [(KEY, pos + 1, a.instance_id, a.step_index, pos, size) for pos, size, a in records(data, Assertion.from_dict)]
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
    assert [(r[2], r[4], r[5], r[8]) for r in parsed.rows] == [("b", None, None, None), ("c", None, None, None),
                                                               ("f", 2, "older", None)]
