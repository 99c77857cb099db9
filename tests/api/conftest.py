"""API tests run against the real app over a real socket: one server per catalog kind (tests/app_server.py).

Its heartbeat interval is short so the heartbeat test does not wait the production 5 s.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"
