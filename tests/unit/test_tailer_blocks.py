"""A backlog's chunk cut into blocks that parse workers read themselves: whole lines, all of them, once."""

from __future__ import annotations

import json
import os
import random
from concurrent.futures import Future
from pathlib import Path

import pytest

from tests.unit.pipeline_support import instance_line, step_line
from windtunnel_dash.pipeline import tailer as tailer_module
from windtunnel_dash.pipeline.lineparse import parse_block, parse_file_block
from windtunnel_dash.pipeline.tailer import _blocks, _Chunk, _Replaced


@pytest.mark.parametrize("seed", range(20))
def test_blocks_are_whole_lines_covering_up_to_the_last_line_end(tmp_path: Path, seed: int,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    monkeypatch.setattr(tailer_module, "CUT_WINDOW", rng.choice([64, 300, 4096]))
    data = b"".join(b"x" * rng.choice([0, 5, 80, 250]) + b"\n" for _ in range(200)) + b"half"
    path = tmp_path / "lines"
    path.write_bytes(data)
    start = data.index(b"\n", rng.randrange(len(data) // 2)) + 1
    stop = rng.randrange(start + 1, len(data) + 1)
    with open(path, "rb") as f:
        blocks = _blocks(f, start, stop, rng.randint(1, 4))
    last = data.rfind(b"\n", start, stop)
    window = tailer_module.CUT_WINDOW
    if last < max(start, stop - window):  # no line end where it looks: the tailer reads the chunk itself
        assert blocks is None
        return
    assert blocks[0][0] == start and blocks[-1][1] == last + 1
    assert all(a < b and data[b - 1:b] == b"\n" for a, b in blocks)
    assert all(b == c for (_, b), (c, _) in zip(blocks, blocks[1:], strict=False))


def test_a_worker_reads_its_block_or_says_the_file_is_another_now(tmp_path: Path) -> None:
    path = tmp_path / "instances.jsonl"
    data = b"".join(instance_line(n) for n in range(20))
    path.write_bytes(data)
    inode = os.stat(path).st_ino
    begin, end = len(instance_line(0)), data.rfind(b"\n", 0, len(data) // 2) + 1
    parsed = parse_file_block(str(path), path.name, begin, end, inode, 3)
    assert parsed == parse_block(path.name, data[begin:end], begin, 3) and parsed.rows
    assert parse_file_block(str(path), path.name, begin, end, inode + 1, 3) is None  # replaced
    with open(path, "r+b") as f:
        f.truncate(end - 1)
    assert parse_file_block(str(path), path.name, begin, end, inode, 3) is None  # truncated
    assert parse_file_block(str(tmp_path / "gone"), path.name, begin, end, inode, 3) is None


def test_a_block_the_worker_found_replaced_rebuilds_the_run() -> None:
    done, gone = Future(), Future()
    done.set_result(parse_block("instances.jsonl", instance_line(1), 0, 1))
    gone.set_result(None)
    with pytest.raises(_Replaced):
        _Chunk("instances.jsonl", (0, 0), True, [done, gone]).parsed()


def test_a_staged_block_holds_the_same_rows_and_only_numbered_step_and_assertion_blocks_are_staged(
        tmp_path: Path) -> None:
    lines = {
        "steps.jsonl": [step_line(n // 2, n % 2) for n in range(300)]
        + [json.dumps({"instance_id": "é", "step_index": 0, "step_name": None,
                       "observation": {"ok": False, "latency_ms": 0.1 + 0.2}}).encode() + b"\n"],
        "assertions.jsonl": [json.dumps({"instance_id": f"i{n}", "step_index": n % 3 or None}).encode() + b"\n"
                             for n in range(50)],
        "instances.jsonl": [instance_line(n) for n in range(20)],
        "older.jsonl": [step_line(n, None) for n in range(20)],
    }
    for name, file_lines in lines.items():
        path = tmp_path / name
        path.write_bytes(b"".join(file_lines))
        inode, size = os.stat(path).st_ino, os.stat(path).st_size
        kind = "steps.jsonl" if name == "older.jsonl" else name
        plain = parse_file_block(str(path), kind, 0, size, inode, 3)
        staged = parse_file_block(str(path), kind, 0, size, inode, 3, stage=True)
        assert plain is not None and staged is not None and plain.rows and not plain.images
        if name in ("instances.jsonl", "older.jsonl"):  # numbered by the tailer: rows, as without staging
            assert staged == plain
            continue
        assert not staged.rows and len(staged.images) == 1 and staged.last_row == plain.rows[-1]
        assert staged.unstaged().rows == plain.rows
        assert [type(v) for v in staged.unstaged().rows[-1]] == [int if type(v) is bool else type(v)
                                                                 for v in plain.rows[-1]]
