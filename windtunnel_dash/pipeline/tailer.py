"""Tailing one run directory into the catalog (docs/design.md §4).

Reads each line file from its stored byte offset, only up to the last `\\n`
(a half-written line waits for its other half), and commits the parsed rows,
the run's running aggregates and the new offsets in one transaction. A file
that shrank or was replaced (inode changed) makes the run be rebuilt from 0.
A `summary.json` seen *before* a pass means that pass drains every file to its
end, so the run is marked complete only with everything written before the
summary. Not thread-safe by design: the engine runs one poll at a time.
Parsing a big backlog goes to worker processes (`parse_pool`) one chunk ahead
of the commit, and with a `commit_thread` each commit runs there while the next
batch is built (SQLite releases the GIL while it works), so both cores work on it.
A worker reads its block of the file itself: the ingest process only looks for the
line ends to cut at, and the block's bytes never cross the process boundary.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import Engine

from windtunnel_dash.artifacts import layout
from windtunnel_dash.artifacts.ingest_rows import (
    NEW_RUN_VALUES,
    RUN_LINE_VALUES,
    AssertionLineRow,
    InstanceLineRow,
    StepLineRow,
    fields_of,
    numbered_instances,
)
from windtunnel_dash.artifacts.reader import ManifestError, StepNumberer, read_manifest, read_summary
from windtunnel_dash.artifacts.records import Manifest, Step

from ..catalog import writes
from ..catalog.aggregate import RunAggregate
from ..catalog.rows import InstanceRow
from ..catalog.store import instance_row
from ..settings import LIVE_TAIL_ROWS
from ..timefmt import utc_iso
from .lineparse import Parsed, iso_epoch, parse_block, parse_file_block

CHUNK_BYTES = 2 << 20  # read per file per transaction: bounds memory and keeps the hub fed during a backfill
MAX_LINE = 32 << 20  # a longer line is skipped as unreadable instead of read (memory stays bounded)
UNREADABLE_LINE = b"\0\n"  # what such a line is parsed as: not JSON, so counted unreadable, never fatal
POOL_MIN_BYTES = 1 << 20  # smaller blocks (live appends, small runs) are parsed inline: no inter-process hop
PARSE_PARTS = 4  # a big chunk is parsed in up to this many blocks, spread over the pool's workers
CUT_WINDOW = 64 << 10  # bytes looked at for a line end to cut a worker's block at (longer lines: read here)
# Newest committed instances a poll hands the hub, so readers at the head skip a query: as many as the hub
# keeps, or a poll slowed down (a busy event loop holds the GIL) would hand it a gap and send its readers to the catalog.
FRESH = LIVE_TAIL_ROWS
_AGGREGATED = fields_of(InstanceLineRow, "scenario_id", "status", "duration_ms")  # what RunAggregate.add takes


@dataclass(frozen=True, slots=True)
class TailResult:
    """What one poll changed, for the hub."""

    changed: bool
    head: int = 0
    step_head: int = 0
    generation: int = 0
    complete: bool = False
    gone: bool = False  # the run directory (or every file of it) disappeared
    more: bool = False  # the time budget ran out before the files' ends: poll again
    run: dict[str, Any] | None = None  # the run's row as committed, when it changed
    fresh: tuple[InstanceRow, ...] = ()  # the newest committed instances (up to FRESH), ending at head
    reset: bool = False  # this poll rebuilt the run's rows from 0


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Parsing a chunk makes ~10^5 acyclic objects; cyclic-GC passes over them find nothing and cost ~15%."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Replaced(Exception):
    """A line file is shorter than its offset or is another file now: rebuild the run."""


@dataclass(slots=True)
class _Chunk:
    """Whole lines read from one file, being parsed."""

    name: str
    offset: tuple[int, int]  # (offset, inode) after these lines
    at_end: bool
    pieces: list[Future[Parsed]]  # in file order

    def parsed(self) -> Parsed:
        results = [piece.result() for piece in self.pieces]
        if None in results:  # a worker found another file there, or a shorter one
            raise _Replaced
        if len(results) == 1:
            return results[0]
        if any(r.unnumbered for r in results):  # older-layout steps: the tailer numbers every row, in file order
            results = [r.unstaged() for r in results]
        staged = [r.last for r in results if r.images]
        return Parsed([row for r in results for row in r.rows], sum(r.unreadable for r in results),
                      any(r.unnumbered for r in results), [image for r in results for image in r.images],
                      staged[-1] if staged else ())


def _submit(executor: Executor | None, fn: Any, *args: Any) -> Future:
    """`fn(*args)` on `executor`, or here and now without one; a future either way."""
    if executor is not None:
        return executor.submit(fn, *args)
    done: Future = Future()
    done.set_result(fn(*args))
    return done


def _blocks(f: Any, start: int, stop: int, parts: int) -> list[tuple[int, int]] | None:
    """About `parts` byte ranges of whole lines covering the file from `start` (a line start) to its last
    line end before `stop`; None when no line end is in the last CUT_WINDOW bytes (the caller reads it all)."""

    def window(at: int) -> bytes:
        return os.pread(f.fileno(), min(CUT_WINDOW, stop - at), at)

    low = max(start, stop - CUT_WINDOW)
    last = window(low).rfind(b"\n")
    if last < 0:
        return None
    end = low + last + 1
    blocks, begin = [], start
    for k in range(1, parts):
        at = start + (end - start) * k // parts
        cut = window(at).find(b"\n")
        if cut >= 0 and begin < at + cut + 1 < end:
            blocks.append((begin, at + cut + 1))
            begin = at + cut + 1
    blocks.append((begin, end))
    return blocks


def _stat_key(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def new_run_values(path: Path) -> dict[str, Any]:
    """The row of a run seen for the first time; start_key falls back to when its directory appeared."""
    seen = utc_iso(datetime.fromtimestamp(_mtime(path) or time.time(), UTC), "auto")
    return {**NEW_RUN_VALUES, "path": str(path), "start_key": seen}


def manifest_values(manifest: Manifest) -> dict[str, Any]:
    """The run-row values a manifest gives."""
    values: dict[str, Any] = {
        "manifest_error": None,
        "sut_name": manifest.sut_name,
        "scenario_ids": json.dumps(manifest.scenario_ids),
        "started_at": manifest.started_at,
        "planned": manifest.planned,
        "config": json.dumps(manifest.config, default=str),
    }
    if manifest.started_at:
        values["start_key"] = manifest.started_at
    return values


class RunTailer:
    """Tails one run directory; state survives restarts through the catalog (offsets + run row)."""

    METADATA_FILE = layout.MANIFEST  # a change to it re-reads the run's metadata (_manifest_values)
    FILES: tuple[str, ...] = (layout.MANIFEST, layout.SUMMARY, *layout.LINE_FILES)  # the newest mtime among them: the run's last change

    def __init__(
        self, run_id: str, path: Path, engine: Engine, parse_pool: Executor | None = None,
        commit_thread: Executor | None = None,
    ) -> None:
        self.run_id = run_id
        self.path = path
        self._engine = engine
        self._pool = parse_pool
        self._committer = commit_thread
        self._stage = engine.dialect.name == "sqlite"  # workers hand numbered rows over as database images
        self._key = writes.run_key(engine, run_id)
        stored = writes.load_run(engine, run_id)
        self._run: dict[str, Any] = stored.run or new_run_values(path)
        self._run.pop("run_id", None)
        self._run["path"] = str(path)
        self._offsets: dict[str, tuple[int, int]] = stored.offsets
        self._agg: RunAggregate | None = None  # loaded on the first new instance line
        self._numberer: StepNumberer | None = None  # made at the first step without step_index (older layout)
        self._manifest_key: tuple[int, int, int] | None = None  # None: read at the first poll
        self._manifest_completed_at: str | None = None
        self._summary_key: tuple[int, int, int] | None = None
        self._reset_pending = False
        self._fresh: list[tuple] = []  # the current poll's newest committed instance rows (FRESH at most)
        self._fresh_reset = False
        self._long_lines: dict[str, tuple[tuple[int, int], int]] = {}  # file → (line start, scanned up to)
        self._committing: Future | None = None  # the batch the commit thread is committing

    @property
    def complete(self) -> bool:
        return bool(self._run["complete"])

    @property
    def last_modified(self) -> float:
        return float(self._run["last_modified"])

    # -- the one entry point -------------------------------------------------------------------------

    def poll(self, budget_s: float | None = None) -> TailResult:
        """Bring the catalog up to the files, one transaction per chunk of lines.

        With `budget_s`, stops after the first commit past that many seconds (`more` is then
        true), so one huge backlog cannot hold up every other run behind it.
        """
        if not layout.is_run_dir(self.path):
            return TailResult(changed=False, gone=not self.path.is_dir())
        meta = self._read_metadata()
        deadline = None if budget_s is None else time.monotonic() + budget_s
        self._fresh = []
        self._fresh_reset = False
        while True:
            try:
                with _gc_paused():
                    changed, more = self._drain(meta, deadline)
                break
            except _Replaced:
                if not layout.is_run_dir(self.path):  # it went away mid-poll (deleted, or its root unmounted)
                    return TailResult(changed=False, gone=not self.path.is_dir())
                self._start_over()
        run = self._run
        if run["complete"]:  # a finished run rarely grows again: free its aggregates until it does
            self._agg = self._numberer = None
        return TailResult(
            changed, run["head"], run["step_head"], run["generation"], run["complete"], more=more,
            run=dict(run) if changed else None, reset=self._fresh_reset,
            fresh=tuple(instance_row(InstanceLineRow._make(row)) for row in self._fresh),
        )

    # -- metadata: manifest, summary, mtimes ---------------------------------------------------------

    def _read_metadata(self) -> dict[str, Any]:
        """Manifest and summary fields for the run row; files are re-read only when they changed."""
        values: dict[str, Any] = {}
        key = _stat_key(self.path / self.METADATA_FILE)
        if key != self._manifest_key:
            self._manifest_key = key
            values.update(self._manifest_values(key is not None))
        summary_path = self.path / layout.SUMMARY
        summary_key = _stat_key(summary_path)
        summary_values: dict[str, Any] = {}
        if summary_key is not None:
            if summary_key != self._summary_key:
                self._summary_key = summary_key
                summary = read_summary(self.path)
                completed_at = (summary and summary.completed_at) or utc_iso(
                    datetime.fromtimestamp(summary_key[2] / 1e9, UTC), "auto")
                summary_values = {"completed_at": completed_at, "duration_ms": summary and summary.duration_ms}
            else:
                summary_values = {"completed_at": self._run["completed_at"], "duration_ms": self._run["duration_ms"]}
        else:
            self._summary_key = None
            summary_values = {"completed_at": self._manifest_completed_at, "duration_ms": None}
        values.update(summary_values)
        values["complete"] = summary_key is not None or bool(self._manifest_completed_at)
        if values["complete"] and values["duration_ms"] is None:
            started = iso_epoch(values.get("started_at", self._run["started_at"]))
            ended = iso_epoch(values["completed_at"])
            if started is not None and ended is not None and ended >= started:
                values["duration_ms"] = (ended - started) * 1000.0
        values["last_modified"] = max([_mtime(self.path)] + [_mtime(self.path / n) for n in self.FILES])
        return values

    def _manifest_values(self, present: bool) -> dict[str, Any]:
        self._manifest_completed_at = None
        if not present:
            return {"manifest_error": None}
        try:
            manifest = read_manifest(self.path)
        except FileNotFoundError:
            return {"manifest_error": None}
        except (ManifestError, OSError) as exc:
            return {"manifest_error": str(exc) or "manifest.json cannot be read"}
        self._manifest_completed_at = manifest.completed_at
        return manifest_values(manifest)

    # -- lines ---------------------------------------------------------------------------------------

    def _start_over(self) -> None:
        """A file was truncated or replaced: every line of the run is read again from byte 0."""
        run = self._run
        run.update(RUN_LINE_VALUES, generation=run["generation"] + 1)
        self._offsets = {name: (0, 0) for name in layout.LINE_FILES}
        self._agg = RunAggregate()
        self._numberer = None
        self._reset_pending = True

    def _read_chunk(
        self, name: str, stored: tuple[int, int],
    ) -> tuple[bytes | list[tuple[int, int]], tuple[int, int], bool]:
        """Whole lines after `stored` (offset, inode), at most about CHUNK_BYTES; the new (offset, inode); at end?

        The lines are read here, or, when a parse pool takes them, only cut into (start, end) blocks
        that its workers read. A line longer than a chunk is found by scanning for its end without
        keeping it, and read in one piece only if it is at most MAX_LINE bytes; a longer one is skipped
        as unreadable. A long line still being written is not re-scanned from its start at every poll.
        """
        offset, inode = stored
        try:
            f = open(self.path / name, "rb")
        except FileNotFoundError:
            if offset or not self.path.is_dir():  # a vanished directory is not an empty run: poll() tells them apart
                raise _Replaced from None
            return b"", (0, 0), True
        with f:
            st = os.fstat(f.fileno())
            if offset and (st.st_ino != inode or st.st_size < offset):
                raise _Replaced
            if st.st_size == offset:
                return b"", (offset, st.st_ino), True
            stop = min(st.st_size, offset + CHUNK_BYTES)
            if self._pool is not None and stop - offset >= POOL_MIN_BYTES:
                parts = max(1, min(PARSE_PARTS, (stop - offset) // POOL_MIN_BYTES))
                blocks = _blocks(f, offset, stop, parts)
                if blocks is not None:
                    return blocks, (blocks[-1][1], st.st_ino), st.st_size - offset < CHUNK_BYTES
            f.seek(offset)
            data = f.read(CHUNK_BYTES)
            cut = data.rfind(b"\n")
            if cut >= 0:
                return data[: cut + 1], (offset + cut + 1, st.st_ino), len(data) < CHUNK_BYTES
            if len(data) < CHUNK_BYTES:  # a half line waits for its other half
                return b"", (offset, st.st_ino), True
            end = self._line_end(f, name, (offset, st.st_ino), offset + len(data))
            if end is None:
                return b"", (offset, st.st_ino), True
            if end + 1 - offset > MAX_LINE:
                return UNREADABLE_LINE, (end + 1, st.st_ino), False
            f.seek(offset)
            return f.read(end + 1 - offset), (end + 1, st.st_ino), False

    def _line_end(self, f: Any, name: str, start: tuple[int, int], scan_from: int) -> int | None:
        """Where the line starting at `start` ends (its newline), scanning in chunks; None if not written yet."""
        memo = self._long_lines.get(name)
        position = memo[1] if memo is not None and memo[0] == start else scan_from
        f.seek(position)
        while True:
            block = f.read(CHUNK_BYTES)
            newline = block.find(b"\n")
            if newline >= 0:
                self._long_lines.pop(name, None)
                return position + newline
            position += len(block)
            if len(block) < CHUNK_BYTES:
                self._long_lines[name] = (start, position)
                return None

    def _read_round(self, offsets: dict[str, tuple[int, int]]) -> list[_Chunk]:
        """The next chunk of every line file, its parse started; advances `offsets` past them."""
        chunks = []
        for name in layout.LINE_FILES:
            start = offsets.get(name, (0, 0))
            data, offset, at_end = self._read_chunk(name, start)
            offsets[name] = offset
            if isinstance(data, bytes):  # small blocks (and long lines): parsed here, no inter-process hop
                pieces = [_submit(None, parse_block, name, data, start[0], self._key)]
            else:
                path = str(self.path / name)
                pieces = [_submit(self._pool, parse_file_block, path, name, begin, end, offset[1], self._key,
                                  self._stage and self._numberer is None)
                          for begin, end in data]
            chunks.append(_Chunk(name, offset, at_end, pieces))
        return chunks

    def _drain(self, meta: dict[str, Any], deadline: float | None) -> tuple[bool, bool]:
        """Commit chunk after chunk until every file is at its end (or the deadline); (changed, more)?

        The next chunk is read and its parse started before the current one is built, and a batch
        commits (on the commit thread) while the next is built. The tailer's state moves on when a
        batch is handed over; every commit has ended when this returns, or raises.
        """
        changed = False
        offsets = dict(self._offsets)
        self._committing = None
        try:
            chunks = self._read_round(offsets)
            while True:
                at_end = all(c.at_end for c in chunks)
                stop = not at_end and deadline is not None and time.monotonic() >= deadline
                ahead = None if at_end or stop else self._read_round(offsets)
                batch = self._batch(meta, chunks, complete=at_end and meta["complete"])
                if batch is not None:
                    if self._committing is not None:
                        self._committing.result()  # commits stay in order
                    self._committing = _submit(self._committer, writes.commit, self._engine, batch)
                    self._run = batch.run
                    self._offsets.update(batch.offsets)
                    if batch.reset:
                        self._fresh.clear()
                        self._fresh_reset = True
                    self._fresh.extend(batch.instances[-FRESH:])
                    del self._fresh[:-FRESH]
                    self._reset_pending = False
                    changed = True
                if ahead is None:
                    return changed, not at_end
                chunks = ahead
        finally:
            if self._committing is not None:
                self._committing.result()

    def _batch(self, meta: dict[str, Any], chunks: list[_Chunk], *, complete: bool) -> writes.IngestBatch | None:
        """The transaction for one round of chunks: rows numbered in file order, the run row, the offsets."""
        run = {**self._run, **meta, "complete": complete}
        batch = writes.IngestBatch(self.run_id, self._key, run, reset=self._reset_pending)
        for chunk in chunks:
            if batch.reset or chunk.offset != self._offsets.get(chunk.name):
                batch.offsets[chunk.name] = chunk.offset
            parsed = chunk.parsed()
            run["unreadable"] += parsed.unreadable
            if parsed.rows or parsed.images:
                self._number[chunk.name](self, batch, parsed)
        if batch.instances:
            self._settle_aggregates(run)
        if not (batch.offsets or batch.reset) and run == self._run:
            return None
        return batch

    def _settle_aggregates(self, run: dict[str, Any]) -> None:
        agg = self._agg
        assert agg is not None
        run["p50_ms"], run["p95_ms"], run["p99_ms"] = agg.percentiles()
        run.update(
            total=agg.total, passed=agg.passed, failed=agg.failed, errors=agg.errors,
            pass_rate=agg.pass_rate(), scenarios=agg.scenarios_json(),
        )

    def _aggregate(self) -> RunAggregate:
        if self._agg is None:
            rows = writes.load_aggregate_rows(self._engine, self.run_id) if self._run["head"] else []
            self._agg = RunAggregate.from_rows(rows)
        return self._agg

    def _instances(self, batch: writes.IngestBatch, parsed: Parsed) -> None:
        run, agg = batch.run, self._aggregate()
        rows = numbered_instances(parsed.rows, self._key, run["head"])
        for scenario_id, status, duration_ms in map(_AGGREGATED, rows):
            agg.add(scenario_id, status, duration_ms)
        batch.instances.extend(rows)
        run["head"] += len(rows)

    def _numberer_after(self, pending: list[tuple]) -> StepNumberer:
        """A numberer that has counted every step before this one: the committed ones, then `pending` rows.

        Made only when an older-layout step appears, so runs whose steps carry `step_index` pay nothing.
        """
        numberer = StepNumberer()
        if self._committing is not None:  # the previous batch's steps count too: read them once committed
            self._committing.result()
        committed = writes.load_step_instance_ids(self._engine, self.run_id) if self._run["step_head"] else []
        for instance_id in [*committed, *(row.instance_id for row in map(StepLineRow._make, pending))]:
            numberer.number(Step(instance_id=instance_id, step_index=0))
        return numberer

    def _steps(self, batch: writes.IngestBatch, parsed: Parsed) -> None:
        """Rows come whole from the parser; only older-layout steps (no step_index) are numbered here."""
        rows, numberer = batch.steps, self._numberer
        if numberer is not None:  # staged before the older layout showed up: every step goes through the numberer
            parsed = parsed.unstaged()
        batch.images.extend((writes.STEPS.name, image) for image in parsed.images)
        if numberer is None and not parsed.unnumbered:
            rows.extend(parsed.rows)
        else:
            for row in map(StepLineRow._make, parsed.rows):
                if row.step_index is None and numberer is None:
                    numberer = self._numberer = self._numberer_after(rows)
                if numberer is not None:
                    step = numberer.number(Step(instance_id=row.instance_id, step_index=row.step_index))
                    row = row._replace(step_index=step.step_index)
                rows.append(row)
        batch.run["step_head"] = StepLineRow._make(parsed.last_row).step_seq

    def _assertions(self, batch: writes.IngestBatch, parsed: Parsed) -> None:
        batch.assertions.extend(parsed.rows)
        batch.images.extend((writes.ASSERTIONS.name, image) for image in parsed.images)
        batch.run["assertion_head"] = AssertionLineRow._make(parsed.last_row).assertion_seq

    # How each line file's parsed rows take their seq (a subclass replaces one: the SQLite tailer's instances).
    _number: ClassVar[dict[str, Callable[[Any, writes.IngestBatch, Parsed], None]]] = {
        layout.INSTANCES: _instances, layout.STEPS: _steps, layout.ASSERTIONS: _assertions,
    }
