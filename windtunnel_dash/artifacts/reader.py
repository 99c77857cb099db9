"""Reading a run's files: its manifest and summary, and one line at a time for the live tailer.

Tolerance rules are docs/design.md §2–3: blank lines are ignored; a line that is
not UTF-8, not JSON or not a JSON object is *unreadable* (counted, skipped,
never fatal); unknown keys survive in the records' `extra`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson

from . import layout
from .records import Manifest, Step, Summary

_loads = json.loads


class ManifestError(ValueError):
    """The manifest exists but is not a JSON object; the message says why (shown on the run)."""


def is_blank(raw: bytes) -> bool:
    """Blank (or whitespace-only) lines carry nothing and are not unreadable either."""
    return not raw.strip()


def parse_line(raw: bytes) -> dict[str, Any] | None:
    """The JSON object on one line, or None when the line is unreadable.

    Decoding explicitly as UTF-8 (instead of letting json sniff UTF-16/32)
    keeps "not UTF-8" meaning exactly that. Hot path of ingest: keep it lean.
    """
    try:
        value = orjson.loads(raw)  # 3x faster; it accepts a subset of what json does, so json decides the rest
    except orjson.JSONDecodeError:
        try:
            value = _loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            return None
    return value if type(value) is dict else None


def _load_object(path: Path, what: str) -> dict[str, Any]:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{what} is not valid UTF-8 (byte {exc.start})") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise ManifestError(f"{what} is nested too deeply") from None
    if not isinstance(value, dict):
        raise ManifestError(f"{what} is a JSON {type(value).__name__}, not an object")
    return value


def read_manifest(run_dir: Path) -> Manifest:
    """The run's manifest; FileNotFoundError when absent, ManifestError when it cannot be read as one."""
    run_dir = Path(run_dir)
    return Manifest.from_dict(_load_object(run_dir / layout.MANIFEST, layout.MANIFEST), run_dir.name)


def read_summary(run_dir: Path) -> Summary | None:
    """The run's summary, or None when absent or unreadable (counts never come from it anyway)."""
    try:
        return Summary.from_dict(_load_object(Path(run_dir) / layout.SUMMARY, layout.SUMMARY))
    except (OSError, ManifestError):
        return None


class StepNumberer:
    """Gives older-layout steps (no `step_index`) their position among their instance's steps.

    Stateful so a tailer can feed it steps in file order, batch after batch.
    """

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def number(self, step: Step) -> Step:
        position = self._seen.get(step.instance_id, 0)
        self._seen[step.instance_id] = position + 1
        if step.step_index is None:
            step.step_index = position
        return step
