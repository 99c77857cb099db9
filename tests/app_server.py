"""Start the real app for API and e2e tests, exactly as `make run` does (scripts/serve.py), and stop it by PID.

Each server gets a temporary runs folder, data dir and states dir, DEMO=0 and its own Reflex web dir
(WINDTUNNEL_E2E_WEB_DIR, default `.web-e2e`, plus `-<name>` for a second kind of server), so parallel
checkouts and differently configured servers never rebuild each other's frontend. The port is the web
dir's last-built port when free (the build is then reused: a prod bundle bakes its port in), else any
free loopback port.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Playwright

from scripts.serve import read_stamp
from windtunnel_dash.artifacts.writer import new_run_id
from windtunnel_dash.demo import simulator_command

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_RUNS = ROOT / "tests" / "fixtures" / "runs"
ARTIFACTS = ROOT / "test-artifacts"
START_TIMEOUT_S = 420.0  # a cold first build on a busy two-core machine
SIMULATE_TIMEOUT_S = 120.0
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_BROWSER = "/usr/bin/chromium"


@dataclass
class AppServer:
    base_url: str
    ws_url: str
    runs_dir: Path
    data_dir: Path
    log_path: Path
    pid: int
    _writers: list[subprocess.Popen] = field(default_factory=list, repr=False)
    _launch: Callable[[], subprocess.Popen] | None = field(default=None, repr=False)
    _proc: subprocess.Popen | None = field(default=None, repr=False)
    _auth: tuple[str, str] | None = field(default=None, repr=False)  # what start() polls with (WINDTUNNEL_AUTH)

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def simulate(self, run_id: str | None = None, *, wait: bool = True, **flags: object) -> str:
        """Write a run with the simulator (flags as in demo.simulator_command); returns its run id.

        With wait=False the run keeps being written in the background (stopped at teardown).
        """
        run_id = run_id or new_run_id()
        command = simulator_command(self.runs_dir, run_id, **flags)
        if wait:
            subprocess.run(command, cwd=ROOT, check=True, timeout=SIMULATE_TIMEOUT_S, stdout=subprocess.DEVNULL)
        else:
            self._writers.append(subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL))
        return run_id

    def copy_fixture(self, name: str, run_id: str | None = None) -> str:
        """Copy a run from tests/fixtures/runs into the runs folder (optionally under another id)."""
        run_id = run_id or name
        shutil.copytree(FIXTURE_RUNS / name, self.runs_dir / run_id)
        return run_id

    def stop(self) -> None:
        """Stop the server (its process group) mid-test; runs, data and the built frontend stay for `start`."""
        if self._proc is not None:
            _stop(self._proc)
            self._proc = None

    def start(self) -> None:
        """Start it again on the same port and folders: the web dir's build is reused (same sources, same port)."""
        assert self._proc is None and self._launch is not None, "start() follows stop()"
        self._proc = self._launch()
        self.pid = self._proc.pid
        _wait_until_up(self._proc, self.base_url, self.log_path, self._auth)

    def _stop_writers(self) -> None:
        for writer in self._writers:
            writer.terminate()
            writer.wait(timeout=10)


def launch_chromium(playwright: Playwright) -> Browser:
    """WINDTUNNEL_DASH_BROWSER names the executable (default /usr/bin/chromium); "playwright" means its own."""
    choice = os.environ.get("WINDTUNNEL_DASH_BROWSER") or DEFAULT_BROWSER
    executable = {} if choice == "playwright" else {"executable_path": choice}
    return playwright.chromium.launch(args=CHROMIUM_FLAGS, **executable)


def web_dir_name(name: str = "") -> str:
    base = os.environ.get("WINDTUNNEL_E2E_WEB_DIR", ".web-e2e")
    return f"{base}-{name}" if name else base


def _port_is_free(port: int) -> bool:
    """Bindable the way the server binds (SO_REUSEADDR), so the last run's TIME_WAIT does not count as busy."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def pick_port(web: Path) -> int:
    last = read_stamp(web).get("port")
    if isinstance(last, int) and _port_is_free(last):
        return last
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(proc: subprocess.Popen, base_url: str, log_path: Path, auth: tuple[str, str] | None) -> None:
    """Poll /ping, then the home page (with the server's credentials, if any), until both answer;
    fail early if the server exits."""
    deadline = time.monotonic() + START_TIMEOUT_S
    for path in ("/ping", "/"):
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"app exited with {proc.returncode}:\n{_tail(log_path)}")
            try:
                if httpx.get(base_url + path, timeout=2, auth=auth).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"app not answering {path} after {START_TIMEOUT_S:.0f} s:\n{_tail(log_path)}")
            time.sleep(0.2)


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the server's process group (Reflex, its workers, any demo simulator), SIGKILL if it lingers."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


@contextmanager
def running_app(base: Path, *, name: str = "", **env: str) -> Iterator[AppServer]:
    """The real app on a loopback port against folders under `base`; extra env overrides the defaults."""
    runs_dir, data_dir, states_dir = base / "runs", base / "data", base / "states"
    for path in (runs_dir, data_dir, states_dir):
        path.mkdir(parents=True, exist_ok=True)
    web = web_dir_name(name)
    port = pick_port(ROOT / web)
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / f"server{'-' + name if name else ''}.log"
    server_env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WINDTUNNEL_RUNS_DIR": str(runs_dir),
        "WINDTUNNEL_DATA_DIR": str(data_dir),
        "DEMO": "0",
        "REFLEX_WEB_WORKDIR": web,
        "REFLEX_STATES_WORKDIR": str(states_dir),
        **env,
    }
    log_path.write_bytes(b"")

    def launch() -> subprocess.Popen:
        with log_path.open("ab") as log:  # a restart appends to the same log
            return subprocess.Popen(
                [sys.executable, str(ROOT / "scripts" / "serve.py")],
                cwd=ROOT,
                env=server_env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    proc = launch()
    base_url = f"http://127.0.0.1:{port}"
    user, _, password = server_env.get("WINDTUNNEL_AUTH", "").partition(":")
    server = AppServer(
        base_url, f"ws://127.0.0.1:{port}", runs_dir, data_dir, log_path, proc.pid, _launch=launch, _proc=proc,
        _auth=(user, password) if user else None,
    )
    try:
        _wait_until_up(proc, base_url, log_path, server._auth)
        yield server
    finally:
        server._stop_writers()
        server.stop()
