"""The engine: watcher → tailers → catalog → hub, one per process (docs/design.md §1, §4).

File events are handled on the watcher's own thread, which polls the changed
runs right there: an append reaches the catalog without waiting for the event
loop, which only hears of the commit (hub.publish). Everything else that
ingests (a run asked for before the watcher saw it, the sweep, the rest of a
big backlog) goes through one ingest thread. One lock serialises every poll,
so SQLite sees a single writer and the event loop never blocks on files or the
database. A sweep every `sweep_s` catches what events cannot: directories that
appeared before the watch, runs going stalled, runs deleted from disk.

With several workers (docs/design.md §7) only the elected leader (leadership.py)
watches, ingests and sweeps; it broadcasts each change (broadcast.py), and the
other workers wake their hubs without a snapshot, so their readers pull from
the catalog. A leader that loses its lock stops at once and drops its tailers:
whoever leads next resumes from the offsets committed in the catalog, and
announces each run on its first poll (its predecessor may have died between a
commit and its broadcast).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

from sqlalchemy.exc import DBAPIError, OperationalError

from windtunnel_dash.artifacts import layout
from windtunnel_dash.settings import Settings

from ..catalog import Catalog
from ..catalog.database import CORRUPT, ensure_schema, fault_of, remove_sqlite, sqlite_file
from ..catalog.rows import InstanceDetail, RunRow
from ..catalog.writes import delete_run
from .broadcast import Change, coordination_for
from .catalog_guard import CatalogGuard
from .conditions import Conditions
from .hub import Hub
from .leadership import catalog_reachable, catalog_unreachable
from .sqlite_tailer import tailer_class
from .tailer import RunTailer, TailResult
from .watch_plan import run_dirs
from .watcher import RunsWatcher

log = logging.getLogger(__name__)

POLL_BUDGET_S = 0.5  # a run with a huge backlog yields the ingest thread this often
FOLLOWER_WAIT_S = 3.0  # how long a worker that does not ingest waits for the leader to catalog a new run
RESTART_S = (0.5, 10.0)  # a pipeline that died is restarted after this pause, doubling up to the second


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


class Pipeline:
    """This process's live pipeline: watcher, tailers, catalog and hub, plus leadership and broadcast in a
    cluster (docs/design.md §1, §7). Named apart from SQLAlchemy's Engine, which `catalog.engine` is."""

    def __init__(self, settings: Settings, *, sweep_s: float = 1.0) -> None:
        self.settings = settings
        self.conditions = Conditions()  # what is wrong right now: shown on every page and in /api/health
        self.catalog = open_catalog(settings)
        self._guard = CatalogGuard(self.catalog.engine, settings.db_url, self.conditions)  # under the ingest lock
        self.hub = Hub(self.catalog, max_per_s=settings.max_updates_per_s)
        self.sweep_s = sweep_s
        self.leadership, self.broadcast = coordination_for(settings, self.conditions)
        # This worker ingests right now; the sole process always may, even before `run` (tests, look-ups).
        self.leading = not self.leadership.contested
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="windtunnel-ingest")
        self._parse_pool: ProcessPoolExecutor | None = None  # made when this worker first leads
        self._commit_thread = ThreadPoolExecutor(1, thread_name_prefix="windtunnel-commit")
        self._tailers: dict[str, RunTailer] = {}  # touched only under the ingest lock
        self._known: set[str] = set()  # runs the catalog holds (loop side)
        # Runs this worker has published since it last became the leader (loop side): a leader killed between a
        # commit and its broadcast leaves the others behind, and a run that has gone quiet commits nothing more
        # that would wake them, so a new leader announces its first poll of each run, changed or not.
        self._announced: set[str] = set()
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

    def ingesting(self) -> list[str]:
        """The runs this worker ingests now: every run while it leads, none otherwise."""
        return sorted(self._known) if self.leading else []

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
                catalog_reachable(self.conditions)
            except Exception as exc:  # one broken run must not stop the others
                self._tailers.pop(run_id, None)  # its next poll starts from what the catalog holds
                if isinstance(exc, DBAPIError) and self._is_unreachable(exc):  # said once, not per run
                    catalog_unreachable(self.conditions, self.settings.db_url, exc.orig or exc)
                elif not self._guard.note(exc):
                    log.exception("ingesting run %s failed", run_id)
                return None
            if result is not None and result.changed:
                self._guard.wrote()
        if result is None:
            return None
        return result, (self.catalog.run_row_from_values(run_id, result.run) if result.run else None)

    def _is_unreachable(self, exc: DBAPIError) -> bool:
        """A database server that went away (not a broken run): every run waits for it alike."""
        return exc.connection_invalidated or (isinstance(exc, OperationalError) and
                                              self.catalog.engine.dialect.name != "sqlite")

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
        announce = self.leadership.contested and run_id not in self._announced
        if result.gone:
            self._announced.discard(run_id)
            if run_id in self._known:
                self._known.discard(run_id)
                self._stalled.discard(run_id)
                self.hub.forget(run_id)
                self.broadcast.send(Change(run_id, gone=True))
        elif result.changed or announce or run_id not in self._known:
            self._announced.add(run_id)
            self._known.add(run_id)
            self.hub.publish(run_id, result.head, run=run, fresh=result.fresh, generation=result.generation,
                             reset=result.reset)
            self.broadcast.send(Change(run_id, result.head, result.generation, run=result.run, rows=result.fresh))
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
        """Is `run_id` a run? A directory the watcher has not reported yet is ingested now (docs/design.md §4)."""
        if not layout.is_safe_run_id(run_id):
            return False
        if run_id in self._known:
            return True
        if await asyncio.to_thread(self._run_dir, run_id) is None:
            return False
        if not self.leading:
            return await self._leader_catalogs(run_id)
        await self.ingest(run_id)
        return run_id in self._known

    async def _leader_catalogs(self, run_id: str, timeout: float = FOLLOWER_WAIT_S) -> bool:
        """A worker that does not ingest waits (briefly) for the leader to catalog a run found on disk."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        version = self.hub.version
        while await asyncio.to_thread(self.catalog.get_run, run_id) is None:
            if loop.time() >= deadline:
                return False
            version = await self.hub.wait_changed(version, deadline - loop.time())
        self._known.add(run_id)
        return True

    async def find_instance(self, run_id: str, instance_id: str) -> InstanceDetail | None:
        """One instance, or None. One the catalog lacks may be a line written a moment ago, before
        its file event was handled: the run's files are read up to date before the answer is no (docs/design.md §4)."""
        detail = await asyncio.to_thread(self.catalog.get_instance, run_id, instance_id)
        if detail is None and await self.ensure_run(run_id):
            if self.leading:
                await self.ingest(run_id)
            else:  # the leader may be committing it right now: one more look after its next change
                await self.hub.wait_changed(self.hub.version, FOLLOWER_WAIT_S)
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
                self.broadcast.send(Change(run_id, self.hub.head(run_id)))

    async def run(self) -> None:
        """The engine's life: the catalog opened, then ingest whenever this worker leads, broadcasts heard
        whenever it does not. A part that dies is restarted (`_supervised`): a worker never goes on
        serving pages that have silently stopped moving."""
        self._loop = asyncio.get_running_loop()
        try:
            await self._supervised("catalog", self._open_catalog)
            listener = asyncio.create_task(self._supervised(
                "broadcast listener", lambda: self.broadcast.run(self._on_broadcast, self._resync)))
            try:
                await self._supervised("ingest pipeline", self._lead_when_elected)
            finally:
                listener.cancel()
                await asyncio.gather(listener, return_exceptions=True)
        finally:
            self._loop = None

    async def _supervised(self, name: str, start: Callable[[], Awaitable[None]]) -> None:
        """Run `start()` until it returns; when it raises, say so and start it again after a growing pause."""
        pause, longest = RESTART_S
        while True:
            try:
                return await start()
            except Exception as exc:  # noqa: BLE001 - anything but cancellation restarts the part
                log.exception("the %s died; restarting it in %.1f s", name, pause)
                self.conditions.set("pipeline", f"The {name} stopped ({type(exc).__name__}: {exc}); restarting it.")
                await asyncio.sleep(pause)
                pause = min(pause * 2, longest)

    async def _open_catalog(self) -> None:
        """Create or migrate the schema (once, under a lock); while the database is down, say so and retry."""
        while True:
            try:
                if sqlite_file(self.settings.db_url) is None:  # a SQLite file's was made by open_catalog
                    await asyncio.to_thread(ensure_schema, self.catalog.engine)
                self._known = await asyncio.to_thread(self.catalog.run_ids)
                catalog_reachable(self.conditions)
                return
            except OperationalError as exc:
                catalog_unreachable(self.conditions, self.settings.db_url, exc.orig or exc)
                await asyncio.sleep(1.0)

    async def _lead_when_elected(self) -> None:
        """Forever: wait to be elected, then watch, ingest and sweep until the leadership is lost."""
        while True:
            await self.leadership.acquire()
            self._announced.clear()  # before `leading`: every settle from here on is this term's
            self.leading = True
            self.conditions.clear("pipeline")
            log.info("this worker (%s) now ingests", self.leadership.holder)
            try:
                lost = asyncio.create_task(self.leadership.hold())
                pipeline = asyncio.create_task(self._ingest_all())
                done, _ = await asyncio.wait((lost, pipeline), return_when=asyncio.FIRST_COMPLETED)
                for task in (lost, pipeline):
                    task.cancel()
                await asyncio.gather(lost, pipeline, return_exceptions=True)
                if pipeline in done:
                    pipeline.result()  # a pipeline that died raises here: the supervisor restarts it
                log.warning("this worker (%s) lost the ingest leadership", self.leadership.holder)
            finally:
                self.leading = not self.leadership.contested
                await asyncio.to_thread(self._drop_tailers)
                for run_id in self._known:  # polls that ended meanwhile committed without telling anyone
                    self.broadcast.send(Change(run_id, self.hub.head(run_id)))
                await self.leadership.release()

    def _drop_tailers(self) -> None:
        """Forget every tailer (after any poll in flight): the next leader resumes from the catalog."""
        with self._ingest_lock:
            self._tailers.clear()
            self._dirty.clear()

    async def _ingest_all(self) -> None:
        """Watcher started, then everything on disk ingested; the sweep until cancelled or the drain dies."""
        if self._parse_pool is None:
            self._parse_pool = await asyncio.to_thread(parse_pool)
        self._known = await asyncio.to_thread(self.catalog.run_ids)
        watcher = self.watcher = RunsWatcher(
            self.roots, self._on_files_changed, self._on_runs_found, self.conditions,
            max_watches=self.settings.max_watches, poll_ms=self.settings.watch_poll_ms,
        )
        watcher.start()
        drain = asyncio.create_task(self._drain(), name="windtunnel-ingest")
        self.mark_dirty(await asyncio.to_thread(self._dirs_on_disk) | self._known)
        caught_up = False
        try:
            while not drain.done():
                await self._sweep()
                await asyncio.sleep(self.sweep_s)
                if not caught_up and watcher.watching.is_set():
                    # Appends made before the first watches were in place raised no event: poll once more.
                    # Not after a fixed time: the watcher's thread may start late, or take long over many runs.
                    caught_up = True
                    self.mark_dirty(set(self._known))
            drain.result()  # the drain died: raise what killed it
        finally:
            drain.cancel()
            await asyncio.gather(drain, return_exceptions=True)
            await asyncio.to_thread(watcher.stop)
            self.watcher = None

    # -- following the leader (workers that do not ingest) ------------------------------------------

    def _on_broadcast(self, change: Change) -> None:
        """Another worker committed something (the leader, or a former leader's last commits): wake this
        worker's readers, served from the rows the message carries or pulling from the catalog."""
        if change.gone:
            self._known.discard(change.run_id)
            self.hub.forget(change.run_id)
            return
        self._known.add(change.run_id)
        run = None if change.run is None else self.catalog.run_row_from_values(change.run_id, change.run)
        self.hub.publish(change.run_id, change.head, run=run, fresh=change.rows, generation=change.generation)

    async def _resync(self) -> None:
        """After (re)connecting to the broadcast: what was missed meanwhile is read from the catalog."""
        known = await asyncio.to_thread(self.catalog.run_ids)
        for run_id in (self._known - known):
            self.hub.forget(run_id)
        self._known = known
        for run_id in known:
            self.hub.publish(run_id)

    def close(self) -> None:
        """Stop the ingest thread and parse workers (after `run` has ended)."""
        self._executor.shutdown(wait=True)
        self._commit_thread.shutdown(wait=True)
        if self._parse_pool is not None:
            self._parse_pool.shutdown(wait=True, cancel_futures=True)
        self.catalog.engine.dispose()


def open_catalog(settings: Settings) -> Catalog:
    """The catalog; a SQLite file too damaged to open is set aside and started afresh (no crash loop);
    a database server that is down is left to `run`, which says so and keeps trying."""
    catalog = Catalog(settings.db_url, stall_timeout_s=settings.stall_timeout_s, schema=False)
    try:
        ensure_schema(catalog.engine)
    except Exception as exc:
        path = sqlite_file(settings.db_url)
        if path is None and isinstance(exc, OperationalError):
            return catalog
        if path is None or fault_of(exc) != CORRUPT:
            raise
        log.warning("the catalog %s cannot be opened (%s): starting it afresh from the run files", path, exc)
        catalog.engine.dispose()
        remove_sqlite(path)
        ensure_schema(catalog.engine)
    return catalog


_engine: Pipeline | None = None


def get_engine() -> Pipeline:
    """The process's engine, built from the environment on first use."""
    global _engine
    if _engine is None:
        _engine = Pipeline(Settings.from_env())
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
