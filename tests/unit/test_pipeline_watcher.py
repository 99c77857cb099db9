"""What the watcher watches and how (docs/design.md §4): run directories, never artifacts; polling where inotify cannot."""

from __future__ import annotations

import inspect
import os
import threading
import time
from pathlib import Path

import pytest
import watchfiles
from watchfiles._rust_notify import RustNotify

from tests.polling import until
from tests.unit.pipeline_support import append, instance_line, write_manifest
from windtunnel_dash.pipeline.conditions import Conditions
from windtunnel_dash.pipeline.watch_plan import ADDED, DELETED, MODIFIED, WatchPlan, plan, reduce_events
from windtunnel_dash.pipeline.watcher import RunsWatcher, is_watch_limit

ROOT = os.path.join(os.sep, "data", "runs")
ROOTS = frozenset((ROOT,))


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
    assert reduce_events(ROOTS, {(MODIFIED, path)}).runs == ({run} if run else set())


def test_runs_appearing_or_going_change_the_set_of_runs_and_appends_do_not() -> None:
    run = os.path.join(ROOT, "run_1")
    assert reduce_events(ROOTS, {(ADDED, run)}).structure
    assert reduce_events(ROOTS, {(DELETED, run)}).structure
    assert reduce_events(ROOTS, {(DELETED, ROOT)}).structure
    assert not reduce_events(ROOTS, {(MODIFIED, os.path.join(run, "instances.jsonl"))}).structure
    assert not reduce_events(ROOTS, {(ADDED, os.path.join(run, "artifacts", "inst_1"))}).structure


