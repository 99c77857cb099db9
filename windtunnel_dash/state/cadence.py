"""When the run detail page's live task sends what (docs/design.md §4 "Cadence"), as a pure, clock-injected class.

The hub already caps batches at ≤ 10 a second per page. On top of that the page decides:

- **Counts** go out with every batch, at once.
- **Rows** (the grid and the latest failures) go with their batch too, unless batches come back to
  back *and* each replaces much of a list (30% of the grid, or every failure shown): then rows
  rewritten ten times a second are cost without meaning (in the browser, and on the server, where
  a page of rows is most of a delta's encoding, for every viewer), and rows go at most every
  `rows_every_s` (counts still go with every batch). Held rows go as soon as batches stop coming
  back to back. At the hub's 9.5 batches a second that is from about 150 results a second: up to
  that every row shows with its batch. A big batch after a stall is not back to back, so it
  never waits.
- **Charts and header** are read in a thread at most every `refresh_every_s` (longer when a read is
  slow: reads compete with ingest, so they take at most 1/`refresh_spacing` of the time), and
  go in a delta of their own, or ride along with a batch when batches come back to back (the cap
  holds). One chart at a time, in turn: a recharts re-render holds the page's main thread for tens
  of ms (a row arriving meanwhile waits), and a refresh reads half as much.
  Without batches the header is still read every `heartbeat_s` (a run may become stalled).

Every method takes `now` (event-loop seconds), so tests drive it without a clock.
"""

from __future__ import annotations

import dataclasses
import math

# A batch that came sooner than this many hub intervals after the last is "back to back": the
# stream is at the hub's cap, and a refresh rides along with it instead of adding a delta.
QUIET_INTERVALS = 1.5
CHARTS = ("timeline", "latency")


@dataclasses.dataclass
class DetailCadence:
    interval_s: float  # the hub's delivery interval for pages
    page_size: int  # rows in the grid
    failures_shown: int
    rows_every_s: float = 0.4
    refresh_every_s: float = 1.0
    refresh_spacing: float = 10.0
    heartbeat_s: float = 5.0
    charts: tuple[str, ...] = CHARTS
    batch_at: float = -math.inf  # the last batch
    rows_at: float = -math.inf  # the last time held rows went out
    refresh_at: float = -math.inf  # the last refresh read started
    refresh_every: float = dataclasses.field(init=False)
    turn: int = 0

    def __post_init__(self) -> None:
        self.refresh_every = self.refresh_every_s

    @property
    def _quiet_s(self) -> float:
        return QUIET_INTERVALS * self.interval_s

    def wait_s(self, now: float, *, refresh_pending: bool, rows_held: bool) -> float:
        """How long to wait for the next batch: a pending read (refresh, comparison) is looked at every 0.3 s, and held
        rows go once batches stop coming back to back (and their cadence allows)."""
        wait = 0.3 if refresh_pending else self.heartbeat_s
        if rows_held:
            due = max(self.rows_at + self.rows_every_s, self.batch_at + self._quiet_s)
            wait = min(wait, max(due - now, 0.01))
        return wait

    def batch_came(self, now: float) -> bool:
        """Record a batch; True when it came back to back with the previous one."""
        back_to_back = now - self.batch_at < self._quiet_s
        self.batch_at = now
        return back_to_back

    def floods(self, rows: int, failures: int) -> bool:
        """Whether a batch bringing `rows` grid rows and `failures` failures replaces much of a list."""
        return rows >= max(1, self.page_size * 3 // 10) or failures >= self.failures_shown

    def rows_due(self, now: float, *, batch: bool, back_to_back: bool, flood: bool) -> bool:
        """Whether held rows go with this delta. Without a batch this is the held rows' own delta."""
        return not batch or not back_to_back or not flood or now - self.rows_at >= self.rows_every_s

    def rows_sent(self, now: float) -> None:
        self.rows_at = now

    def refresh_read(self, took_s: float) -> None:
        """A refresh read took `took_s`: space the next so reads take at most 1/refresh_spacing of the time."""
        self.refresh_every = max(self.refresh_every_s, self.refresh_spacing * took_s)

    def refresh_due(self, now: float, *, batch: bool) -> str | None:
        """The chart to read with the next refresh, if one is due now (and none is pending): after a
        batch once `refresh_every` has passed, or every `heartbeat_s` anyway (a run may stall)."""
        stale = now - self.refresh_at
        if not ((batch and stale >= self.refresh_every) or stale >= self.heartbeat_s):
            return None
        self.refresh_at = now
        chart, self.turn = self.charts[self.turn % len(self.charts)], self.turn + 1
        return chart
