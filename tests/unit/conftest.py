"""`each_catalog`: run a module's tests once on SQLite and once on a fresh Postgres database (docs/design.md §7).
`read_only_fixture_root`: the fixture runs copied and made read-only, as a runner's archive may be."""

from __future__ import annotations

import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit import pipeline_support
from tests.unit.pipeline_support import FIXTURE_RUNS


@pytest.fixture(params=["sqlite", "postgres"])
def each_catalog(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    monkeypatch.setattr(pipeline_support, "CATALOG_URL", url)
    yield request.param


@pytest.fixture
def read_only_fixture_root(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "ro_runs"
    shutil.copytree(FIXTURE_RUNS, root)
    paths = [root, *root.rglob("*")]
    for path in paths:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    yield root
    for path in paths:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
