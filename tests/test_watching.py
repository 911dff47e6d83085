"""The daemon's loop, work queue, file filter and sd_notify, with a fake clock and a fake reconciler."""

from __future__ import annotations

import heapq
import io
import itertools
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import structlog

from reconciler import events
from reconciler.core.results import CycleResult, Result
from reconciler.core.retrying import Retry, RetryPolicy
from reconciler.core.settings import Settings, WatchSettings
from reconciler.cycle.statefile import StateLock
from reconciler.daemon import watching
from reconciler.daemon.notify import Notifier
from reconciler.daemon.watching import Loop, Triggers, is_relevant


class FakeClock:
    """Discrete-event time: waiting jumps to the deadline or to the next scheduled arrival."""

    def __init__(self) -> None:
        self.t = 0.0
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self.t

    def at(self, t: float, fn: Callable[[], None]) -> None:
        heapq.heappush(self._timers, (t, next(self._seq), fn))

    def wait(self, cond: threading.Condition, timeout: float | None) -> None:
        end = self.t + timeout if timeout is not None else float("inf")
        if self._timers and self._timers[0][0] <= end:
            t, _, fn = heapq.heappop(self._timers)
            self.t = max(self.t, t)
            fn()
            return
        assert timeout is not None, "would wait forever"
        self.t = end


@dataclass
class FakeReconciler:
    """Returns scripted results, records (time, trigger); stops the loop after `limit` runs."""

    clock: FakeClock
    results: list[str | CycleResult] = field(default_factory=list)
    limit: int = 10
    during: dict[int, Callable[[], None]] = field(default_factory=dict)
    calls: list[tuple[float, str]] = field(default_factory=list)
    triggers: Triggers | None = None

    def reconcile(self, trigger: str) -> CycleResult:
        n = len(self.calls)
        self.calls.append((self.clock.now(), trigger))
        if n in self.during:
            self.during[n]()
        if len(self.calls) >= self.limit and self.triggers is not None:
            self.triggers.stop()
        result = self.results[n] if n < len(self.results) else "in_sync"
        return result if isinstance(result, CycleResult) else CycleResult(Result(result), commit="abc123")


def make_loop(
    results: list[str | CycleResult] | None = None,
    limit: int = 10,
    backoff: tuple[float, ...] = (1, 2, 5, 10, 30, 60),
    slow: tuple[float, ...] = (300, 900, 1800),
    **watch: Any,
) -> tuple[Loop, FakeReconciler, FakeClock]:
    clock = FakeClock()
    triggers = Triggers(clock)
    fake = FakeReconciler(clock, results or [], limit, triggers=triggers)
    settings = WatchSettings(**{"interval": 60.0, "retry": RetryPolicy(backoff=backoff, slow=slow), **watch})
    return Loop(fake.reconcile, settings, triggers), fake, clock


class TestTriggers:
    def test_duplicates_collapse_into_one_run(self) -> None:
        """Many enqueued triggers are taken once, and the queue is then empty."""
        clock = FakeClock()
        q = Triggers(clock)
        for _ in range(5):
            q.enqueue("change")
        q.enqueue("interval")
        assert q.take(deadline=10) == "change"
        assert q.take(deadline=10) is None
        assert clock.now() == 10

    def test_git_labels_a_coalesced_run_over_change(self) -> None:
        """A run covering a fetch and the files it changed is labelled git."""
        q = Triggers(FakeClock())
        q.enqueue("change")
        q.enqueue("git")
        assert q.take(deadline=1) == "git"

    def test_stop_wins_over_pending_triggers(self) -> None:
        """After stop, take returns None even with work pending."""
        q = Triggers(FakeClock())
        q.enqueue("change")
        q.stop()
        assert q.take(deadline=1) is None

    def test_take_wakes_on_enqueue_from_another_thread(self) -> None:
        """A real-clock take returns as soon as another thread enqueues."""
        q = Triggers(watching.MonotonicClock())
        threading.Timer(0.05, q.enqueue, args=("change",)).start()
        started = time.monotonic()
        assert q.take(deadline=time.monotonic() + 5) == "change"
        assert time.monotonic() - started < 1


