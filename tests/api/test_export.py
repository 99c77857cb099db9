"""CSV and JSON Lines exports (docs/design.md §10) against the run files' own lines, over a real socket."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.api.runbuilder import instance, open_run
from tests.api.test_rest import all_pages, wait_for
from windtunnel_dash.api import schemas
from windtunnel_dash.api.export import CSV_COLUMNS, TEXT_COLUMNS

# Text a spreadsheet would evaluate, CSV's own quoting characters, and text that only looks escaped.
HOSTILE = [
    "=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-3", "@SUM(A1)", "'already", "\ttabbed", "\rreturn",
    "a,b", "say \"hi\"", "line\nbreak", "ünïcødé ✓", "plain",
]


@pytest.fixture(scope="module")
def hostile_run(app_server, client) -> str:
    """Ids, scenarios and errors full of formula starts and CSV specials; nulls; one unreadable line."""
    run = open_run(app_server.runs_dir, started_at=datetime.now(UTC) - timedelta(days=3))
    for n, text in enumerate(HOSTILE * 3, start=1):
        inst = instance(n, ("passed", "failed", "error")[n % 3], None if n % 5 == 0 else n * 1.5, scenario=text)
        inst.instance_id = f"{text}#{n}"
        inst.correlation_id = None if n % 4 == 0 else f"{text}-corr"
        inst.error = text if n % 3 == 2 else None
        if n % 7 == 0:
            inst.passed = None
        run.write_instance(inst)
        if n == 10:
            with open(run.dir / "instances.jsonl", "ab") as raw:
                raw.write(b"{not json\n")
    run.finalize()
    wait_for(client, f"/api/runs/{run.run_id}", lambda r: r["status"] == "complete" and r["stats"]["total"] == 36)
    return run.run_id


def file_truth(run_dir: Path) -> list[dict[str, Any]]:
    """The instances as the file says them, in file order, with docs/design.md §3's status, in API field names."""
    out = []
    for line in (run_dir / "instances.jsonl").read_bytes().splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        status = "passed" if obj["passed"] is True else "error" if obj.get("error") else "failed"
        out.append({
            "seq": len(out) + 1, "instanceId": obj["instance_id"], "correlationId": obj["correlation_id"],
            "scenarioId": obj["scenario_id"], "status": status, "passed": obj["passed"],
            "durationMs": obj["duration_ms"], "startedAt": obj["started_at"], "completedAt": obj["completed_at"],
            "error": obj["error"],
        })
    return out


def unescape_csv(text: str) -> list[dict[str, Any]]:
    """Rows of an export back to typed values: the documented reversal (one leading `'` off text cells)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    assert tuple(header) == CSV_COLUMNS
    rows = []
    for cells in reader:
        row: dict[str, Any] = {}
        for column, cell in zip(header, cells, strict=True):
            if cell == "":
                row[column] = None
            elif column in TEXT_COLUMNS:
                row[column] = cell[1:] if cell.startswith("'") else cell
            elif column == "passed":
                row[column] = {"true": True, "false": False}[cell]
            elif column == "seq":
                row[column] = int(cell)
            else:
                row[column] = float(cell)
        rows.append(row)
    return rows


def test_csv_round_trips_to_the_files_truth(app_server, client, hostile_run):
    answer = client.get(f"/api/runs/{hostile_run}/instances.csv", params={"sort": "seq"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"].startswith(f'attachment; filename="{hostile_run}-instances.csv"')
    assert unescape_csv(answer.text) == file_truth(app_server.runs_dir / hostile_run)


def test_csv_cells_never_start_a_formula(client, hostile_run):
    answer = client.get(f"/api/runs/{hostile_run}/instances.csv")
    rows = list(csv.reader(io.StringIO(answer.text, newline="")))[1:]
    text_cells = [cell for row in rows for column, cell in zip(CSV_COLUMNS, row, strict=True) if column in TEXT_COLUMNS]
    assert text_cells and not [c for c in text_cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "'=HYPERLINK(\"http://x\",\"y\")#1" in text_cells and "''already#5" in text_cells


def test_jsonl_round_trips_to_the_files_truth(app_server, client, hostile_run):
    answer = client.get(f"/api/runs/{hostile_run}/instances.jsonl", params={"sort": "seq"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/x-ndjson"
    items = [json.loads(line) for line in answer.text.splitlines()]
    for item in items:
        schemas.Instance.model_validate(item)
    assert [{k: item[k] for k in CSV_COLUMNS} for item in items] == file_truth(app_server.runs_dir / hostile_run)


@pytest.mark.parametrize("params", [
    {},
    {"status": "failed"},
    {"status": "error", "sort": "durationMs"},
    {"sort": "-durationMs"},
    {"sort": "status", "q": "CORR"},
    {"q": "plain"},
    {"status": "passed", "q": "nothing matches this"},
], ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()) or "default")
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_is_the_instances_view_whole(client, hostile_run, params, fmt):
    """Same filter, search and sort as the instances endpoint: its pages, concatenated, in the same order."""
    text = client.get(f"/api/runs/{hostile_run}/instances.{fmt}", params=params).text
    if fmt == "csv":
        ids = [row["instanceId"] for row in unescape_csv(text)]
    else:
        ids = [json.loads(line)["instanceId"] for line in text.splitlines()]
    assert ids == all_pages(client, hostile_run, 7, **params)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_bad_parameters_and_unknown_runs_get_the_error_body(client, hostile_run, fmt):
    for params in ({"status": "nope"}, {"sort": "name"}):
        answer = client.get(f"/api/runs/{hostile_run}/instances.{fmt}", params=params)
        assert answer.status_code == 400
        schemas.ErrorBody.model_validate(answer.json())
    for run_id in ("no_such_run", "..", "%2e%2e"):
        answer = client.get(f"/api/runs/{run_id}/instances.{fmt}")
        assert answer.status_code == 404
        schemas.ErrorBody.model_validate(answer.json())


def test_export_of_an_empty_run_is_a_header_or_nothing(app_server, client):
    run = open_run(app_server.runs_dir)
    wait_for(client, f"/api/runs/{run.run_id}", lambda r: r["stats"]["total"] == 0)
    assert client.get(f"/api/runs/{run.run_id}/instances.csv").text == ",".join(CSV_COLUMNS) + "\r\n"
    assert client.get(f"/api/runs/{run.run_id}/instances.jsonl").text == ""
