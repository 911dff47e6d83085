"""`reconciler run` end to end: merge to deploy, git revert to roll back, drift alerts, signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

from reconciler.sandbox.seeding import client
from tests.integration.conftest import ROOT, Daemon, Stack, git, set_version

pytestmark = pytest.mark.timeout(90)

FAST = ("--interval", "0.5")


def started(stack: Stack, *args: str) -> tuple[Daemon, dict[str, Any]]:
    """A daemon whose startup reconcile has finished; returns it and that reconcile.done."""
    daemon = stack.daemon(*args)
    done = daemon.wait_for("reconcile.done", timeout=30)
    return daemon, done


class TestDeployAndRollback:
    def test_a_merged_release_goes_live_and_git_revert_rolls_it_back(self, stack: Stack) -> None:
        """Pulling a commit moves the SSM pointer within about a second; a revert moves it back."""
        daemon, first = started(stack, "--interval", "60")
        assert first["result"] == "applied"
        assert first["commit"] == git(stack.checkout, "rev-parse", "HEAD")
        assert stack.live_version() == "v1"

        stack.publish_version("v2")
        deployed = stack.push("release v2", version="v2")
        mark = daemon.mark()
        began = time.monotonic()
        git(stack.checkout, "pull", "-q", "--ff-only")
        done = daemon.wait_for("reconcile.done", since=mark, commit=deployed, result="applied", timeout=10)
        assert time.monotonic() - began < 3.0
        assert done["duration_ms"] < 1500
        assert stack.live_version() == "v2"
        assert any(e["resource"] == "release/web" for e in daemon.named("action.applied", since=mark))

        reverted = stack.push("", revert=True)
        mark = daemon.mark()
        git(stack.checkout, "pull", "-q", "--ff-only")
        done = daemon.wait_for("reconcile.done", since=mark, commit=reverted, result="applied", timeout=10)
        assert stack.live_version() == "v1"
        starts = daemon.named("reconcile.start", since=mark)
        assert starts and starts[0]["trigger"] == "change"
        assert daemon.stop() == 0


class TestGitPull:
    def test_a_pushed_commit_is_applied_within_one_interval(self, stack: Stack) -> None:
        """--git-pull fetches the upstream every interval and reconciles with trigger git."""
        daemon, _ = started(stack, *FAST, "--git-pull")
        stack.publish_version("v3")
        mark = daemon.mark()
        pushed = stack.push("release v3", version="v3")
        began = time.monotonic()
        done = daemon.wait_for("reconcile.done", since=mark, commit=pushed, result="applied", timeout=10)
        assert time.monotonic() - began < 0.5 + 2.0
        assert stack.live_version() == "v3"
        assert git(stack.checkout, "rev-parse", "HEAD") == pushed
        assert any(e["trigger"] == "git" for e in daemon.named("reconcile.start", since=mark))
        assert done["result"] == "applied"
        assert daemon.stop() == 0

    def test_a_force_push_is_followed_and_logged(self, stack: Stack) -> None:
        """A rewritten upstream resets the checkout (git.reset with old and new) and is applied."""
        stack.publish_version("v4")
        stack.publish_version("v5")
        daemon, _ = started(stack, *FAST, "--git-pull")
        first = stack.push("release v4", version="v4")
        daemon.wait_for("reconcile.done", commit=first, result="applied", timeout=10)
        git(stack.author, "reset", "-q", "--hard", "HEAD~1")
        set_version(stack.author / "desired", stack.tag, "v5")
        git(stack.author, "commit", "-qam", "rewritten")
        git(stack.author, "push", "-q", "--force", "origin", "main")
        rewritten = git(stack.author, "rev-parse", "HEAD")
        daemon.wait_for("reconcile.done", commit=rewritten, result="applied", timeout=10)
        reset = daemon.wait_for("git.reset")
        assert (reset["old"], reset["new"]) == (first, rewritten)
        assert stack.live_version() == "v5"
        assert daemon.stop() == 0


class TestDrift:
    def test_a_console_edit_is_alerted_once_and_left_alone_then_healed(self, stack: Stack) -> None:
        """One drift.detected over many intervals, no repair; state survives a restart; --self-heal repairs."""
        daemon, _ = started(stack, *FAST)
        client(stack.sandbox.endpoint, "ssm").put_parameter(
            Name=stack.parameter, Value="v9", Type="String", Overwrite=True
        )
        mark = daemon.mark()
        detected = daemon.wait_for("drift.detected", timeout=10)
        assert detected["resource"] == "release/web"
        assert detected["commit"] == git(stack.checkout, "rev-parse", "HEAD")
        daemon.wait_for("reconcile.done", since=mark, count=5, timeout=15)
        assert len(daemon.named("drift.detected")) == 1
        assert stack.live_version() == "v9"
        assert {e["result"] for e in daemon.named("reconcile.done", since=mark)} == {"drift"}
        assert not [
            e
            for e in daemon.named("action.applied")
            if e["resource"] == "release/web" and e["timestamp"] > detected["timestamp"]
        ]
        assert daemon.stop() == 0

        again, first = started(stack, *FAST)
        assert first["result"] == "drift"
        again.wait_for("reconcile.done", count=3, timeout=10)
        assert again.named("drift.detected") == []
        assert stack.live_version() == "v9"
        assert again.stop() == 0

        healing, first = started(stack, *FAST, "--self-heal")
        assert first["result"] == "applied"
        assert any(e["resource"] == "release/web" for e in healing.named("action.applied"))
        healing.wait_for("drift.resolved", resource="release/web")
        assert stack.live_version() == "v1"
        assert healing.stop() == 0


class TestInvalidDesired:
    def test_broken_yaml_is_reported_live_is_kept_and_the_fix_is_applied(self, stack: Stack) -> None:
        """validation.failed with FILE:LINE, nothing applied; fixing the file applies it."""
        daemon, _ = started(stack, "--interval", "60")
        releases = stack.desired / "releases.yaml"
        good = releases.read_text()
        mark = daemon.mark()
        releases.write_text(good.replace('version: "v1"', 'version: "v2'))
        failed = daemon.wait_for("validation.failed", since=mark, timeout=10)
        assert any("releases.yaml" in e for e in failed["errors"])
        done = daemon.wait_for("reconcile.done", since=mark, timeout=10)
        assert done["result"] == "invalid"
        assert stack.live_version() == "v1"

        stack.publish_version("v2")
        mark = daemon.mark()
        releases.write_text(good.replace('version: "v1"', 'version: "v2"'))
        daemon.wait_for("reconcile.done", since=mark, result="applied", timeout=10)
        assert stack.live_version() == "v2"
        assert daemon.stop() == 0


class TestSteadyState:
    def test_no_writes_and_at_most_4_requests_per_interval(self, stack: Stack) -> None:
        """Once in sync, every interval reconcile is in_sync with <= 4 AWS requests and no write."""
        daemon, first = started(stack, *FAST)
        assert first["result"] == "applied"
        daemon.wait_for("reconcile.done", count=2)  # the one after an apply confirms its invalidations
        mark = daemon.mark()
        stack.sandbox.faults.calls.clear()
        daemon.wait_for("reconcile.done", since=mark, count=4, timeout=10)
        calls = dict(stack.sandbox.faults.calls)
        assert daemon.stop() == 0
        steady = daemon.named("reconcile.done", since=mark)
        assert len(steady) >= 4
        for done in steady:
            assert done["result"] == "in_sync"
            assert done["api_calls"] <= 4
            assert done["changes"] == 0
        assert {s["trigger"] for s in daemon.named("reconcile.start", since=mark)} == {"interval"}
        writes = {op: n for op, n in calls.items() if op.startswith(("Put", "Create", "Update", "Publish", "Delete"))}
        assert writes == {}


class TestSecrets:
    def test_no_event_contains_a_token_customer_or_address(self, stack: Stack) -> None:
        """Applying, failing and drifting on a job never logs its token, customer or address."""
        daemon, _ = started(stack, *FAST)
        job = stack.desired / "jobs" / "job_1.yaml"
        job.write_text(job.read_text().replace("status: requested", "status: scheduled\nnotes: ring twice"))
        daemon.wait_for("reconcile.done", result="applied", count=2, timeout=10)
        stack.sandbox.faults.fail_next("PutObject", status=500, times=50)
        job.write_text(job.read_text().replace("status: scheduled", "status: delivered"))
        daemon.wait_for("action.failed", timeout=45)  # after 8 attempts with backoff, however busy the machine
        assert daemon.stop() == 0
        daemon.assert_clean()
        resource = f"jobs/data-{stack.tag}/jobs.json"
        assert any(e["resource"] == resource for e in daemon.named("action.applied"))
        assert any(e["resource"] == resource for e in daemon.named("action.failed"))


class TestProcess:
    def test_a_second_daemon_on_the_same_state_dir_exits_1(self, stack: Stack) -> None:
        """The state directory's lock: one clear line on stderr, exit 1; the first keeps running."""
        first, _ = started(stack, "--interval", "60")
        second = stack.daemon("--interval", "60")
        assert second.proc.wait(30) == 1
        err = second.stderr().strip().splitlines()
        assert len(err) == 1 and "another reconciler" in err[0] and str(stack.state_dir) in err[0]
        assert second.named("reconcile.start") == []
        assert first.proc.poll() is None
        assert first.stop() == 0

    @pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT])
    def test_a_stop_signal_exits_0_and_state_is_written(self, stack: Stack, sig: int) -> None:
        """SIGTERM/SIGINT/SIGHUP/SIGQUIT: daemon.stopping with its name, exit 0, last result in the state file."""
        daemon, done = started(stack, *FAST)
        assert daemon.stop(sig) == 0
        assert daemon.named("daemon.stopped")
        assert [e["signal"] for e in daemon.named("daemon.stopping")] == [signal.Signals(sig).name]
        state = json.loads((stack.state_dir / "state.json").read_text())
        assert state["last"]["result"] in ("applied", "in_sync")
        assert state["last"]["commit"] == done["commit"]

    def test_sigusr1_logs_the_status_and_goes_on(self, stack: Stack) -> None:
        """SIGUSR1: one `daemon.status` with what `status --json` shows; the daemon keeps running."""
        daemon, done = started(stack, "--interval", "60")
        mark = daemon.mark()
        daemon.proc.send_signal(signal.SIGUSR1)
        status = daemon.wait_for("daemon.status", since=mark)
        assert status["last"]["result"] == done["result"] and status["exit_code"] == 0
        assert daemon.proc.poll() is None and not daemon.named("daemon.stopping")
        daemon.proc.send_signal(signal.SIGUSR1)
        daemon.wait_for("daemon.status", since=mark, count=2)
        assert daemon.stop() == 0
        daemon.assert_clean()

    def test_sigterm_mid_reconcile_finishes_it_first(self, stack: Stack) -> None:
        """SIGTERM (twice) while PutParameter is in flight: that reconcile completes and is recorded, then exit 0."""
        daemon, _ = started(stack, "--interval", "60")
        stack.publish_version("v2")
        in_flight = stack.slow_ssm("PutParameter", 1.5)
        mark = daemon.mark()
        set_version(stack.desired, stack.tag, "v2")
        assert in_flight.wait(10)
        daemon.proc.send_signal(signal.SIGTERM)
        assert daemon.stop() == 0  # a second SIGTERM does not cut the reconcile short either
        done = daemon.named("reconcile.done", since=mark)
        assert [d["result"] for d in done] == ["applied"]
        assert any(e["resource"] == "release/web" for e in daemon.named("action.applied", since=mark))
        assert stack.live_version() == "v2"
        state = json.loads((stack.state_dir / "state.json").read_text())
        assert state["last"]["result"] == "applied"
        assert daemon.named("daemon.stopping")[0]["signal"] == "SIGTERM"


