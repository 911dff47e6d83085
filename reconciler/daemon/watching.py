"""The daemon (`run`; `dev` runs it against a sandbox): triggers -> one reconcile at a time, until SIGTERM/SIGINT.

Triggers come from three sources and only ever *enqueue*: the file watcher (`change`), the
interval timer (`interval`), and, with `--git-pull`, the fetch poller (`git`). While a
reconcile runs, further triggers collapse into one pending follow-up run (controller-runtime's
workqueue): a burst of edits costs one extra reconcile, not one per file. Every reconcile is
level-triggered (read everything, plan from scratch), so which trigger woke it is only a label.

A failed reconcile is retried along `WatchSettings.retry` (`core.retrying`: transient failures
back off quickly, permanent ones slowly and with an alert). The backoff only postpones *timed*
runs, so a new commit or file change still runs at once, and its failure (new desired state)
starts the backoff again at its first step.
Time comes from a `Clock`, so the backoff tests use a fake one and never sleep.

Called by `cli.py` (`run`) and `commands/devstack.py` (`dev`); uses `reconciling.Reconciler` (kept for
the whole run: it caches the loader, the AWS clients and the read cache), `gitsync`, `notify` and
`statefile`.

Over 300 lines on purpose: every thread of the daemon (loop, file watcher, git poller, watchdog,
signal handling) and the one lock they share are in this file, so the concurrency can be read
in one place. The sections (time, work queue, loop, trigger sources, the daemon, signals) are
the seams to split along if it grows.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TextIO

from reconciler import events
from reconciler.core.results import Result
from reconciler.core.retrying import Retry
from reconciler.core.settings import Settings, WatchSettings
from reconciler.daemon.notify import Notifier
from reconciler.loading import gitinfo

STARTUP, CHANGE, INTERVAL, GIT = "startup", "change", "interval", "git"
PRIORITY = (STARTUP, GIT, CHANGE, INTERVAL)
"""When triggers coalesce, the run is labelled with the first of these that is pending."""

STALL_LIMIT = 900.0
"""A reconcile running longer than this is taken as hung: the watchdog pings stop."""


# -- time ------------------------------------------------------------------------------------


class Clock(Protocol):
    def now(self) -> float: ...

    def wait(self, cond: threading.Condition, timeout: float | None) -> None:
        """Wait on `cond` (held by the caller) for at most `timeout` seconds."""


class MonotonicClock:
    def now(self) -> float:
        return time.monotonic()

    def wait(self, cond: threading.Condition, timeout: float | None) -> None:
        cond.wait(timeout)


# -- the work queue --------------------------------------------------------------------------


class Triggers:
    """A dirty set behind a condition variable: events enqueue, duplicates collapse."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._cond = threading.Condition()  # an RLock: safe to enter from a signal handler
        self._pending: set[str] = set()
        self._stopped = False

    def enqueue(self, trigger: str) -> None:
        with self._cond:
            self._pending.add(trigger)
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    @property
    def stopped(self) -> bool:
        return self._stopped

    def pending(self) -> set[str]:
        with self._cond:
            return set(self._pending)

    def take(self, deadline: float) -> str | None:
        """The strongest pending trigger (all pending cleared), or None at `deadline` or stop."""
        with self._cond:
            while not self._pending and not self._stopped:
                remaining = deadline - self.clock.now()
                if remaining <= 0:
                    return None
                self.clock.wait(self._cond, remaining)
            if self._stopped:
                return None
            trigger = next(t for t in (*PRIORITY, *sorted(self._pending)) if t in self._pending)
            self._pending.clear()
            return trigger


# -- the loop ---------------------------------------------------------------------------------


class Loop:
    """Runs reconciles one at a time: on triggers, every interval, and after failures with backoff."""

    def __init__(
        self,
        reconcile: Callable[[str], Any],
        watch: WatchSettings,
        triggers: Triggers,
        *,
        prepare: Callable[[str], str] | None = None,
        after: Callable[[Any], None] | None = None,
        log: Any = None,
    ) -> None:
        self.reconcile = reconcile
        self.watch = watch
        self.triggers = triggers
        self.clock = triggers.clock
        self.prepare = prepare
        self.after = after
        self.log = log or events.log()
        self.failures = 0
        self.due = self.clock.now()
        self.busy_since: float | None = None
        self.runs = 0

    def run(self) -> None:
        """Until `triggers.stop()`: the startup reconcile, then one per trigger or timer."""
        self.triggers.enqueue(STARTUP)
        while not self.triggers.stopped:
            trigger = self.triggers.take(self.due)
            if self.triggers.stopped:
                break
            self.once(trigger or INTERVAL)

    def once(self, trigger: str) -> Any:
        self.busy_since = self.clock.now()
        try:
            if self.prepare is not None:
                trigger = self.prepare(trigger)
            result = self.reconcile(trigger)
        finally:
            self.busy_since = None
        self.runs += 1
        release_freed_memory()
        self._schedule(result, trigger)
        if self.after is not None:
            self.after(result)
        return result

    def _schedule(self, result: Any, trigger: str) -> None:
        """Next timed run: one interval on, or the next step of the failure's retry path
        (`core.retrying`): quick backoff for transient failures, slow with an alert for permanent ones."""
        if result.result == Result.FAILED:
            self.failures = 1 if trigger in (CHANGE, GIT) else self.failures + 1
            retry = getattr(result, "retry", None) or Retry.BACKOFF
            delay = self.watch.retry.delay(retry, self.failures, fallback=self.watch.interval)
            if retry is Retry.SLOW:
                # retrying will not help until someone acts (permissions, a bucket, the request): say so
                self.log.error(
                    "reconcile.needs_attention", failures=self.failures, delay=delay, errors=list(result.errors)
                )
            else:
                self.log.warning("reconcile.backoff", failures=self.failures, delay=delay)
        else:
            self.failures = 0
            delay = self.watch.interval
        self.due = self.clock.now() + delay

    def alive(self) -> bool:
        """False once a reconcile has run longer than `STALL_LIMIT` (then systemd restarts us)."""
        since = self.busy_since
        return since is None or self.clock.now() - since < STALL_LIMIT


