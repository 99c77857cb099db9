"""A plain `reflex run` (dev mode, hot reload) in the project root works after `make setup`, as a Reflex user
expects: rxconfig finds the project's bun, with no REFLEX_USE_SYSTEM_BUN and no bun on PATH.

Its own web dir (.web-e2e-dev), free loopback ports for the Vite dev server and the backend, stopped by
process group afterwards.
"""

from __future__ import annotations

import csv
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.api.runbuilder import instance, open_run
from tests.app_server import ARTIFACTS, ROOT, START_TIMEOUT_S, _stop, _tail, web_dir_name


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _without_project_bun(env: dict[str, str]) -> dict[str, str]:
    """The environment of a user who only activated the venv: nothing that points Reflex at a bun."""
    env = {k: v for k, v in env.items() if k != "REFLEX_USE_SYSTEM_BUN"}
    tools = str(ROOT / "tools" / "node_modules" / ".bin")
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([venv_bin, *(p for p in env.get("PATH", "").split(os.pathsep) if p != tools)])
    env["VIRTUAL_ENV"] = str(Path(sys.executable).parents[1])
    return env


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    base = tmp_path_factory.mktemp("dev")
    runs, data, states = base / "runs", base / "data", base / "states"
    runs.mkdir()
    frontend, backend = _free_port(), _free_port()
    env = _without_project_bun(dict(os.environ))
    env.update(WINDTUNNEL_RUNS_DIR=str(runs), WINDTUNNEL_DATA_DIR=str(data), DEMO="0",
               REFLEX_WEB_WORKDIR=web_dir_name("dev"), REFLEX_STATES_WORKDIR=str(states))
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / "server-reflex-run.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            ["reflex", "run", "--frontend-port", str(frontend), "--backend-port", str(backend),
             "--backend-host", "127.0.0.1"],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    url = f"http://127.0.0.1:{frontend}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert proc.poll() is None, f"reflex run exited with {proc.returncode}:\n{_tail(log_path)}"
            try:
                if httpx.get(url + "/", timeout=5).status_code == 200 and \
                        httpx.get(f"http://127.0.0.1:{backend}/ping", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"reflex run not serving after {START_TIMEOUT_S:.0f} s:\n{_tail(log_path)}"
            time.sleep(0.5)
        yield url, runs
    finally:
        _stop(proc)


def test_reflex_run_serves_the_live_run_list(dev_server: tuple[str, Path], page: Page) -> None:
    url, runs = dev_server
    run = open_run(runs, planned=3)
    run.write_instance(instance(1))
    page.goto(url + "/")
    row = page.get_by_role("row", name=re.compile(re.escape(run.run_id)))
    expect(row).to_contain_text("1 / 3", timeout=180_000)  # the dev server compiles the page on first load
    run.write_batch(instances=[instance(2), instance(3)])
    expect(row).to_contain_text("3 / 3", timeout=30_000)  # live, over the dev backend's socket


def test_export_downloads_from_the_dev_backend(dev_server: tuple[str, Path], page: Page) -> None:
    """In dev mode the API is on the backend's port, not the page's: the export button goes there."""
    url, runs = dev_server
    run = open_run(runs)
    run.write_batch(instances=[instance(n, "failed" if n % 2 else "passed") for n in range(1, 5)])
    page.goto(url + f"/runs/{run.run_id}?status=failed")
    expect(page.get_by_test_id("filter-failed-count")).to_have_text("2", timeout=180_000)
    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    rows = list(csv.DictReader(open(download.value.path(), encoding="utf-8", newline="")))
    assert [r["instanceId"] for r in rows] == ["inst_00003", "inst_00001"]
