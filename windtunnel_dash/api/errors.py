"""One error body for every failure the API reports (docs/design.md §5).

FastAPI answers 404/405 with `{"detail": ...}` and bad parameters with 422;
the contract wants `{"error": {"message", "code"}}` and 400, so the handlers
here translate both. A catalog database that cannot be reached is the
server's passing trouble, not a bug: 503 with Retry-After, not a bare 500
(docs/design.md §7).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from windtunnel_dash.api.jsonsafe import SafeJSONResponse

BAD_REQUEST = 400
NOT_FOUND = 404
METHOD_NOT_ALLOWED = 405
CONFLICT = 409
SERVICE_UNAVAILABLE = 503
RETRY_AFTER_S = 5
DATABASE_AWAY = "The catalog database cannot be reached right now; "


def error_body(code: int, message: str) -> dict[str, Any]:
    return {"error": {"message": message, "code": code}}


def error_response(code: int, message: str) -> SafeJSONResponse:
    return SafeJSONResponse(error_body(code, message), status_code=code)


def not_found(what: str) -> HTTPException:
    return HTTPException(NOT_FOUND, f"{what} not found")


async def _http_error(_: Request, exc: Exception) -> SafeJSONResponse:
    assert isinstance(exc, HTTPException)
    answer = error_response(exc.status_code, str(exc.detail))
    answer.headers.update(exc.headers or {})  # e.g. a 405's Allow
    return answer


def _describe(errors: list[dict[str, Any]]) -> str:
    parts = []
    for err in errors:
        where = ".".join(str(p) for p in err.get("loc", ())[1:]) or "request"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "bad request"


async def _validation_error(_: Request, exc: Exception) -> SafeJSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(BAD_REQUEST, _describe(list(exc.errors())))


async def _database_away(_: Request, exc: Exception) -> SafeJSONResponse:
    """An OperationalError is the database refusing, dropping or timing out a connection (or, for SQLite,
    a file locked or being rebuilt): it passes. Any other database error is a bug and stays a 500."""
    assert isinstance(exc, OperationalError)
    answer = error_response(SERVICE_UNAVAILABLE, DATABASE_AWAY + "try again shortly (the pages show the data as it was).")
    answer.headers["Retry-After"] = str(RETRY_AFTER_S)
    return answer


def install_error_handlers(api: FastAPI) -> None:
    api.add_exception_handler(HTTPException, _http_error)
    api.add_exception_handler(RequestValidationError, _validation_error)
    api.add_exception_handler(OperationalError, _database_away)
