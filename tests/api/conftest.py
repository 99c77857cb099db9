"""API tests run against the real app over a real socket: one server per catalog kind (tests/app_server.py).

Its heartbeat interval is short so the heartbeat test does not wait the production 5 s.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.api.test_fuzz_rest import serve_fixture_runs
from tests.app_server import AppServer, running_app

HEARTBEAT_S = 0.5


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def app_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The app on SQLite, then on a Postgres catalog (docs/design.md §7): every API test runs on both."""
    env = {"WINDTUNNEL_HEARTBEAT_S": str(HEARTBEAT_S)}
    if request.param == "postgres":
        env["WINDTUNNEL_DB_URL"] = request.getfixturevalue("postgres_server").create_database("api")
    with running_app(tmp_path_factory.mktemp(f"api-{request.param}"), name="api", **env) as server:
        yield server


@pytest.fixture(scope="module")
def client(app_server: AppServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=app_server.base_url, timeout=10) as c:
        yield c


@pytest.fixture(scope="module")
def fixture_runs(app_server: AppServer, client: httpx.Client) -> None:
    """Every fixture run in the runs folder, the named ones served (test_fuzz_rest.serve_fixture_runs)."""
    serve_fixture_runs(app_server, client)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"
