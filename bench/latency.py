#!/usr/bin/env python3
"""File change -> last API call returned, for the daemon (`reconciler run`) on the sandbox.

    bench/run latency [--changes 50] [--gap 0.3]    (or: .venv/bin/python bench/latency.py ...)

Starts the sandbox and `reconciler run --interval 3600` as processes, waits for the startup
reconcile, then makes CHANGES edits one at a time (each an atomic rename, as git and editors
do): mostly one job's status (PutObject + an invalidation), every 5th a release flip of both
pointers (HeadObject + PutParameter x2 + invalidations), every 10th new function code (update,
publish + invalidation). For each, from the JSON events on the daemon's stdout:

  to start   file written -> `reconcile.start` (watcher + debounce)
  to last    file written -> last `action.applied` / `invalidation.created` (the last API call
             has returned when that line is logged)
  to done    file written -> `reconcile.done`

Prints median and p95 of each (goal: p95 to last < 300 ms). The file write time is taken with
time.time() right after the rename; event timestamps are the daemon's wall clock (same host).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    PROJECT,
    RECONCILER,
    SandboxProcess,
    Stack,
    env,
    header,
    median,
    percentile,
    seed_versions,
    use_env_here,
    version,
)

LAST_CALL = ("action.applied", "invalidation.created")


def stamp(event: dict[str, Any]) -> float:
    return datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).timestamp()


class Daemon:
    """`reconciler run` with its stdout parsed into a queue of events."""

    def __init__(self, desired: Path, endpoint: str, state: Path) -> None:
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - the daemon's stderr for the object's life
        self.proc = subprocess.Popen(
            [*RECONCILER, "run", "--desired", str(desired), "--endpoint-url", endpoint, "--state-dir", str(state),
             "--interval", "3600", "--log-format", "json"],
            stdout=subprocess.PIPE, stderr=self.stderr, env=env(), text=True, bufsize=1,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    self.events.put(json.loads(line))

    def cycle(self, timeout: float = 30.0) -> list[dict[str, Any]]:
        """The events of the next whole reconcile (reconcile.start .. reconcile.done)."""
        deadline = time.monotonic() + timeout
        got: list[dict[str, Any]] = []
        while True:
            try:
                event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                self.stderr.seek(0)
                sys.exit(f"no reconcile.done within {timeout} s; daemon stderr:\n{self.stderr.read().decode()[-3000:]}")
            if event.get("event") == "reconcile.start":
                got = []
            got.append(event)
            if event.get("event") == "reconcile.done":
                return got

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--gap", type=float, default=0.3, help="seconds between a reconcile.done and the next edit")
    parser.add_argument("--jobs", type=int, default=20)
    args = parser.parse_args()
    use_env_here()
    header(f"latency: file change -> last API call, `reconciler run` on the sandbox ({args.changes} changes)")
    to_start, to_last, to_done, durations = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
        stack = Stack(Path(tmp), jobs=args.jobs).create(0)
        stack.git_init()
        with SandboxProcess(stack.desired) as sandbox:
            seed_versions(sandbox.endpoint, (version(n) for n in range(args.changes + 1)))
            daemon = Daemon(stack.desired, sandbox.endpoint, Path(tmp) / "state")
            try:
                first = daemon.cycle(60)[-1]
                print(f"   startup reconcile: {first.get('result')} in {first.get('duration_ms')} ms", flush=True)
                for n in range(1, args.changes + 1):
                    time.sleep(args.gap)
                    kind = "function" if n % 10 == 0 else "release" if n % 5 == 0 else "job"
                    if kind == "function":
                        stack.set_code(n)
                    elif kind == "release":
                        stack.set_versions(n)
                    else:
                        stack.change_job(n)
                    written = time.time()
                    cycle = daemon.cycle()
                    start, done = cycle[0], cycle[-1]
                    if done.get("result") != "applied" or start.get("trigger") != "change":
                        sys.exit(f"change {n} ({kind}): expected an applied change reconcile, got {start} .. {done}")
                    last = max(stamp(e) for e in cycle if e.get("event") in LAST_CALL)
                    to_start.append(stamp(start) - written)
                    to_last.append(last - written)
                    to_done.append(stamp(done) - written)
                    durations.append(done["duration_ms"] / 1000)
            finally:
                daemon.stop()
    print(f"   {'':24s}{'median':>10s}{'p95':>10s}{'max':>10s}")
    for label, values in (("file -> reconcile.start", to_start), ("file -> last API call", to_last),
                          ("file -> reconcile.done", to_done), ("reconcile duration_ms", durations)):
        print(
            f"   {label:24s}{median(values) * 1000:8.0f}ms"
            f"{percentile(values, 95) * 1000:8.0f}ms{max(values) * 1000:8.0f}ms"
        )
    p95 = percentile(to_last, 95) * 1000
    print(f"   goal p95 file -> last API call < 300 ms: {'met' if p95 < 300 else 'NOT met'} ({p95:.0f} ms)")
    print(
        "   json "
        + json.dumps(
            {
                "p50_last_ms": round(median(to_last) * 1000),
                "p95_last_ms": round(p95),
                "p50_start_ms": round(median(to_start) * 1000),
                "p50_duration_ms": round(median(durations) * 1000),
            }
        )
    )


if __name__ == "__main__":
    os.chdir(PROJECT)
    main()
