"""Which directories get an inotify watch and which are polled, and what a file event means (docs/design.md §4).

Watches grow with runs, never with instances: each runs root is watched for new
run directories and each run directory for its own files, never recursively
(the runner makes one `artifacts/<instance_id>/` per instance). When the watch
budget cannot hold every run, the roots and the runs most likely to be written
(unfinished first, then the most recently touched) get inotify, and the rest
are polled: slower, never stale.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from windtunnel_dash.artifacts import layout

RUN_FILES = frozenset((layout.MANIFEST, layout.SUMMARY, *layout.LINE_FILES, *layout.DATABASE_FILES))
ADDED, MODIFIED, DELETED = 1, 2, 3  # watchfiles' Change values (pinned by a unit test)


@dataclass(frozen=True, slots=True)
class WatchPlan:
    native: tuple[str, ...] = ()  # paths watched with inotify, roots first
    polled: tuple[str, ...] = ()  # paths polled

    @property
    def mode(self) -> str:
        """What /api/health reports: "inotify", "polling" or "mixed"."""
        if not self.polled:
            return "inotify"
        return "polling" if not self.native else "mixed"


@dataclass(slots=True)
class Events:
    """A batch of file events, reduced: the runs whose files changed, and whether the set of runs may have."""

    runs: set[str] = field(default_factory=set)
    structure: bool = False  # a run directory (or a root) appeared or went away


def run_dirs(root: str) -> list[str]:
    """The directories directly under `root` whose names could be runs (empty when the root is gone)."""
    try:
        with os.scandir(root) as entries:
            return [e.path for e in entries if layout.is_safe_run_id(e.name) and _is_dir(e)]
    except OSError:
        return []


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def priority(run_dir: str) -> tuple[bool, float]:
    """Sort key, best first: unfinished runs, then the most recently modified (only computed over budget)."""
    newest, finished = 0.0, False
    for name in (layout.SUMMARY, layout.INSTANCES, layout.MANIFEST):
        try:
            mtime = os.stat(os.path.join(run_dir, name)).st_mtime
        except OSError:
            continue
        finished = finished or name == layout.SUMMARY
        newest = max(newest, mtime)
    return finished, -newest


def plan(roots: Iterable[str], runs: Iterable[str], capacity: int | None) -> WatchPlan:
    """Roots and runs split between inotify (at most `capacity` paths; None: no limit) and polling."""
    roots, runs = list(roots), sorted(runs)
    if capacity is None or len(roots) + len(runs) <= capacity:
        return WatchPlan(tuple(roots + runs))
    if capacity < len(roots):
        return WatchPlan((), tuple(roots + runs))
    ranked = sorted(runs, key=priority)
    keep = capacity - len(roots)
    return WatchPlan(tuple(roots + sorted(ranked[:keep])), tuple(sorted(ranked[keep:])))


def reduce_events(roots: frozenset[str], changes: Iterable[tuple[int, str]]) -> Events:
    """What watchfiles' `(change, path)` pairs mean for the pipeline; artifacts and other files are ignored."""
    events = Events()
    for change, path in changes:
        if path in roots:
            events.structure = True
            continue
        parent, name = os.path.split(path)
        if parent in roots:
            if layout.is_safe_run_id(name):
                events.runs.add(name)
                events.structure = events.structure or change != MODIFIED
        elif name in RUN_FILES and os.path.dirname(parent) in roots:
            events.runs.add(os.path.basename(parent))
    return events