def release_freed_memory() -> None:
    """Hand memory freed by a reconcile back to the OS (glibc keeps it otherwise: with 100,000 jobs
    a long-running daemon grew ~40 MB per reload of objects Python had already freed)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Any:
    import ctypes
    import ctypes.util

    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to trim
        return None


# -- the trigger sources ----------------------------------------------------------------------

_EDITOR_SUFFIXES = (".swp", ".swx", ".swo", ".swn", "~", ".tmp", ".bak", ".orig")


def is_relevant(path: str, root: Path) -> bool:
    """False for editors' temp files, hidden files and anything under a hidden directory (.git/)."""
    p = Path(path)
    try:
        parts = p.resolve().relative_to(root.resolve()).parts
    except ValueError:
        parts = p.parts[-1:]
    if not parts:
        return True
    if any(part.startswith(".") for part in parts):
        return False
    name = parts[-1]
    if name.endswith(_EDITOR_SUFFIXES) or name == "4913":  # 4913: vim's "can I write here" probe
        return False
    return not (name.startswith("#") and name.endswith("#"))  # emacs auto-save


def watch_files(root: Path, triggers: Triggers, stop: threading.Event, debounce_ms: int, log: Any) -> None:
    """Enqueue `change` for every debounced batch of relevant changes under `root`, until `stop`."""
    import watchfiles

    def relevant(_change: Any, path: str) -> bool:
        return is_relevant(path, root)

    last_error = None
    while not stop.is_set():
        try:
            for _batch in watchfiles.watch(
                root,
                watch_filter=relevant,
                debounce=max(debounce_ms, 1),
                step=min(50, max(debounce_ms, 1)),
                stop_event=stop,
                raise_interrupt=False,
                rust_timeout=1000,
            ):
                triggers.enqueue(CHANGE)
        except Exception as exc:  # noqa: BLE001 - e.g. the directory is gone; the interval still runs
            if str(exc) != last_error:  # once per distinct problem, not every retry
                log.warning("watch.failed", directory=str(root), error=str(exc))
                last_error = str(exc)
            stop.wait(2.0)
            continue
        last_error = None


def poll_git(sync: Any, triggers: Triggers, stop: threading.Event, interval: float) -> None:
    """Fetch at once and then every interval; enqueue `git` when upstream moved."""
    while not stop.is_set():
        if sync.fetch():
            triggers.enqueue(GIT)
        if stop.wait(interval):
            return


def heartbeat(notifier: Notifier, loop: Loop, stop: threading.Event) -> None:
    """WATCHDOG=1 every WATCHDOG_USEC/2 while the loop is waiting or inside a bounded reconcile."""
    period = (notifier.watchdog_interval or 0) / 2
    if period <= 0:
        return
    while not stop.wait(period):
        if loop.alive():
            notifier.watchdog()


# -- the daemon -------------------------------------------------------------------------------


def status_line(result: Any) -> str:
    """What `systemctl status` shows: the last result, its commit and time."""
    from reconciler.core.staterecords import now_iso

    commit = (result.commit or "no commit")[:12]
    extra = f", {len(result.drifted)} drifted" if getattr(result, "drifted", ()) else ""
    return f"{result.result}{extra}, commit {commit}, at {now_iso()}"


def run(
    settings: Settings,
    *,
    stop: threading.Event | None = None,
    clock: Clock | None = None,
    reconciler: Any = None,
    notifier: Notifier | None = None,
    stream: TextIO | None = None,
) -> int:
    """The `run` command: exit 0 after a stop signal (or `stop`), 1 when the state dir is taken."""
    from reconciler.cycle.statefile import Locked, StateLock

    events.configure(settings.log_format, stream if stream is not None else sys.stdout)
    log = events.log()
    try:
        lock = StateLock(settings.state_dir).acquire()
    except Locked as exc:
        print(f"reconciler: {exc}", file=sys.stderr, flush=True)
        return 1
    try:
        triggers = Triggers(clock or MonotonicClock())
        received: list[int] = []
        status_wanted = threading.Event()

        def on_signal(signum: int) -> None:
            received.append(signum)
            triggers.stop()

        restore = _on_signals(on_signal, status_wanted.set)
        try:
            return _serve(
                settings, triggers, received, log, stop or threading.Event(), reconciler, notifier or Notifier(),
                status_wanted,
            )
        finally:
            restore()
    finally:
        lock.release()


