"""demo.py: which runs count as running, and that the demo really starts, and stops, a simulator run."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from pathlib import Path

import pytest

from tests.polling import until
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


def test_start_demo_run_writes_a_live_run_in_the_data_dir_and_stops_with_the_app(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "runs", tmp_path / "data")
    run_id = demo.start_demo_run(settings)
    try:
        run = tmp_path / "data" / "demo-runs" / run_id
        until(lambda: (run / INSTANCES).is_file() and (run / INSTANCES).stat().st_size > 0, DEADLINE_S, "instance lines")
        assert demo.has_running_run(settings.demo_runs_dir)
    finally:
        demo._stop_children()
    assert not demo._children
    assert (run / SUMMARY).is_file()  # the simulator finalizes a stopped run, as a cancelled runner does
    assert not settings.runs_dir.exists()  # the runs root is not even created


def test_demo_runs_are_pruned_to_the_newest(tmp_path: Path) -> None:
    ids = [f"run_20260101_0000{n:02d}_abcd" for n in range(8)]
    for run_id in reversed(ids):  # creation order must not matter: run ids sort by start time
        _run(tmp_path, run_id, MANIFEST)
    assert demo.prune_demo_runs(tmp_path, 3) == list(reversed(ids[:5]))
    assert sorted(p.name for p in tmp_path.iterdir()) == ids[5:]
    assert demo.prune_demo_runs(tmp_path / "missing", 3) == []


def test_each_start_keeps_the_last_five(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(tmp_path / "runs", tmp_path / "data")
    for n in range(7):
        _run(settings.demo_runs_dir, f"run_20260101_0000{n:02d}_abcd", MANIFEST, SUMMARY)
    monkeypatch.setattr(demo, "DEMO_FLAGS", {"instances": 1, "rate": 1000})
    try:
        run_id = demo.start_demo_run(settings)
        until(lambda: (settings.demo_runs_dir / run_id).is_dir(), DEADLINE_S, "the new demo run")
    finally:
        demo._stop_children()
    kept = sorted(p.name for p in settings.demo_runs_dir.iterdir())
    assert len(kept) == demo.KEEP_RUNS and kept[-1] == run_id


def _folders(settings: Settings) -> tuple[list[Path], list[Path]]:
    """(runs in the runs root, runs in the demo folder)"""
    listing = [sorted(p for p in d.glob("*")) if d.is_dir() else [] for d in (settings.runs_dir, settings.demo_runs_dir)]
    return listing[0], listing[1]


@pytest.mark.parametrize(
    ("demo_on", "live_run", "started"),
    [(True, False, 1), (False, False, 0), (True, True, 0)],
    ids=["demo-on", "demo-off", "another-run-is-live"],
)
def test_lifespan_starts_a_demo_run_only_when_on_and_nothing_else_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_on: bool, live_run: bool, started: int
) -> None:
    runs_dir = tmp_path / "runs"
    runs_dir.mkdir()
    if live_run:
        _run(runs_dir, "real-runner", MANIFEST, INSTANCES)
    monkeypatch.setenv("WINDTUNNEL_RUNS_DIR", str(runs_dir))
    monkeypatch.setenv("WINDTUNNEL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DEMO", "1" if demo_on else "0")
    settings = Settings.from_env()
    before = _folders(settings)[0]

    async def scenario() -> list:
        task = asyncio.create_task(demo.demo_lifespan())
        # Waits for a demo run where one is expected; elsewhere gives the loop a second to (wrongly) start one.
        deadline = time.monotonic() + (DEADLINE_S if started else 1.0)
        while time.monotonic() < deadline and not any((p / MANIFEST).is_file() for p in _folders(settings)[1]):
            await asyncio.sleep(0.05)
        children = demo._children[:]
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return children

    children = asyncio.run(scenario())
    assert len(_folders(settings)[1]) == started
    assert _folders(settings)[0] == before  # nothing new in the runs root
    assert all(child.returncode is not None for child in children)  # stopped with the app
    assert not demo._children


@pytest.mark.parametrize("demo_on", [True, False], ids=["demo-on", "demo-off"])
def test_the_button_asks_the_keeper_and_only_a_keeper_starts_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_on: bool
) -> None:
    runs_dir = tmp_path / "runs"
    _run(runs_dir, "real-runner", MANIFEST, INSTANCES)  # a live run: the keeper would not start one by itself
    monkeypatch.setenv("WINDTUNNEL_RUNS_DIR", str(runs_dir))
    monkeypatch.setenv("WINDTUNNEL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DEMO", "1" if demo_on else "0")
    settings = Settings.from_env()

    async def scenario() -> bool:
        task = asyncio.create_task(demo.demo_lifespan())
        await asyncio.sleep(0)  # the keeper is up (or, with DEMO off, already gone)
        accepted = demo.request_run()
        deadline = time.monotonic() + (DEADLINE_S if demo_on else 1.0)
        while time.monotonic() < deadline and not _folders(settings)[1]:
            await asyncio.sleep(0.05)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return accepted

    assert asyncio.run(scenario()) is demo_on
    assert len(_folders(settings)[1]) == (1 if demo_on else 0)
    assert not demo._children and demo._requests is None
