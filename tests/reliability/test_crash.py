"""kill -9 of `python -m reconciler apply` at every boundary between AWS calls of a reconcile
that changes everything; then a restart converges, every owed invalidation is issued exactly
once, the jobs object is never torn, and the state directory always parses. A torn state file
is detected (`state.corrupt`) and rebuilt from live state.

The sandbox runs in the test process (`start()`), so it outlives the killed process. The
process is stopped at the chosen call by the `RECONCILER_PAUSE_AT=<Operation>:<N>` hook of
`reconciler/aws/session.py`, which writes `RECONCILER_PAUSE_FILE` and sleeps until killed.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import pytest
import structlog

from reconciler.core.settings import AwsSettings, Settings
from reconciler.cycle import statefile
from reconciler.cycle.reconciling import Reconciler
from reconciler.loading import load
from reconciler.sandbox.seeding import client, seed
from tests.reliability.ondisk import CODE, DiskStack, events, reconciler, spawn, write_desired

CODE_V2 = CODE.replace("'/index.html'", "'/index.html' /* v2 */")

CRASH_POINTS = [
    ("GetParameters", 1, "before the first read"),
    ("UpdateFunction", 1, "after the intent is recorded, before any change"),
    ("TestFunction", 1, "function updated in DEVELOPMENT, not tested"),
    ("PublishFunction", 1, "function tested, not published"),
    ("HeadObject", 1, "function live, releases not checked"),
    ("PutParameter", 2, "one release pointer moved, the other not"),
    ("PutObject", 1, "jobs object about to be written"),
    ("CreateInvalidation", 1, "every change made, no invalidation issued"),
    ("CreateInvalidation", 2, "one invalidation issued, the other not"),
]


class World:
    """One stack on disk plus boto3 clients on the in-process sandbox."""

    def __init__(self, endpoint: str, root: Path) -> None:
        self.endpoint = endpoint
        self.stack: DiskStack = write_desired(root, secrets.token_hex(4))
        self.cf = client(endpoint, "cloudfront")
        self.s3 = client(endpoint, "s3")
        self.ssm = client(endpoint, "ssm")
        seed(endpoint, load(self.stack.desired, run_tests=False))
        for key in ("web/v2/index.html", "web/v2/app.js", "admin/a2/index.html"):
            self.s3.put_object(Bucket=self.stack.bucket, Key=key, Body=b"v2")

    def settings(self) -> Settings:
        return Settings(
            desired=self.stack.desired,
            state_dir=self.stack.state,
            aws=AwsSettings(endpoint_url=self.endpoint, max_attempts=3),
        )

    def reconcile(self) -> tuple[Any, list[MutableMapping[str, Any]]]:
        """A reconcile by a fresh process-like Reconciler (new loader, clients, caches)."""
        with structlog.testing.capture_logs() as logs:
            result = Reconciler(self.settings(), self_heal=True).reconcile("startup")
        return result, logs

    def change_everything(self) -> None:
        write_desired(self.stack.root, self.stack.tag, web="v2", admin="a2", code=CODE_V2, status="scheduled")

    def invalidations(self, logical: str) -> list[tuple[str, list[str]]]:
        dist = self.stack.distributions[logical]
        items = self.cf.list_invalidations(DistributionId=dist)["InvalidationList"].get("Items", [])
        out = []
        for item in items:
            inv = self.cf.get_invalidation(DistributionId=dist, Id=item["Id"])["Invalidation"]
            batch = inv["InvalidationBatch"]
            out.append((batch["CallerReference"], sorted(batch["Paths"].get("Items", []))))
        return out

    def jobs(self) -> Any:
        try:
            body = self.s3.get_object(Bucket=self.stack.data_bucket, Key="feeds/jobs.json")["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None
        return json.loads(body)  # raises if torn

    def live(self) -> dict[str, Any]:
        params = self.ssm.get_parameters(Names=[self.stack.parameter("web"), self.stack.parameter("admin")])[
            "Parameters"
        ]
        code = self.cf.get_function(Name=self.stack.function, Stage="LIVE")["FunctionCode"].read().decode()
        jobs = self.jobs()
        return {
            "params": {p["Name"]: p["Value"] for p in params},
            "code": code,
            "status": [j["status"] for j in jobs["jobs"]] if jobs else None,
        }

    def expected(self) -> dict[str, Any]:
        return {
            "params": {self.stack.parameter("web"): "v2", self.stack.parameter("admin"): "a2"},
            "code": CODE_V2,
            "status": ["scheduled"],
        }


@pytest.fixture
def world(sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return World(sandbox.endpoint, tmp_path)


def assert_state_parses(stack: DiskStack) -> None:
    for name in (statefile.STATE, statefile.INTENTS):
        statefile.read_json(stack.state / name)  # raises Corrupt if torn


def kill_at(world: World, operation: str, nth: int) -> None:
    marker = world.stack.root / "paused"
    marker.unlink(missing_ok=True)
    proc = spawn(
        world.stack,
        world.endpoint,
        "apply",
        RECONCILER_PAUSE_AT=f"{operation}:{nth}",
        RECONCILER_PAUSE_FILE=str(marker),
    )
    deadline = time.monotonic() + 20
    try:
        while not marker.exists():
            if proc.poll() is not None:
                out, err = proc.communicate()
                pytest.fail(f"apply ended (rc {proc.returncode}) before {operation}:{nth}\n{out}\n{err}")
            assert time.monotonic() < deadline, f"never paused at {operation}:{nth}"
            time.sleep(0.02)
        time.sleep(0.05)  # let concurrent threads reach their own next call
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize(("operation", "nth", "where"), CRASH_POINTS, ids=[f"{o}-{n}" for o, n, _ in CRASH_POINTS])
def test_kill_at_each_boundary_then_restart_converges(
    world: World, operation: str, nth: int, where: str, table: Any
) -> None:
    """SIGKILL before call `operation`#`nth`; the restarted reconciler finishes the job."""
    first, _ = world.reconcile()
    assert first.result == "applied"
    old_jobs = world.jobs()
    before = {d: len(world.invalidations(d)) for d in ("web", "admin")}
    world.change_everything()

    kill_at(world, operation, nth)
    assert world.jobs() in (
        old_jobs,
        *([world.jobs()] if world.jobs() and world.jobs()["jobs"][0]["status"] == "scheduled" else []),
    )
    assert_state_parses(world.stack)

    again, logs = world.reconcile()  # the restart
    assert again.result in ("applied", "in_sync"), (again, logs)
    assert world.live() == world.expected()
    assert_state_parses(world.stack)
    settled, logs = world.reconcile()
    assert settled.result == "in_sync" and settled.writes == 0
    assert not [e for e in logs if e["event"] == "invalidation.created"]

    web = world.invalidations("web")[before["web"] :]
    admin = world.invalidations("admin")[before["admin"] :]
    assert [paths for _, paths in web] == [["/*"]], web  # exactly once, covering every change
    assert [paths for _, paths in admin] == [["/*"]], admin
    assert statefile.read_json(world.stack.state / statefile.INTENTS) in (None, {"intents": []})
    table(
        "crash",
        f"kill -9 before {operation} #{nth} ({where})",
        "converged after restart; each invalidation exactly once; jobs.json and state intact",
    )


