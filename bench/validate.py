#!/usr/bin/env python3
"""How much slower `reconciler validate` is than merely parsing the same YAML files.

    python bench/validate.py [JOBS] [RUNS]     (default 10000 jobs, 5 runs)

Generates JOBS one-job files plus a Site with a jobs section in a temporary directory, then
times whole processes, alternating the two so a noisy machine hurts both alike: `python -m
reconciler validate` and the floor (the same as ../shared/bench/yaml-floor: every file parsed
with PyYAML's CSafeLoader in one process). Prints both medians and the ratio; the goal is <= 2.5.
"""

from __future__ import annotations

import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLOOR = (
    "import sys, yaml, pathlib\n"
    "for p in pathlib.Path(sys.argv[1]).rglob('*.y*ml'):\n"
    "    list(yaml.load_all(p.read_text(), Loader=yaml.CSafeLoader))\n"
)
SITE = """kind: Site
name: bench
region: us-east-1
distributions: {site: E1BENCHSITE01}
jobs: {bucket: bench-data, key: jobs.json, invalidate: {site: [/jobs.json]}}
"""
JOB = """kind: Job
id: {id}
token: {token}
customer: Customer {n}
address: {n} Bench Street
price: {{amount: {amount}, currency: USD, all_inclusive: true}}
status: scheduled
scheduled: {{date: 2026-11-22, window: afternoon}}
notes: gate code at the side door
history:
  - {{status: requested, at: 2026-11-20T09:00:00Z}}
  - {{status: scheduled, at: 2026-11-21T10:30:00Z}}
"""


def generate(directory: Path, jobs: int) -> None:
    (directory / "site.yaml").write_text(SITE)
    (directory / "jobs").mkdir()
    for n in range(jobs):
        job_id = f"job_{n:010x}"
        text = JOB.format(id=job_id, token=secrets.token_urlsafe(24), n=n, amount=f"{n % 900}.{n % 100:02d}")
        (directory / "jobs" / f"{job_id}.yaml").write_text(text)


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode:
        sys.exit(f"{command[2:4]} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return elapsed


def main() -> None:
    jobs = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    project = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(project))
    with tempfile.TemporaryDirectory(prefix="bench-validate-") as tmp:
        desired = Path(tmp) / "desired"
        desired.mkdir()
        generate(desired, jobs)
        validate = [sys.executable, "-m", "reconciler", "validate", "--desired", str(desired)]
        floor = [sys.executable, "-c", FLOOR, str(desired)]
        timed(validate, env)  # warm the page cache for both
        ours, base = [], []
        for _ in range(runs):
            ours.append(timed(validate, env))
            base.append(timed(floor, env))
    a, b = statistics.median(ours), statistics.median(base)
    print(f"validate: {a:.3f} s  floor: {b:.3f} s  ratio: {a / b:.2f} (goal <= 2.5; {jobs} jobs, median of {runs})")


if __name__ == "__main__":
    main()
