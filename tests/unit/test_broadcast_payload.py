"""What a broadcast carries (pipeline/broadcast.py): the run and its newest rows, always under NOTIFY's limit."""

from __future__ import annotations

from windtunnel_dash.catalog.rows import InstanceRow
from windtunnel_dash.pipeline.broadcast import PAYLOAD_BYTES, Change

RUN = {"sut_name": "sut", "total": 3, "pass_rate": 66.7, "p50_ms": None, "scenarios": '{"scenarios": []}'}


def row(seq: int, error: str | None = None) -> InstanceRow:
    return InstanceRow(seq, f"inst_{seq}", f"corr_{seq}", "checkout", error is None, 12.5, "error" if error else "passed",
                       error, "2026-12-05T12:00:00Z", None)


def test_a_change_with_its_run_and_rows_decodes_to_itself() -> None:
    change = Change("r1", 3, 2, origin="w1", run=RUN, rows=(row(2), row(3, "HTTP 503 — “upstream”")))
    assert Change.decode(change.encode()) == change


def test_only_the_newest_rows_that_fit_are_carried_and_they_end_at_the_head() -> None:
    rows = tuple(row(seq, "x" * 700) for seq in range(1, 101))
    payload = Change("r1", 100, origin="w1", run=RUN, rows=rows).encode()
    decoded = Change.decode(payload)
    assert decoded is not None and len(payload.encode()) < PAYLOAD_BYTES
    assert 5 <= len(decoded.rows) < 100 and decoded.rows == rows[-len(decoded.rows):]


def test_a_run_too_big_for_a_payload_goes_without_run_and_rows() -> None:
    huge = {**RUN, "config": "y" * PAYLOAD_BYTES}
    decoded = Change.decode(Change("r1", 4, origin="w1", run=huge, rows=(row(4),)).encode())
    assert decoded == Change("r1", 4, origin="w1")


def test_a_message_from_a_worker_without_snapshots_still_decodes() -> None:
    assert Change.decode('["r1", 7, 1, false, "w0"]') == Change("r1", 7, 1, origin="w0")
    assert Change.decode("not json") is None
