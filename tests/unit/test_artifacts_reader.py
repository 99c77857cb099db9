"""The reader: both fixture layouts, tolerance of bad lines and unknown keys, clear manifest errors."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.run_files import read_run
from windtunnel_dash.artifacts import layout
from windtunnel_dash.artifacts.reader import ManifestError, is_blank, parse_line, read_manifest
from windtunnel_dash.artifacts.records import Assertion, Instance, Manifest, Step, Summary
from windtunnel_dash.artifacts.status import classify

RUNS = Path(__file__).resolve().parents[1] / "fixtures" / "runs"
LEGACY = RUNS / "run_20240122_001"
REAL = RUNS / "run_20261126_151613"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def status_counts(run) -> Counter:
    return Counter(classify(i.passed, i.error) for i in run.instances)


def test_legacy_run_loads_with_readme_counts():
    run = read_run(LEGACY)
    assert run.run_id == "run_20240122_001"  # from the directory name: the manifest has none
    assert run.manifest is not None and run.manifest_error is None
    assert run.manifest.scenario_ids == ["complete-checkout", "abandon-cart"]
    assert run.manifest.started_at == "2024-01-22T10:00:00Z"
    assert run.manifest.sut_name == "checkout-service-prod"
    assert run.summary is None and run.complete  # complete through the manifest's completed_at
    assert len(run.instances) == 4
    assert status_counts(run) == {"passed": 1, "error": 3}


def test_legacy_steps_take_names_types_and_order():
    run = read_run(LEGACY)
    by_instance = [(s.instance_id, s.step_index, s.step_name, s.step_type) for s in run.steps]
    assert by_instance == [
        ("inst_002", 0, "get_checkout_page", "http"),
        ("inst_002", 1, "submit_payment", "http"),
        ("inst_003", 0, "get_cart", "http"),
    ]
    assert run.steps[1].observation["status_code"] == 503


def test_real_run_loads_with_readme_counts():
    run = read_run(REAL)
    assert run.manifest.run_id == "run_20261126_151613" and run.manifest.seed == 3
    assert run.manifest.scenario_ids == ["checkout-flow"]
    assert len(run.instances) == 200
    assert status_counts(run) == {"passed": 168, "failed": 23, "error": 9}
    assert (len(run.steps), len(run.assertions)) == (782, 391)
    assert run.unreadable == {layout.INSTANCES: 0, layout.STEPS: 0, layout.ASSERTIONS: 0}
    # The turbulence summary counts errors inside fail_count; our counts come from the lines.
    assert run.complete and run.summary.fail_count == 32 and run.summary.error_count == 9
    assert {s.step_type for s in run.steps} == {"http", "assert", "wait"}


@pytest.mark.parametrize("raw", [b"", b"   ", b"\t\r", b" \n"])
def test_blank_lines_are_blank(raw):
    assert is_blank(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff\xfe{}",  # not UTF-8
        b'{"instance_id": "caf\xe9"}',  # Latin-1 inside a JSON object
        b'{"instance_id": "a"',  # half a line
        b"not json at all",
        b"[1, 2, 3]",
        b'"a string"',
        b"42",
        b"null",
        b"[" * 100_000 + b"]" * 100_000,  # too deep for the parser
    ],
)
def test_unreadable_lines_are_none(raw):
    assert not is_blank(raw)
    assert parse_line(raw) is None


def test_parse_line_reads_objects_with_unknown_keys():
    raw = b'{"instance_id": "i1", "passed": true, "shiny_new_key": {"x": [1]}}\r'
    assert parse_line(raw) == {"instance_id": "i1", "passed": True, "shiny_new_key": {"x": [1]}}
    assert Instance.from_dict(parse_line(raw)).extra == {"shiny_new_key": {"x": [1]}}


@given(st.dictionaries(st.text(max_size=12), json_values, max_size=12))
def test_records_never_fail_on_any_object(data):
    """Wrong types and unknown keys are tolerated by every record type."""
    Manifest.from_dict(data, "run_x")
    Instance.from_dict(data)
    Step.from_dict(data)
    Assertion.from_dict(data)
    Summary.from_dict(data)


@given(st.sampled_from(["instance_id", "passed", "error", "duration_ms", "step_index", "observation"]), json_values)
def test_wrong_typed_known_fields_are_tolerated(key, value):
    instance = Instance.from_dict({"instance_id": "i", key: value})
    assert classify(instance.passed, instance.error) in ("passed", "failed", "error")
    Step.from_dict({"instance_id": "i", key: value})


def copy_run(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / src.name
    shutil.copytree(src, dst)
    return dst


def test_corrupt_and_non_utf8_lines_are_counted_per_file(tmp_path):
    run_dir = copy_run(LEGACY, tmp_path)
    with open(run_dir / layout.INSTANCES, "ab") as f:
        f.write(b"\n   \n")  # blank: ignored, not counted
        f.write(b"{broken json\n")
        f.write(b"\xc3\x28 not utf-8\n")
        f.write(b'["an", "array"]\n')
        f.write(b'{"instance_id": "inst_005", "passed": true, "future_field": 1}\n')
        f.write(b'{"instance_id": "inst_006", "passed": tr')  # no newline yet: not a line
    with open(run_dir / layout.STEPS, "ab") as f:
        f.write(b"\x00\x01\x02\n")
    run = read_run(run_dir)
    assert [i.instance_id for i in run.instances][-1] == "inst_005"
    assert len(run.instances) == 5
    assert run.unreadable == {layout.INSTANCES: 3, layout.STEPS: 1, layout.ASSERTIONS: 0}
    assert len(run.steps) == 3


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "not an object"),
        (b"\xff\xff", "not valid UTF-8"),
        (b"", "not valid JSON"),
    ],
)
def test_malformed_manifest_is_a_clear_error_and_the_run_still_reads(tmp_path, content, reason):
    run_dir = copy_run(LEGACY, tmp_path)
    (run_dir / layout.MANIFEST).write_bytes(content)
    with pytest.raises(ManifestError, match=reason):
        read_manifest(run_dir)
    run = read_run(run_dir)
    assert run.manifest is None and reason in run.manifest_error
    assert len(run.instances) == 4 and not run.complete


def test_missing_manifest_is_not_an_error(tmp_path):
    run_dir = copy_run(LEGACY, tmp_path)
    (run_dir / layout.MANIFEST).unlink()
    with pytest.raises(FileNotFoundError):
        read_manifest(run_dir)
    run = read_run(run_dir)
    assert run.manifest is None and run.manifest_error is None and len(run.instances) == 4


def test_unreadable_summary_is_ignored(tmp_path):
    run_dir = copy_run(REAL, tmp_path)
    (run_dir / layout.SUMMARY).write_text("{half", encoding="utf-8")
    run = read_run(run_dir)
    assert run.summary is None and len(run.instances) == 200


def test_manifest_unknown_keys_are_kept(tmp_path):
    run_dir = tmp_path / "run_extra"
    run_dir.mkdir()
    (run_dir / layout.MANIFEST).write_text(json.dumps({"run_id": "other", "seed": "x", "owner": "qa"}))
    manifest = read_manifest(run_dir)
    assert manifest.run_id == "run_extra" and manifest.seed is None and manifest.extra == {"owner": "qa"}
