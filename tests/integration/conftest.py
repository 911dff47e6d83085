"""The daemon end to end: a sandbox over HTTP, a git remote/author/checkout, `python -m reconciler run`.

Each test gets its own sandbox (its own call counts) and a stack whose every name is unique
(moto's backends are process-global), written as YAML into a real git repository. The daemon
runs as a subprocess; its JSON events are read from stdout as they come.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from reconciler.loading import load
from reconciler.sandbox.seeding import client
from reconciler.sandbox.server import Sandbox, start

ROOT = Path(__file__).resolve().parents[2]

CODE = """function handler(event) {
  var request = event.request;
  if (request.uri.indexOf('/track/') === 0) { request.uri = '/index.html'; }
  return request;
}
"""


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def configure_identity(repo: Path) -> None:
    for key, value in (("user.email", "dev@example.com"), ("user.name", "Dev"), ("commit.gpgsign", "false")):
        git(repo, "config", key, value)


@dataclass(frozen=True)
class Markers:
    """Strings that must never appear in any event."""

    token: str
    customer: str
    address: str

    def all(self) -> tuple[str, ...]:
        return (self.token, self.customer, self.address)


def write_stack(desired: Path, tag: str, markers: Markers, version: str = "v1") -> None:
    """Two releases, one function with a test, one job; every name unique to `tag`."""
    up = tag.upper()
    (desired / "functions").mkdir(parents=True, exist_ok=True)
    (desired / "jobs").mkdir(exist_ok=True)
    (desired / "site.yaml").write_text(
        f"""kind: Site
name: s-{tag}
region: us-east-1
distributions:
  web: EWEB{up}
  admin: EADM{up}
jobs:
  bucket: data-{tag}
  key: jobs.json
  invalidate: {{web: [/jobs.json]}}
"""
    )
    set_version(desired, tag, version)
    (desired / "functions" / "rewrite.js").write_text(CODE)
    (desired / "functions" / "rewrite.yaml").write_text(
        f"""kind: Function
name: fn-{tag}
runtime: cloudfront-js-2.0
code: rewrite.js
invalidate: {{web: ["/track/*"]}}
tests:
  - name: tracking link opens the app
    event: {{request: {{uri: /track/abc}}}}
    expect: {{request: {{uri: /index.html}}}}
"""
    )
    (desired / "jobs" / "job_1.yaml").write_text(
        f"""kind: Job
id: job_1
token: {markers.token}
customer: {markers.customer}
address: {markers.address}
price: {{amount: 600, currency: USD, all_inclusive: true}}
status: requested
"""
    )


def set_version(desired: Path, tag: str, version: str) -> None:
    (desired / "releases.yaml").write_text(
        f"""kind: Release
name: web
parameter: /{tag}/web/version
version: "{version}"
bucket: rel-{tag}
prefix: web/
invalidate: {{web: ["/*"]}}
---
kind: Release
name: admin
parameter: /{tag}/admin/version
version: "a1"
bucket: rel-{tag}
prefix: admin/
invalidate: {{admin: ["/*"]}}
"""
    )


@dataclass
class Stack:
    """A sandbox, a bare remote, an author's clone and the daemon's checkout of one stack."""

    tag: str
    sandbox: Sandbox
    remote: Path
    author: Path
    checkout: Path
    state_dir: Path
    markers: Markers
    daemons: list[Daemon] = field(default_factory=list)

    @property
    def desired(self) -> Path:
        return self.checkout / "desired"

    @property
    def parameter(self) -> str:
        return f"/{self.tag}/web/version"

    def live_version(self) -> str | None:
        got = client(self.sandbox.endpoint, "ssm").get_parameters(Names=[self.parameter])["Parameters"]
        return got[0]["Value"] if got else None

    def publish_version(self, version: str) -> None:
        """Upload a release folder (what CI does before the pointer may move)."""
        client(self.sandbox.endpoint, "s3").put_object(
            Bucket=f"rel-{self.tag}", Key=f"web/{version}/index.html", Body=b"<html></html>"
        )

    def push(self, message: str, version: str | None = None, revert: bool = False) -> str:
        """Commit in the author's clone (a version change or a revert) and push to the remote."""
        if revert:
            git(self.author, "revert", "--no-edit", "HEAD")
        else:
            assert version is not None
            set_version(self.author / "desired", self.tag, version)
            git(self.author, "commit", "-qam", message)
        git(self.author, "push", "-q", "origin", "main")
        return git(self.author, "rev-parse", "HEAD")

    def slow_ssm(self, action: str, seconds: float) -> threading.Event:
        """Make the sandbox hold every SSM `action` request for `seconds`; the event is set when one arrives."""
        server = self.sandbox._server  # werkzeug's server calls `server.app` per request
        inner = server.app
        arrived = threading.Event()

        def app(environ: dict[str, Any], start_response: Any) -> Any:
            if environ.get("HTTP_X_AMZ_TARGET") == f"AmazonSSM.{action}":
                arrived.set()
                time.sleep(seconds)
            return inner(environ, start_response)

        server.app = app
        return arrived

    def daemon(self, *args: str, state_dir: Path | None = None) -> Daemon:
        d = Daemon.start(self, *args, state_dir=state_dir or self.state_dir)
        self.daemons.append(d)
        return d


