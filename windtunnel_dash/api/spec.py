"""The OpenAPI document names every answer an operation can give, with the error body's schema.

FastAPI documents a 422 it never sends here (errors.py turns validation errors
into 400) and nothing for the 404s and 405s the API answers. This rewrites the
generated document instead of each route, so an endpoint added later is
documented by being added:
- 400 wherever FastAPI would have put its 422 (the operation has parameters);
- 404 where the path names something (a run, an instance) that may not exist;
- 405 with `Allow` on every operation (api/fallback.py);
- 503 with `Retry-After` on every operation: any of them may meet the catalog database away (api/errors.py);
- any other error a route declares itself (a 409, say) gets the error body's schema.
"""

from __future__ import annotations

from typing import Any

from windtunnel_dash.api.errors import BAD_REQUEST, METHOD_NOT_ALLOWED, NOT_FOUND, SERVICE_UNAVAILABLE
from windtunnel_dash.api.schemas import ErrorBody

_REF = "#/components/schemas/{model}"
_ERROR_CONTENT = {"application/json": {"schema": {"$ref": _REF.format(model="ErrorBody")}}}
_OPERATIONS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _error(description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": _ERROR_CONTENT, **extra}


_BAD_REQUEST = _error("A parameter is malformed or out of range")
_NOT_FOUND = _error("Nothing of that name: no such run, or no such instance in it")
_METHOD_NOT_ALLOWED = _error(
    "The path does not offer this method",
    headers={"Allow": {"description": "the methods the path offers", "required": True, "schema": {"type": "string"}}},
)
_UNAVAILABLE = _error(
    "The catalog database cannot be reached right now; ask again after Retry-After seconds",
    headers={"Retry-After": {"description": "seconds to wait", "required": True, "schema": {"type": "integer"}}},
)


def _document(path: str, responses: dict[str, Any]) -> None:
    if responses.pop("422", None) is not None:
        responses.setdefault(str(BAD_REQUEST), _BAD_REQUEST)
    if "{" in path:
        responses.setdefault(str(NOT_FOUND), _NOT_FOUND)
    responses.setdefault(str(METHOD_NOT_ALLOWED), _METHOD_NOT_ALLOWED)
    responses.setdefault(str(SERVICE_UNAVAILABLE), _UNAVAILABLE)
    for code, answer in responses.items():
        if code.startswith("4") and "content" not in answer:
            answer["content"] = _ERROR_CONTENT


def document_errors(spec: dict[str, Any]) -> dict[str, Any]:
    """`spec` (FastAPI's generated document) with every operation's errors documented; changed in place."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    error_body = ErrorBody.model_json_schema(ref_template=_REF)
    schemas.update(error_body.pop("$defs", {}), ErrorBody=error_body)
    for path, item in spec.get("paths", {}).items():
        for method in _OPERATIONS:
            if method in item:
                _document(path, item[method].setdefault("responses", {}))
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return spec
