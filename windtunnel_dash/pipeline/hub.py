"""The live hub: wakes readers when a run's catalog rows change (docs/design.md §4 "Hub", "Cadence").

One channel per run per process, however many readers. A reader holds only
cursors; when the run moves past them it pulls what is new from the catalog,
a chunk bounded in rows and bytes at a time. Nothing is queued per reader, so
a slow or stalled reader costs at most the chunk it holds and simply catches
up later, chunk by chunk. Deliveries are
capped at `max_per_s` per reader, leading edge: an isolated change goes out at
once, a burst is coalesced into one delivery per interval. Pages keep the cap;
a reader that is a program (the stream) may subscribe uncapped, so each commit
reaches it at once.

The engine publishes after each commit with the run as committed and its
newest rows (one shared tail per run, not a queue per reader): a reader at the
head takes its chunk from there, without a database round trip; any other
reader, or one following steps, pulls from the catalog. Everything here runs
on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from ..catalog import Catalog
from ..catalog.rows import InstanceRow, RunRow, Stats, StepEvent, up_to_bytes
from ..settings import LIVE_TAIL_ROWS, MAX_UPDATES_PER_S

CHUNK_ROWS = 5000  # rows per pull: a replay of a 100k-instance run takes 20 pulls
# ...and about this many bytes of messages (rows.up_to_bytes): a reader whose socket stalls holds one chunk,
# its rows and, pulled from the catalog, the database pages read for them (about twice the rows' bytes when
# error texts are long). Ordinary rows stop at CHUNK_ROWS first; rows with 2 KB error texts come ~450 at a time.
CHUNK_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class Batch:
    """What one delivery brings a reader.

    `complete`: the run is complete and this reader has everything up to the
    head of the final drain. `reset`: the run's rows were rebuilt (a file was
    truncated or replaced); `instances` start again from seq 1, so drop what
    you hold. `run` is None when the run is gone (its directory was deleted).
    """

    instances: list[InstanceRow]
    steps: list[StepEvent]
    stats: Stats
    head: int
    complete: bool
    run: RunRow | None = None
    reset: bool = False




class _Channel:
    __slots__ = ("head", "revision", "generation", "run", "tail", "_event")

    def __init__(self) -> None:
        self.head = 0
        self.revision = 0
        self.generation = 0
        self.run: RunRow | None = None  # None: no trusted snapshot, readers query the catalog
        self.tail: list[InstanceRow] = []  # contiguous seqs ending at head (when run is set)
        self._event: asyncio.Event | None = None

    def event(self) -> asyncio.Event:
        if self._event is None:
            self._event = asyncio.Event()
        return self._event

    def bump(self) -> None:
        self.revision += 1
        event, self._event = self._event, None
        if event is not None:
            event.set()


class Subscription:
    """One reader's cursors into one run."""

    def __init__(self, hub: Hub, run_id: str, since: int, steps: bool, chunk_rows: int, chunk_bytes: int,
                 min_interval: float) -> None:
        self.run_id = run_id
        self.min_interval = min_interval
        self.cursor = since  # last instance seq delivered
        self.step_cursor: int | None = 0 if steps else None
        self._hub = hub
        self._chunk_rows = chunk_rows
        self._chunk_bytes = chunk_bytes
        self._seen_revision = -1  # first call always delivers: the replay (possibly empty) and the stats
        self._generation: int | None = None
        self._last_delivery = -math.inf

    async def next_batch(self, timeout: float | None = None) -> Batch | None:
        """The next delivery, or None when nothing changed within `timeout` seconds (None: wait forever)."""
        loop = asyncio.get_running_loop()
        channel = self._hub._channel(self.run_id)
        deadline = None if timeout is None else loop.time() + timeout
        while channel.revision == self._seen_revision:
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return None
            try:  # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancel that races a wake-up
                async with asyncio.timeout(remaining):
                    await channel.event().wait()
            except TimeoutError:
                return None
        pause = self._last_delivery + self.min_interval - loop.time()
        # Coalesce the burst: everything that lands meanwhile comes in this pull. Even without a pause,
        # yield once: after a reader held the loop (a page applying its last batch), the commits made
        # meanwhile wait as queued callbacks, and pulling before they publish would serve a stale head.
        await asyncio.sleep(max(pause, 0))
        self._seen_revision = channel.revision  # a publish during the read below wakes the next call
        self._last_delivery = loop.time()  # deliveries *start* at most max_per_s times a second
        return await self._pull()

    def _from_tail(self) -> Batch | None:
        """The next chunk from the channel's shared tail, when it holds everything after the cursor."""
        channel = self._hub._channel(self.run_id)
        run, head, tail = channel.run, channel.head, channel.tail
        if run is None or self.step_cursor is not None or self._generation not in (None, channel.generation):
            return None
        if self.cursor > head or (self.cursor < head and not (tail and tail[0].seq <= self.cursor + 1
                                                              and tail[-1].seq == head)):
            return None
        start = self.cursor + 1 - tail[0].seq if self.cursor < head else len(tail)
        rows = up_to_bytes(tail[start:start + self._chunk_rows], self._chunk_bytes)
        self._generation = channel.generation
        if rows:
            self.cursor = rows[-1].seq
        if self.cursor < head:
            self._seen_revision = -1
        return Batch(rows, [], run.stats, head, complete=run.status == "complete" and self.cursor >= head, run=run)

    async def _pull(self) -> Batch:
        from_tail = self._from_tail()
        if from_tail is not None:
            return from_tail
        catalog = self._hub.catalog
        changes = await asyncio.to_thread(catalog.changes_since, self.run_id, self.cursor, self.step_cursor,
                                          self._chunk_rows, self._chunk_bytes)
        if changes is None:
            return Batch([], [], Stats(), 0, complete=True, run=None)
        reset = self._generation is not None and changes.generation != self._generation
        if reset:
            self.cursor, self.step_cursor = 0, (None if self.step_cursor is None else 0)
            changes = await asyncio.to_thread(catalog.changes_since, self.run_id, 0, self.step_cursor,
                                              self._chunk_rows, self._chunk_bytes)
            if changes is None:
                return Batch([], [], Stats(), 0, complete=True, run=None)
        self._generation = changes.generation
        if changes.instances:
            self.cursor = changes.instances[-1].seq
        if changes.steps:
            self.step_cursor = changes.steps[-1].step_seq
        behind = self.cursor < changes.head or (self.step_cursor is not None and self.step_cursor < changes.step_head)
        if behind:
            self._seen_revision = -1  # more rows wait: the next call pulls them (still at most max_per_s)
        return Batch(
            instances=changes.instances, steps=changes.steps, stats=changes.run.stats, head=changes.head,
            complete=changes.complete and self.cursor >= changes.head, run=changes.run, reset=reset,
        )