class Daemon:
    """`python -m reconciler run` as a subprocess; its events parsed from stdout by a thread."""

    def __init__(self, proc: subprocess.Popen[str], markers: Markers) -> None:
        self.proc = proc
        self.markers = markers
        self.lines: list[str] = []
        self.events: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @classmethod
    def start(cls, stack: Stack, *args: str, state_dir: Path) -> Daemon:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "NOTIFY_", "WATCHDOG_"))}
        env.update(
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION="us-east-1",
            PYTHONPATH=str(ROOT),
            PYTHONUNBUFFERED="1",
        )
        command = [
            sys.executable, "-m", "reconciler", "run",
            "--desired", str(stack.desired),
            "--state-dir", str(state_dir),
            "--endpoint-url", stack.sandbox.endpoint,
            "--log-format", "json",
            *args,
        ]  # fmt: skip
        proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=stack.checkout.parent
        )
        return cls(proc, stack.markers)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line)
                with contextlib.suppress(ValueError):
                    self.events.append(json.loads(line))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def mark(self) -> int:
        """An index into `events`: wait_for(since=mark) looks only at later events."""
        with self._cond:
            return len(self.events)

    def named(self, name: str, since: int = 0) -> list[dict[str, Any]]:
        with self._cond:
            return [e for e in self.events[since:] if e.get("event") == name]

    def wait_for(
        self, name: str, timeout: float = 20.0, since: int = 0, count: int = 1, **match: Any
    ) -> dict[str, Any]:
        """The `count`-th event `name` after `since` whose fields equal `match`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [
                    e
                    for e in self.events[since:]
                    if e.get("event") == name and all(e.get(k) == v for k, v in match.items())
                ]
                if len(found) >= count:
                    return found[count - 1]
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    tail = "".join(self.lines[-15:])
                    raise AssertionError(f"no {count}x {name} {match} within {timeout}s; last lines:\n{tail}")
                self._cond.wait(min(remaining, 0.1))

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Signal the daemon and return its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError("daemon did not exit after the signal") from None
        self._reader.join(5)
        return rc

    def stderr(self) -> str:
        assert self.proc.stderr is not None
        return self.proc.stderr.read()

    def assert_clean(self) -> None:
        """No event line carries a tracking token, customer name or address."""
        for line in self.lines:
            for marker in self.markers.all():
                assert marker not in line, f"secret {marker!r} leaked: {line}"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    tag = secrets.token_hex(4)
    markers = Markers(
        token=f"TOKEN{secrets.token_hex(12)}",
        customer=f"Customer{tag}Zed",
        address=f"Address{tag} Lane",
    )
    remote, author, checkout = tmp_path / "remote.git", tmp_path / "author", tmp_path / "checkout"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(author)], check=True)
    configure_identity(author)
    write_stack(author / "desired", tag, markers)
    git(author, "add", "-A")
    git(author, "commit", "-qm", "stack")
    git(author, "remote", "add", "origin", str(remote))
    git(author, "push", "-q", "-u", "origin", "main")
    subprocess.run(["git", "clone", "-q", str(remote), str(checkout)], check=True)
    configure_identity(checkout)
    with start(desired=load(checkout / "desired", run_tests=False)) as sandbox:
        made = Stack(tag, sandbox, remote, author, checkout, tmp_path / "state", markers)
        try:
            yield made
        finally:
            for daemon in made.daemons:
                if daemon.proc.poll() is None:
                    daemon.proc.kill()
                    daemon.proc.wait(5)
            for daemon in made.daemons:
                daemon.assert_clean()


__all__ = ["Daemon", "Stack", "git"]
