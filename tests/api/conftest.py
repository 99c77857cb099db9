"""API tests run against the real app over a real socket: one server for the tier (tests/app_server.py).

Its heartbeat interval is short so the heartbeat test does not wait the production 5 s.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.app_server import AppServer, running_app

HEARTBEAT_S = 0.5


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    with running_app(tmp_path_factory.mktemp("api"), name="api", WINDTUNNEL_HEARTBEAT_S=str(HEARTBEAT_S)) as server:
        yield server


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"
