"""DEMO=1: keep a simulated run going, so a fresh `make run` always has something live.

Demo runs are written into the demo runs folder inside the dashboard's data directory
(`Settings.demo_runs_dir`), which the engine watches beside the runs root: the runs root
is never written to (docs/design.md §10). Only the last KEEP_RUNS demo runs are kept.

The simulator runs as a subprocess (`python -m windtunnel_dash simulate`): its writing never competes
with the server's event loop, and its runs reach the dashboard the way a real runner's do, as files.
A demo starts only when no run in either folder is running, so a real runner's run is never crowded
out. The run list's "Start demo run" button asks this keeper for one (`request_run`); with DEMO off
there is no keeper, and nothing starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .artifacts.layout import LINE_FILES, MANIFEST, SUMMARY
from .artifacts.writer import new_run_id
from .pipeline.engine import get_engine
from .settings import Settings

logger = logging.getLogger(__name__)

# About 100 s per run at 20 instances/s: slow enough to watch rows arrive, with some failures and errors.
DEMO_FLAGS = {
    "instances": 2000, "rate": 20, "concurrency": 50, "scenarios": 4, "fail_rate": 0.06, "error_rate": 0.01,
}
RECENT_S = 30.0  # a run without summary.json whose files changed this recently is running
POLL_S = 5.0
AFTER_CRASH_S = 60.0  # a simulator that failed is not restarted in a tight loop
KEEP_RUNS = 5  # demo runs kept in the demo folder; older ones are deleted

_children: list[subprocess.Popen] = []
_requests: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None  # the keeper's, while DEMO is on


def simulator_command(runs_dir: Path, run_id: str, **flags: object) -> list[str]:
    """The simulator's command line; keyword flags map to options (fail_rate=0.1 -> --fail-rate 0.1)."""
    args = [sys.executable, "-m", "windtunnel_dash", "simulate", "--runs-dir", str(runs_dir), "--run-id", run_id]
    for name, value in flags.items():
        args += [f"--{name.replace('_', '-')}", str(value)]
    return args


def start_demo_run(settings: Settings) -> str:
    """Start one demo run in the background, in the demo runs folder; returns its run id."""
    folder = settings.demo_runs_dir
    folder.mkdir(parents=True, exist_ok=True)
    prune_demo_runs(folder, KEEP_RUNS - 1)  # with the one starting now, KEEP_RUNS
    run_id = new_run_id()
    command = simulator_command(folder, run_id, **DEMO_FLAGS)
    _children.append(subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL))
    logger.info("demo run %s started", run_id)
    return run_id


def prune_demo_runs(folder: Path, keep: int) -> list[str]:
    """Delete all but the `keep` newest demo runs (run ids sort by start time); returns the deleted ids."""
    try:
        runs = sorted((e.name for e in os.scandir(folder) if e.is_dir(follow_symlinks=False)), reverse=True)
    except OSError:
        return []
    for old in runs[keep:]:
        shutil.rmtree(folder / old, ignore_errors=True)
    return runs[keep:]


def request_run() -> bool:
    """Ask the keeper for a demo run now (the "Start demo run" button); False when DEMO is off."""
    if _requests is None:
        return False
    loop, event = _requests
    loop.call_soon_threadsafe(event.set)
    return True


def has_running_run(runs_dir: Path, now: float | None = None) -> bool:
    """Whether some run under `runs_dir` has no summary and a file modified in the last RECENT_S seconds."""
    now = time.time() if now is None else now
    try:
        entries = [Path(e.path) for e in os.scandir(runs_dir) if e.is_dir()]
    except OSError:
        return False
    for run in entries:
        if (run / SUMMARY).exists():
            continue
        for name in (MANIFEST, *LINE_FILES):
            try:
                if now - (run / name).stat().st_mtime < RECENT_S:
                    return True
            except OSError:
                continue
    return False


def _is_writable_dir(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(path, os.W_OK | os.X_OK)


def _reap() -> int | None:
    """Forget finished children; returns the worst exit code among them (None when none finished)."""
    codes = [child.returncode for child in _children if child.poll() is not None]
    _children[:] = [child for child in _children if child.returncode is None]
    return max(codes, key=abs) if codes else None


def _anything_running(settings: Settings) -> bool:
    return has_running_run(settings.runs_dir) or has_running_run(settings.demo_runs_dir)


async def _keep_a_run_going(settings: Settings, requested: asyncio.Event) -> None:
    while True:
        wait = POLL_S
        if requested.is_set():
            requested.clear()
            await asyncio.to_thread(start_demo_run, settings)
        elif _reap():
            logger.warning("demo simulator failed; next demo run in %.0f s", AFTER_CRASH_S)
            wait = AFTER_CRASH_S
        elif not _children and get_engine().leading and not await asyncio.to_thread(_anything_running, settings):
            await asyncio.to_thread(start_demo_run, settings)  # by the ingest leader only: N workers, one demo
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(requested.wait(), wait)


def _stop_children() -> None:
    for child in _children:
        if child.poll() is None:
            child.terminate()
    for child in _children:
        try:
            child.wait(timeout=3)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    _children.clear()


async def demo_lifespan() -> None:
    """Lifespan task: keeps a demo run going when DEMO is on; stops every simulator it started on shutdown."""
    global _requests
    settings = Settings.from_env()
    if not settings.demo:
        return
    if not _is_writable_dir(settings.demo_runs_dir):
        logger.warning("DEMO is on but %s cannot be written: no demo runs", settings.demo_runs_dir)
        return
    requested = asyncio.Event()
    _requests = (asyncio.get_running_loop(), requested)
    try:
        await _keep_a_run_going(settings, requested)
    finally:
        _requests = None
        await asyncio.to_thread(_stop_children)
