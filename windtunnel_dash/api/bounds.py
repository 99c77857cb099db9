"""Integer parameters are range-checked before they reach the database (docs/design.md §5).

Python's ints have no size, SQLite's and Postgres's do (64 bits): an `offset`
of 10**24 would pass validation and fail in the driver with a 500. Every
integer parameter of an endpoint on a `BoundedRoute` therefore gets bounds:
the ones it declares, and the JSON-safe range for any side it leaves open. An
endpoint added to the API's routers is covered by being added; out-of-range
values fail validation, which the error handlers answer with 400.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from typing import Annotated, Any, Union, get_args, get_origin

import annotated_types
from fastapi.routing import APIRoute

# The largest integer a JSON reader in a browser holds exactly (Number.MAX_SAFE_INTEGER);
# a page of it times the largest limit still fits 64 bits.
MAX_INT = 2**53 - 1
MIN_INT = -MAX_INT

_UPPER = (annotated_types.Le, annotated_types.Lt)
_LOWER = (annotated_types.Ge, annotated_types.Gt)


def _is_int(annotation: Any) -> bool:
    """`int`, or `int | None`: the scalar integers a query string, path or header carries."""
    if annotation is int:
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        return [a for a in get_args(annotation) if a is not type(None)] == [int]
    return False


def _constraints(metadata: tuple[Any, ...]) -> list[Any]:
    """Bounds in `Annotated` metadata: annotated-types ones, and those inside FastAPI's Query()/Path()."""
    found = []
    for item in metadata:
        found.append(item)
        found.extend(getattr(item, "metadata", ()))
    return found


def bounded(annotation: Any) -> Any:
    """`annotation` with the integer bounds it leaves open added, or unchanged when it is no integer."""
    base, metadata = annotation, ()
    if get_origin(annotation) is Annotated:
        base, *rest = get_args(annotation)
        metadata = tuple(rest)
    if not _is_int(base):
        return annotation
    present = _constraints(metadata)
    missing = [bound for kinds, bound in ((_UPPER, annotated_types.Le(MAX_INT)), (_LOWER, annotated_types.Ge(MIN_INT)))
               if not any(isinstance(c, kinds) for c in present)]
    return Annotated[(base, *metadata, *missing)] if missing else annotation


def with_bounded_integers(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """`endpoint`, its signature (which FastAPI reads) carrying bounded integer parameters."""
    hints = typing.get_type_hints(endpoint, include_extras=True)
    signature = inspect.signature(endpoint)
    params = [p.replace(annotation=bounded(hints.get(p.name, p.annotation))) for p in signature.parameters.values()]
    endpoint.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=params, return_annotation=hints.get("return", signature.return_annotation))
    return endpoint


class BoundedRoute(APIRoute):
    """An APIRoute whose integer parameters are all range-checked; the API's routers use it."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, with_bounded_integers(endpoint), **kwargs)
