"""`make cluster`: a local cluster in one command (docs/design.md §7).

PostgreSQL and redis-server from Debian's packages (installed when missing), each on a free loopback
port with its data in a temporary directory (scripts/local_services.py), then the app exactly as
`make run` starts it (scripts/serve.py) with the Postgres catalog and Reflex's Redis state manager, so
Reflex runs its several workers on PORT. WINDTUNNEL_RUNS_DIR, DEMO and the other settings are honoured
as in `make run`. Ctrl-C or SIGTERM stops the app, then the servers, and removes their data.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts import local_services  # noqa: E402


def main() -> int:
    stop = {"signal": None}

    def on_signal(signum, _frame) -> None:
        stop["signal"] = signum
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    with local_services.postgres() as pg, local_services.redis_server() as redis:
        env = {**os.environ, "WINDTUNNEL_DB_URL": pg.create_database("windtunnel"), "REFLEX_REDIS_URL": redis.url}
        print(f"cluster: PostgreSQL on 127.0.0.1:{pg.port}, Redis on 127.0.0.1:{redis.port}", flush=True)
        app = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "serve.py")], cwd=ROOT, env=env,
                               start_new_session=True)
        try:
            return app.wait()
        except KeyboardInterrupt:
            return 0
        finally:
            if app.poll() is None:  # the app's whole process group: Reflex, its workers, demo simulators
                os.killpg(app.pid, signal.SIGTERM)
                try:
                    app.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(app.pid, signal.SIGKILL)
                    app.wait()
            print("cluster: stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
