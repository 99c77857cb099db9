"""Huge input keeps memory bounded (issue #19): a 100 MB line, and a run of 1,000,000 tiny lines."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from tests.unit.pipeline_support import append, catalog_instances, instance_line, make_catalog, write_manifest
from windtunnel_dash.pipeline.tailer import CHUNK_BYTES, MAX_LINE, RunTailer


def _peak_while(fn) -> tuple[object, int]:
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_100_mb_line_is_skipped_as_unreadable_without_holding_it(tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path)
    run_dir = tmp_path / "runs" / "huge_line"
    write_manifest(run_dir)
    path = run_dir / "instances.jsonl"
    append(path, instance_line(1))
    with open(path, "ab") as f:  # written in pieces, as a runner would stream it
        f.write(b'{"instance_id": "big", "entry_data": "')
        for _ in range(100):
            f.write(b"x" * (1 << 20))
    tailer = RunTailer(run_dir.name, run_dir, catalog.engine)
    tailer.poll()  # the line is not finished: nothing of it is read yet
    with open(path, "ab") as f:
        f.write(b'"}\n')
    append(path, instance_line(2))
    result, peak = _peak_while(tailer.poll)
    assert [row[1] for row in catalog_instances(catalog, "huge_line")] == ["inst_000001", "inst_000002"]
    run = catalog.get_run("huge_line")
    assert run.unreadable_lines == 1 and result.head == 2
    assert peak < 4 * CHUNK_BYTES, f"peak {peak / 2**20:.1f} MB while skipping a 100 MB line"


def test_a_long_line_under_the_limit_is_read_whole(tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path)
    run_dir = tmp_path / "runs" / "long_line"
    write_manifest(run_dir)
    body = "y" * (3 * CHUNK_BYTES)
    assert len(body) < MAX_LINE
    append(run_dir / "instances.jsonl", (
        '{"instance_id": "long", "passed": true, "entry_data": "' + body + '"}\n').encode() + instance_line(2))
    RunTailer(run_dir.name, run_dir, catalog.engine).poll()
    assert [row[1] for row in catalog_instances(catalog, "long_line")] == ["long", "inst_000002"]
    assert catalog.get_instance("long_line", "long").entry_data == body


def test_a_million_tiny_lines_are_ingested_in_bounded_memory(tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path)
    run_dir = tmp_path / "runs" / "million"
    write_manifest(run_dir)
    line = b'{"passed": true}\n'
    with open(run_dir / "instances.jsonl", "wb") as f:
        for _ in range(100):
            f.write(line * 10_000)
    tailer = RunTailer(run_dir.name, run_dir, catalog.engine)
    _, peak = _peak_while(tailer.poll)
    assert catalog.run_stats("million").total == 1_000_000
    assert peak < 200 * 2**20, f"peak {peak / 2**20:.0f} MB for 1,000,000 lines"
    print(f"1,000,000 tiny lines: Python heap peak {peak / 2**20:.0f} MB")
