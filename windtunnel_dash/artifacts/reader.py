"""Reading a run's files: one line at a time for the live tailer, a whole run for tests and tools.

Tolerance rules are docs/design.md §2–3: blank lines are ignored; a line that is
not UTF-8, not JSON or not a JSON object is *unreadable* (counted, skipped,
never fatal); unknown keys survive in the records' `extra`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from . import layout
from .records import Assertion, Instance, Manifest, Step, Summary

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


def read_lines(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The objects of a JSONL file's complete lines, and how many lines were unreadable.

    Like the tailer, a trailing piece without its newline is not a line yet.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], 0
    objects: list[dict[str, Any]] = []
    unreadable = 0
    for raw in data.split(b"\n")[:-1]:
        if is_blank(raw):
            continue
        obj = parse_line(raw)
        if obj is None:
            unreadable += 1
        else:
            objects.append(obj)
    return objects, unreadable


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


@dataclass(slots=True)
class RunData:
    """Everything one run directory holds, read at once."""

    run_id: str
    manifest: Manifest | None
    manifest_error: str | None  # why the manifest could not be read; None when fine or absent
    instances: list[Instance] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    assertions: list[Assertion] = field(default_factory=list)
    summary: Summary | None = None
    unreadable: dict[str, int] = field(default_factory=dict)  # per line file name

    @property
    def complete(self) -> bool:
        """docs/design.md §2: a summary, or (older layout) a manifest carrying completed_at."""
        return self.summary is not None or bool(self.manifest and self.manifest.completed_at)


def read_run(run_dir: Path) -> RunData:
    """Read a whole run directory (newer or older layout) into typed records."""
    run_dir = Path(run_dir)
    manifest: Manifest | None = None
    manifest_error: str | None = None
    try:
        manifest = read_manifest(run_dir)
    except FileNotFoundError:
        pass
    except (ManifestError, OSError) as exc:
        manifest_error = str(exc)

    instance_objs, bad_instances = read_lines(run_dir / layout.INSTANCES)
    step_objs, bad_steps = read_lines(run_dir / layout.STEPS)
    assertion_objs, bad_assertions = read_lines(run_dir / layout.ASSERTIONS)
    numberer = StepNumberer()
    return RunData(
        run_id=run_dir.name,
        manifest=manifest,
        manifest_error=manifest_error,
        instances=[Instance.from_dict(o) for o in instance_objs],
        steps=[numberer.number(Step.from_dict(o)) for o in step_objs],
        assertions=[Assertion.from_dict(o) for o in assertion_objs],
        summary=read_summary(run_dir),
        unreadable={
            layout.INSTANCES: bad_instances,
            layout.STEPS: bad_steps,
            layout.ASSERTIONS: bad_assertions,
        },
    )