def _serve(
    settings: Settings,
    triggers: Triggers,
    received: list[int],
    log: Any,
    stop: threading.Event,
    reconciler: Any,
    notifier: Notifier,
    status_wanted: threading.Event | None = None,
) -> int:
    """Wire the trigger sources, the loop and sd_notify; return 0 once stopped."""
    from reconciler.daemon.gitsync import GitError, GitSync

    if reconciler is None:
        from reconciler.cycle.reconciling import Reconciler

        reconciler = Reconciler(settings, self_heal=settings.watch.self_heal)
    watch = settings.watch
    sync = GitSync(settings.desired, log) if watch.git_pull else None

    def prepare(trigger: str) -> str:
        """With --git-pull, move the checkout to the fetched upstream before reading it."""
        if sync is None:
            return trigger
        try:
            update = sync.update()
        except GitError as exc:
            log.warning("git.update_failed", error=str(exc))
            return trigger
        return GIT if update.moved else trigger

    ready = threading.Event()

    def after(result: Any) -> None:
        moved = gitinfo.head(settings.desired)
        if result.commit is not None and moved is not None and moved != gitinfo.sha_of(result.commit):
            triggers.enqueue(CHANGE)  # HEAD moved mid-reconcile (a commit after its files): label it right
        line = status_line(result)
        if not ready.is_set():
            notifier.ready(line)
            ready.set()
        else:
            notifier.status(line)

    loop = Loop(reconciler.reconcile, watch, triggers, prepare=prepare, after=after, log=log)

    def stopper() -> None:
        stop.wait()
        triggers.stop()

    threads = [
        threading.Thread(target=stopper, name="stop", daemon=True),
        threading.Thread(
            target=watch_files,
            args=(settings.desired, triggers, stop, watch.debounce_ms, log),
            name="watch",
            daemon=True,
        ),
        threading.Thread(target=heartbeat, args=(notifier, loop, stop), name="watchdog", daemon=True),
        threading.Thread(
            target=report_status, args=(settings, status_wanted or threading.Event(), stop, log), name="status",
            daemon=True,
        ),
    ]
    if sync is not None:
        threads.append(
            threading.Thread(target=poll_git, args=(sync, triggers, stop, watch.interval), name="git", daemon=True)
        )
    log.info(
        "daemon.started",
        desired=str(settings.desired),
        state_dir=str(settings.state_dir),
        interval=watch.interval,
        self_heal=watch.self_heal,
        git_pull=watch.git_pull,
        pid=os.getpid(),
    )
    for thread in threads:
        thread.start()
    try:
        loop.run()
    finally:
        if received:
            log.info("daemon.stopping", signal=signal.Signals(received[0]).name)
        stop.set()
        triggers.stop()
        notifier.stopping("stopping")
        for thread in threads:
            thread.join(timeout=2.0)
        log.info("daemon.stopped", reconciles=loop.runs)
    return 0


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)
"""Every signal whose default action would end the daemon: each ends it as SIGTERM does (SPEC
section 4), after the action in flight. SIGHUP is not "reload": the daemon re-reads the desired
directory on every change anyway. SIGQUIT loses its core dump: a stop must never skip an owed
invalidation for a debugging aid."""


def _on_signals(handler: Callable[[int], Any], on_status: Callable[[], Any] | None = None) -> Callable[[], None]:
    """STOP_SIGNALS call `handler` once; a second SIGINT (Ctrl-C twice) interrupts, other repeats
    are ignored (the action in flight still finishes). SIGUSR1 calls `on_status`. Main thread
    only (else no-op).

    The handlers must not log or take a plain Lock: they run between two bytecodes of the main
    thread, which may hold that very lock (structlog's write lock, say).
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    seen: list[int] = []

    def on_signal(signum: int, _frame: Any) -> None:
        if seen:
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            return
        seen.append(signum)
        handler(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    if on_status is not None:
        previous[signal.SIGUSR1] = signal.signal(signal.SIGUSR1, lambda _s, _f: on_status())

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore


def report_status(settings: Settings, wanted: threading.Event, stop: threading.Event, log: Any) -> None:
    """Log `daemon.status` (what `status` shows) each time SIGUSR1 sets `wanted`; a thread, so
    the signal handler itself only sets an Event."""
    from reconciler.cycle.statusreading import read_status

    while not stop.is_set():
        if not wanted.wait(0.5):
            continue
        wanted.clear()
        current, problem = read_status(settings)
        if current is None:
            log.info("daemon.status", error=problem)
        else:
            log.info("daemon.status", **current)
