"""Failure signatures (docs/design.md §9): what kind of failure an instance had, comparable across runs.

An errored instance is its error text with ids and numbers replaced by
placeholders, so "timeout after 5012 ms on inst_3f2a…" and "timeout after
4870 ms on inst_9c1b…" are one kind. A failed instance (no error text) is the
first thing that went wrong in step order: a failing HTTP step's status code,
or else the first failing assertion's name (at the same step, the request
failed before anything could be checked).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

MAX_TEXT = 160  # a signature is a label, not the whole message
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
# prefix_<something with a digit>: inst_00cdbc8213bc, corr_abc_123, order-7731 (the prefix stays readable)
_PREFIXED_ID = re.compile(r"\b([A-Za-z]+[_-])(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{3,}\b")
_HEX_ID = re.compile(r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_SPACE = re.compile(r"\s+")

ERROR_KIND = "error"
HTTP_KIND = "http"
ASSERTION_KIND = "assertion"
UNKNOWN_KIND = "failed"


@dataclass(frozen=True, slots=True, order=True)
class Signature:
    kind: str  # error | http | assertion | failed
    text: str

    @property
    def label(self) -> str:
        return {
            ERROR_KIND: f"Error: {self.text}",
            HTTP_KIND: f"HTTP {self.text}",
            ASSERTION_KIND: f"Assertion failed: {self.text}",
        }.get(self.kind, self.text)


NOTHING_RECORDED = Signature(UNKNOWN_KIND, "Failed, no failing step or assertion recorded")


def normalize_error(text: str) -> str:
    """Error text with uuids, ids and numbers as <id> and <n>, whitespace collapsed, cut to MAX_TEXT."""
    out = _UUID.sub("<id>", text)
    out = _PREFIXED_ID.sub(r"\1<id>", out)
    out = _HEX_ID.sub("<id>", out)
    out = _NUMBER.sub("<n>", out)
    out = _SPACE.sub(" ", out).strip()
    return out if len(out) <= MAX_TEXT else out[: MAX_TEXT - 1] + "…"


def error_signature(error: str) -> Signature:
    return Signature(ERROR_KIND, normalize_error(error))


@dataclass(frozen=True, slots=True)
class FailedStep:
    """A failing HTTP step of an instance: where, and the status it got (None: no response)."""

    step_index: int | None
    status_code: int | None


@dataclass(frozen=True, slots=True)
class FailedAssertion:
    step_index: int | None
    name: str | None


def _order(step_index: int | None) -> float:
    return float("inf") if step_index is None else step_index


def failed_signature(steps: Iterable[FailedStep], assertions: Iterable[FailedAssertion]) -> Signature | None:
    """The first failure in step order (an HTTP step before an assertion at the same index); None when
    neither is known (yet: its lines may still be on their way)."""
    first: tuple[float, int, Signature] | None = None
    for s in steps:
        sig = Signature(HTTP_KIND, "no response" if s.status_code is None else str(s.status_code))
        if first is None or (_order(s.step_index), 0) < first[:2]:
            first = (_order(s.step_index), 0, sig)
    for a in assertions:
        sig = Signature(ASSERTION_KIND, (a.name or "(unnamed)")[:MAX_TEXT])  # a name is chosen, not generated
        if first is None or (_order(a.step_index), 1) < first[:2]:
            first = (_order(a.step_index), 1, sig)
    return None if first is None else first[2]
