"""Issue #20's findings over a real socket: huge integers get 400, other methods 405 with Allow, HEAD its GET.

The generic behaviour is unit-tested on a stand-in endpoint (tests/unit/test_api_guards.py); these pin
it on the real app, with the requests the fuzzer first found.
"""

from __future__ import annotations

import httpx
import pytest
from openapi_spec_validator import validate

from tests.api.test_fuzz_rest import operations
from windtunnel_dash.api import schemas

pytestmark = pytest.mark.usefixtures("fixture_runs")

RUN = "run_20240122_001"


def error_code(answer: httpx.Response) -> int:
    return schemas.ErrorBody.model_validate(answer.json()).error.code


@pytest.mark.parametrize("path", [
    "/api/runs?offset=253188997778871236427776",
    f"/api/runs/{RUN}/instances?page=4068969110169312227302475563008&limit=57310488369696",
    "/api/runs?limit=-1",
    f"/api/runs/{RUN}/instances?page=9007199254740992",
    # a NUL in a search: Postgres text cannot hold it (the fuzzer's 500 on a Postgres catalog)
    f"/api/runs/{RUN}/instances?q=a%00b",
    f"/api/runs/{RUN}/instances.jsonl?q=%00",
    f"/api/runs/{RUN}/instances.csv?sort=durationMs&q=x%00",
])
def test_out_of_range_or_unstorable_parameters_get_400_with_the_error_body(client, path):
    answer = client.get(path)
    assert answer.status_code == 400 and error_code(answer) == 400, answer.text


@pytest.mark.parametrize("path", [f"/api/runs/{RUN}/instances/%0Ak", "/api/x%0Ay", f"/api/runs/{RUN}%0A/instances"])
def test_a_newline_in_the_path_gets_the_404_error_body(client, path):
    answer = client.get(path)
    assert answer.status_code == 404 and error_code(answer) == 404, answer.text


def test_a_huge_limit_is_capped(client):
    body = client.get(f"/api/runs/{RUN}/instances", params={"limit": 9007199254740991, "page": 2}).json()
    assert (body["limit"], body["page"], body["items"]) == (500, 2, [])


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE", "PATCH", "OPTIONS", "TRACE"])
@pytest.mark.parametrize("path", ["/api/runs", f"/api/runs/{RUN}", f"/api/runs/{RUN}/instances",
                                  f"/api/runs/{RUN}/instances/inst_001", "/api/health"])
def test_methods_the_api_does_not_offer_get_405_with_allow(client, method, path):
    answer = client.request(method, path)
    assert answer.status_code == 405 and answer.headers["allow"] == "GET, HEAD"
    assert error_code(answer) == 405


def test_head_answers_as_get_without_a_body(client):
    head, get = client.head(f"/api/runs/{RUN}"), client.get(f"/api/runs/{RUN}")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(get.content))
    assert client.head("/api/runs/no_such_run").status_code == 404


def integer_parameters(spec: dict):
    """(operation and parameter, its integer schema) for every integer parameter; `int | None` is an anyOf."""
    for path, item in spec["paths"].items():
        for method, op in item.items():
            for param in op.get("parameters", []):
                for schema in param["schema"].get("anyOf", [param["schema"]]):
                    if schema.get("type") == "integer":
                        yield f"{method.upper()} {path} {param['name']}", schema


def test_the_served_document_is_openapi_3_1_with_every_answer_documented(client):
    spec = client.get("/openapi.json").json()
    validate(spec)
    assert {"GET /api/runs", "GET /api/runs/{run_id}", "GET /api/health"} <= operations(spec)
    for path, item in spec["paths"].items():
        for op in item.values():
            assert "405" in op["responses"] and "422" not in op["responses"], path
    bounded = dict(integer_parameters(spec))
    assert bounded  # limit, offset, page
    for name, schema in bounded.items():
        assert {"minimum", "maximum"} <= set(schema), f"{name}: unbounded; make its router with route_class=BoundedRoute"
