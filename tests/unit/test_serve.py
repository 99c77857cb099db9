"""scripts/serve.py: a frontend build is reused only for the same sources, Reflex version and PORT."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
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
    assert env["REFLEX_OPLOCK_ENABLED"] == "1"
    serve.apply_defaults(env)
    assert env["PATH"].count("tools/node_modules/.bin") == 1


MAPPED_AFTER_A_BIG_FREE = """
import ctypes, sys
sys.path.insert(0, {root!r})
from scripts import serve

class Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Mallinfo2
if {fixed}:
    serve._bound_malloc_retention()
big = bytearray(8 << 20)  # mapped (over the threshold); freeing it raises glibc's threshold unless fixed
del big
before = libc.mallinfo2().hblkhd
held = bytearray(1 << 20)
print(libc.mallinfo2().hblkhd - before >= 1 << 20)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
@pytest.mark.parametrize("fixed", [True, False])
def test_a_buffer_of_a_megabyte_stays_mapped_after_a_bigger_one_was_freed(fixed: bool) -> None:
    """The server fixes glibc's mmap threshold (serve._bound_malloc_retention), so a short-lived buffer of a
    megabyte is its own mapping, unmapped when freed; glibc's own rule would take it from the heap."""
    code = MAPPED_AFTER_A_BIG_FREE.format(root=str(serve.ROOT), fixed=fixed)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(fixed)


HEAPS_AFTER_SIX_THREADS = """
import ctypes, os, sys, tempfile, threading
sys.path.insert(0, {root!r})
from scripts import serve

if {fixed}:
    serve._bound_malloc_retention()
together = threading.Barrier(6)
def allocate():  # all six alive at once, so none can take over an arena another thread left
    held = bytearray(4096)
    together.wait()
threads = [threading.Thread(target=allocate) for _ in range(6)]
for t in threads:
    t.start()
for t in threads:
    t.join()
libc = ctypes.CDLL("libc.so.6")
libc.fdopen.restype = ctypes.c_void_p
with tempfile.TemporaryFile() as f:
    stream = libc.fdopen(os.dup(f.fileno()), b"w")
    libc.malloc_info(0, ctypes.c_void_p(stream))
    libc.fclose(ctypes.c_void_p(stream))
    f.seek(0)
    print(f.read().count(b"<heap nr="))
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
@pytest.mark.parametrize("fixed", [True, False])
def test_threads_share_two_malloc_arenas(fixed: bool) -> None:
    """Six threads allocate from at most two heaps (serve._bound_malloc_retention); glibc alone gives each its own."""
    code = HEAPS_AFTER_SIX_THREADS.format(root=str(serve.ROOT), fixed=fixed)
    heaps = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert (heaps <= serve.ARENA_MAX) == fixed
