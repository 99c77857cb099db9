"""The engine: watcher → tailers → catalog → hub, one per process (DESIGN.md §1, §4).

File events are handled on the watcher's own thread, which polls the changed
runs right there: an append reaches the catalog without waiting for the event
loop, which only hears of the commit (hub.publish). Everything else that
ingests (a run asked for before the watcher saw it, the sweep, the rest of a
big backlog) goes through one ingest thread. One lock serialises every poll,
so SQLite sees a single writer and the event loop never blocks on files or the
database. A sweep every `sweep_s` catches what events cannot: directories that
appeared before the watch, runs going stalled, runs deleted from disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

from windtunnel_dash.artifacts import layout
from windtunnel_dash.settings import Settings

from ..catalog import Catalog
from ..catalog.database import CORRUPT, fault_of, remove_sqlite, sqlite_file
from ..catalog.rows import InstanceDetail, RunRow
from ..catalog.writes import delete_run
from .catalog_guard import CatalogGuard
from .conditions import Conditions
from .hub import Hub
from .sqlite_tailer import tailer_class
from .tailer import RunTailer, TailResult
from .watch_plan import run_dirs
from .watcher import RunsWatcher

log = logging.getLogger(__name__)

POLL_BUDGET_S = 0.5  # a run with a huge backlog yields the ingest thread this often


def parse_pool() -> ProcessPoolExecutor | None:
    """Worker processes that parse big backlogs while the ingest thread commits; None on one core.

    `spawn` because the app process has threads, and a forked child could inherit a held lock.
    """
    cores = os.cpu_count() or 1
    if cores < 2:
        return None
    workers = min(4, cores)
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    for _ in range(workers):  # start them all now (one per waiting task), not in the middle of the first backlog
        pool.submit(time.sleep, 0.2)
    return pool


class Engine:
    def __init__(self, settings: Settings, *, sweep_s: float = 1.0) -> None:
        self.settings = settings
        self.conditions = Conditions()  # what is wrong right now: shown on every page and in /api/health
        self.catalog = open_catalog(settings)
        self._guard = CatalogGuard(self.catalog.engine, settings.db_url, self.conditions)  # under the ingest lock
        self.hub = Hub(self.catalog, max_per_s=settings.max_updates_per_s)
        self.sweep_s = sweep_s
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="windtunnel-ingest")
        self._parse_pool = parse_pool()
        self._commit_thread = ThreadPoolExecutor(1, thread_name_prefix="windtunnel-commit")
        self._tailers: dict[str, RunTailer] = {}  # touched only under the ingest lock
        self._known: set[str] = set()  # runs the catalog holds (loop side)
        self._stalled: set[str] = set()
        self._dirty: dict[str, None] = {}  # an ordered set: runs get their turns round-robin
        self._wake = asyncio.Event()
        self._ingesting = False  # the drain is polling a run right now
        self._ingest_lock = threading.Lock()  # one poll at a time, whichever thread runs it
        self._loop: asyncio.AbstractEventLoop | None = None
        self.watcher: RunsWatcher | None = None  # while `run` runs
        # Where runs are: the runs root, and with DEMO on the demo runs folder in the data dir beside it
        # (docs/design.md §10). Run ids are unique across roots; one in both is the runs root's.
        self.roots: list[Path] = [settings.runs_dir]
        if settings.demo:
            settings.demo_runs_dir.mkdir(parents=True, exist_ok=True)
            self.roots.append(settings.demo_runs_dir)

    @property
    def root(self) -> Path:
        return self.settings.runs_dir

    @property
    def watch_mode(self) -> str:
        """How file changes are noticed: "inotify", "polling" or "mixed" (some runs polled)."""
        return self.watcher.mode if self.watcher is not None else "inotify"

    def _roots_present(self) -> bool:
        """While a root is missing (unmounted, renamed away) its runs are held as last seen, not deleted."""
        return all(root.is_dir() for root in self.roots)

    def _run_dir(self, run_id: str) -> Path | None:
        for root in self.roots:
            if (path := layout.run_dir(root, run_id)) is not None:
                return path
        return None

    # -- ingest (one poll at a time) -----------------------------------------------------------------

    def _poll(self, run_id: str) -> tuple[TailResult, RunRow | None] | None:
        """Bring one run's rows up to its files (any thread, one at a time); None when it is not a run.

        Also returns the run as it now stands, so the hub can serve readers at the head without a query.
        """
        with self._ingest_lock:
            if self._guard.fault is not None:  # paused until the catalog works again (the sweep retries it)
                return None
            try:
                result = self._poll_locked(run_id)
            except Exception as exc:  # one broken run must not stop the others
                self._tailers.pop(run_id, None)  # its next poll starts from what the catalog holds
                if not self._guard.note(exc):
                    log.exception("ingesting run %s failed", run_id)
                return None
            if result is not None and result.changed:
                self._guard.wrote()
        if result is None:
            return None
        return result, (self.catalog.run_row_from_values(run_id, result.run) if result.run else None)

    def _poll_locked(self, run_id: str) -> TailResult | None:
        tailer = self._tailers.get(run_id)
        if tailer is None:
            path = self._run_dir(run_id)
            if path is None:
                if not self._roots_present():
                    return None
                if run_id in self._known or not any((root / run_id).exists() for root in self.roots):
                    delete_run(self.catalog.engine, run_id)
                    return TailResult(changed=True, gone=True)
                return None
            tailer = self._tailers[run_id] = tailer_class(path)(
                run_id, path, self.catalog.engine, self._parse_pool, self._commit_thread
            )
        result = tailer.poll(POLL_BUDGET_S)
        if result.gone:
            del self._tailers[run_id]
            if not self._roots_present():
                return None
            delete_run(self.catalog.engine, run_id)
        return result

    def _settle(self, run_id: str, polled: tuple[TailResult, RunRow | None] | None) -> None:
        """On the event loop: record what a poll did and tell the hub."""
        if polled is None:
            return
        result, run = polled
        if result.gone:
            if run_id in self._known:
                self._known.discard(run_id)
                self._stalled.discard(run_id)
                self.hub.forget(run_id)
        elif result.changed or run_id not in self._known:
            self._known.add(run_id)
            self.hub.publish(run_id, result.head, run=run, fresh=result.fresh, generation=result.generation,
                             reset=result.reset)
        if result.more:
            self.mark_dirty({run_id})

    async def ingest(self, run_id: str) -> TailResult | None:
        """Poll one run on the ingest thread and tell the hub what changed."""
        polled = await asyncio.get_running_loop().run_in_executor(self._executor, self._poll, run_id)
        self._settle(run_id, polled)
        return polled[0] if polled else None

    def _on_files_changed(self, run_ids: set[str]) -> None:
        """On the watcher thread: poll the runs whose files changed, then hand the results to the loop."""
        loop = self._loop
        for run_id in run_ids:
            if layout.is_safe_run_id(run_id) and loop is not None:
                polled = self._poll(run_id)
                with contextlib.suppress(RuntimeError):  # the loop closed: the engine is stopping
                    loop.call_soon_threadsafe(self._settle, run_id, polled)

    def _on_runs_found(self, run_ids: set[str]) -> None:
        """On the watcher thread: runs that became watched after they may have been written; ingest them."""
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self.mark_dirty, run_ids)

    def mark_dirty(self, run_ids: set[str]) -> None:
        self._dirty.update(dict.fromkeys(r for r in run_ids if layout.is_safe_run_id(r)))
        self._wake.set()

    async def _drain(self) -> None:
        while True:
            self._wake.clear()
            while self._dirty:
                run_id = next(iter(self._dirty))
                del self._dirty[run_id]
                self._ingesting = True
                try:
                    await self.ingest(run_id)
                finally:
                    self._ingesting = False
            await self._wake.wait()

    # -- discovery -----------------------------------------------------------------------------------

    def _dirs_on_disk(self) -> set[str]:
        return {os.path.basename(path) for root in self.roots for path in run_dirs(str(root))}

    async def ensure_run(self, run_id: str) -> bool:
        """Is `run_id` a run? A directory the watcher has not reported yet is ingested now (DESIGN §4)."""
        if not layout.is_safe_run_id(run_id):
            return False
        if run_id in self._known:
            return True
        if await asyncio.to_thread(self._run_dir, run_id) is None:
            return False
        await self.ingest(run_id)
        return run_id in self._known

    async def find_instance(self, run_id: str, instance_id: str) -> InstanceDetail | None:
        """One instance, or None. One the catalog lacks may be a line written a moment ago, before
        its file event was handled: the run's files are read up to date before the answer is no (DESIGN §4)."""
        detail = await asyncio.to_thread(self.catalog.get_instance, run_id, instance_id)
        if detail is None and await self.ensure_run(run_id):
            await self.ingest(run_id)
            detail = await asyncio.to_thread(self.catalog.get_instance, run_id, instance_id)
        return detail

    def _check_catalog(self) -> bool:
        """A deleted or faulty catalog noticed or retried; True when ingest resumes (every run is then re-read).

        Skipped while a poll holds the lock: the sweep must not wait behind a big backlog."""
        if not self._ingest_lock.acquire(blocking=False):
            return False
        try:
            resumed = self._guard.check()
            if resumed:
                self._tailers.clear()  # they hold offsets and keys of a catalog that is gone or was not written
            return resumed
        finally:
            self._ingest_lock.release()

    def _survey(self) -> tuple[bool, set[str], bool]:
        """In a thread: has ingest resumed after a catalog fault, the run directories on disk, are all roots there?"""
        return self._check_catalog(), self._dirs_on_disk(), self._roots_present()

    async def _sweep(self) -> None:
        """Catch what file events miss: new or vanished directories, runs turning stalled, catalog faults."""
        resumed, on_disk, roots_present = await asyncio.to_thread(self._survey)
        if resumed:
            self.mark_dirty(self._known | on_disk)
        elif self._guard.refilling and not self._dirty and not self._ingesting:
            self._guard.refilled()
        vanished = self._known - on_disk if roots_present else set()
        self.mark_dirty((on_disk - self._known) | vanished)
        now, stall = time.time(), self.settings.stall_timeout_s
        for run_id in list(self._known):
            tailer = self._tailers.get(run_id)
            if tailer is None or tailer.complete:
                continue
            stalled = now - tailer.last_modified > stall
            if stalled != (run_id in self._stalled):
                (self._stalled.add if stalled else self._stalled.discard)(run_id)
                self.hub.publish(run_id)

    async def run(self) -> None:
        """The engine's life: catalog pruned to the root, watcher started, then everything on disk ingested."""
        self._loop = asyncio.get_running_loop()
        self._known = await asyncio.to_thread(self.catalog.run_ids)
        watcher = self.watcher = RunsWatcher(
            self.roots, self._on_files_changed, self._on_runs_found, self.conditions,
            max_watches=self.settings.max_watches, poll_ms=self.settings.watch_poll_ms,
        )
        watcher.start()
        drain = asyncio.create_task(self._drain(), name="windtunnel-ingest")
        self.mark_dirty(await asyncio.to_thread(self._dirs_on_disk) | self._known)
        try:
            while True:
                await self._sweep()
                await asyncio.sleep(self.sweep_s)
        finally:
            drain.cancel()
            await asyncio.gather(drain, return_exceptions=True)
            await asyncio.to_thread(watcher.stop)
            self._loop = None

    def close(self) -> None:
        """Stop the ingest thread and parse workers (after `run` has ended)."""
        self._executor.shutdown(wait=True)
        self._commit_thread.shutdown(wait=True)
        if self._parse_pool is not None:
            self._parse_pool.shutdown(wait=True, cancel_futures=True)
        self.catalog.engine.dispose()


def open_catalog(settings: Settings) -> Catalog:
    """The catalog; a SQLite file too damaged to open is set aside and started afresh (no crash loop)."""
    try:
        return Catalog(settings.db_url, stall_timeout_s=settings.stall_timeout_s)
    except Exception as exc:
        path = sqlite_file(settings.db_url)
        if path is None or fault_of(exc) != CORRUPT:
            raise
        log.warning("the catalog %s cannot be opened (%s): starting it afresh from the run files", path, exc)
        remove_sqlite(path)
        return Catalog(settings.db_url, stall_timeout_s=settings.stall_timeout_s)


_engine: Engine | None = None


def get_engine() -> Engine:
    """The process's engine, built from the environment on first use."""
    global _engine
    if _engine is None:
        _engine = Engine(Settings.from_env())
    return _engine


async def engine_lifespan() -> None:
    """Reflex lifespan task: runs the engine until the app shuts down (cancellation), then stops its workers."""
    global _engine
    engine = get_engine()
    try:
        await engine.run()
    finally:
        if _engine is engine:
            _engine = None
        await asyncio.to_thread(engine.close)
