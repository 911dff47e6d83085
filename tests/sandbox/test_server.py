"""The server: start/stop, concurrency, and `serve` as the `reconciler sandbox` command (a subprocess)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from reconciler.sandbox.seeding import client
from reconciler.sandbox.server import start

ROOT = Path(__file__).resolve().parents[2]

# Runs `serve` with a stand-in `reconciler.loading` (the real loader is tested on its own):
# a desired dir containing a file named INVALID is invalid, any other is the one-release Desired.
DRIVER = textwrap.dedent(
    """
    import sys, types
    from pathlib import Path
    from reconciler.core.errors import InvalidDesired
    from reconciler.core.model import Desired, Release, Site

    def load(desired, run_tests=True):
        if (Path(desired) / "INVALID").exists():
            raise InvalidDesired(["site.yaml:3: unknown kind 'Sit'", "fn.yaml:1: code missing"])
        return Desired(
            root=Path(desired),
            site=Site(name="x", region="us-east-1", distributions={"site": "E2SERVETEST01"}),
            releases=(Release(name="site", parameter="/x", version="v9", bucket="serve-releases"),),
        )

    sys.modules["reconciler.loading"] = types.SimpleNamespace(load=load)
    from reconciler.sandbox.server import serve
    sys.exit(serve(port=int(sys.argv[1]), desired=Path(sys.argv[2])))
    """
)


def spawn(tmp_path: Path, *args: str, stdout: Any = subprocess.PIPE) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, *args], stdout=stdout, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path
    )


def wait_for_line(path: Path, deadline: float) -> str:
    while time.monotonic() < deadline:
        text = path.read_text()
        if text.endswith("\n"):
            return text
        time.sleep(0.02)
    raise AssertionError(f"no endpoint line in {path}: {path.read_text()!r}")


class TestStart:
    def test_start_picks_a_free_port_and_stops(self) -> None:
        """start() with port 0 serves on a free port of 127.0.0.1; stop() releases it."""
        began = time.monotonic()
        with start() as sandbox:
            assert sandbox.endpoint == f"http://127.0.0.1:{sandbox.port}" and sandbox.port > 0
            client(sandbox.endpoint, "s3").list_buckets()
        assert time.monotonic() - began < 2

    def test_serves_requests_concurrently(self, sandbox: Any) -> None:
        """Requests are served in parallel threads (a slow TestFunction does not block others)."""
        cloudfront = client(sandbox.endpoint, "cloudfront")
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda _: cloudfront.list_functions()["FunctionList"]["Quantity"], range(16)))
        assert len(results) == 16


class TestServe:
    def test_prints_endpoint_seeds_and_exits_0_on_sigterm(self, tmp_path: Path) -> None:
        """serve prints exactly `endpoint URL` (flushed even to a file), is seeded, and exits 0 on SIGTERM."""
        out = tmp_path / "stdout"
        with out.open("w") as handle:
            proc = spawn(tmp_path, "0", str(tmp_path), stdout=handle)
        try:
            line = wait_for_line(out, time.monotonic() + 15)
            assert line.startswith("endpoint http://127.0.0.1:") and line.count("\n") == 1
            endpoint = line.split()[1]
            s3 = client(endpoint, "s3")
            keys = [o["Key"] for o in s3.list_objects_v2(Bucket="serve-releases")["Contents"]]
            assert keys == ["v9/index.html"]
            assert client(endpoint, "cloudfront").get_distribution(Id="E2SERVETEST01")["Distribution"]["Id"]
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
        finally:
            proc.kill()
            proc.wait()
        assert out.read_text() == line
        assert proc.stderr is not None and proc.stderr.read() == ""

    def test_sigint_exits_0(self, tmp_path: Path) -> None:
        """SIGINT stops the sandbox cleanly with exit 0."""
        proc = spawn(tmp_path, "0", str(tmp_path))
        try:
            assert proc.stdout is not None and proc.stdout.readline().startswith("endpoint ")
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=10) == 0
        finally:
            proc.kill()
            proc.wait()

    def test_invalid_desired_prints_errors_and_exits_1(self, tmp_path: Path) -> None:
        """An invalid desired directory: every error on stderr, nothing on stdout, exit 1."""
        (tmp_path / "INVALID").touch()
        proc = spawn(tmp_path, "0", str(tmp_path))
        stdout, stderr = proc.communicate(timeout=15)
        assert proc.returncode == 1
        assert stdout == ""
        assert stderr.splitlines() == ["fn.yaml:1: code missing", "site.yaml:3: unknown kind 'Sit'"]

    def test_cli_sandbox_command(self, tmp_path: Path) -> None:
        """`python -m reconciler sandbox --port 0 --desired DIR` with the real loader prints the endpoint."""
        pytest.importorskip("reconciler.loading")
        desired = tmp_path / "desired"
        desired.mkdir()
        (desired / "site.yaml").write_text(
            "kind: Site\nname: clitest\nregion: us-east-1\ndistributions:\n  site: E3CLITEST0001\n"
        )
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "sandbox", "--port", "0", "--desired", str(desired)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.startswith("endpoint http://127.0.0.1:"), proc.stderr.read() if proc.stderr else ""
            cloudfront = client(line.split()[1], "cloudfront")
            assert cloudfront.get_distribution(Id="E3CLITEST0001")["Distribution"]["Id"] == "E3CLITEST0001"
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
        finally:
            proc.kill()
            proc.wait()
