"""Which file events wake a run's tailer (DESIGN §4): the run directory and its own files, nothing else."""

from __future__ import annotations

import os

import pytest

from windtunnel_dash.pipeline.watcher import run_of

ROOT = os.path.join(os.sep, "data", "runs")


@pytest.mark.parametrize(("path", "run"), [
    (os.path.join(ROOT, "run_1"), "run_1"),
    (os.path.join(ROOT, "run_1", "instances.jsonl"), "run_1"),
    (os.path.join(ROOT, "run_1", "summary.json"), "run_1"),
    (os.path.join(ROOT, "run_1", "manifest.json"), "run_1"),
    (os.path.join(ROOT, "run_1", "artifacts"), None),
    (os.path.join(ROOT, "run_1", "artifacts", "inst_1", "variation.json"), None),
    (os.path.join(ROOT, "run_1", "notes.txt"), None),
    (ROOT, None),
    (os.path.join(os.sep, "data", "elsewhere", "run_1"), None),
])
def test_only_a_runs_own_files_wake_its_tailer(path: str, run: str | None) -> None:
    assert run_of(ROOT, path) == run
