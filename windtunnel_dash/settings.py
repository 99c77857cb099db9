"""Settings read once from the environment, so every module agrees on paths and timings."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


def _env_int(name: str) -> int | None:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else None


DEFAULT_MAX_WATCHES = 10_000
# Newest instance rows of a run kept in memory for readers at its head: the hub's tail, which each
# tailer poll refills (so a reader there needs no catalog query).
LIVE_TAIL_ROWS = 2000
# Deliveries start at most this often per reader. Just under the contract's 10/s: at exactly
# 10/s a window of 5 s can hold 51 deliveries (one at each end), and measure as 10.2/s.
MAX_UPDATES_PER_S = 9.5


@dataclass(frozen=True, slots=True)
class Settings:
    runs_dir: Path
    data_dir: Path
    db_url: str
    stall_timeout_s: float
    heartbeat_s: float
    demo: bool
    max_updates_per_s: float = MAX_UPDATES_PER_S
    # Reflex's Redis state manager (REFLEX_REDIS_URL) means several workers: with a SQLite catalog they
    # elect the ingest leader and broadcast through Redis (docs/design.md §7).
    redis_url: str | None = None
    # inotify watches this process may use (roots + run directories); runs beyond are polled.
    # Leaves most of a typical system's limit (8,192-500,000 per user) to other programs.
    max_watches: int | None = DEFAULT_MAX_WATCHES
    # Poll every file instead of using inotify, every this many ms (network filesystems
    # deliver no events for other hosts' writes); None: inotify where it works.
    watch_poll_ms: int | None = None

    @property
    def demo_runs_dir(self) -> Path:
        """Where DEMO=1 writes its simulated runs: inside the dashboard's own data, never in the runs
        root (which may be the user's real runs, or read-only); watched beside the runs root."""
        return self.data_dir / "demo-runs"

    @classmethod
    def from_env(cls) -> Settings:
        runs_dir = Path(os.environ.get("WINDTUNNEL_RUNS_DIR", "runs")).resolve()
        data_dir = Path(os.environ.get("WINDTUNNEL_DATA_DIR", ".data")).resolve()
        db_url = os.environ.get("WINDTUNNEL_DB_URL") or f"sqlite:///{data_dir / 'catalog.db'}"
        return cls(
            runs_dir=runs_dir,
            data_dir=data_dir,
            db_url=db_url,
            stall_timeout_s=_env_float("WINDTUNNEL_STALL_TIMEOUT_S", 120.0),
            heartbeat_s=_env_float("WINDTUNNEL_HEARTBEAT_S", 5.0),
            demo=os.environ.get("DEMO", "1").strip() not in ("0", "false", "no", ""),
            redis_url=os.environ.get("REFLEX_REDIS_URL", "").strip() or None,
            max_watches=_env_int("WINDTUNNEL_MAX_WATCHES") or DEFAULT_MAX_WATCHES,
            watch_poll_ms=_env_int("WINDTUNNEL_WATCH_POLL_MS"),
        )