class TestLoop:
    def test_startup_then_every_interval(self) -> None:
        """The first run is startup; then one run per interval."""
        loop, fake, _ = make_loop(limit=4)
        loop.run()
        assert fake.calls == [(0, "startup"), (60, "interval"), (120, "interval"), (180, "interval")]

    def test_failures_back_off_along_the_table_capped_at_its_last_value(self) -> None:
        """Consecutive failures wait 1, 2, 5, 10, 30, 60, 60 s; no real sleep happens."""
        loop, fake, _ = make_loop(results=["failed"] * 8, limit=8)
        started = time.monotonic()
        loop.run()
        times = [t for t, _ in fake.calls]
        assert [b - a for a, b in itertools.pairwise(times)] == [1, 2, 5, 10, 30, 60, 60]
        assert time.monotonic() - started < 1

    def test_success_resets_the_backoff(self) -> None:
        """After a success the interval applies again, and a new failure starts at 1 s."""
        loop, fake, _ = make_loop(results=["failed", "failed", "applied", "failed"], limit=5)
        loop.run()
        times = [t for t, _ in fake.calls]
        assert [b - a for a, b in itertools.pairwise(times)] == [1, 2, 60, 1]

    def test_a_change_during_backoff_runs_at_once(self) -> None:
        """Backoff delays only timed runs: a file change 0.3 s after a failure runs at 0.3 s."""
        loop, fake, clock = make_loop(results=["failed"] * 3, limit=3, backoff=(30,))
        clock.at(0.3, lambda: loop.triggers.enqueue("change"))
        loop.run()
        assert fake.calls == [(0, "startup"), (0.3, "change"), (30.3, "interval")]

    def test_a_failing_change_restarts_the_backoff_and_interval_retries_climb_it(self) -> None:
        """After 1, 2, 5 s of retries, a file change runs at once; its failure waits 1 s again, then 2."""
        loop, fake, clock = make_loop(results=["failed"] * 6, limit=6)
        clock.at(9.5, lambda: loop.triggers.enqueue("change"))
        loop.run()
        assert fake.calls == [
            (0, "startup"), (1, "interval"), (3, "interval"), (8, "interval"),
            (9.5, "change"), (10.5, "interval"),
        ]  # fmt: skip
        assert loop.failures == 2

    def test_permanent_failures_take_the_slow_path_with_an_alert(self) -> None:
        """AccessDenied-like failures wait 300, 900, 1800, 1800 s and log reconcile.needs_attention."""
        permanent = CycleResult(Result.FAILED, errors=("release/x: AccessDenied: no",), retry=Retry.SLOW)
        loop, fake, _ = make_loop(results=[permanent] * 5, limit=5)
        with structlog.testing.capture_logs() as logs:
            loop.run()
        times = [t for t, _ in fake.calls]
        assert [b - a for a, b in itertools.pairwise(times)] == [300, 900, 1800, 1800]
        alerts = [e for e in logs if e["event"] == "reconcile.needs_attention"]
        assert len(alerts) == 5 and alerts[0]["log_level"] == "error"
        assert alerts[0]["errors"] == ["release/x: AccessDenied: no"]
        assert not [e for e in logs if e["event"] == "reconcile.backoff"]

    def test_transient_failures_keep_the_quick_backoff(self) -> None:
        """A failure whose errors include a transient one backs off along the quick table."""
        transient = CycleResult(Result.FAILED, errors=("throttled",), retry=Retry.BACKOFF)
        loop, fake, _ = make_loop(results=[transient] * 3, limit=3)
        loop.run()
        assert [t for t, _ in fake.calls] == [0, 1, 3]

    def test_a_change_after_a_permanent_failure_runs_at_once(self) -> None:
        """The slow path delays only timed runs: a commit that fixes the cause runs immediately."""
        permanent = CycleResult(Result.FAILED, errors=("AccessDenied",), retry=Retry.SLOW)
        loop, fake, clock = make_loop(results=[permanent, "applied"], limit=2)
        clock.at(5, lambda: loop.triggers.enqueue("change"))
        loop.run()
        assert fake.calls == [(0, "startup"), (5, "change")]

    def test_invalid_desired_state_does_not_back_off(self) -> None:
        """Invalid desired state waits for a change (or the interval), not a retry schedule."""
        loop, fake, _ = make_loop(results=["invalid", "invalid"], limit=2)
        loop.run()
        assert [t for t, _ in fake.calls] == [0, 60]
        assert loop.failures == 0

    def test_triggers_during_a_reconcile_coalesce_into_one_follow_up(self) -> None:
        """Ten changes and a git fetch arriving mid-run cause exactly one more run, at once."""
        loop, fake, _ = make_loop(limit=3)

        def burst() -> None:
            for _ in range(10):
                loop.triggers.enqueue("change")
            loop.triggers.enqueue("git")

        fake.during[0] = burst
        loop.run()
        assert fake.calls == [(0, "startup"), (0, "git"), (60, "interval")]

    def test_stop_lets_the_reconcile_in_flight_finish(self) -> None:
        """A stop arriving mid-reconcile ends the loop after that reconcile returns."""
        loop, fake, _ = make_loop(limit=99)
        fake.during[1] = loop.triggers.stop
        loop.run()
        assert len(fake.calls) == 2
        assert loop.runs == 2

    def test_prepare_can_relabel_the_trigger(self) -> None:
        """The git update hook runs before the reconcile and names it git when HEAD moved."""
        loop, fake, _ = make_loop(limit=2)
        loop.prepare = lambda trigger: "git" if trigger == "interval" else trigger
        loop.run()
        assert [t for _, t in fake.calls] == ["startup", "git"]

    def test_a_hung_reconcile_is_not_alive(self) -> None:
        """The watchdog stops once a reconcile runs past the stall limit."""
        loop, _, clock = make_loop()
        assert loop.alive()
        loop.busy_since = clock.now()
        clock.t += watching.STALL_LIMIT + 1
        assert not loop.alive()


