"""Keeping ingest alive through catalog faults: a catalog deleted, corrupted, full or read-only (issue #19).

The catalog is derived from the files (docs/design.md §1). A deleted SQLite file (open
connections would go on writing to the unlinked inode, silently) or a corrupt
one is recreated empty and every run re-read. An unwritable one (disk full,
read-only) is waited out: ingest pauses, so nothing is parsed that could not
be stored and no run is re-parsed at every file event, and a probe write every
`retry_s` finds out when it works again; offsets commit with their rows, so
ingest then resumes exactly where the last commit ended. Both show in every
page header and /api/health through the engine's conditions.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import Engine

from ..catalog.database import CORRUPT, UNWRITABLE, fault_of, file_identity, probe_write, recreate_sqlite, sqlite_file
from .conditions import Conditions

log = logging.getLogger(__name__)

KEY = "catalog"
RETRY_S = 1.0  # first retry; doubled after each failed resume, up to MAX_RETRY_S (no re-parse storm)
MAX_RETRY_S = 15.0


class CatalogGuard:
    """Not thread-safe by itself: the engine calls it under its ingest lock."""

    def __init__(self, engine: Engine, db_url: str, conditions: Conditions, *, retry_s: float = RETRY_S) -> None:
        self._engine = engine
        self._file = sqlite_file(db_url)
        self._identity = file_identity(self._file) if self._file else None
        self._conditions = conditions
        self._retry_s = retry_s
        self.fault: str | None = None  # CORRUPT or UNWRITABLE while ingest is paused
        self._retry_at = 0.0
        self.refilling = False  # recreated: runs are being re-read (the condition stays up until done)
        self._recreate = False  # the file must be started afresh before anything else (kept through retries)
        self._failures = 0  # consecutive: sets the retry delay
        self._unproven = False  # resumed after UNWRITABLE: the warning stays until a real commit succeeds

    def note(self, exc: BaseException) -> bool:
        """An ingest error: True if it is a catalog fault (ingest now pauses), False for anything else."""
        fault = fault_of(exc)
        if fault is None:
            return False
        self._pause(fault, exc)
        return True

    def check(self) -> bool:
        """Notice a deleted catalog; retry a faulty one when due. True when ingest may resume (re-read every run)."""
        if self.fault is None and self._file is not None and file_identity(self._file) != self._identity:
            self._pause(CORRUPT, FileNotFoundError(f"{self._file} was deleted or replaced"))
        if self.fault is None or time.monotonic() < self._retry_at:
            return False
        try:
            if self._recreate and self._file is not None:
                recreate_sqlite(self._engine, self._file)
                self._identity = file_identity(self._file)
                self._recreate, self.refilling = False, True
            else:
                probe_write(self._engine)  # a small write can pass where a batch will not: see `wrote`
                self._engine.dispose()  # connections that failed mid-write start afresh
                self._unproven = True
        except Exception as exc:  # noqa: BLE001 - still broken: wait and try again
            self._pause(fault_of(exc) or self.fault, exc)
            return False
        self.fault = None
        if self.refilling:
            self._conditions.set(KEY, "The catalog database was deleted or damaged: it is being rebuilt from the "
                                 "run files, and counts fill back in as runs are re-read.")
        return True

    def wrote(self) -> None:
        """A batch was committed: an unwritable catalog is writable again."""
        if self._unproven:
            self._unproven = False
            self._failures = 0
            if not self.refilling:
                self._conditions.clear(KEY)

    def refilled(self) -> None:
        """Every run has been re-read since the catalog was recreated."""
        if self.refilling and self.fault is None:
            self.refilling = False
            self._failures = 0
            self._conditions.clear(KEY)

    def _pause(self, fault: str, exc: BaseException) -> None:
        self.fault = fault
        self._recreate = self._recreate or fault == CORRUPT
        self._failures += 1
        self._retry_at = time.monotonic() + min(self._retry_s * 2 ** (self._failures - 1), MAX_RETRY_S)
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        if fault == UNWRITABLE:
            where = self._file.parent if self._file else "the catalog database"
            self._conditions.set(KEY, f"The catalog cannot be written ({reason}): new results wait until it can.",
                                 f"Free space in {where} or make it writable; ingest resumes by itself, "
                                 "exactly where it stopped.")
        else:
            self._conditions.set(KEY, f"The catalog database was deleted or damaged ({reason}): rebuilding it "
                                 "from the run files.")
