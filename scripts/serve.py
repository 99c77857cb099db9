"""Serve the dashboard in prod mode on one port; `make run` and the e2e harness both start the app through here.

Why not plain `reflex run --env prod`: it re-compiles the app and re-runs the Vite export on every start
(reflex/reflex.py `_run_prod` -> `build.setup_frontend_prod`), which is most of a restart. `--backend-only`
is no substitute: it never mounts the compiled frontend (`exec.run_backend_prod(...,
mount_frontend_compiled_app=False)`), so pages would 404. So this runs Reflex's own `run` command and,
when the stamp left by the last successful build matches the current sources, Reflex version and PORT,
turns the compile and export steps into no-ops. PORT is part of the key because a prod bundle bakes the
socket URL in (docs/reflex.md §9): a different PORT rebuilds.

Environment: HOST (default 127.0.0.1), PORT (default 3000), plus everything Settings.from_env() reads.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import json
import logging
import os
import sys
from collections.abc import Iterator, MutableMapping
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAMP_NAME = "windtunnel_build.json"
# Inputs of the compiled frontend; assets/external holds symlinks Reflex derives at compile time.
SOURCE_INPUTS = ("rxconfig.py", "windtunnel_dash", "assets")
LOCK_INPUTS = ("reflex.lock",)  # Reflex may rewrite these while it builds
DERIVED = ("assets/external",)
# Settings that change what the bundle contains besides the sources.
BUNDLE_ENV = (
    "REFLEX_API_URL",
    "REFLEX_DEPLOY_URL",
    "REFLEX_FRONTEND_PATH",
    "REFLEX_BACKEND_PATH",
    "REFLEX_TRANSPORT",
    "REFLEX_SSR",
    "VITE_MINIFY",
)


def apply_defaults(env: MutableMapping[str, str]) -> None:
    """Offline, quiet Reflex using the project's own bun (docs/reflex.md §8); explicit settings win."""
    bun_bin = str(ROOT / "tools" / "node_modules" / ".bin")
    if bun_bin not in env.get("PATH", "").split(os.pathsep):
        env["PATH"] = bun_bin + os.pathsep + env.get("PATH", "")
    env.setdefault("REFLEX_USE_SYSTEM_BUN", "1")
    env.setdefault("REFLEX_CHECK_LATEST_VERSION", "0")
    env.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
    # A fixed registry skips Reflex's latency probe of two public registries.
    env.setdefault("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org/")
    # No prerendering: it fetches each page from a `vite preview` server with a timeout, and on a busy
    # machine that timeout failed the whole build. The pages are live anyway, so a static first
    # paint buys little.
    env.setdefault("REFLEX_SSR", "0")
    # Granian even if uvicorn and gunicorn both get installed (docs/reflex.md §8).
    env.setdefault("REFLEX_USE_GRANIAN", "1")
    # With Redis (several workers), a live page's deltas keep its state in its worker instead of taking
    # the Redis lock and reading and writing the state for each one (docs/reflex.md §6).
    env.setdefault("REFLEX_OPLOCK_ENABLED", "1")


def _quiet_node_version_warning() -> None:
    """Reflex warns that Debian's Node 20 is old, then runs the build under bun (`bun --bun`) instead,
    which is how this project builds on purpose (docs/reflex.md §9): the warning is noise, so drop it."""
    logging.getLogger("reflex.utils.js_runtimes").addFilter(
        lambda record: "of Node.js is out of date" not in record.getMessage()
    )


def web_dir(env: MutableMapping[str, str] = os.environ) -> Path:
    return ROOT / env.get("REFLEX_WEB_WORKDIR", ".web")


def _input_files(names: tuple[str, ...]) -> Iterator[Path]:
    for name in names:
        path = ROOT / name
        candidates = [path] if path.is_file() else sorted(path.rglob("*"))
        for file in candidates:
            rel = file.relative_to(ROOT).as_posix()
            if file.is_file() and "__pycache__" not in file.parts and not rel.startswith(DERIVED):
                yield file


