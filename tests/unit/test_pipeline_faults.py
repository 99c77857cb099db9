"""Faults under a running engine (issue #19): the catalog deleted, corrupted or full, the runs root gone and back.

Each ends with exact counts (the files are the oracle) and no crash loop; while a fault lasts, the
engine's conditions say so (every page header and /api/health show them).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.unit.pipeline_support import (
    append,
    catalog_instances,
    eventually,
    file_instances,
    instance_line,
    status_of,
    write_manifest,
)
from tests.unit.test_pipeline_engine import running_engine
from windtunnel_dash.catalog.database import CORRUPT, UNWRITABLE, fault_of
from windtunnel_dash.pipeline.engine import Pipeline


def _lines(start: int, stop: int) -> bytes:
    return b"".join(instance_line(n, status=status_of(n)) for n in range(start, stop))


async def _exact(engine: Pipeline, run_dir: Path) -> bool:
    """The catalog holds exactly the file's instances (a read failing mid-rebuild is a no, not an error)."""
    try:
        rows = await asyncio.to_thread(catalog_instances, engine.catalog, run_dir.name)
    except Exception:  # noqa: BLE001 - e.g. "no such table" between a deletion and the rebuild
        return False
    return rows == file_instances(run_dir)


async def _ingested_run(engine: Pipeline, name: str, count: int) -> Path:
    """A run of `count` instances under the engine's root, once the catalog holds exactly them."""
    run_dir = engine.root / name
    write_manifest(run_dir)
    append(run_dir / "instances.jsonl", _lines(0, count))
    await eventually(lambda: _exact(engine, run_dir), what=f"{name}'s first {count}")
    return run_dir


def _catalog_file(engine: Pipeline) -> Path:
    return Path(engine.settings.db_url.split("///", 1)[1])


def test_a_deleted_catalog_is_noticed_and_rebuilt_from_the_files(tmp_path: Path) -> None:
    async def main() -> None:
        async with running_engine(tmp_path) as engine:
            run_dir = await _ingested_run(engine, "kept", 50)
            db = _catalog_file(engine)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            await eventually(lambda: engine.conditions.get("catalog") is not None, what="the loss noticed")
            append(run_dir / "instances.jsonl", _lines(50, 60))
            await eventually(lambda: _exact(engine, run_dir), what="all 60 again")
            await eventually(lambda: engine.conditions.get("catalog") is None, what="the warning cleared")
            assert db.exists() and engine.catalog.run_stats("kept").total == 60
    asyncio.run(main())


def test_a_corrupted_catalog_is_rebuilt_without_a_crash_loop(tmp_path: Path) -> None:
    async def main() -> None:
        async with running_engine(tmp_path) as engine:
            run_dir = await _ingested_run(engine, "damaged", 200)
            db = _catalog_file(engine)
            await asyncio.to_thread(engine.catalog.engine.dispose)
            with open(db, "r+b") as f:  # same inode, pages turned to garbage
                size = f.seek(0, os.SEEK_END)
                f.seek(0)
                f.write(os.urandom(max(size, 65536)))
            Path(f"{db}-wal").unlink(missing_ok=True)
            Path(f"{db}-shm").unlink(missing_ok=True)
            append(run_dir / "instances.jsonl", _lines(200, 230))
            await eventually(lambda: _exact(engine, run_dir), timeout=20, what="all 230 after the rebuild")
            await eventually(lambda: engine.conditions.get("catalog") is None, what="the warning cleared")
    asyncio.run(main())


def test_a_catalog_too_damaged_to_open_is_started_afresh(tmp_path: Path) -> None:
    db = tmp_path / "data" / "catalog.db"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"this is not a database" * 1000)

    async def main() -> None:
        async with running_engine(tmp_path) as engine:
            await _ingested_run(engine, "fresh", 5)
    asyncio.run(main())


@pytest.fixture
def small_tmpfs(tmp_path: Path):
    """A 32 MB tmpfs for the data directory (the test runs as root on this project's machines)."""
    mount = tmp_path / f"tmpfs-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_full_data_directory_pauses_ingest_and_it_resumes_exactly_when_space_returns(
        tmp_path: Path, small_tmpfs: Path) -> None:
    async def main() -> None:
        db_url = f"sqlite:///{small_tmpfs / 'catalog.db'}"
        async with running_engine(tmp_path, data_dir=small_tmpfs, db_url=db_url) as engine:
            run_dir = await _ingested_run(engine, "full", 100)
            filler = small_tmpfs / "filler"
            with open(filler, "wb") as f:  # take every free byte
                try:
                    while True:
                        f.write(b"\0" * 65536)
                        f.flush()
                except OSError:
                    pass
            append(run_dir / "instances.jsonl", _lines(100, 20_000))  # ~4 MB of rows: more than the WAL holds
            await eventually(lambda: engine.conditions.get("catalog") is not None, timeout=20, what="the fault shown")
            warning = engine.conditions.get("catalog")
            assert "cannot be written" in warning.message and str(small_tmpfs) in warning.fix
            assert engine.catalog.run_stats("full").total >= 100  # nothing already ingested is lost
            filler.unlink()
            await eventually(lambda: _exact(engine, run_dir), timeout=60, what="all 20,000 once space returned")
            assert engine.conditions.get("catalog") is None
    asyncio.run(main())


def test_a_runs_root_that_vanishes_is_shown_held_and_resumed(tmp_path: Path) -> None:
    async def main() -> None:
        async with running_engine(tmp_path) as engine:
            run_dir = await _ingested_run(engine, "away", 20)
            aside = tmp_path / "runs-aside"
            engine.root.rename(aside)
            await eventually(lambda: engine.conditions.get("runs_root") is not None, what="the root's absence shown")
            await asyncio.sleep(1.5)  # a few sweeps with the root gone
            assert engine.catalog.run_stats("away").total == 20  # held as last seen, not deleted
            append(aside / "away" / "instances.jsonl", _lines(20, 30))
            aside.rename(engine.root)
            await eventually(lambda: engine.conditions.get("runs_root") is None, what="the root back")
            append(run_dir / "instances.jsonl", _lines(30, 35))
            await eventually(lambda: _exact(engine, run_dir), what="all 35")
            assert engine.watch_mode == "inotify"
    asyncio.run(main())


def test_catalog_errors_are_told_apart() -> None:
    import sqlite3

    corrupt = sqlite3.DatabaseError("database disk image is malformed")
    corrupt.sqlite_errorname = "SQLITE_CORRUPT"
    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorname = "SQLITE_FULL"
    moved = sqlite3.OperationalError("attempt to write a readonly database")
    moved.sqlite_errorname = "SQLITE_READONLY_DBMOVED"
    readonly = sqlite3.OperationalError("attempt to write a readonly database")
    readonly.sqlite_errorname = "SQLITE_READONLY"
    locked = sqlite3.OperationalError("database is locked")
    locked.sqlite_errorname = "SQLITE_BUSY"
    assert [fault_of(e) for e in (corrupt, full, moved, readonly, locked, ValueError("bug"))] == [
        CORRUPT, UNWRITABLE, CORRUPT, UNWRITABLE, None, None]
    assert fault_of(OSError(28, "No space left on device")) == UNWRITABLE
