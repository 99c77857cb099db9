"""DEMO=1 against a read-only runs root: the demo still runs (in the data directory) and the root is untouched.

The root is made read-only for real: by permissions, and, where the tests run as root (whom permissions do
not stop), by a read-only bind mount. Either way the test compares every entry under the root (name, size,
modification time, mode) before and after, so a write would fail it even where neither applies.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.api.test_rest import wait_for
from tests.app_server import FIXTURE_RUNS, AppServer, running_app

FIXTURE = "run_20261126_151613"


def tree(root: Path) -> dict[str, tuple]:
    out = {".": (os.stat(root).st_mtime_ns, stat.S_IMODE(os.stat(root).st_mode))}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        out[path.relative_to(root).as_posix()] = (st.st_size, st.st_mtime_ns, stat.S_IMODE(st.st_mode))
    return out


def _can_write(folder: Path) -> bool:
    probe = folder / ".write-probe"
    try:
        probe.write_text("x")
    except OSError:
        return False
    probe.unlink()
    return True


@contextmanager
def read_only(folder: Path) -> Iterator[str]:
    """Make `folder` unwritable; yields how ("permissions", "bind mount", or "snapshot only")."""
    for path in [folder, *folder.rglob("*")]:
        if not path.is_symlink():
            path.chmod(stat.S_IMODE(path.stat().st_mode) & ~0o222)
    mounted = False
    if _can_write(folder):  # root: permissions do not apply
        mounted = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True).returncode == 0
        if mounted:
            subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], capture_output=True)
    how = "permissions" if not mounted else "bind mount"
    try:
        yield how if not _can_write(folder) else "snapshot only"
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], check=True)
        for path in [folder, *folder.rglob("*")]:
            if not path.is_symlink():
                path.chmod(stat.S_IMODE(path.stat().st_mode) | 0o200)


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppServer, dict[str, tuple], str]]:
    base = tmp_path_factory.mktemp("demo-ro")
    runs = base / "runs"
    runs.mkdir()
    shutil.copytree(FIXTURE_RUNS / FIXTURE, runs / FIXTURE)
    with read_only(runs) as how:
        before = tree(runs)
        with running_app(base, name="extra", DEMO="1") as server:
            yield server, before, how


def test_the_demo_runs_in_the_data_dir_and_the_read_only_root_is_untouched(demo_app):
    server, before, how = demo_app
    print(f"runs root made read-only by: {how}")
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        runs = wait_for(client, "/api/runs", lambda b: any(r["runId"] != FIXTURE and r["stats"]["total"] > 0
                                                            for r in b["runs"]), timeout=60)
        ids = {r["runId"] for r in runs["runs"]}
        assert FIXTURE in ids  # the root is still read
        [demo_id] = ids - {FIXTURE}
        assert (server.data_dir / "demo-runs" / demo_id / "instances.jsonl").is_file()
        first = client.get(f"/api/runs/{demo_id}").json()
        assert first["status"] in ("running", "failing")
        wait_for(client, f"/api/runs/{demo_id}", lambda r: r["stats"]["total"] > first["stats"]["total"])
    assert tree(server.runs_dir) == before
