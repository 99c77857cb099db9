"""Where a run's files live, and which names are runs at all (docs/design.md §2, §5).

Run ids are directory names directly under the runs root and nothing else,
so a hostile id (`..`, slashes, NUL, encoded variants after decoding) never
resolves to a path outside the root.
"""

from __future__ import annotations

from pathlib import Path

MANIFEST = "manifest.json"
INSTANCES = "instances.jsonl"
STEPS = "steps.jsonl"
ASSERTIONS = "assertions.jsonl"
SUMMARY = "summary.json"
LINE_FILES = (INSTANCES, STEPS, ASSERTIONS)
# The runner's SQLite backend (`--storage sqlite`): one database instead of the manifest and line files.
DATABASE = "turbulence.db"
DATABASE_JOURNAL = "turbulence.db-journal"  # rollback journal: it comes and goes with every commit
DATABASE_FILES = (DATABASE, DATABASE_JOURNAL)


def is_safe_run_id(run_id: str) -> bool:
    """A single, ordinary path component: no separators, no dot names, no control bytes."""
    return (
        bool(run_id)
        and len(run_id) <= 255
        and run_id not in (".", "..")
        and not any(c in run_id for c in "/\\\x00")
        and run_id.isprintable()
    )


def run_dir(root: Path, run_id: str) -> Path | None:
    """The run's directory if `run_id` names one under `root` that holds a run, else None."""
    if not is_safe_run_id(run_id):
        return None
    path = root / run_id
    return path if is_run_dir(path) else None


def is_run_dir(path: Path) -> bool:
    """A directory with a manifest, an instances file or a runner database; anything else is not a run (yet)."""
    try:
        return path.is_dir() and any((path / name).is_file() for name in (MANIFEST, INSTANCES, DATABASE))
    except OSError:
        return False


def uses_database(path: Path) -> bool:
    """Is the run stored in `turbulence.db`? Not when `instances.jsonl` is there too: the JSONL is the truth."""
    try:
        return (path / DATABASE).is_file() and not (path / INSTANCES).is_file()
    except OSError:
        return False
