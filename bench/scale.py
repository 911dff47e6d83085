#!/usr/bin/env python3
"""Scale: 1,000 / 10,000 (/ 100,000 with --big) one-file jobs: validate, plan, apply, one-file change.

    bench/run scale [--sizes 1000,10000] [--big] [--runs 3]   (or: .venv/bin/python bench/scale.py ...)

For each size, in a fresh directory (one file per job, plus the bench stack's Site, function and
two releases) and a fresh sandbox process:

  validate      `reconciler validate`, alternated with the YAML floor (every file parsed with
                PyYAML's CSafeLoader in one process, as /work/shared/bench/yaml-floor does): ratio
  plan          `reconciler plan --json` before the first apply (everything to create)
  apply         the first `reconciler apply` (creates all, uploads the whole jobs.json)
  no-change     `reconciler apply` again (in sync)
  one-file      a daemon-like process (a `Reconciler` kept warm: incremental Loader, clients, read
                cache) changes one job file and reconciles, several times: reconcile time (duration_ms)

Wall time and peak RSS (wait4's ru_maxrss of that process) for each. Goals: validate of 10,000
within 2.5x of the floor; one-file change in 10,000 jobs within 300 ms of reconciler time;
100,000 jobs under 500 MB peak RSS. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    PROJECT,
    PYTHON,
    RECONCILER,
    SandboxProcess,
    Stack,
    done_event,
    header,
    median,
    run,
    use_env_here,
)

FLOOR = (
    "import sys, yaml, pathlib\n"
    "for p in pathlib.Path(sys.argv[1]).rglob('*.y*ml'):\n"
    "    list(yaml.load_all(p.read_text(), Loader=yaml.CSafeLoader))\n"
)


def one_size(jobs: int, runs: int, changes: int) -> dict[str, Any]:
    out: dict[str, Any] = {"jobs": jobs}
    with tempfile.TemporaryDirectory(prefix=f"bench-scale-{jobs}-") as tmp:
        started = time.perf_counter()
        stack = Stack(Path(tmp), jobs=jobs).create(0)
        print(f"   {jobs} jobs: generated in {time.perf_counter() - started:.1f} s", flush=True)
        desired = str(stack.desired)

        validate = [*RECONCILER, "validate", "--desired", desired]
        floor = [PYTHON, "-c", FLOOR, desired]
        run(validate)  # warm the page cache for both
        ours, base, rss = [], [], []
        for _ in range(runs):
            ran = run(validate)
            ours.append(ran.seconds)
            rss.append(ran.maxrss_mb)
            base.append(run(floor).seconds)
        out["validate_s"], out["floor_s"], out["validate_rss_mb"] = median(ours), median(base), max(rss)
        out["validate_ratio"] = out["validate_s"] / out["floor_s"]
        _line(jobs, "validate", out["validate_s"], out["validate_rss_mb"],
              f"floor {out['floor_s']:.2f} s, ratio {out['validate_ratio']:.2f} (goal <= 2.5)")

        with SandboxProcess(stack.desired) as sandbox:
            common = ["--desired", desired, "--endpoint-url", sandbox.endpoint, "--state-dir", str(Path(tmp) / "state")]
            ran = run([*RECONCILER, "plan", "--json", *common])
            out["plan_s"], out["plan_rss_mb"] = ran.seconds, ran.maxrss_mb
            actions = len(json.loads(ran.stdout)["actions"])
            _line(jobs, "plan (cold)", ran.seconds, ran.maxrss_mb, f"{actions} actions")

            ran = run([*RECONCILER, "apply", *common])
            done = done_event(ran.events())
            out["apply_s"], out["apply_rss_mb"], out["apply_ms"] = ran.seconds, ran.maxrss_mb, done["duration_ms"]
            _line(
                jobs,
                "apply (first)",
                ran.seconds,
                ran.maxrss_mb,
                f"{done['result']}, {done['changes']} changes, reconcile {done['duration_ms']} ms",
            )

            ran = run([*RECONCILER, "apply", *common])
            done = done_event(ran.events())
            out["nochange_s"], out["nochange_rss_mb"], out["nochange_ms"] = (
                ran.seconds,
                ran.maxrss_mb,
                done["duration_ms"],
            )
            _line(
                jobs,
                "apply (no change)",
                ran.seconds,
                ran.maxrss_mb,
                f"{done['result']}, reconcile {done['duration_ms']} ms",
            )

            child = [PYTHON, str(Path(__file__)), "--incremental-child", tmp, sandbox.endpoint, str(jobs), str(changes)]
            ran = run(child)
            got = json.loads(ran.stdout.strip().splitlines()[-1])
            out["one_file_ms"], out["one_file_wall_ms"], out["daemon_rss_mb"] = (
                got["median_ms"],
                got["median_wall_ms"],
                ran.maxrss_mb,
            )
            out["warm_nochange_ms"] = got["nochange_ms"]
            _line(jobs, "one-file change (warm)", got["median_wall_ms"] / 1000, ran.maxrss_mb,
                  f"duration_ms median {got['median_ms']:.0f} (max {got['max_ms']:.0f}) of {changes}; "
                  f"warm no-change {got['nochange_ms']:.0f} ms; first warm-up {got['startup_ms']:.0f} ms")
    return out


def _line(jobs: int, what: str, seconds: float, rss: float, extra: str) -> None:
    print(f"   {jobs:>7} {what:24s}{seconds:8.3f} s {rss:7.0f} MB   {extra}", flush=True)


def incremental_child(tmp: str, endpoint: str, jobs: int, changes: int) -> None:
    """In a process of its own (so its peak RSS is the daemon's): keep a Reconciler warm, change
    one job file at a time and time each reconcile."""
    from reconciler import events
    from reconciler.core.settings import AwsSettings, Settings
    from reconciler.cycle.reconciling import Reconciler
    from reconciler.daemon.watching import release_freed_memory

    use_env_here()
    events.configure("json", open(os.devnull, "w"))  # noqa: SIM115 - the logger's sink for the process's life
    stack = Stack(Path(tmp), jobs=jobs)
    stack.tokens = [_token(stack, i) for i in range(min(jobs, changes + 1))]
    settings = Settings(desired=stack.desired, state_dir=Path(tmp) / "state", aws=AwsSettings(endpoint_url=endpoint))
    reconciler = Reconciler(settings)
    first = reconciler.reconcile("startup")
    assert first.result == "in_sync", first
    release_freed_memory()  # as the daemon's loop does after every reconcile
    again = reconciler.reconcile("interval")
    release_freed_memory()
    durations, walls = [], []
    for n in range(1, changes + 1):
        stack.change_job(n)
        started = time.perf_counter()
        result = reconciler.reconcile("change")
        walls.append((time.perf_counter() - started) * 1000)
        release_freed_memory()
        if result.result != "applied" or result.changes != 1:
            from _common import job_id
            desired = reconciler.source.load()
            job = next(j for j in desired.jobs if j.id == job_id(n))
            live = [json.loads(o.canonical or b'{"jobs": []}') for o in reconciler.cache.objects.values()]
            raise SystemExit(
                f"change {n}: {result}; desired status {job.document['status']}; "
                f"file {(stack.desired / 'jobs' / (job_id(n) + '.yaml')).read_text()[-400:]}; "
                f"live {[j['status'] for d in live for j in d['jobs'] if j['id'] == job_id(n)]}"
            )
        durations.append(result.duration_ms)
    print(json.dumps({"median_ms": median(durations), "max_ms": max(durations), "median_wall_ms": median(walls),
                      "startup_ms": first.duration_ms, "nochange_ms": again.duration_ms}))


def _token(stack: Stack, i: int) -> str:
    """The token already in job file i (rewriting the file must keep it unique)."""
    from _common import job_id

    for line in (stack.desired / "jobs" / f"{job_id(i)}.yaml").read_text().splitlines():
        if line.startswith("token: "):
            return line.split(": ", 1)[1].strip()
    raise ValueError(i)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--incremental-child":
        tmp, endpoint, jobs, changes = sys.argv[2:6]
        incremental_child(tmp, endpoint, int(jobs), int(changes))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--big", action="store_true", help="add 100,000 jobs (minutes, and GBs of temp files' inodes)")
    parser.add_argument("--runs", type=int, default=3, help="validate/floor alternations per size")
    parser.add_argument("--changes", type=int, default=7, help="one-file changes timed per size")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s] + ([100_000] if args.big else [])
    use_env_here()
    header(f"scale: {', '.join(f'{s:,}' for s in sizes)} jobs")
    print(f"   {'jobs':>7} {'':24s}{'wall':>10s} {'peak RSS':>9s}")
    results = [one_size(n, args.runs if n < 100_000 else 1, args.changes) for n in sizes]
    print(
        "   json "
        + json.dumps([{k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()} for r in results])
    )


if __name__ == "__main__":
    os.chdir(PROJECT)
    main()