def test_kill_during_fresh_create_then_restart(world: World, table: Any) -> None:
    """SIGKILL before PublishFunction of a brand-new function: restart publishes it, once."""
    kill_at(world, "PublishFunction", 1)
    assert_state_parses(world.stack)
    result = reconciler(world.stack, world.endpoint, "apply")
    assert result.returncode == 0, result.stderr
    names = [e["event"] for e in events(result.stdout)]
    assert "reconcile.done" in names
    assert [p for _, p in world.invalidations("web")] == [["/*"]]
    assert [p for _, p in world.invalidations("admin")] == [["/*"]]
    settled, _ = world.reconcile()
    assert settled.result == "in_sync" and settled.writes == 0
    table(
        "crash",
        "kill -9 before PublishFunction of a new function (fresh stack), restart by `apply`",
        "converged; each invalidation exactly once",
    )


CORRUPTIONS = [
    (statefile.STATE, b'{"baselines": {"functi'),
    (statefile.STATE, b"\x00\xff\xfe garbage"),
    (statefile.INTENTS, b'{"intents": [{"refer'),
    (statefile.INTENTS, b"[1, 2, 3]"),
]


@pytest.mark.parametrize(
    ("name", "garbage"), CORRUPTIONS, ids=["state-torn", "state-binary", "intents-torn", "intents-not-object"]
)
def test_corrupt_state_file_is_reported_and_rebuilt(world: World, name: str, garbage: bytes, table: Any) -> None:
    """Garbage in state.json / intents.json: `state.corrupt` is logged, the next reconcile
    succeeds from live state, and the file is whole again."""
    assert world.reconcile()[0].result == "applied"
    (world.stack.state / name).write_bytes(garbage)
    result, logs = world.reconcile()
    corrupt = [e for e in logs if e["event"] == "state.corrupt"]
    assert corrupt and name in corrupt[0]["file"]
    assert result.result == "in_sync", result
    whole = [e["distribution"] for e in logs if e["event"] == "invalidation.created" and e["paths"] == ["/*"]]
    # what torn intents owed is unknown: every distribution is invalidated whole, once
    assert sorted(whole) == (
        sorted(load(world.stack.desired, run_tests=False).site.distributions) if name == statefile.INTENTS else []
    )
    assert_state_parses(world.stack)
    world.change_everything()
    assert world.reconcile()[0].result == "applied"
    assert world.live() == world.expected()
    assert world.reconcile()[0].result == "in_sync"
    table(
        "state",
        f"{name}: {garbage[:12]!r}... written over it",
        "state.corrupt logged; rebuilt from live state; next reconcile succeeds",
    )


def test_corrupt_state_through_the_cli(world: World, table: Any) -> None:
    """The `apply` command with a torn state.json: exit 0, `state.corrupt` on its log stream."""
    world.stack.state.mkdir(parents=True, exist_ok=True)
    (world.stack.state / statefile.STATE).write_bytes(b'{"last": {"res')
    result = reconciler(world.stack, world.endpoint, "apply")
    assert result.returncode == 0, result.stderr
    names = [e["event"] for e in events(result.stdout)]
    assert "state.corrupt" in names and names[-1] == "reconcile.done"
    assert "Traceback" not in result.stderr
    table("state", "apply with a torn state.json (CLI)", "exit 0; state.corrupt logged; state rewritten whole")