def start_dev(stack: Stack) -> tuple[Daemon, str]:
    """`reconciler dev` on the stack's desired directory, its startup reconcile done; returns it and its endpoint."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "NOTIFY_"))}
    env.update(PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    command = [
        sys.executable, "-m", "reconciler", "dev",
        "--desired", str(stack.desired),
        "--state-dir", str(stack.state_dir),
        "--interval", "0.5",
        "--log-format", "json",
    ]  # fmt: skip
    daemon = Daemon(
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env), stack.markers
    )
    stack.daemons.append(daemon)
    daemon.wait_for("reconcile.done", timeout=30)
    endpoint = daemon.lines[0].split()
    assert endpoint[0] == "endpoint" and endpoint[1].startswith("http://127.0.0.1:")
    return daemon, endpoint[1]


class TestDev:
    def test_dev_serves_a_sandbox_and_applies_edits_live(self, stack: Stack) -> None:
        """`dev` prints its endpoint, applies the desired state to its own sandbox, and follows edits."""
        daemon, endpoint = start_dev(stack)
        assert daemon.named("reconcile.done")[0]["result"] == "applied"
        client(endpoint, "s3").put_object(Bucket=f"rel-{stack.tag}", Key="web/v7/index.html", Body=b"x")
        mark = daemon.mark()
        set_version(stack.desired, stack.tag, "v7")
        daemon.wait_for("reconcile.done", since=mark, result="applied", timeout=10)
        assert client(endpoint, "ssm").get_parameter(Name=stack.parameter)["Parameter"]["Value"] == "v7"
        assert daemon.stop() == 0

    @pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
    def test_a_restarted_dev_creates_everything_in_its_new_sandbox(self, stack: Stack, sig: int) -> None:
        """Stopped or killed, then started again: the new, empty sandbox gets every create; no drift."""
        first, _ = start_dev(stack)
        created = sorted(e["resource"] for e in first.named("action.applied"))
        assert first.named("reconcile.done")[0]["result"] == "applied" and created
        first.stop(sig)
        second, endpoint = start_dev(stack)
        done = second.named("reconcile.done")[0]
        assert done["result"] == "applied", done
        assert sorted(e["resource"] for e in second.named("action.applied")) == created
        assert second.named("drift.detected") == []
        assert client(endpoint, "ssm").get_parameter(Name=stack.parameter)["Parameter"]["Value"] == "v1"
        assert (stack.state_dir / "dev" / "state.json").exists()
        assert (stack.state_dir / "dev" / "endpoint").read_text() == f"{endpoint}\n"
        assert not (stack.state_dir / "state.json").exists(), "dev wrote the production state file"
        assert second.stop() == 0

    def test_a_desired_change_is_applied_at_once_while_a_failure_backs_off(self, stack: Stack) -> None:
        """A version without files fails and backs off 1, 2, 5 s; the next edit is reconciled at once,
        its own failure backs off from 1 s again, and a good edit goes live."""
        daemon, endpoint = start_dev(stack)
        mark = daemon.mark()
        set_version(stack.desired, stack.tag, "v404")  # no such folder in the sandbox: apply refuses
        daemon.wait_for("reconcile.backoff", since=mark, failures=3, delay=5.0, timeout=30)
        waiting = daemon.mark()
        set_version(stack.desired, stack.tag, "v405")
        assert daemon.wait_for("reconcile.start", since=waiting, timeout=4)["trigger"] == "change"
        assert daemon.wait_for("reconcile.backoff", since=waiting, timeout=4)["failures"] == 1
        client(endpoint, "s3").put_object(Bucket=f"rel-{stack.tag}", Key="web/v8/index.html", Body=b"v8")
        fixed = daemon.mark()
        set_version(stack.desired, stack.tag, "v8")
        done = daemon.wait_for("reconcile.done", since=fixed, result="applied", timeout=4)
        assert [e["trigger"] for e in daemon.named("reconcile.start", since=fixed)][:1] == ["change"]
        assert done["changes"] >= 1
        assert client(endpoint, "ssm").get_parameter(Name=stack.parameter)["Parameter"]["Value"] == "v8"
        assert daemon.stop() == 0

    def test_a_second_dev_on_the_same_state_dir_exits_1_and_leaves_the_first_alone(self, stack: Stack) -> None:
        """The running dev's state is not emptied by another dev started beside it."""
        first, _ = start_dev(stack)
        state = stack.state_dir / "dev" / "state.json"
        baselines = json.loads(state.read_text())["baselines"]
        assert baselines
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "NOTIFY_"))}
        env.update(PYTHONPATH=str(ROOT))
        done = subprocess.run(
            [sys.executable, "-m", "reconciler", "dev", "--desired", str(stack.desired), "--state-dir",
             str(stack.state_dir)],
            capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip
        assert done.returncode == 1 and "state directory" in done.stderr
        assert json.loads(state.read_text())["baselines"] == baselines
        assert first.stop() == 0
