"""File events under the runs root, reduced to "these runs changed" (DESIGN.md §4 "Cadence").

watchfiles releases a batch one `step` after changes stop growing, so `step`
is the latency every append pays: 10 ms here instead of the default 50.
`debounce` caps how long a continuous stream of writes can hold a batch back.
Only the files a run is made of count; per-instance artifacts do not wake the
tailer. The watch runs on its own thread (watchfiles' blocking `watch`), so a
change is handled without first waiting for the event loop.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from watchfiles import watch

from windtunnel_dash.artifacts import layout

log = logging.getLogger(__name__)

STEP_MS = 10
DEBOUNCE_MS = 40
POLL_DELAY_MS = 100  # only when native file events fail
RUN_FILES = frozenset((layout.MANIFEST, layout.SUMMARY, *layout.LINE_FILES, *layout.DATABASE_FILES))


def run_of(root: str, path: str) -> str | None:
    """The run id a changed path belongs to, if it is a run directory itself or one of its files."""
    rel = os.path.relpath(path, root)
    if rel.startswith(".."):
        return None
    parts = rel.split(os.sep)
    if len(parts) == 1 and parts[0] != ".":
        return parts[0]
    if len(parts) == 2 and parts[1] in RUN_FILES:
        return parts[0]
    return None


def watch_runs(root: Path, on_change: Callable[[set[str]], None], stop: threading.Event, *,
               step_ms: int = STEP_MS, debounce_ms: int = DEBOUNCE_MS, retry_s: float = 0.5,
               poll_ms: int | None = None) -> None:
    """Call `on_change(run_ids)` (on this thread) for every batch of file events until `stop` is set.

    A missing or vanished root is waited for; the engine's sweep ingests what was there meanwhile.
    `poll_ms` polls from the start (shared storage delivers no events for other hosts' writes).
    """
    root_str = str(root)
    polling = poll_ms is not None  # also after a failure (e.g. the inotify watch limit)
    while not stop.is_set():
        if not root.is_dir():
            stop.wait(retry_s)
            continue
        try:
            for changes in watch(root, step=step_ms, debounce=debounce_ms, watch_filter=None, recursive=True,
                                 ignore_permission_denied=True, stop_event=stop, raise_interrupt=False,
                                 force_polling=polling, poll_delay_ms=poll_ms or POLL_DELAY_MS):
                runs = {run for _, path in changes if (run := run_of(root_str, path)) is not None}
                if runs:
                    on_change(runs)
        except Exception as exc:  # noqa: BLE001 - the watcher must outlive anything one batch throws
            gone = isinstance(exc, FileNotFoundError)  # the root went away: wait for it as before
            polling = polling or not gone
            log.warning("watching %s stopped (%s); retrying%s", root, exc, " by polling" if polling else "")
            stop.wait(retry_s)