def _digest(names: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for file in _input_files(names):
        digest.update(file.relative_to(ROOT).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def fingerprint(port: int, env: MutableMapping[str, str] = os.environ, sources: str | None = None) -> str:
    """A digest of everything the frontend build depends on; `sources` is a source digest taken earlier."""
    versions = sorted(
        f"{d.metadata['Name']}=={d.version}"
        for d in metadata.distributions()
        if d.metadata["Name"].lower().replace("_", "-").startswith("reflex")
    )
    parts = [port, versions, [env.get(k, "") for k in BUNDLE_ENV], sources or _digest(SOURCE_INPUTS)]
    return hashlib.sha256(json.dumps([*parts, _digest(LOCK_INPUTS)]).encode()).hexdigest()


def read_stamp(web: Path) -> dict:
    try:
        return json.loads((web / STAMP_NAME).read_text())
    except (OSError, ValueError):
        return {}


def build_is_current(web: Path, port: int) -> bool:
    return (
        read_stamp(web).get("fingerprint") == fingerprint(port)
        and (web / "build" / "client" / "index.html").is_file()
    )


def _reuse_build() -> None:
    """Make Reflex's compile and export steps no-ops: the existing build in the web dir is served."""
    import reflex.reflex as reflex_cli
    from reflex.utils import build

    reflex_cli._compile_app = lambda **_: None
    build.setup_frontend_prod = lambda _root: None


def _stamp_after_build(web: Path, port: int) -> None:
    """Stamp the build once Reflex's build succeeded: with the sources as they were before it compiled
    (an edit made during the build must rebuild next time), and reflex.lock/ as the build left it."""
    from reflex.utils import build

    original = build.setup_frontend_prod
    sources = _digest(SOURCE_INPUTS)

    def setup_and_stamp(root: Path) -> None:
        (web / STAMP_NAME).unlink(missing_ok=True)
        original(root)
        stamp = {"fingerprint": fingerprint(port, sources=sources), "port": port}
        (web / STAMP_NAME).write_text(json.dumps(stamp))

    build.setup_frontend_prod = setup_and_stamp


def _replace_killed_workers() -> None:
    """Granian stops the whole server when one worker dies, unless told to respawn it. With several workers
    (REFLEX_REDIS_URL) a killed worker must be replaced while the others go on serving (docs/design.md §7); a
    worker that keeps dying is still a crash loop that granian ends."""
    from granian.server import Server

    init = Server.__init__

    @functools.wraps(init)
    def respawning(self, *args, **kwargs) -> None:
        kwargs.setdefault("respawn_failed_workers", True)
        init(self, *args, **kwargs)

    Server.__init__ = respawning


# glibc's mallopt parameters: the size from which an allocation gets a mapping of its own, and how many
# heaps ("arenas") threads allocate from.
M_MMAP_THRESHOLD, M_ARENA_MAX = -3, -8
MMAP_THRESHOLD = 256 << 10
ARENA_MAX = 2


def _bound_malloc_retention() -> None:
    """Keep what glibc's malloc holds on to after a burst small, so the server's RSS follows what it uses.

    A fixed mmap threshold: glibc raises it to the size of each mapped block that is freed (up to 32 MB);
    from then on multi-MB buffers that live for a moment (a 2 MB file read, a chunk of rows, a big delta)
    come from the heap instead, and the holes they leave between long-lived objects stay resident. Two
    arenas: by default each thread that allocates at the same time as another gets an arena of its own
    (up to 8 per core), and each arena keeps the peak of what its threads once held at once (SQLite
    page caches, query results). The soak's server grew by megabytes a minute both ways (bench/soak.py).
    Set here, before granian forks its workers, so every worker inherits it; elsewhere than glibc
    there is nothing to set.
    """
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    mallopt(M_ARENA_MAX, ARENA_MAX)


def main() -> None:
    _bound_malloc_retention()
    os.chdir(ROOT)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    apply_defaults(os.environ)
    _quiet_node_version_warning()
    host = os.environ.get("HOST") or "127.0.0.1"
    port = int(os.environ.get("PORT") or 3000)
    web = web_dir()
    if build_is_current(web, port):
        print(f"Reusing the frontend build in {web.name} (sources and PORT unchanged).", flush=True)
        _reuse_build()
    else:
        _stamp_after_build(web, port)

    _replace_killed_workers()
    from reflex.reflex import cli

    args = ["run", "--env", "prod", "--frontend-port", str(port), "--backend-port", str(port)]
    cli([*args, "--backend-host", host], prog_name="reflex")


if __name__ == "__main__":
    main()
