"""JSON out of the API that is always valid JSON, whatever the run files held.

Python's json reader accepts NaN and Infinity, so they can reach observations,
entry data or assertion values. Strict JSON has no such numbers: they go out
as null. The check costs nothing on the normal path (allow_nan=False only
raises when one is present).
"""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi.responses import JSONResponse

_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """Compact JSON; NaN and ±Infinity become null."""
    try:
        return _encode(value)
    except ValueError:
        return _encode(_finite(value))


class SafeJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return dumps(content).encode("utf-8")