def interval(max_per_s: float) -> float:
    """Seconds between deliveries at `max_per_s` (0 or less: no cap)."""
    return 1.0 / max_per_s if max_per_s > 0 else 0.0


class Hub:
    def __init__(self, catalog: Catalog, *, max_per_s: float = MAX_UPDATES_PER_S) -> None:
        self.catalog = catalog
        self.min_interval = interval(max_per_s)
        self.version = 0  # bumped on any run change: the run list waits on it
        self._channels: dict[str, _Channel] = {}
        self._any = _Channel()
        self._readers = 0

    def _channel(self, run_id: str) -> _Channel:
        channel = self._channels.get(run_id)
        if channel is None:
            channel = self._channels[run_id] = _Channel()
        return channel

    def head(self, run_id: str) -> int:
        """Last committed instance seq the hub has heard of for the run."""
        channel = self._channels.get(run_id)
        return channel.head if channel else 0

    def publish(self, run_id: str, head: int | None = None, *, run: RunRow | None = None,
                fresh: tuple[InstanceRow, ...] = (), generation: int = 0, reset: bool = False) -> None:
        """The catalog holds something new for `run_id` (rows, status, or its removal).

        With `run` (the run as just committed) and `fresh` (its newest rows, ending at `head`) the
        channel can serve readers at the head; without, its readers query the catalog.
        """
        channel = self._channel(run_id)
        if run is None:
            channel.run, channel.tail = None, []
            if head is not None:
                channel.head = head
        elif head is not None and (generation, head) >= (channel.generation, channel.head):
            tail = channel.tail  # an older result settling late (another thread's poll) is ignored
            if reset or generation != channel.generation or not tail or not fresh or \
                    fresh[0].seq != tail[-1].seq + 1:
                if fresh or reset or generation != channel.generation or head != channel.head:
                    channel.tail = list(fresh)
            else:
                tail.extend(fresh)
                del tail[:-LIVE_TAIL_ROWS]
            channel.run, channel.head, channel.generation = run, head, generation
        channel.bump()
        self.version += 1
        self._any.bump()

    def forget(self, run_id: str) -> None:
        """A removed run: wake its readers (they learn it is gone) and drop the channel."""
        self.publish(run_id, 0)
        self._channels.pop(run_id, None)

    async def wait_changed(self, version: int, timeout: float | None) -> int:
        """Wait until `hub.version` differs from `version` (or timeout); returns the current version."""
        if self.version == version:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):  # not wait_for: see next_batch
                    await self._any.event().wait()
        return self.version

    def live_readers(self) -> int:
        return self._readers

    @contextlib.contextmanager
    def track_reader(self) -> Iterator[None]:
        """Count a reader that does not subscribe to one run (the run list page)."""
        self._readers += 1
        try:
            yield
        finally:
            self._readers -= 1

    @contextlib.asynccontextmanager
    async def subscribe(self, run_id: str, since: int = 0, steps: bool = False, chunk_rows: int = CHUNK_ROWS,
                        chunk_bytes: int = CHUNK_BYTES, max_per_s: float | None = None) -> AsyncIterator[Subscription]:
        """`max_per_s`: this reader's delivery cap (None: the hub's; 0: none, every commit at once)."""
        min_interval = self.min_interval if max_per_s is None else interval(max_per_s)
        with self.track_reader():
            yield Subscription(self, run_id, since, steps, chunk_rows, chunk_bytes, min_interval)
