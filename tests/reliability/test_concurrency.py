"""Races: two writers on the function and on jobs.json never lose an update without a
`conflict.detected` line; two reconcilers on one state directory: the second refuses."""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import structlog

from reconciler.aws.reading import ReadCache
from reconciler.aws.session import make_clients
from reconciler.cycle.reconciling import Reconciler
from reconciler.cycle.statefile import StateLock
from tests.aws.conftest import CODE, Holder, run
from tests.reliability.conftest import ProxiedStack
from tests.reliability.helpers import events_named
from tests.reliability.ondisk import reconciler as run_cli
from tests.reliability.ondisk import spawn, write_desired


def other_writer(stack: ProxiedStack, tmp: Path, **changes: Any) -> Reconciler:
    """A second reconciler on the same stack with its own desired state and state directory."""
    holder = Holder(replace(stack.holder.desired, **changes))
    settings = replace(stack.settings(), state_dir=tmp / f"other-{secrets.token_hex(2)}")
    return Reconciler(settings, self_heal=True, loader=holder)


def paused_before(reconciler: Reconciler, service: str, operation: str) -> tuple[threading.Event, threading.Event]:
    """Make `reconciler` stop before its first `operation` call until `go` is set."""
    reconciler.clients = make_clients(reconciler.settings.aws, "us-east-1")
    reconciler.cache = ReadCache()
    reached, go = threading.Event(), threading.Event()

    def hook(**_: Any) -> None:
        if not reached.is_set():
            reached.set()
            assert go.wait(20)

    getattr(reconciler.clients, service).meta.events.register(f"before-call.{service}.{operation}", hook)
    return reached, go


def interleave(a: Reconciler, b: Reconciler, service: str, operation: str) -> tuple[Any, list[dict[str, Any]], Any]:
    """A reads, then stops before `operation`; B reconciles completely; A resumes."""
    reached, go = paused_before(a, service, operation)
    box: dict[str, Any] = {}

    def run_a() -> None:
        with structlog.testing.capture_logs() as logs:
            box["result"] = a.reconcile("change")
        box["logs"] = logs

    thread = threading.Thread(target=run_a)
    thread.start()
    try:
        assert reached.wait(20)
        with structlog.testing.capture_logs():
            b_result = b.reconcile("change")
    finally:
        go.set()
        thread.join(30)
    return box["result"], box["logs"], b_result


