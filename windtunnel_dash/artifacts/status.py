"""The one definition of instance status, pass rate, percentiles and run status (docs/design.md §2–3).

Everything in the project calls these, so the UI filters, the API and the
catalog can never disagree about which set an instance is in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

InstanceStatus = Literal["passed", "failed", "error"]
RunStatus = Literal["running", "failing", "complete", "stalled", "error"]
# Still being written: their figures change and their durations tick.
ACTIVE_STATUSES: tuple[RunStatus, ...] = ("running", "failing")

PASSED: InstanceStatus = "passed"
FAILED: InstanceStatus = "failed"
ERROR: InstanceStatus = "error"
INSTANCE_STATUSES: tuple[InstanceStatus, ...] = (PASSED, FAILED, ERROR)
# The order of sort=status (docs/design.md §5): error, failed, passed.
STATUS_RANK: dict[str, int] = {ERROR: 0, FAILED: 1, PASSED: 2}


def classify(passed: Any, error: Any) -> InstanceStatus:
    """passed is true → passed; else a non-empty error string → error; else failed."""
    if passed is True:
        return PASSED
    if isinstance(error, str) and error.strip():
        return ERROR
    return FAILED


def pass_rate(passed: int, total: int) -> float:
    """100 * passed / total, one decimal; 0 when there is nothing yet."""
    return round(100.0 * passed / total, 1) if total else 0.0


def nearest_rank(sorted_values: Sequence[float], percent: float) -> float | None:
    """Nearest-rank percentile of an ascending sequence; None when empty."""
    n = len(sorted_values)
    if n == 0:
        return None
    rank = max(1, math.ceil(percent / 100.0 * n))
    return sorted_values[min(rank, n) - 1]


def run_status(*, complete: bool, manifest_error: bool, stalled: bool, failures: int) -> RunStatus:
    """First match wins: complete, error, stalled, failing, running."""
    if complete:
        return "complete"
    if manifest_error:
        return "error"
    if stalled:
        return "stalled"
    if failures > 0:
        return "failing"
    return "running"
