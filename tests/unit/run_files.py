"""A whole run directory read at once into typed records: the tests' oracle of what a run's files hold.

The app never reads a run whole (the tailer reads lines as they come); tests compare what it made of
them with this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from windtunnel_dash.artifacts import layout
from windtunnel_dash.artifacts.reader import ManifestError, StepNumberer, is_blank, parse_line, read_manifest, read_summary
from windtunnel_dash.artifacts.records import Assertion, Instance, Manifest, Step, Summary


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