class TestIsRelevant:
    @pytest.mark.parametrize(
        "name",
        ["site.yaml", "functions/rewrite.js", "jobs/job_1.yaml", "release.yml"],
    )
    def test_desired_files_are_relevant(self, tmp_path: Path, name: str) -> None:
        """Ordinary desired files trigger a reconcile."""
        assert is_relevant(str(tmp_path / name), tmp_path)

    @pytest.mark.parametrize(
        "name",
        [
            ".site.yaml.swp",
            "site.yaml.swp",
            "site.yaml~",
            ".#site.yaml",
            "#site.yaml#",
            "4913",
            ".hidden.yaml",
            ".git/index",
            ".git/objects/ab/cdef",
            "jobs/.job_1.yaml.swx",
        ],
    )
    def test_editor_temp_files_and_hidden_paths_are_ignored(self, tmp_path: Path, name: str) -> None:
        """Swap files, backups, vim's 4913 probe, dotfiles and .git/ never trigger a reconcile."""
        assert not is_relevant(str(tmp_path / name), tmp_path)


class Receiver:
    """A unix datagram socket standing in for systemd's notify socket."""

    def __init__(self, address: str | bytes) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.sock.settimeout(5)

    def messages(self, n: int) -> list[str]:
        return [self.sock.recv(4096).decode() for _ in range(n)]

    def pending(self) -> list[str]:
        out = []
        self.sock.setblocking(False)
        try:
            while True:
                out.append(self.sock.recv(4096).decode())
        except BlockingIOError:
            return out
        finally:
            self.sock.settimeout(5)

    def close(self) -> None:
        self.sock.close()


