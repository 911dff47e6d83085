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
from reconciler.cycle import statefile, stateschema
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
    """Both files whole and of the schema (raises Corrupt if torn, SchemaError if misshapen)."""
    stateschema.parse_state(statefile.read_json(stack.state / statefile.STATE) or {})
    stateschema.parse_intents(statefile.read_json(stack.state / statefile.INTENTS) or {})


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
    assert stateschema.parse_intents(statefile.read_json(world.stack.state / statefile.INTENTS) or {}).intents == ()
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


ALL = "every distribution"
CORRUPTIONS = [
    ("state-torn", statefile.STATE, b'{"baselines": {"functi', ()),
    ("state-binary", statefile.STATE, b"\x00\xff\xfe garbage", ()),
    ("state-a-list", statefile.STATE, b"[]", ()),
    ("state-baselines-a-list", statefile.STATE, b'{"baselines": [], "drift": {}}', ()),
    ("state-baseline-missing-key", statefile.STATE, b'{"baselines": {"release/web": {"live": "x"}}}', ()),
    ("state-last-wrong-type", statefile.STATE, b'{"last": {"result": 7, "time": []}}', ()),
    ("state-invalidations-wrong-type", statefile.STATE, b'{"invalidations": [{"id": 1}]}', ()),
    ("state-newer-version", statefile.STATE, b'{"version": 99, "baselines": {}}', ()),
    ("intents-torn", statefile.INTENTS, b'{"intents": [{"refer', ALL),
    ("intents-not-object", statefile.INTENTS, b"[1, 2, 3]", ALL),
    ("intents-a-mapping", statefile.INTENTS, b'{"intents": {"web": ["/x"]}}', ALL),
    ("intents-entry-known-distribution", statefile.INTENTS,
     b'{"intents": [{"distribution": "web", "paths": "/x"}]}', ("web",)),
    ("intents-entry-unknown-distribution", statefile.INTENTS, b'{"intents": [{"distribution": 5}]}', ALL),
]


@pytest.mark.parametrize(("case", "name", "garbage", "owed"), CORRUPTIONS, ids=[c[0] for c in CORRUPTIONS])
def test_corrupt_state_file_is_reported_and_rebuilt(
    world: World, case: str, name: str, garbage: bytes, owed: Any, table: Any
) -> None:
    """Garbage or a wrong shape in state.json / intents.json: set aside (kept), `state.corrupt`
    logged once, the next reconcile succeeds from live state, no owed invalidation is lost."""
    assert world.reconcile()[0].result == "applied"
    (world.stack.state / name).write_bytes(garbage)
    result, logs = world.reconcile()
    corrupt = [e for e in logs if e["event"] == "state.corrupt"]
    assert len(corrupt) == 1 and corrupt[0]["file"].endswith(name), corrupt
    kept = list(world.stack.state.glob(f"{name}.corrupt-*"))
    assert [p.read_bytes() for p in kept] == [garbage] and corrupt[0]["set_aside"] == str(kept[0])
    assert result.result == "in_sync", result
    whole = [e["distribution"] for e in logs if e["event"] == "invalidation.created" and e["paths"] == ["/*"]]
    everywhere = sorted(load(world.stack.desired, run_tests=False).site.distributions)
    assert sorted(whole) == (everywhere if owed == ALL else sorted(owed))
    assert_state_parses(world.stack)
    again, logs = world.reconcile()
    assert again.result == "in_sync" and not [e for e in logs if e["event"] == "state.corrupt"]
    world.change_everything()
    assert world.reconcile()[0].result == "applied"
    assert world.live() == world.expected()
    assert world.reconcile()[0].result == "in_sync"
    table(
        "state",
        f"{name}: {garbage[:40]!r} written over it ({case})",
        f"set aside, state.corrupt logged once; rebuilt from live; owed: {owed if owed == ALL else owed or 'none'}",
    )


@pytest.mark.parametrize("name", [statefile.STATE, statefile.INTENTS])
def test_a_directory_in_place_of_a_state_file_is_set_aside(world: World, name: str, table: Any) -> None:
    """`mkdir state.json` (or intents.json): set aside like a torn file, rebuilt, nothing owed lost."""
    assert world.reconcile()[0].result == "applied"
    (world.stack.state / name).unlink()
    (world.stack.state / name).mkdir()
    result, logs = world.reconcile()
    assert result.result == "in_sync", result
    corrupt = [e for e in logs if e["event"] == "state.corrupt"]
    assert len(corrupt) == 1 and corrupt[0]["set_aside"], corrupt
    assert (world.stack.state / name).is_file()
    whole = sorted(e["distribution"] for e in logs if e["event"] == "invalidation.created" and e["paths"] == ["/*"])
    everywhere = sorted(load(world.stack.desired, run_tests=False).site.distributions)
    assert whole == (everywhere if name == statefile.INTENTS else [])
    assert_state_parses(world.stack)
    table("state", f"a directory in place of {name}", "set aside, rebuilt; /* owed everywhere when it held the intents")


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
