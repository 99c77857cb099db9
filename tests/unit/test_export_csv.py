"""api/export.py's CSV cells: formula escaping on text only, reversible; numbers, booleans and nulls as written."""

from __future__ import annotations

import csv
import io

from windtunnel_dash.api.export import CSV_COLUMNS, csv_header, csv_lines, csv_safe
from windtunnel_dash.catalog.rows import InstanceRow


def test_formula_starts_and_quotes_get_one_leading_quote():
    for text in ("=1+1", "+1", "-1", "@A1", "\tx", "\rx", "'x"):
        assert csv_safe(text) == "'" + text
    for text in ("plain", "1-2", "a=b", "", " =x"):
        assert csv_safe(text) == text


def test_a_row_in_column_order_with_numbers_left_as_numbers():
    row = InstanceRow(seq=7, instance_id="=cmd", correlation_id=None, scenario_id="-x", passed=None,
                      duration_ms=-1.5, status="failed", error="a,\"b\"\nc", completed_at="2026-01-01T00:00:01Z",
                      started_at=None)
    [cells] = list(csv.reader(io.StringIO(csv_header() + csv_lines([row]), newline="")))[1:]
    assert dict(zip(CSV_COLUMNS, cells, strict=True)) == {
        "seq": "7", "instanceId": "'=cmd", "correlationId": "", "scenarioId": "'-x", "status": "failed",
        "passed": "", "durationMs": "-1.5", "startedAt": "", "completedAt": "2026-01-01T00:00:01Z",
        "error": "a,\"b\"\nc",
    }
    passed = InstanceRow(1, "i", "c", "s", True, 2.0, "passed", None, None)
    assert csv_lines([passed]) == "1,i,c,s,passed,true,2.0,,,\r\n"
