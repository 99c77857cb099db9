"""A block of whole lines → the catalog fields of each readable line. Pure, so a worker process can run it.

It imports only artifacts/ (not the catalog, SQLAlchemy or Reflex), so a worker starts in a tenth of a second.

Step and assertion rows come out whole: their seq is their line's byte position + 1
(increasing in file order, so it serves as the hub's cursor) and the run key is
passed in, so the tailer adds nothing to them (only older-layout step numbers).
An instance's seq is a public, dense position (docs/design.md §4): the tailer numbers
instance rows in file order. Parsing is most of ingest's
cost, so on a big backlog the tailer hands blocks to worker processes while it
commits the previous block (docs/design.md §4: ingest must keep up with runners).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

import msgspec

from windtunnel_dash.artifacts import layout
from windtunnel_dash.artifacts.ingest_rows import image_rows, rows_image
from windtunnel_dash.artifacts.reader import is_blank, parse_line
from windtunnel_dash.artifacts.records import Assertion, Instance, Step
from windtunnel_dash.artifacts.status import STATUS_RANK, classify
from windtunnel_dash.timefmt import parse_utc

MISSING_LAST = 1e300  # sorts after every real duration in both directions (dur_asc / dur_desc)


@dataclass(slots=True)
class Parsed:
    """Rows of readable lines, in file order, as plain tuples in their ingest_rows field order, or staged.

    A worker stages numbered step and assertion rows for a SQLite catalog: `images` then holds them
    (ingest_rows.rows_image, in file order) instead of `rows`, and `last` is the last of them.
    """

    rows: list[tuple]
    unreadable: int
    unnumbered: bool = False  # a step row lacks its step_index (older layout): the tailer numbers this block
    images: list[bytes] = field(default_factory=list)
    last: tuple = ()  # the last staged row

    def unstaged(self) -> Parsed:
        """The same rows as tuples, staged ones read back (a block is staged whole: never rows and images both)."""
        if not self.images:
            return self
        return Parsed([row for image in self.images for row in image_rows(image)], self.unreadable, self.unnumbered)

    @property
    def last_row(self) -> tuple:
        return self.last if self.images else self.rows[-1]


def iso_epoch(value: str | None) -> float | None:
    """Epoch seconds of an ISO-8601 time (naive means UTC), None when it is not one."""
    parsed = parse_utc(value)
    return None if parsed is None else parsed.timestamp()


class _InstanceLine(msgspec.Struct, gc=False):
    """An instance line in the common shape, named as records.Instance is (rows read either)."""

    instance_id: str = ""
    correlation_id: str | None = None
    scenario_id: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    duration_ms: float | None = None
    passed: bool | None = None
    error: str | None = None


class _Observation(msgspec.Struct, frozen=True, gc=False):
    ok: bool | None = None
    latency_ms: float | None = None


class _StepLine(msgspec.Struct, gc=False):
    """A step line in the newer layout, named as records.Step is; an older-layout key sends it the exact way."""

    instance_id: str = ""
    correlation_id: str | None = None
    step_index: int | None = None
    step_name: str | None = None
    step_type: str | None = None
    observation: _Observation = _Observation()
    action_name: None = None
    action_type: None = None

    @property
    def ok(self) -> bool | None:
        return self.observation.ok

    @property
    def latency_ms(self) -> float | None:
        return self.observation.latency_ms


class _AssertionLine(msgspec.Struct, gc=False):
    instance_id: str = ""
    step_index: int | None = None


@dataclass(frozen=True, slots=True)
class _LineKind:
    """How one file's lines become records: a fast typed decode, else the tolerant record (docs/design.md §2).

    The typed decode builds only the keys a row needs and skips the rest (step bodies and headers are most
    of a line's bytes) while still checking the syntax. It accepts only values the record's rules would
    keep as they are, so both ways give equal rows; anything else (a number as an id, an older-layout key,
    NaN, a non-object line) takes reader.parse_line and the record's from_dict, which decide as everywhere.
    """

    decoder: msgspec.json.Decoder
    from_dict: Callable[[dict[str, Any]], Any]

    def records(self, data: bytes, pos: int, unreadable: list[int]) -> Iterator[tuple[int, int, Any]]:
        """(pos, size, record) of each readable line of `data`, which starts at byte `pos` of its file.

        msgspec does not check the UTF-8 of skipped values, so a chunk that is not all UTF-8 goes the
        exact way line by line. A block whose every line takes the typed decode (what runners write)
        is decoded without a Python step per line; one with any other line (blank ones too) goes line by line.
        """
        lines = data.split(b"\n")
        del lines[-1]
        fast = _is_utf8(data)
        if fast:
            try:
                decoded = list(map(self.decoder.decode, lines))
            except msgspec.DecodeError:
                pass
            else:
                sizes = list(map(len, lines))
                return zip(accumulate(map((1).__add__, sizes), initial=pos), sizes, decoded, strict=False)  # one start more
        return self._each(lines, pos, unreadable, fast)

    def _each(self, lines: list[bytes], pos: int, unreadable: list[int], fast: bool) -> Iterator[tuple[int, int, Any]]:
        for raw in lines:
            size = len(raw)
            if not is_blank(raw):
                record = None
                if fast:
                    try:
                        record = self.decoder.decode(raw)
                    except msgspec.DecodeError:  # ValidationError included
                        pass
                if record is None:
                    obj = parse_line(raw)
                    record = None if obj is None else self.from_dict(obj)
                if record is None:
                    unreadable[0] += 1
                else:
                    yield pos, size, record
            pos += size + 1


_INSTANCES = _LineKind(msgspec.json.Decoder(_InstanceLine), Instance.from_dict)
_STEPS = _LineKind(msgspec.json.Decoder(_StepLine), Step.from_dict)
_ASSERTIONS = _LineKind(msgspec.json.Decoder(_AssertionLine), Assertion.from_dict)


def _is_utf8(data: bytes) -> bool:
    if data.isascii():  # a tenth of decoding's cost, and what runners write
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def instance_fields(data: bytes, start: int, key: int) -> Parsed:
    """InstanceLineRows with seq 0 (the tailer numbers them)."""
    rows: list[tuple] = []
    unreadable = [0]
    for pos, size, inst in _INSTANCES.records(data, start, unreadable):
        rows.append(instance_row(key, inst, pos, size))
    return Parsed(rows, unreadable[0])


def instance_row(key: int, inst: Any, pos: int, size: int) -> tuple:
    """The InstanceLineRow of one instance (any record named as records.Instance is), seq 0, found at (pos, size)."""
    status = classify(inst.passed, inst.error)
    duration = inst.duration_ms
    return (
        key, 0, inst.instance_id, inst.correlation_id, inst.scenario_id, inst.passed, status, STATUS_RANK[status],
        inst.error, duration, MISSING_LAST if duration is None else duration,
        MISSING_LAST if duration is None else -duration, inst.started_at, inst.completed_at,
        iso_epoch(inst.completed_at), pos, size,
    )


def step_fields(data: bytes, start: int, key: int) -> Parsed:
    """StepLineRows; step_index None in the older layout (the tailer numbers those)."""
    rows: list[tuple] = []
    unreadable = [0]
    unnumbered = False
    for pos, size, step in _STEPS.records(data, start, unreadable):
        rows.append(step_row(key, pos + 1, step, pos, size))
        unnumbered = unnumbered or step.step_index is None
    return Parsed(rows, unreadable[0], unnumbered)


def step_row(key: int, seq: int, step: Any, pos: int, size: int) -> tuple:
    """The StepLineRow of one step (named as records.Step is)."""
    return (key, seq, step.instance_id, step.correlation_id, step.step_index, step.step_name, step.step_type,
            step.ok, step.latency_ms, pos, size)


def assertion_fields(data: bytes, start: int, key: int) -> Parsed:
    """AssertionLineRows."""
    rows: list[tuple] = []
    unreadable = [0]
    for pos, size, assertion in _ASSERTIONS.records(data, start, unreadable):
        rows.append(assertion_row(key, pos + 1, assertion, pos, size))
    return Parsed(rows, unreadable[0])


def assertion_row(key: int, seq: int, assertion: Any, pos: int, size: int) -> tuple:
    """The AssertionLineRow of one assertion."""
    return (key, seq, assertion.instance_id, assertion.step_index, pos, size)


PARSERS = {layout.INSTANCES: instance_fields, layout.STEPS: step_fields, layout.ASSERTIONS: assertion_fields}


def parse_block(name: str, data: bytes, pos: int, key: int) -> Parsed:
    """Entry point for worker processes (a module-level function pickles by name)."""
    return PARSERS[name](data, pos, key)


STAGED = frozenset((layout.STEPS, layout.ASSERTIONS))  # files whose rows come whole from the parser


def parse_file_block(path: str, name: str, start: int, end: int, inode: int, key: int,
                     stage: bool = False) -> Parsed | None:
    """parse_block of bytes [start, end) of the file at `path`, read here: a parse worker reads its own block,
    so the bytes never cross the process boundary. None when the file there is another one (not `inode`)
    or shorter now: the tailer rebuilds the run. With `stage` (a SQLite catalog), numbered step and
    assertion rows come back as a database image (Parsed.images)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        if os.fstat(fd).st_ino != inode:
            return None
        data = os.pread(fd, end - start, start)
    finally:
        os.close(fd)
    if len(data) != end - start:
        return None
    parsed = parse_block(name, data, start, key)
    if stage and name in STAGED and parsed.rows and not parsed.unnumbered:
        return Parsed([], parsed.unreadable, images=[rows_image(parsed.rows)], last=parsed.rows[-1])
    return parsed