class TestNotifier:
    def test_sends_ready_and_status_to_a_path_socket(self, tmp_path: Path) -> None:
        """READY=1 and STATUS= reach a filesystem NOTIFY_SOCKET in one datagram."""
        path = str(tmp_path / "notify")
        rx = Receiver(path)
        try:
            assert Notifier({"NOTIFY_SOCKET": path}).ready("in_sync")
            assert rx.messages(1) == ["READY=1\nSTATUS=in_sync"]
        finally:
            rx.close()

    def test_speaks_the_abstract_namespace(self) -> None:
        """An `@name` socket is Linux's abstract namespace (leading NUL)."""
        name = f"reconciler-test-{uuid.uuid4().hex}"
        rx = Receiver(b"\0" + name.encode())
        try:
            notifier = Notifier({"NOTIFY_SOCKET": f"@{name}"})
            assert notifier.watchdog() and notifier.stopping()
            assert rx.messages(2) == ["WATCHDOG=1", "STOPPING=1"]
        finally:
            rx.close()

    def test_is_a_no_op_without_notify_socket(self) -> None:
        """Outside systemd nothing is sent and nothing fails."""
        notifier = Notifier({})
        assert not notifier.enabled
        assert notifier.ready() is False

    def test_a_vanished_socket_is_not_an_error(self, tmp_path: Path) -> None:
        """A manager that went away does not crash the daemon."""
        assert Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone")}).watchdog() is False

    @pytest.mark.parametrize(
        ("env", "expected"),
        [
            ({"WATCHDOG_USEC": "30000000"}, 30.0),
            ({"WATCHDOG_USEC": "0"}, None),
            ({}, None),
            ({"WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "1"}, None),
            ({"WATCHDOG_USEC": "4000000", "WATCHDOG_PID": str(os.getpid())}, 4.0),
        ],
    )
    def test_watchdog_interval_is_for_this_process_only(self, env: dict[str, str], expected: float | None) -> None:
        """WATCHDOG_USEC applies when WATCHDOG_PID is absent or ours."""
        assert Notifier(env).watchdog_interval == expected


class CountingReconciler:
    """A stand-in for `Reconciler`: counts triggers, never touches AWS."""

    def __init__(self, result: str = "in_sync") -> None:
        self.triggers: list[str] = []
        self.result = result
        self.ran = threading.Event()

    def reconcile(self, trigger: str) -> CycleResult:
        self.triggers.append(trigger)
        self.ran.set()
        return CycleResult(Result(self.result), commit="0123456789abcdef")


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def watcher_started(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Set once watchfiles' notifier exists, i.e. its inotify watches are in place: a save after
    that is seen (a fixed sleep would guess, and lose the save on a busy machine)."""
    import watchfiles.main
    from watchfiles._rust_notify import RustNotify

    started = threading.Event()

    def made(*args: Any, **kwargs: Any) -> Any:
        made_one = RustNotify(*args, **kwargs)
        started.set()
        return made_one

    monkeypatch.setattr(watchfiles.main, "RustNotify", made)
    return started


class TestRun:
    def settings(self, tmp_path: Path, **watch: Any) -> Settings:
        desired = tmp_path / "desired"
        desired.mkdir(exist_ok=True)
        return Settings(
            desired=desired, state_dir=tmp_path / "state", watch=WatchSettings(**{"interval": 60.0, **watch})
        )

    def start(
        self, settings: Settings, fake: Any, **kwargs: Any
    ) -> tuple[threading.Thread, threading.Event, list[int], io.StringIO]:
        stop, rc, out = threading.Event(), [], io.StringIO()
        thread = threading.Thread(
            target=lambda: rc.append(watching.run(settings, stop=stop, reconciler=fake, stream=out, **kwargs))
        )
        thread.start()
        return thread, stop, rc, out

    def test_a_second_daemon_on_the_same_state_dir_exits_1(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The state lock is taken: one clear line on stderr and exit 1, no reconcile."""
        settings = self.settings(tmp_path)
        fake = CountingReconciler()
        with StateLock(settings.state_dir):
            assert watching.run(settings, reconciler=fake, stream=io.StringIO()) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "another reconciler" in err[0] and str(settings.state_dir) in err[0]
        assert fake.triggers == []

    def test_stop_exits_0_after_the_startup_reconcile(self, tmp_path: Path) -> None:
        """The daemon reconciles at startup and exits 0 when stopped, releasing the lock."""
        settings = self.settings(tmp_path)
        fake = CountingReconciler()
        thread, stop, rc, out = self.start(settings, fake)
        assert fake.ran.wait(5)
        stop.set()
        thread.join(5)
        assert rc == [0] and fake.triggers[0] == "startup"
        StateLock(settings.state_dir).acquire().release()
        names = [json.loads(line)["event"] for line in out.getvalue().splitlines()]
        assert names[0] == "daemon.started" and names[-1] == "daemon.stopped"

    def test_a_file_change_triggers_one_change_reconcile(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Saving a desired file (with an editor's swap file beside it) runs one `change` reconcile."""
        settings = self.settings(tmp_path, debounce_ms=50)
        fake = CountingReconciler()
        watching_up = watcher_started(monkeypatch)
        thread, stop, rc, _ = self.start(settings, fake)
        try:
            assert fake.ran.wait(5)
            assert watching_up.wait(5)
            (settings.desired / ".site.yaml.swp").write_text("x")
            (settings.desired / "site.yaml").write_text("kind: Site\n")
            assert wait_until(lambda: "change" in fake.triggers)
            time.sleep(0.4)
            assert fake.triggers.count("change") == 1
            (settings.desired / "4913").write_text("")
            (settings.desired / "site.yaml~").write_text("")
            time.sleep(0.5)
            assert fake.triggers.count("change") == 1
        finally:
            stop.set()
            thread.join(5)
        assert rc == [0]

    def test_notifies_ready_status_watchdog_and_stopping(self, tmp_path: Path) -> None:
        """READY=1 with the status after the first reconcile, WATCHDOG=1 pings, STOPPING=1 at exit."""
        path = str(tmp_path / "notify")
        rx = Receiver(path)
        settings = self.settings(tmp_path)
        notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000"})
        fake = CountingReconciler("applied")
        thread, stop, rc, _ = self.start(settings, fake, notifier=notifier)
        try:
            first = rx.messages(1)[0]
            assert first.startswith("READY=1\nSTATUS=applied, commit 0123456789ab, at ")
            pings = 0
            while pings < 3:  # every receive waits 5 s at most
                pings += rx.messages(1)[0] == "WATCHDOG=1"
        finally:
            stop.set()
            thread.join(5)
            messages = rx.pending()
            rx.close()
        assert rc == [0]
        assert messages[-1].startswith("STOPPING=1")


class TestWatchFiles:
    def test_a_missing_directory_is_reported_once_not_every_retry(self, tmp_path: Path) -> None:
        """watch.failed is logged once per distinct problem while the watcher keeps retrying."""
        from structlog.testing import capture_logs

        stop = threading.Event()
        triggers = Triggers(watching.MonotonicClock())
        with capture_logs() as logs:
            thread = threading.Thread(
                target=watching.watch_files, args=(tmp_path / "missing", triggers, stop, 50, events.log())
            )
            thread.start()
            assert wait_until(lambda: bool(logs))
            stop.set()
            thread.join(5)
        assert [e["event"] for e in logs] == ["watch.failed"]
        assert not thread.is_alive()
