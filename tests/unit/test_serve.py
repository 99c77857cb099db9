"""scripts/serve.py: a frontend build is reused only for the same sources, Reflex version and PORT."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts import serve


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for rel, text in {
        "rxconfig.py": "config = 1\n",
        "windtunnel_dash/pages/run_list.py": "page = 1\n",
        "assets/dash.css": ".a {}\n",
        "reflex.lock/package.json": "{}\n",
    }.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    monkeypatch.setattr(serve, "ROOT", tmp_path)
    return tmp_path


def _built(web: Path, port: int) -> None:
    (web / "build" / "client").mkdir(parents=True)
    (web / "build" / "client" / "index.html").write_text("<html></html>")
    (web / serve.STAMP_NAME).write_text(json.dumps({"fingerprint": serve.fingerprint(port), "port": port}))


def test_the_port_is_part_of_the_key(tree: Path) -> None:
    assert serve.fingerprint(3000) == serve.fingerprint(3000)
    assert serve.fingerprint(3000) != serve.fingerprint(3001)


def test_sources_change_the_key_but_derived_files_do_not(tree: Path) -> None:
    before = serve.fingerprint(3000)
    (tree / "windtunnel_dash" / "__pycache__").mkdir()
    (tree / "windtunnel_dash" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    (tree / "assets" / "external").mkdir()
    (tree / "assets" / "external" / "lib.js").write_text("x")
    assert serve.fingerprint(3000) == before
    (tree / "windtunnel_dash" / "pages" / "run_list.py").write_text("page = 2\n")
    assert serve.fingerprint(3000) != before


def test_bundle_settings_change_the_key(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = serve.fingerprint(3000)
    monkeypatch.setenv("REFLEX_API_URL", "http://dash.example:8080")
    assert serve.fingerprint(3000) != before


def test_a_build_is_reused_only_when_stamped_for_this_port(tree: Path) -> None:
    web = tree / ".web-x"
    assert not serve.build_is_current(web, 3000)
    _built(web, 3000)
    assert serve.build_is_current(web, 3000)
    assert not serve.build_is_current(web, 3001)
    assert serve.read_stamp(web)["port"] == 3000
    (web / "build" / "client" / "index.html").unlink()
    assert not serve.build_is_current(web, 3000)


@pytest.mark.parametrize(
    ("edited_while_building", "reusable"), [("reflex.lock/package.json", True), ("rxconfig.py", False)]
)
def test_the_stamp_keeps_the_sources_from_before_the_build(
    tree: Path, monkeypatch: pytest.MonkeyPatch, edited_while_building: str, reusable: bool
) -> None:
    from reflex.utils import build

    web = tree / ".web-x"

    def fake_build(_root: Path) -> None:  # Reflex syncs the lockfile; a developer may save a page meanwhile
        (tree / edited_while_building).write_text("changed during the build\n")
        (web / "build" / "client").mkdir(parents=True)
        (web / "build" / "client" / "index.html").write_text("<html></html>")

    monkeypatch.setattr(build, "setup_frontend_prod", fake_build)
    serve._stamp_after_build(web, 3000)
    build.setup_frontend_prod(tree)
    assert serve.build_is_current(web, 3000) is reusable


def test_defaults_put_our_bun_first_and_keep_explicit_settings() -> None:
    env = {"PATH": "/usr/bin", "REFLEX_TELEMETRY_ENABLED": "true"}
    serve.apply_defaults(env)
    assert env["PATH"].split(":")[0] == str(serve.ROOT / "tools" / "node_modules" / ".bin")
    assert env["REFLEX_TELEMETRY_ENABLED"] == "true"
    assert env["REFLEX_CHECK_LATEST_VERSION"] == "0"
    assert env["REFLEX_USE_SYSTEM_BUN"] == "1"
    serve.apply_defaults(env)
    assert env["PATH"].count("tools/node_modules/.bin") == 1
