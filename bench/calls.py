#!/usr/bin/env python3
"""AWS requests per no-change reconcile: a cold process, and the daemon's steady state.

    bench/run calls [--jobs J] [--functions F] [--releases R]   (or: .venv/bin/python bench/calls.py)

Deploys a stack to the sandbox with one `reconciler apply`, then, with nothing to change:

  cold process   `reconciler apply` again: `api_calls` of its reconcile.done event
  cold, by op    the same reconcile by a fresh in-process `Reconciler` (empty read cache), with
                 the request counter's operation names and writes
  steady state   a `Reconciler` kept warm, as the daemon holds it: its 2nd to 4th no-change
                 reconciles (the 1st fills the read cache: function code, the jobs object's ETag)

The cold process's figure includes confirming the deploy's two invalidations (GetInvalidation).

Goal: steady state <= 1 request per resource kind (with one function, one release batch and one
jobs object: <= 3) and zero writes. Runs the bench stack (1 function, 2 releases) and a wider one.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    FUNCTION_JS,
    PROJECT,
    RECONCILER,
    RELEASE,
    RELEASE_BUCKET,
    SandboxProcess,
    Stack,
    done_event,
    header,
    run,
    use_env_here,
)

EXTRA_FUNCTION = """kind: Function
name: bench-extra-{i}
runtime: cloudfront-js-2.0
code: extra-{i}.js
invalidate: {{site: ["/extra-{i}/*"]}}
"""


def widen(stack: Stack, functions: int, releases: int) -> None:
    """Add functions and releases beyond the bench stack's one function and two releases."""
    d = stack.desired
    for i in range(1, functions):
        (d / "functions" / f"extra-{i}.yaml").write_text(EXTRA_FUNCTION.format(i=i))
        (d / "functions" / f"extra-{i}.js").write_text(FUNCTION_JS.format(n=1000 + i))
    docs = [
        RELEASE.format(name="site", parameter=f"/bench/extra/{i}/version", version="x1", bucket=RELEASE_BUCKET)
        .replace("name: site", f"name: extra-{i}").replace("prefix: site/", "prefix: site/")
        for i in range(2, releases)
    ]
    if docs:
        (d / "extra-releases.yaml").write_text("---\n".join(docs))


def measure(jobs: int, functions: int, releases: int) -> dict[str, Any]:
    from reconciler import events
    from reconciler.core.settings import AwsSettings, Settings
    from reconciler.cycle.reconciling import Reconciler

    with tempfile.TemporaryDirectory(prefix="bench-calls-") as tmp:
        stack = Stack(Path(tmp), jobs=jobs).create(1)
        widen(stack, functions, releases)
        stack.git_init()
        with SandboxProcess(stack.desired) as sandbox:
            state = Path(tmp) / "state"
            apply = [
                *RECONCILER,
                "apply",
                "--desired",
                str(stack.desired),
                "--endpoint-url",
                sandbox.endpoint,
                "--state-dir",
                str(state),
            ]
            first = done_event(run(apply).events())
            assert first["result"] == "applied", first
            cold = done_event(run(apply).events())
            assert cold["result"] == "in_sync", cold

            events.configure("json", open(os.devnull, "w"))  # noqa: SIM115 - the logger's sink for the process's life
            settings = Settings(
                desired=stack.desired,
                state_dir=Path(tmp) / "state-warm",
                aws=AwsSettings(endpoint_url=sandbox.endpoint),
            )
            warm = Reconciler(settings, self_heal=False)
            seen = []
            for _ in range(4):
                before = len(warm.clients.counter.operations) if warm.clients else 0
                result = warm.reconcile("interval")
                assert warm.clients is not None
                assert result.result == "in_sync", result
                seen.append((result.api_calls, result.writes, Counter(warm.clients.counter.operations[before:])))
    return {"first_apply": first["api_calls"], "cold_process": cold["api_calls"], "runs": seen}


def report(title: str, jobs: int, functions: int, releases: int) -> dict[str, Any]:
    got = measure(jobs, functions, releases)
    print(f"-- {title}: {functions} function(s), {releases} release(s), {jobs} jobs")
    print(f"   deploying apply (cold process):          {got['first_apply']:3d} requests")
    print(f"   no-change apply, cold process:           {got['cold_process']:3d} requests")
    for label, (calls, writes, ops) in zip(
        ("cold (fresh Reconciler)", "warm, 2nd", "warm, 3rd", "warm, 4th"), got["runs"], strict=True
    ):
        breakdown = ", ".join(f"{op} {count}" for op, count in sorted(ops.items()))
        print(f"   no-change reconcile, {label:24s}{calls:3d} requests, {writes} writes  ({breakdown})")
    steady_calls, steady_writes, _ = got["runs"][-1]
    batches = -(-releases // 10)
    budget = functions + batches + 1
    verdict = "met" if steady_writes == 0 and steady_calls <= budget else "NOT met"
    print(f"   steady state: {steady_calls} requests, {steady_writes} writes; one per resource kind would be "
          f"3; functions are described one by one, releases read 10 a request: budget {budget} -> {verdict}")
    return {"title": title, "cold_process": got["cold_process"], "steady": steady_calls, "steady_writes": steady_writes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--functions", type=int, default=3)
    parser.add_argument("--releases", type=int, default=12)
    args = parser.parse_args()
    use_env_here()
    header("AWS requests per no-change reconcile")
    summary = [report("bench stack", 20, 1, 2), report("wider stack", args.jobs, args.functions, args.releases)]
    print("   json " + json.dumps(summary))


if __name__ == "__main__":
    os.chdir(PROJECT)
    main()
