"""WINDTUNNEL_AUTH over a real socket: everything on the port needs Basic credentials, sockets included.

The server without credentials is the API tier's own (`app_server`): it must answer as before.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.api.runbuilder import instance, open_run
from tests.api.test_rest import wait_for
from tests.app_server import AppServer, running_app

USER, PASSWORD = "alice", "s3cr3t:with-colon"
GOOD = (USER, PASSWORD)
GUARDED = ["/", "/runs/some_run", "/api/runs", "/api/health", "/docs", "/openapi.json", "/_health",
           "/api/runs/some_run/instances.csv", "/favicon.ico"]


@pytest.fixture(scope="module")
def guarded_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    with running_app(tmp_path_factory.mktemp("auth"), name="extra", WINDTUNNEL_AUTH=f"{USER}:{PASSWORD}") as server:
        yield server


@pytest.fixture(scope="module")
def live_run(guarded_app: AppServer) -> str:
    run = open_run(guarded_app.runs_dir, planned=2)
    run.write_instance(instance(1, "passed", 5.0))
    with httpx.Client(base_url=guarded_app.base_url, auth=GOOD) as client:
        wait_for(client, f"/api/runs/{run.run_id}", lambda r: r["stats"]["total"] == 1)
    return run.run_id


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.mark.parametrize("path", GUARDED)
@pytest.mark.parametrize("headers", [{}, basic(USER, "wrong"), basic("mallory", PASSWORD),
                                     {"Authorization": "Bearer " + PASSWORD}, {"Authorization": "Basic %%%"}],
                         ids=["none", "wrong-password", "wrong-user", "other-scheme", "garbage"])
def test_without_the_credentials_everything_is_refused(guarded_app, path, headers):
    answer = httpx.get(guarded_app.url(path), headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == 'Basic realm="windtunnel", charset="UTF-8"'
    assert answer.json() == {"error": {"message": "authentication required", "code": 401}}


def test_with_the_credentials_everything_answers(guarded_app, live_run):
    with httpx.Client(base_url=guarded_app.base_url, auth=GOOD) as client:
        assert client.get("/").status_code == 200
        assert client.get(f"/runs/{live_run}").status_code == 200
        assert client.get("/docs").status_code == 200
        assert client.get("/api/runs").json()["total"] == 1
        assert client.get(f"/api/runs/{live_run}/instances.jsonl").text.count("\n") == 1


def test_ping_stays_open_for_liveness_checks(guarded_app):
    assert httpx.get(guarded_app.url("/ping")).status_code == 200


SOCKETS = {
    "stream": "/api/runs/{run}/stream",
    "reflex": "/_event/?EIO=4&transport=websocket",
}


@pytest.mark.anyio
@pytest.mark.parametrize("socket", SOCKETS)
async def test_sockets_are_refused_at_the_handshake_without_credentials(guarded_app, live_run, socket):
    url = guarded_app.ws_url + SOCKETS[socket].format(run=live_run)
    for headers in ({}, basic(USER, "wrong")):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url, additional_headers=headers, open_timeout=10):
                pass
        assert refused.value.response.status_code == 403


@pytest.mark.anyio
async def test_sockets_open_with_the_credentials(guarded_app, live_run):
    stream = guarded_app.ws_url + SOCKETS["stream"].format(run=live_run)
    async with connect(stream, additional_headers=basic(*GOOD), open_timeout=10) as ws:
        first = json.loads(await ws.recv())
        assert first["type"] == "instance_complete" and first["data"]["instanceId"] == "inst_00001"
    reflex = guarded_app.ws_url + SOCKETS["reflex"]
    async with connect(reflex, additional_headers=basic(*GOOD), open_timeout=10) as ws:
        assert str(await ws.recv()).startswith("0{")  # engine.io's open packet: the handshake went through


def test_the_password_is_never_logged(guarded_app):
    httpx.get(guarded_app.url("/api/runs"), headers=basic(USER, "wrong-" + PASSWORD))
    httpx.get(guarded_app.url("/api/runs"), auth=GOOD)
    log = guarded_app.log_path.read_text(errors="replace")
    assert PASSWORD not in log and base64.b64encode(PASSWORD.encode()).decode() not in log
    assert "no access control" not in log  # credentials are set


def test_without_auth_configured_the_api_needs_no_credentials(app_server):
    assert httpx.get(app_server.url("/api/runs")).status_code == 200
    assert "no access control" not in app_server.log_path.read_text(errors="replace")  # loopback: no warning
