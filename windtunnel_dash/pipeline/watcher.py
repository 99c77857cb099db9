"""File events under the runs roots, reduced to "these runs changed" (docs/design.md §4).

Two threads, each blocked in watchfiles' `RustNotify.watch`:
- the *native* thread owns one inotify watcher over the roots and the run
  directories (non-recursive, so `artifacts/` costs nothing), checks every
  second that each root is still the directory it watches, and rebuilds the
  watcher when the set of runs changes (the new one started before the old is
  drained and closed; runs that appeared meanwhile go to `on_found`);
- the *poll* thread stats whatever inotify cannot hold, every 0.5 s: runs
  beyond the watch budget or the system's limit, everything where inotify is
  unavailable, or everything every `poll_ms` when asked (network filesystems
  see no events for other hosts' writes).

watchfiles returns a batch once the set of changes stopped growing for one
`step`, so an append waits 1-2 steps: `step` is 3 ms (idle cost ≈ 0.6% of a
core, measured in bench/watch_latency.py). A watcher built with
`ignore_permission_denied=True` swallows *every* watch error, the watch limit
included, which is how a root used to go silently stale: it is never set here.
Degraded watching is never silent: it sets the "watch" condition, shown on
every page and in /api/health.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from watchfiles._rust_notify import RustNotify

from .conditions import Conditions
from .watch_plan import RUN_FILES, WatchPlan, plan, priority, reduce_events, run_dirs

log = logging.getLogger(__name__)

STEP_MS = 3
DEBOUNCE_MS = 40  # caps how long a continuous stream of writes can hold a batch back
FALLBACK_POLL_MS = 500  # polling interval when inotify cannot be used: a line trails by ≤ 0.5 s
CHECK_MS = 1000  # how often roots are checked and the set of runs rescanned
# How long one RustNotify.watch call may wait with nothing to report, so a rescan or stop is served this
# soon. Not a stop_event: watchfiles clears the changes it holds when its stop_event is set (src/lib.rs),
# and a rescan asked for by one run's new directory would drop another run's pending append.
WAKE_MS = 100
RETRY_S = 60.0  # a watcher cut short by the system retries the whole set this often
MAX_WATCHES_PATH = "/proc/sys/fs/inotify/max_user_watches"


class Notifier(Protocol):
    def watch(self, debounce_ms: int, step_ms: int, timeout_ms: int, stop_event: Any) -> Any: ...
    def close(self) -> None: ...


# RustNotify(watch_paths, debug, force_polling, poll_delay_ms, recursive, ignore_permission_denied)
NotifierFactory = Callable[[list[str], bool, bool, int, bool, bool], Notifier]


def is_watch_limit(exc: BaseException) -> bool:
    """watchfiles' error for ENOSPC from inotify_add_watch (notify's `MaxFilesWatch`)."""
    text = str(exc)
    return "MaxFilesWatch" in text or "watch limit" in text.lower()


def system_watch_limit() -> int | None:
    try:
        return int(Path(MAX_WATCHES_PATH).read_text())
    except (OSError, ValueError):
        return None




class RunsWatcher:
    """Watches `roots`; `on_change(runs)` is called on a watcher thread for runs whose files changed,
    `on_found(runs)` for runs that became watched after they may have been written (catch up on them)."""

    def __init__(
        self, roots: Sequence[Path], on_change: Callable[[set[str]], None], on_found: Callable[[set[str]], None],
        conditions: Conditions, *, max_watches: int | None = None, poll_ms: int | None = None,
        step_ms: int = STEP_MS, debounce_ms: int = DEBOUNCE_MS, factory: NotifierFactory = RustNotify,
    ) -> None:
        self.roots = [str(r) for r in roots]
        self._root_set = frozenset(self.roots)
        self._on_change, self._on_found = on_change, on_found
        self._conditions = conditions
        self._max_watches, self._poll_ms = max_watches, poll_ms
        self._step_ms, self._debounce_ms = step_ms, debounce_ms
        self._factory = factory
        self.plan = WatchPlan()
        self._stop = threading.Event()
        self._rescan = threading.Event()  # the set of runs may have changed: rescan, rebuild if it did
        self._polled_changed = threading.Event()
        # Set once the first watches are in place: a write from then on raises an event (one before may not).
        self.watching = threading.Event()
        self._kernel_cap: int | None = None  # paths that fit under the system's limit, once it was hit
        self._unavailable: str | None = None  # why inotify could not be used
        self._built_at = 0.0
        self._threads: list[threading.Thread] = []

    @property
    def mode(self) -> str:
        return self.plan.mode

    @property
    def watches(self) -> int:
        return len(self.plan.native)

    def start(self) -> None:
        for name, target in (("windtunnel-watcher", self._native_loop), ("windtunnel-poller", self._poll_loop)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self._rescan.set()
        self._polled_changed.set()
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    # -- the native thread ---------------------------------------------------------------------------

    def _native_loop(self) -> None:
        native: Notifier | None = None
        identity: dict[str, tuple[int, int]] = {}
        dirs: list[str] = []
        checked = 0.0
        while not self._stop.is_set():
            if self._rescan.is_set() or time.monotonic() - checked >= CHECK_MS / 1000:
                self._rescan.clear()
                checked = time.monotonic()
                present = self._present_roots()
                seen = {r: _identity(r) for r in present}
                found = sorted(d for r in present for d in run_dirs(r))
                if seen != identity or found != dirs or self._retry_due():
                    native = self._rebuild(native, present, found)
                    identity, dirs = seen, found
                self.watching.set()
            if native is None:
                self._rescan.wait(CHECK_MS / 1000)
                continue
            try:
                result = native.watch(self._debounce_ms, self._step_ms, WAKE_MS, None)
            except Exception as exc:  # noqa: BLE001 - e.g. "error in underlying watcher": rebuild, never die
                log.warning("file watching failed (%s); rebuilding the watcher", exc)
                native.close()
                native, identity = None, {}
                self._stop.wait(0.5)
                continue
            if isinstance(result, set):
                self._handle(result)
        if native is not None:
            native.close()

    def _present_roots(self) -> list[str]:
        present = [r for r in self.roots if os.path.isdir(r)]
        missing = [r for r in self.roots if r not in present]
        if missing:
            self._conditions.set(
                "runs_root",
                f"The runs folder {', '.join(missing)} is missing: the runs shown are as last seen.",
                "Mount or restore it; the dashboard resumes by itself when it is back.",
            )
        else:
            self._conditions.clear("runs_root")
        return present

    def _retry_due(self) -> bool:
        """A watcher cut short by the system (limit, no inotify) tries the whole set again now and then."""
        degraded = self._kernel_cap is not None or self._unavailable is not None
        return degraded and time.monotonic() - self._built_at > RETRY_S

    def _rebuild(self, old: Notifier | None, roots: list[str], dirs: list[str]) -> Notifier | None:
        """A watcher for the current runs; the old one is drained of what it caught meanwhile, then closed."""
        if self._retry_due():
            self._kernel_cap = self._unavailable = None
        self._built_at = time.monotonic()
        native: Notifier | None = None
        if self._poll_ms is not None or self._unavailable is not None:
            new_plan = WatchPlan((), tuple(roots + dirs))
        else:
            wanted = plan(roots, dirs, _min(self._max_watches, self._kernel_cap))
            native, watched = self._fit(list(wanted.native))
            kept = set(watched)
            rest = [p for p in wanted.native if p not in kept]
            new_plan = WatchPlan(tuple(watched), tuple(sorted(rest)) + wanted.polled)
        if old is not None:
            self._drain(old)
        before = set(self.plan.native) | set(self.plan.polled)
        polled_changed = new_plan.polled != self.plan.polled
        self._report(new_plan)
        self.plan = new_plan
        if polled_changed:
            self._polled_changed.set()
        added = {os.path.basename(p) for p in set(new_plan.native) | set(new_plan.polled)
                 if p not in before and p not in self._root_set}
        if added and before:  # the first build is caught up by the engine's own start-up sweep
            self._on_found(added)
        return native

    def _drain(self, old: Notifier) -> None:
        try:
            result = old.watch(self._debounce_ms, 1, 1, None)
        except Exception:  # noqa: BLE001 - a broken old watcher has nothing left to give
            result = None
        old.close()
        if isinstance(result, set):
            self._handle(result)

    def _fit(self, paths: list[str]) -> tuple[Notifier | None, list[str]]:
        """An inotify watcher over as many of `paths` (in priority order) as the system allows."""
        for _ in range(3):
            try:
                return self._native(paths), paths
            except (FileNotFoundError, PermissionError):  # a run directory vanished or is unreadable
                paths = [p for p in paths if os.access(p, os.R_OK | os.X_OK)]
            except OSError as exc:
                if not is_watch_limit(exc):
                    return self._give_up(exc)
                return self._search(paths)
            except Exception as exc:  # noqa: BLE001 - watchfiles' "Error creating recommended watcher"
                return self._give_up(exc)
        return self._give_up(OSError("run directories keep vanishing"))

    def _search(self, paths: list[str]) -> tuple[Notifier | None, list[str]]:
        """The most paths that fit under the system's watch limit: roots first, then the likeliest runs."""
        roots = [p for p in paths if p in self._root_set]
        paths = roots + sorted((p for p in paths if p not in self._root_set), key=priority)
        best: Notifier | None = None
        low, high = 0, len(paths)  # paths[:low] fit, paths[:high] do not
        while high - low > 1:
            middle = (low + high) // 2
            try:
                candidate = self._native(paths[:middle])
            except Exception:  # noqa: BLE001 - the limit, or a run vanishing meanwhile: fewer, then
                high = middle
                continue
            if best is not None:
                best.close()
            best, low = candidate, middle
        self._kernel_cap = low
        return best, paths[:low]

    def _native(self, paths: list[str]) -> Notifier:
        notifier = self._factory(paths, False, False, FALLBACK_POLL_MS, False, False)
        if repr(notifier).startswith("RustNotify(Poll("):  # watchfiles fell back to polling by itself (ENOSYS)
            notifier.close()
            raise OSError(38, "inotify is not implemented here")
        return notifier

    def _give_up(self, exc: BaseException) -> tuple[None, list[str]]:
        self._unavailable = str(exc) or type(exc).__name__
        return None, []

    def _report(self, new_plan: WatchPlan) -> None:
        """The "watch" condition: set while anything is polled for want of inotify, never for `poll_ms`."""
        if not new_plan.polled or self._poll_ms is not None:
            self._conditions.clear("watch")
        elif self._unavailable is not None:
            self._conditions.set(
                "watch",
                f"File events are unavailable here ({self._unavailable}): every run is polled, "
                f"so updates may trail by up to {_seconds(FALLBACK_POLL_MS)}.",
                "Put the runs folder on a local filesystem, or set WINDTUNNEL_WATCH_POLL_MS to choose the interval.",
            )
        else:
            cause = "the system's limit" if self._kernel_cap is not None else f"WINDTUNNEL_MAX_WATCHES={self._max_watches}"
            self._conditions.set(  # no counts in the text: it is logged again only when it changes
                "watch",
                f"File watches ran out ({cause}): runs beyond that are polled, "
                f"so their updates may trail by up to {_seconds(FALLBACK_POLL_MS)}.",
                f"Raise fs.inotify.max_user_watches (now {system_watch_limit() or '?'}; "
                "e.g. sysctl -w fs.inotify.max_user_watches=524288) and WINDTUNNEL_MAX_WATCHES if set.",
            )

    # -- the poll thread -----------------------------------------------------------------------------

    def _poll_loop(self) -> None:
        """Stat what inotify does not watch, every interval. Not watchfiles' PollWatcher: it compares
        mtimes in whole seconds, so a second append within the same second would wait for a later write."""
        interval = (self._poll_ms if self._poll_ms is not None else FALLBACK_POLL_MS) / 1000
        seen: dict[str, Any] = {}
        while not self._stop.is_set():
            self._polled_changed.clear()
            now = {path: _signature(path, path in self._root_set) for path in self.plan.polled}
            fresh = {os.path.basename(p) for p in now if p not in seen and p not in self._root_set}
            changed = [p for p, signature in now.items() if p in seen and seen[p] != signature]
            runs: set[str] = set()
            for path in changed:
                if path in self._root_set:  # runs appeared or went: poll them, and re-plan
                    runs |= now[path] ^ seen[path]
                    self._rescan.set()
                else:
                    runs.add(os.path.basename(path))
            seen = now
            if fresh:  # newly polled: whatever happened before the first look is caught up
                self._on_found(fresh)
            if runs:
                self._on_change(runs)
            self._polled_changed.wait(interval)

    # -- both threads --------------------------------------------------------------------------------

    def _handle(self, changes: set[tuple[int, str]]) -> None:
        events = reduce_events(self._root_set, changes)
        if events.structure:
            self._rescan.set()
        if events.runs:
            self._on_change(events.runs)


def _signature(path: str, is_root: bool) -> Any:
    """What polling compares: a root's run names, or a run's files' (inode, size, mtime in ns)."""
    if is_root:
        return frozenset(os.path.basename(d) for d in run_dirs(path))
    stats: list[tuple[int, int, int] | None] = []
    for name in RUN_FILES:
        try:
            st = os.stat(os.path.join(path, name))
        except OSError:
            stats.append(None)
            continue
        stats.append((st.st_ino, st.st_size, st.st_mtime_ns))
    return tuple(stats)


def _identity(path: str) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return (0, 0)
    return (st.st_dev, st.st_ino)


def _min(*values: int | None) -> int | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def _seconds(ms: int) -> str:
    return f"{ms / 1000:g} s"
