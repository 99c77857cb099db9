"""What an endpoint gets by being added to the API (issue #20): bounded integers, 405/HEAD, documented errors.

A stand-in endpoint, written as a developer would add one, goes through the real `build_api`; a
catch-all mount behind it plays Reflex's frontend, which takes whatever the API's routes leave.
"""

from __future__ import annotations

import json
from typing import Annotated

import pytest
from fastapi import APIRouter, Query
from fastapi.testclient import TestClient
from openapi_spec_validator import validate
from starlette.responses import PlainTextResponse

from windtunnel_dash.api.app import build_api
from windtunnel_dash.api.bounds import MAX_INT, MIN_INT, BoundedRoute, bounded
from windtunnel_dash.api.errors import not_found
from windtunnel_dash.api.schemas import ErrorBody

router = APIRouter(prefix="/api", route_class=BoundedRoute)


@router.get("/things/{thing_id}")
async def get_thing(thing_id: str, n: int = 0, page: Annotated[int, Query(ge=1)] = 1,
                    cap: Annotated[int | None, Query(le=10)] = None) -> dict:
    if thing_id == "missing":
        raise not_found("thing")
    return {"n": n, "page": page, "cap": cap}


@router.post("/things")
async def add_thing() -> dict:
    return {}


@router.get("/count")
async def count() -> dict:
    return {"count": 1}


@pytest.fixture(scope="module")
def client():
    api = build_api(routers=(router,))
    api.mount("", PlainTextResponse("the frontend", status_code=404))  # as Reflex mounts itself behind the API
    with TestClient(api) as c:
        yield c


@pytest.fixture(scope="module")
def spec(client):
    return client.get("/openapi.json").json()


def error_of(answer, code: int) -> str:
    assert answer.status_code == code, answer.text
    body = ErrorBody.model_validate(answer.json())
    assert body.error.code == code
    return body.error.message


@pytest.mark.parametrize("params", [{"n": str(MAX_INT + 1)}, {"n": str(-(10**30))}, {"page": "4068969110169312227302475563008"},
                                    {"page": "0"}, {"cap": "11"}, {"n": "1.5"}, {"n": "x"}])
def test_integers_out_of_range_or_malformed_get_400(client, params):
    assert error_of(client.get("/api/things/a", params=params), 400)


def test_integers_in_range_pass(client):
    answer = client.get("/api/things/a", params={"n": MIN_INT, "page": MAX_INT, "cap": -5})
    assert answer.json() == {"n": MIN_INT, "page": MAX_INT, "cap": -5}


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("PUT", "/api/things/a", "GET, HEAD"), ("DELETE", "/api/things/a", "GET, HEAD"),
    ("OPTIONS", "/api/things/a", "GET, HEAD"), ("TRACE", "/api/count", "GET, HEAD"),
    ("GET", "/api/things", "POST"), ("PATCH", "/api/things", "POST"),
])
def test_methods_a_path_does_not_offer_get_405_with_allow(client, method, path, allow):
    answer = client.request(method, path)
    assert error_of(answer, 405)
    assert answer.headers["allow"] == allow


def test_head_is_get_without_the_body(client):
    get, head = client.get("/api/count"), client.head("/api/count")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"] == str(len(get.content))
    assert client.head("/api/things/missing").status_code == 404


@pytest.mark.parametrize("path", ["/api/nothing/here", "/api/no%0Athing", "/api/things/a%0A/x"])
@pytest.mark.parametrize("method", ["GET", "PUT", "HEAD"])
def test_paths_that_do_not_exist_get_404(client, method, path):
    answer = client.request(method, path)
    assert answer.status_code == 404
    if method != "HEAD":
        assert error_of(answer, 404)


def test_sockets_to_paths_that_do_not_exist_get_the_404_error(client):
    for path in ("/api/nothing", "/api/runs/%0A/stream"):
        with client.websocket_connect(path) as ws:
            assert json.loads(ws.receive_text())["data"]["code"] == 404
            assert ws.receive()["code"] == 4404


def test_the_document_is_openapi_3_1(spec):
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_every_operation_documents_its_errors_with_the_error_body(spec):
    responses = {(path, method): op["responses"] for path, item in spec["paths"].items() for method, op in item.items()}
    assert set(responses["/api/things/{thing_id}", "get"]) == {"200", "400", "404", "405", "503"}
    assert set(responses["/api/things", "post"]) == {"200", "405", "503"}  # no parameter, nothing named
    assert set(responses["/api/count", "get"]) == {"200", "405", "503"}
    for answers in responses.values():
        for code, answer in answers.items():
            if code != "200":
                assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}
        assert answers["405"]["headers"]["Allow"]["required"] is True
        assert answers["503"]["headers"]["Retry-After"]["required"] is True
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_every_integer_parameter_is_documented_with_its_range(spec):
    params = {p["name"]: p["schema"] for p in spec["paths"]["/api/things/{thing_id}"]["get"]["parameters"]}
    assert (params["n"]["minimum"], params["n"]["maximum"]) == (MIN_INT, MAX_INT)
    assert (params["page"]["minimum"], params["page"]["maximum"]) == (1, MAX_INT)
    assert params["cap"]["anyOf"][0] == {"type": "integer", "minimum": MIN_INT, "maximum": 10}


def test_bounded_leaves_other_types_alone():
    for annotation in (str, Annotated[float, Query()], list[int], int | str):
        assert bounded(annotation) is annotation
