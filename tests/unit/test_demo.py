"""demo.py: which runs count as running, and that the demo really starts, and stops, a simulator run."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from pathlib import Path

import pytest

from windtunnel_dash import demo
from windtunnel_dash.artifacts.layout import INSTANCES, MANIFEST, SUMMARY
from windtunnel_dash.settings import Settings

DEADLINE_S = 30.0


def _settings(runs_dir: Path, data_dir: Path, *, demo_on: bool = True) -> Settings:
    return dataclasses.replace(Settings.from_env(), runs_dir=runs_dir, data_dir=data_dir, demo=demo_on)


def _run(root: Path, name: str, *files: str, age_s: float = 0.0) -> Path:
    run = root / name
    run.mkdir(parents=True)
    for file in files:
        (run / file).write_text("{}\n")
        stamp = time.time() - age_s
        os.utime(run / file, (stamp, stamp))
    return run


def _wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_simulator_command_maps_keyword_flags_to_options(tmp_path: Path) -> None:
    command = demo.simulator_command(tmp_path, "r1", instances=5, fail_rate=0.5)
    assert command[1:] == ["-m", "windtunnel_dash", "simulate", "--runs-dir", str(tmp_path), "--run-id", "r1",
                           "--instances", "5", "--fail-rate", "0.5"]


def test_a_recently_written_run_without_summary_is_running(tmp_path: Path) -> None:
    _run(tmp_path, "live", MANIFEST, INSTANCES)
    assert demo.has_running_run(tmp_path)


def test_finished_quiet_and_non_runs_are_not_running(tmp_path: Path) -> None:
    _run(tmp_path, "done", MANIFEST, INSTANCES, SUMMARY)
    _run(tmp_path, "quiet", MANIFEST, INSTANCES, age_s=demo.RECENT_S + 5)
    _run(tmp_path, "not-a-run", "notes.txt")
    (tmp_path / "stray-file").write_text("x")
    assert not demo.has_running_run(tmp_path)
    assert not demo.has_running_run(tmp_path / "missing")


def test_start_demo_run_writes_a_live_run_and_stops_with_the_app(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "runs", tmp_path / "data")
    run_id = demo.start_demo_run(settings)
    try:
        run = settings.runs_dir / run_id
        _wait_for(lambda: (run / INSTANCES).is_file() and (run / INSTANCES).stat().st_size > 0, "instance lines")
        assert demo.has_running_run(settings.runs_dir)
    finally:
        demo._stop_children()
    assert not demo._children
    assert (run / SUMMARY).is_file()  # the simulator finalizes a stopped run, as a cancelled runner does


@pytest.mark.parametrize(
    ("demo_on", "live_run", "started"),
    [(True, False, 1), (False, False, 0), (True, True, 0)],
    ids=["demo-on", "demo-off", "another-run-is-live"],
)
def test_lifespan_starts_a_demo_run_only_when_on_and_nothing_else_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_on: bool, live_run: bool, started: int
) -> None:
    runs_dir = tmp_path / "runs"
    if live_run:
        _run(runs_dir, "real-runner", MANIFEST, INSTANCES)
    monkeypatch.setenv("WINDTUNNEL_RUNS_DIR", str(runs_dir))
    monkeypatch.setenv("WINDTUNNEL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DEMO", "1" if demo_on else "0")

    def demo_runs() -> list[Path]:
        return [p for p in runs_dir.glob("*") if p.name != "real-runner"] if runs_dir.is_dir() else []

    async def scenario() -> list:
        task = asyncio.create_task(demo.demo_lifespan())
        # Waits for a demo run where one is expected; elsewhere gives the loop a second to (wrongly) start one.
        deadline = time.monotonic() + (DEADLINE_S if started else 1.0)
        while time.monotonic() < deadline and not any((p / MANIFEST).is_file() for p in demo_runs()):
            await asyncio.sleep(0.05)
        children = demo._children[:]
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return children

    children = asyncio.run(scenario())
    assert len(demo_runs()) == started
    assert all(child.returncode is not None for child in children)  # stopped with the app
    assert not demo._children
