"""PostgreSQL and redis-server on free loopback ports, for the tests, the benches and `make cluster`.

Both come from Debian's packages (installed with apt-get when missing, so a clean CI machine needs
nothing beforehand), keep their data in a temporary directory, listen on 127.0.0.1 only, and are
stopped (and their data removed) when the context manager exits. PostgreSQL refuses to run as root,
so as root its processes run as the `postgres` user, in a directory that user owns.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_S = 60.0
PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin() -> Path | None:
    found = sorted(glob.glob(PG_BIN_GLOB), key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0)
    return Path(found[-1]) if found else None


def ensure_installed() -> Path:
    """Debian's postgresql and redis-server, installed when missing; the PostgreSQL bin directory."""
    missing = [pkg for pkg, present in (("postgresql", _pg_bin() is not None),
                                        ("redis-server", shutil.which("redis-server") is not None)) if not present]
    if missing:
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = [*sudo, "apt-get", "install", "-y", "--no-install-recommends", *missing]
        if subprocess.run(install, env=env).returncode != 0:
            subprocess.run([*sudo, "apt-get", "update"], env=env, check=True)
            subprocess.run(install, env=env, check=True)
    pg_bin = _pg_bin()
    if pg_bin is None:
        raise RuntimeError("PostgreSQL binaries not found under /usr/lib/postgresql after installing")
    return pg_bin


def _wait_for_port(port: int, proc: subprocess.Popen, what: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{log.read_text(errors='replace')[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not listening on port {port} after {START_TIMEOUT_S:.0f} s")
        time.sleep(0.05)


def _stop(proc: subprocess.Popen, sig: int) -> None:
    """Signal the service's process group and wait; SIGKILL if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@dataclass
class Postgres:
    """A running PostgreSQL server: superuser `postgres`, trust auth on loopback."""

    port: int
    data_dir: Path
    proc: subprocess.Popen | None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database; its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc, signal.SIGINT)  # SIGINT: PostgreSQL's fast shutdown
            self.proc = None

    def start(self) -> None:
        """Start again on the same port and data, after `stop` (a database that went away and came back)."""
        self.proc = _start_postgres_process(self.data_dir, self.port)
        _wait_until_accepting(self)


def _as_postgres_user() -> dict:
    """Popen arguments that run a PostgreSQL binary as `postgres` when we are root (it refuses root)."""
    if os.geteuid() != 0:
        return {}
    return {"user": "postgres", "group": pwd.getpwnam("postgres").pw_gid}


def _start_postgres_process(data_dir: Path, port: int) -> subprocess.Popen:
    pg_bin = ensure_installed()
    log = data_dir.parent / "postgres.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [str(pg_bin / "postgres"), "-D", str(data_dir), "-p", str(port), "-c", "listen_addresses=127.0.0.1",
             "-c", f"unix_socket_directories={data_dir.parent}", "-c", "max_connections=200"],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            **_as_postgres_user(),
        )
    _wait_for_port(port, proc, "postgres", log)
    return proc


@contextlib.contextmanager
def postgres(*, durable: bool = True) -> Iterator[Postgres]:
    """A fresh PostgreSQL cluster; `durable=False` (tests) turns fsync off."""
    pg_bin = ensure_installed()
    base = Path(tempfile.mkdtemp(prefix="windtunnel-pg-"))
    data_dir = base / "data"
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
    try:
        subprocess.run([str(pg_bin / "initdb"), "-D", str(data_dir), "-U", "postgres", "--auth=trust",
                        "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **_as_postgres_user())
        if not durable:
            with open(data_dir / "postgresql.conf", "a") as conf:
                conf.write("\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
        port = free_port()
        server = Postgres(port, data_dir, None)
        server.start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _wait_until_accepting(server: Postgres) -> None:
    """The port opens before start-up ends ("the database system is starting up"): wait for a session."""
    import psycopg

    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            psycopg.connect(f"host=127.0.0.1 port={server.port} user=postgres dbname=postgres", connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@dataclass
class Redis:
    port: int
    proc: subprocess.Popen

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"


@contextlib.contextmanager
def redis_server() -> Iterator[Redis]:
    """A fresh redis-server with no persistence."""
    ensure_installed()
    base = Path(tempfile.mkdtemp(prefix="windtunnel-redis-"))
    port = free_port()
    log = base / "redis.log"
    try:
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(base)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        try:
            _wait_for_port(port, proc, "redis-server", log)
            yield Redis(port, proc)
        finally:
            _stop(proc, signal.SIGTERM)
    finally:
        shutil.rmtree(base, ignore_errors=True)
