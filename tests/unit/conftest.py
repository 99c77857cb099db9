"""`each_catalog`: run a module's tests once on SQLite and once on a fresh Postgres database (docs/design.md §7)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.unit import pipeline_support


@pytest.fixture(params=["sqlite", "postgres"])
def each_catalog(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    monkeypatch.setattr(pipeline_support, "CATALOG_URL", url)
    yield request.param
