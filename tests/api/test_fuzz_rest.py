"""Schemathesis, an OpenAPI fuzzer nobody here wrote, against the real app over a real socket (issue #20).

It reads the app's own /openapi.json, so every operation in it is fuzzed, including endpoints
added after this test was written. The runs it finds are the fixture runs (and whatever the other
API tests of the session wrote): the schema's examples name a fixture run and instance, and the
stateful phase follows the links it infers from /api/runs to a run and its instances. Its checks
(all of them) must find nothing: no server error, no undocumented status code, answers matching
their schemas, 405 with Allow for methods a path does not offer.
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx

from tests.app_server import FIXTURE_RUNS

SEED = 20
EXAMPLES = 200  # per operation, in the fuzzing phase
PHASES = "examples,coverage,fuzzing,stateful"
TIMEOUT_S = 600.0  # a hang, not a speed target: bench/fuzz_api.py reports how long a run takes
ST = [sys.executable, "-c", "from schemathesis.cli import schemathesis; schemathesis()"]


def st_command(base_url: str, junit: Path, *, seed: int = SEED, examples: int = EXAMPLES) -> list[str]:
    """The schemathesis CLI run this test makes (bench/fuzz_api.py times the same one)."""
    return [*ST, "run", f"{base_url}/openapi.json", "--phases", PHASES, "--checks", "all",
            "--seed", str(seed), "--max-examples", str(examples), "--workers", "1",
            "--generation-database", "none", "--no-color",
            "--report", "junit", "--report-junit-path", str(junit)]


NAMED_RUNS = ("run_20240122_001", "run_20261126_151613")  # the schema's examples and the stream test name these


def serve_fixture_runs(app_server, client: httpx.Client) -> None:
    """Every fixture run in the runs folder (the fuzzer finds them through /api/runs); the named ones served."""
    for fixture in FIXTURE_RUNS.iterdir():
        if not (app_server.runs_dir / fixture.name).exists():
            app_server.copy_fixture(fixture.name)
    for name in NAMED_RUNS:  # looked up on disk if the watcher has not reported it yet (docs/design.md §4)
        assert client.get(f"/api/runs/{name}").status_code == 200, name


def operations(spec: dict) -> set[str]:
    return {f"{method.upper()} {path}" for path, item in spec["paths"].items() for method in item}


def test_schemathesis_finds_nothing(app_server, tmp_path):
    with httpx.Client(base_url=app_server.base_url, timeout=10) as client:
        serve_fixture_runs(app_server, client)
        spec = client.get("/openapi.json").json()
    junit = tmp_path / "junit.xml"
    done = subprocess.run(st_command(app_server.base_url, junit), cwd=tmp_path, capture_output=True, text=True,
                          timeout=TIMEOUT_S)
    assert done.returncode == 0, done.stdout[-20_000:] + done.stderr[-5_000:]
    tested = {case.get("name") for case in ET.parse(junit).getroot().iter("testcase")}
    assert operations(spec) <= tested, f"not fuzzed: {operations(spec) - tested}"