class TestTwoWriters:
    def test_jobs_object_race_is_logged_never_silent(self, rstack: ProxiedStack, tmp_path: Path, table: Any) -> None:
        """A's PutObject is based on a read B has since overwritten: A gets 412, logs
        conflict.detected naming the resource, re-reads, re-plans; the object stays whole."""
        stack = rstack
        assert run(stack.reconciler())[0].result == "applied"
        job = stack.desired.jobs[0]
        stack.change(jobs=(replace(job, document={**job.document, "status": "delivered"}),))
        b = other_writer(stack, tmp_path, jobs=(replace(job, document={**job.document, "status": "cancelled"}),))
        a_result, a_logs, b_result = interleave(stack.reconciler(), b, "s3", "PutObject")
        assert b_result.result == "applied"
        target = stack.desired.site.jobs
        assert target is not None
        conflicts = events_named(a_logs, "conflict.detected")
        assert [c["resource"] for c in conflicts] == [target.resource]
        assert a_result.result == "applied"
        body = json.loads(stack.s3.get_object(Bucket=target.bucket, Key=target.key)["Body"].read())
        assert [j["status"] for j in body["jobs"]] == ["delivered"]
        table(
            "concurrency",
            "two writers on jobs.json (B writes between A's read and A's PutObject)",
            "A: 412 -> conflict.detected -> re-read, re-plan; object whole; nothing lost silently",
        )

    def test_function_race_is_logged_never_silent(self, rstack: ProxiedStack, tmp_path: Path, table: Any) -> None:
        """B updates and publishes the function between A's read and A's UpdateFunction."""
        stack = rstack
        assert run(stack.reconciler())[0].result == "applied"
        fn = stack.desired.functions[0]
        ours, theirs = CODE + b"// A\n", CODE + b"// B\n"
        stack.change(functions=(replace(fn, code=ours),))
        b = other_writer(stack, tmp_path, functions=(replace(fn, code=theirs),))
        a_result, a_logs, b_result = interleave(stack.reconciler(), b, "cloudfront", "UpdateFunction")
        assert b_result.result == "applied"
        conflicts = events_named(a_logs, "conflict.detected")
        assert [c["resource"] for c in conflicts] == [fn.resource]
        assert a_result.result == "applied"
        live = stack.cf.get_function(Name=fn.name, Stage="LIVE")["FunctionCode"].read()
        assert live == ours
        table(
            "concurrency",
            "two writers on the function (B publishes between A's read and A's UpdateFunction)",
            "A: 412 -> conflict.detected -> re-plan; LIVE is A's code; nothing lost silently",
        )

    def test_free_race_on_jobs_never_tears_or_fails_silently(
        self, rstack: ProxiedStack, tmp_path: Path, table: Any
    ) -> None:
        """Two reconcilers with different jobs documents race for a while: the object is always a
        whole document of one of them, and every 412 was logged."""
        stack = rstack
        assert stack.reconciler().reconcile("startup").result == "applied"  # only jobs.json is raced
        job = stack.desired.jobs[0]
        docs = {}
        writers = []
        for status in ("scheduled", "delivered"):
            w = other_writer(stack, tmp_path, jobs=(replace(job, document={**job.document, "status": status}),))
            docs[status] = w
            writers.append(w)
        target = stack.desired.site.jobs
        assert target is not None
        seen: list[Any] = []
        conflicts: list[Mapping[str, Any]] = []
        errors: list[BaseException] = []

        def loop(w: Reconciler) -> None:
            try:
                for _ in range(4):
                    with structlog.testing.capture_logs() as logs:
                        w.reconcile("interval")
                    conflicts.extend(events_named(logs, "conflict.detected"))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=loop, args=(w,)) for w in writers]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            with contextlib.suppress(stack.s3.exceptions.NoSuchKey):
                seen.append(json.loads(stack.s3.get_object(Bucket=target.bucket, Key=target.key)["Body"].read()))
            time.sleep(0.01)
        for t in threads:
            t.join(30)
        assert not errors
        statuses = {tuple(j["status"] for j in doc["jobs"]) for doc in seen}
        assert statuses <= {(job.document["status"],), ("scheduled",), ("delivered",)}, statuses
        assert all(c["resource"] == target.resource for c in conflicts), conflicts
        table(
            "concurrency",
            "two reconcilers racing on jobs.json, 4 rounds each",
            f"object always whole ({len(seen)} reads); {len(conflicts)} conflict(s), each logged",
        )


class TestStateLock:
    def test_second_apply_on_a_held_state_dir_refuses(self, sandbox: Any, tmp_path: Path, table: Any) -> None:
        """`apply` while another reconciler holds the state directory: one clear line, exit 1."""
        stack = write_desired(tmp_path, secrets.token_hex(4))
        with StateLock(stack.state):
            result = run_cli(stack, sandbox.endpoint, "apply")
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "another reconciler" in lines[0] and str(stack.state) in lines[0], result.stderr
        assert "reconcile.start" not in result.stdout
        table(
            "concurrency",
            "apply while the state directory is locked",
            "refused: one line on stderr, exit 1, nothing read or written",
        )

    def test_daemon_refuses_while_an_apply_runs(self, sandbox: Any, tmp_path: Path, table: Any) -> None:
        """A paused `apply` holds the lock: `run` on the same state directory exits 1 at once;
        after the apply is gone (even by SIGKILL) the lock is free again."""
        import os
        import signal

        from reconciler.loading import load
        from reconciler.sandbox.seeding import seed

        stack = write_desired(tmp_path, secrets.token_hex(4))
        seed(sandbox.endpoint, load(stack.desired, run_tests=False))
        marker = tmp_path / "paused"
        first = spawn(
            stack, sandbox.endpoint, "apply", RECONCILER_PAUSE_AT="GetParameters:1", RECONCILER_PAUSE_FILE=str(marker)
        )
        try:
            deadline = time.monotonic() + 20
            while not marker.exists():
                assert first.poll() is None and time.monotonic() < deadline
                time.sleep(0.02)
            second = run_cli(stack, sandbox.endpoint, "run", "--interval", "1", timeout=20)
            assert second.returncode == 1
            assert "another reconciler" in second.stderr and "Traceback" not in second.stderr
        finally:
            os.kill(first.pid, signal.SIGKILL)
            first.communicate(timeout=10)
        third = run_cli(stack, sandbox.endpoint, "apply")
        assert third.returncode == 0, third.stderr
        table(
            "concurrency",
            "run while an apply holds the state directory; then apply after kill -9 of the holder",
            "run refused (exit 1); lock released by the kernel; apply converged",
        )
