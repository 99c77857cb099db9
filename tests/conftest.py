"""Shared pytest set-up for every tier: the project root importable, Hypothesis without wall-clock deadlines,
and PostgreSQL / redis-server for the tests that also run on them.

The machine running the suite may be busy (CI, several developers on two cores), so a per-example deadline
would fail tests for the machine's load rather than the code's behaviour.
"""

import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts import local_services  # noqa: E402 - needs the root on sys.path

settings.register_profile("windtunnel", deadline=None)
settings.load_profile("windtunnel")


# PostgreSQL and redis-server for the tests that run on them (installed from Debian's packages when missing,
# started on free loopback ports, stopped at the end of the session): scripts/local_services.py.
@pytest.fixture(scope="session")
def postgres_server() -> Iterator[local_services.Postgres]:
    with local_services.postgres(durable=False) as server:
        yield server


@pytest.fixture(scope="session")
def redis_server() -> Iterator[local_services.Redis]:
    with local_services.redis_server() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: local_services.Postgres, request: pytest.FixtureRequest) -> str:
    """A new empty database for this test."""
    return postgres_server.create_database(f"t{next(_DATABASES)}")


_DATABASES = itertools.count(1)