def test_the_plan_watches_roots_and_runs_and_polls_what_the_budget_cannot_hold(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    runs = []
    for name, finished, age in (("old_done", True, 5000), ("new_done", True, 10), ("old_live", False, 9000)):
        write_manifest(root / name)
        if finished:
            (root / name / "summary.json").write_text("{}")
        for f in (root / name).iterdir():
            os.utime(f, (time.time() - age, time.time() - age))
        runs.append(str(root / name))
    assert plan([str(root)], runs, None) == WatchPlan((str(root), *sorted(runs)))
    assert plan([str(root)], runs, 4).mode == "inotify"
    cut = plan([str(root)], runs, 3)  # unfinished first, then the most recently touched
    assert cut.native == (str(root), str(root / "new_done"), str(root / "old_live"))
    assert cut.polled == (str(root / "old_done"),) and cut.mode == "mixed"
    assert plan([str(root)], runs, 0).mode == "polling"


def test_watchfiles_rustnotify_is_what_the_watcher_was_written_against(tmp_path: Path) -> None:
    """Fails loudly when an upgrade of watchfiles changes the calls or answers the watcher relies on."""
    assert watchfiles.Change.added == ADDED and watchfiles.Change.modified == MODIFIED
    assert watchfiles.Change.deleted == DELETED
    signature = RustNotify.__text_signature__ or str(inspect.signature(RustNotify))
    assert all(name in signature for name in (
        "watch_paths", "debug", "force_polling", "poll_delay_ms", "recursive", "ignore_permission_denied"))
    assert "debounce_ms, step_ms, timeout_ms, stop_event" in RustNotify.watch.__text_signature__
    with pytest.raises(FileNotFoundError):
        RustNotify([str(tmp_path / "missing")], False, False, 100, False, False)
    notifier = RustNotify([str(tmp_path)], False, False, 100, False, False)
    assert repr(notifier).startswith("RustNotify(Recommended(")  # how a silent fall-back to polling is told apart
    try:
        assert notifier.watch(10, 3, 30, None) == "timeout"
        (tmp_path / "a.jsonl").write_bytes(b"x\n")
        changes = notifier.watch(10, 3, 2000, None)
        assert isinstance(changes, set) and (ADDED, str(tmp_path / "a.jsonl")) in changes
        stop = threading.Event()
        stop.set()
        assert notifier.watch(10, 3, 2000, stop) == "stop"
    finally:
        notifier.close()
    binary = Path(watchfiles._rust_notify.__file__).read_bytes()
    assert b"MaxFilesWatch" in binary  # the Debug name is_watch_limit looks for in the limit error
    assert is_watch_limit(OSError("OS file watch limit reached (Error { kind: MaxFilesWatch, paths: [] })"))


class RefusingNotify:
    """RustNotify as on a system with room for `room` inotify watches (polling always works)."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.native_sizes: list[int] = []

    def __call__(self, paths, debug, force_polling, poll_delay_ms, recursive, ignore_permission_denied):
        assert not recursive and not ignore_permission_denied
        if not force_polling:
            self.native_sizes.append(len(paths))
            if len(paths) > self.room:
                raise OSError("OS file watch limit reached (Error { kind: MaxFilesWatch, paths: [] })")
        return RustNotify(paths, debug, force_polling, poll_delay_ms, recursive, ignore_permission_denied)




def test_past_the_system_limit_the_rest_is_polled_with_a_warning_and_appends_still_arrive(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    for n in range(6):
        write_manifest(root / f"run_{n}")
    changed: list[set[str]] = []
    found: list[set[str]] = []
    conditions = Conditions()
    refusing = RefusingNotify(room=3)
    watcher = RunsWatcher([root], changed.append, found.append, conditions, factory=refusing)
    watcher.start()
    try:
        until(lambda: watcher.mode == "mixed", what="a mixed plan")
        assert watcher.watches == 3 and len(watcher.plan.polled) == 4
        assert refusing.native_sizes[0] == 7  # roots + every run was tried first, then searched down
        warning = conditions.get("watch")
        assert warning is not None and "fs.inotify.max_user_watches" in warning.fix
        # An append before the poll thread's first look at a run is caught up as "found", not "changed".
        polled = {os.path.basename(p) for p in watcher.plan.polled}
        until(lambda: polled <= set().union(*found), what="the poll thread's first look at the polled runs")
        for path in (Path(p) for p in watcher.plan.native[1:] + watcher.plan.polled):
            append(path / "instances.jsonl", instance_line(1))
            until(lambda path=path: any(path.name in runs for runs in changed), what=f"{path.name}'s append")
            changed.clear()
    finally:
        watcher.stop()


def test_where_inotify_is_unavailable_everything_is_polled_with_a_warning(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    write_manifest(root / "run_a")

    def no_inotify(paths, debug, force_polling, *rest):
        if not force_polling:
            raise watchfiles._rust_notify.WatchfilesRustInternalError("Error creating recommended watcher: EMFILE")
        return RustNotify(paths, debug, force_polling, *rest)

    changed: list[set[str]] = []
    conditions = Conditions()
    watcher = RunsWatcher([root], changed.append, changed.append, conditions, factory=no_inotify)
    watcher.start()
    try:
        until(lambda: watcher.mode == "polling", what="polling")
        assert "unavailable" in conditions.get("watch").message
        write_manifest(root / "run_b")  # a new run is found by polling the root
        append(root / "run_b" / "instances.jsonl", instance_line(1))
        until(lambda: any("run_b" in runs for runs in changed), what="run_b")
    finally:
        watcher.stop()


def test_polling_asked_for_by_setting_is_not_a_warning(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    write_manifest(root / "run_a")
    changed: list[set[str]] = []
    conditions = Conditions()
    watcher = RunsWatcher([root], changed.append, changed.append, conditions, poll_ms=200)
    watcher.start()
    try:
        until(lambda: watcher.mode == "polling" and watcher.plan.polled, what="polling")
        append(root / "run_a" / "instances.jsonl", instance_line(1))
        until(lambda: any("run_a" in runs for runs in changed), what="run_a")
        assert conditions.items() == [] and watcher.watches == 0
    finally:
        watcher.stop()


def test_artifact_directories_cost_no_watches_and_new_runs_are_watched(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    write_manifest(root / "big")
    for n in range(50):
        (root / "big" / "artifacts" / f"inst_{n}").mkdir(parents=True)
    found: list[set[str]] = []
    changed: list[set[str]] = []
    watcher = RunsWatcher([root], changed.append, found.append, Conditions())
    watcher.start()
    try:
        until(lambda: watcher.watches == 2, what="root + one run")
        write_manifest(root / "later")
        until(lambda: watcher.watches == 3, what="the new run watched")
        append(root / "later" / "instances.jsonl", instance_line(1))
        until(lambda: any("later" in runs for runs in changed + found), what="the new run's append")
    finally:
        watcher.stop()


class RecordingNotify:
    """Real RustNotify that records the stop_event of every watch call."""

    def __init__(self) -> None:
        self.stop_events: list[object] = []

    def __call__(self, *args):
        real = RustNotify(*args)
        recorded = self.stop_events

        class Recording:
            def watch(self, debounce_ms, step_ms, timeout_ms, stop_event):
                recorded.append(stop_event)
                return real.watch(debounce_ms, step_ms, timeout_ms, stop_event)

            def close(self):
                real.close()

            def __repr__(self):
                return repr(real)

        return Recording()


def test_a_rescan_never_drops_another_runs_pending_append(tmp_path: Path) -> None:
    """watchfiles clears the changes it holds when its stop_event is set: a rescan (a new run's directory)
    used as a stop_event dropped an append to another run made in the same step. The watcher must not
    give RustNotify a stop_event; it wakes on a short timeout instead."""
    notifier = RustNotify([str(tmp_path)], False, False, 100, False, False)
    stop = threading.Event()
    stop.set()
    try:
        for attempt in range(1, 6):
            (tmp_path / f"pending{attempt}.jsonl").write_bytes(b"x\n")
            # Meant to be in watchfiles' set by then, not yet returned. Nothing tells when it got there: on a
            # loaded machine it can come after the stop and be returned below, so the next try waits longer.
            time.sleep(0.05 * attempt)
            assert notifier.watch(10, 3, 2000, stop) == "stop"
            after_stop = notifier.watch(10, 3, 50, None)
            if after_stop == "timeout":
                break
        assert after_stop == "timeout"  # the pending change is gone
    finally:
        notifier.close()

    root = tmp_path / "runs"
    write_manifest(root / "run_a")
    changed: list[set[str]] = []
    recording = RecordingNotify()
    watcher = RunsWatcher([root], changed.append, lambda runs: None, Conditions(), factory=recording)
    watcher.start()
    try:
        until(lambda: watcher.watches == 2, what="the root and run_a watched")
        write_manifest(root / "run_b")  # a structure change: the watcher rescans and rebuilds
        append(root / "run_a" / "instances.jsonl", b"{}\n")
        until(lambda: any("run_a" in runs for runs in changed), what="run_a's append")
    finally:
        watcher.stop()
    assert recording.stop_events and all(event is None for event in recording.stop_events)
