"""A Postgres catalog that goes away while the app runs (docs/design.md §7): pages are told the data is stale,
nothing crashes or loops, and when it is back ingest resumes exactly where the last commit ended."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from scripts import local_services
from tests.unit.pipeline_support import (
    append,
    catalog_instances,
    engine_running,
    eventually,
    file_instances,
    instance_line,
    read_seqs,
    settings_for,
    status_of,
    write_manifest,
)
from windtunnel_dash.api.app import build_api
from windtunnel_dash.api.schemas import ErrorBody
from windtunnel_dash.pipeline import engine as engine_module
from windtunnel_dash.pipeline.engine import Pipeline


def test_ingest_resumes_exactly_after_the_database_comes_back(tmp_path: Path) -> None:
    with local_services.postgres(durable=False) as server:  # its own server: this test stops it
        db_url = server.create_database("outage")

        async def main() -> None:
            root = tmp_path / "runs"
            run_dir = root / "through_outage"
            write_manifest(run_dir)
            async with engine_running(settings_for(tmp_path, root, db_url=db_url)) as engine:
                seen: list[int] = []
                await eventually(lambda: engine.ensure_run("through_outage"), what="the run in the catalog")
                reader = asyncio.create_task(read_seqs(engine, "through_outage", 80, seen, 30))
                append(run_dir / "instances.jsonl", b"".join(instance_line(n, status=status_of(n)) for n in range(40)))
                await eventually(lambda: len(seen) == 40, what="the first 40 instances")

                await asyncio.to_thread(server.stop)
                await eventually(lambda: engine.conditions.get("catalog") is not None, what="the catalog condition")
                condition = engine.conditions.get("catalog")
                assert "cannot be reached" in condition.message and "postgres@127.0.0.1" in condition.message
                await eventually(lambda: not engine.leading, what="the leader to stop ingesting")
                assert engine.conditions.get("pipeline") is None, "the outage was taken for a crash"
                append(run_dir / "instances.jsonl",
                       b"".join(instance_line(n, status=status_of(n)) for n in range(40, 80)))
                await asyncio.sleep(1.0)  # the outage lasts a while, with lines landing meanwhile

                await asyncio.to_thread(server.start)
                await eventually(lambda: engine.conditions.get("catalog") is None, timeout=20,
                                 what="the condition to clear once the database is back")
                await asyncio.wait_for(reader, 30)
                assert seen == list(range(1, 81))
                assert catalog_instances(engine.catalog, "through_outage") == file_instances(run_dir)

        asyncio.run(main())


def test_start_up_with_the_database_down_says_so_once_and_keeps_trying(tmp_path: Path, caplog) -> None:
    port = local_services.free_port()  # nothing listens there
    db_url = f"postgresql+psycopg://windtunnel:secret@127.0.0.1:{port}/catalog"

    async def main() -> None:
        engine = Pipeline(settings_for(tmp_path, tmp_path / "runs", db_url=db_url))
        task = asyncio.create_task(engine.run())
        try:
            await eventually(lambda: engine.conditions.get("catalog") is not None, what="the catalog condition")
            await asyncio.sleep(2.5)  # a few retries later: still running, still said only once
            assert not task.done()
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            engine.close()

    with caplog.at_level("WARNING"):
        asyncio.run(main())
    said = [r.getMessage() for r in caplog.records if "cannot be reached" in r.getMessage()]
    assert len(said) == 1, said
    assert f"postgresql+psycopg://windtunnel@127.0.0.1:{port}/catalog" in said[0] and "secret" not in said[0]
    assert "refused" in said[0]


@pytest.mark.parametrize("path", ["/api/runs", "/api/runs/run_a", "/api/runs/run_a/instances",
                                  "/api/runs/run_a/instances/inst_1"])
def test_rest_answers_503_with_a_clear_error_while_the_database_is_down(tmp_path: Path, path: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    port = local_services.free_port()  # nothing listens there: every query is refused
    engine = Pipeline(settings_for(tmp_path, tmp_path / "runs", db_url=f"postgresql+psycopg://w@127.0.0.1:{port}/c"))
    monkeypatch.setattr(engine_module, "_engine", engine)
    try:
        with TestClient(build_api(), raise_server_exceptions=False) as client:
            answer = client.get(path)
    finally:
        engine.close()
    assert answer.status_code == 503, answer.text
    error = ErrorBody.model_validate(answer.json()).error
    assert error.code == 503 and "catalog database cannot be reached" in error.message
    assert answer.headers["Retry-After"].isdigit()


def test_the_stream_answers_503_and_closes_4503_while_the_database_is_down(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    port = local_services.free_port()  # nothing listens there: every query is refused
    engine = Pipeline(settings_for(tmp_path, tmp_path / "runs", db_url=f"postgresql+psycopg://w@127.0.0.1:{port}/c"))
    monkeypatch.setattr(engine_module, "_engine", engine)
    try:
        with TestClient(build_api()) as client, client.websocket_connect("/api/runs/run_a/stream") as ws:
            message = ws.receive_json()
            closed = ws.receive()
    finally:
        engine.close()
    assert message["type"] == "error" and message["data"]["code"] == 503
    assert "catalog database cannot be reached" in message["data"]["message"]
    assert closed == {"type": "websocket.close", "code": 4503, "reason": ""}
