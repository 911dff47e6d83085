#!/usr/bin/env python3
"""The hand-run deploy, by the reconciler and by the `aws` CLI, on the same sandbox.

    bench/run deploy [--rounds N] [--jobs J]        (or: .venv/bin/python bench/deploy.py ...)

One deploy = what the hand-run procedure does: update the CloudFront function's code and
publish it, upload a changed jobs.json, flip two release pointers (SSM), invalidate two
distributions. Every round does it five ways, each against a new desired state (so there is
always work), rotating the order across rounds because shared machines are noisy:

  cli          the equivalent `aws` commands, one process each (get-parameter x2, describe-function,
               update-function, publish-function, get-object, put-object, head-object x2 [the
               `require` check], put-parameter x2, create-invalidation x2)
  cold         one `reconciler apply` process (load, read, plan, apply, invalidate, record)
  warm         an in-process `Reconciler` kept warm, as the daemon holds it (`reconcile("change")`)
  floor-cold   a process that only imports boto3 and creates the 3 clients (no request at all)
  floor-warm   the cli's requests, made from already-created boto3 clients in this process

Prints the medians, the ratios to the CLI and the floors beside them. awscli is installed into
bench/.awscli-venv on first use (or set BENCH_AWS_CLI=/path/to/aws). Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    DASH_ID,
    DATA_BUCKET,
    FUNCTION,
    PARAMS,
    PROJECT,
    PYTHON,
    RECONCILER,
    RELEASE_BUCKET,
    SITE_ID,
    SandboxProcess,
    Stack,
    done_event,
    env,
    header,
    median,
    ms,
    run,
    seed_versions,
    use_env_here,
    version,
)

INVALIDATIONS = {SITE_ID: ["/*"], DASH_ID: ["/*"]}
"""What the reconciler invalidates for this deploy: the release's `/*` covers the function's
and jobs' paths on `site`; `dashboard` gets its release's `/*`."""

CLIENTS_ONLY = (
    "import boto3\n"
    "s = boto3.session.Session()\n"
    "clients = [s.client(n, endpoint_url=%r) for n in ('ssm', 'cloudfront', 's3')]\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=20, help="jobs in the desired state")
    args = parser.parse_args()
    use_env_here()
    header(f"deploy: reconciler vs aws CLI ({args.rounds} rounds, {args.jobs} jobs)")
    aws = _aws_cli()
    methods = ("cli", "cold", "warm", "floor-warm", "floor-cold")
    times: dict[str, list[float]] = {m: [] for m in methods}
    calls: dict[str, list[int]] = {"cli": [], "cold": [], "warm": [], "floor-warm": []}
    reconciler_ms: dict[str, list[int]] = {"cold": [], "warm": []}
    with tempfile.TemporaryDirectory(prefix="bench-deploy-") as tmp:
        stack = Stack(Path(tmp), jobs=args.jobs).create(0)
        stack.git_init()
        with SandboxProcess(stack.desired) as sandbox:
            endpoint = sandbox.endpoint
            total = args.rounds * len(methods) + 3
            seed_versions(endpoint, (version(n) for n in range(total + 1)))
            cold_state = Path(tmp) / "state-cold"
            apply = [
                *RECONCILER,
                "apply",
                "--desired",
                str(stack.desired),
                "--endpoint-url",
                endpoint,
                "--state-dir",
                str(cold_state),
            ]
            run(apply)  # the first deploy creates the function, parameters and jobs.json
            warm = _warm_reconciler(stack, endpoint, Path(tmp) / "state-warm")
            n = 1
            stack.deploy(n)
            warm.reconcile("startup")  # warm it: imports, clients, loader cache, read cache
            clients = _boto3_clients(endpoint)
            _boto3_sequence(clients, _inputs(stack))  # warm the floor's clients and connections
            for r in range(args.rounds):
                order = methods[r % len(methods):] + methods[: r % len(methods)]
                for method in order:
                    n += 1
                    stack.deploy(n)
                    if method == "cli":
                        seconds, count = _cli_sequence(aws, endpoint, _inputs(stack))
                        calls["cli"].append(count)
                    elif method == "cold":
                        ran = run(apply)
                        seconds = ran.seconds
                        done = done_event(ran.events())
                        _expect_applied(done, "cold")
                        calls["cold"].append(done["api_calls"])
                        reconciler_ms["cold"].append(done["duration_ms"])
                    elif method == "warm":
                        started = time.perf_counter()
                        result = warm.reconcile("change")
                        seconds = time.perf_counter() - started
                        _expect_applied(
                            {"result": result.result, "changes": result.changes, "errors": result.errors}, "warm"
                        )
                        calls["warm"].append(result.api_calls)
                        reconciler_ms["warm"].append(result.duration_ms)
                    elif method == "floor-warm":
                        inputs = _inputs(stack)
                        started = time.perf_counter()
                        count = _boto3_sequence(clients, inputs)
                        seconds = time.perf_counter() - started
                        calls["floor-warm"].append(count)
                    else:
                        seconds = run([PYTHON, "-c", CLIENTS_ONLY % endpoint]).seconds
                    times[method].append(seconds)
                print(
                    f"   round {r + 1}: " + "  ".join(f"{m} {times[m][-1] * 1000:.0f}" for m in methods) + " (ms)",
                    flush=True,
                )
    _report(times, calls, reconciler_ms)


def _report(times: dict[str, list[float]], calls: dict[str, list[int]], reconciler_ms: dict[str, list[int]]) -> None:
    t = {m: median(v) for m, v in times.items()}
    cli = t["cli"]
    print()
    print(f"   aws CLI sequence      {ms(cli)}   ({calls['cli'][0]} commands)")
    print(f"   reconciler apply cold {ms(t['cold'])}   ratio {cli / t['cold']:5.1f}x   (goal >= 8x)   "
          f"{median(calls['cold']):.0f} requests, {median(reconciler_ms['cold']):.0f} ms inside the reconcile")
    print(f"   reconciler warm       {ms(t['warm'])}   ratio {cli / t['warm']:5.1f}x   (goal >= 40x)  "
          f"{median(calls['warm']):.0f} requests, {median(reconciler_ms['warm']):.0f} ms duration_ms")
    print(
        f"   floor: boto3 import + 3 clients (process) {ms(t['floor-cold'])}   "
        f"cold apply / this floor {t['cold'] / t['floor-cold']:.2f}x"
    )
    print(f"   floor: same requests, warm boto3 clients  {ms(t['floor-warm'])}   ({calls['floor-warm'][0]} requests)   "
          f"warm reconcile / this floor {t['warm'] / t['floor-warm']:.2f}x (goal <= 3x)")
    summary = {m: round(v * 1000, 1) for m, v in t.items()}
    summary.update(ratio_cold=round(cli / t["cold"], 2), ratio_warm=round(cli / t["warm"], 2),
                   warm_over_floor=round(t["warm"] / t["floor-warm"], 2))
    print("   json " + json.dumps(summary, sort_keys=True))


def _expect_applied(done: dict[str, Any], what: str) -> None:
    if done.get("result") != "applied" or done.get("changes") != 4:
        sys.exit(f"{what}: expected 4 changes applied, got {done}")


def _aws_cli() -> str:
    from _common import aws_cli

    aws = aws_cli()
    version_line = subprocess.run([aws, "--version"], capture_output=True, text=True, env=env()).stdout.strip()
    print(f"   aws CLI: {aws} ({version_line})", flush=True)
    return aws


# -- what a deploy writes --------------------------------------------------------------------


def _inputs(stack: Stack) -> dict[str, Any]:
    """The deploy's values, taken from the desired files as the person running it would."""
    from reconciler.core.model import canonical_json
    from reconciler.loading import load

    desired = load(stack.desired, run_tests=False)
    function = desired.functions[0]
    jobs_file = stack.root / "jobs.json"
    jobs_file.write_bytes(canonical_json(desired.jobs_document()))
    return {
        "code_path": str(stack.desired / "functions" / "rewrite.js"),
        "code": function.code,
        "comment": function.comment,
        "runtime": function.runtime,
        "versions": {r.name: r.version for r in desired.releases},
        "jobs_path": str(jobs_file),
        "jobs_body": jobs_file.read_bytes(),
        "scratch": str(stack.root / "jobs.got.json"),
    }


# -- the aws CLI sequence --------------------------------------------------------------------


def _cli_sequence(aws: str, endpoint: str, inp: dict[str, Any]) -> tuple[float, int]:
    """The hand-run procedure with the aws CLI; returns (wall seconds, commands run)."""
    environ = env()
    base = [aws, "--endpoint-url", endpoint, "--output", "json"]
    count = 0

    def call(*argv: str) -> dict[str, Any]:
        nonlocal count
        count += 1
        done = subprocess.run([*base, *argv], capture_output=True, text=True, env=environ)
        if done.returncode:
            sys.exit(f"aws {' '.join(argv[:2])} failed: {done.stderr[-2000:]}")
        return json.loads(done.stdout) if done.stdout.strip() else {}

    started = time.perf_counter()
    for parameter in PARAMS.values():
        call("ssm", "get-parameter", "--name", parameter)
    etag = call("cloudfront", "describe-function", "--name", FUNCTION, "--stage", "DEVELOPMENT")["ETag"]
    config = f"Comment={inp['comment']},Runtime={inp['runtime']}"
    updated = call("cloudfront", "update-function", "--name", FUNCTION, "--if-match", etag,
                   "--function-config", config, "--function-code", f"fileb://{inp['code_path']}")
    etag = updated.get("ETag") or updated.get("ETtag") or call(
        "cloudfront", "describe-function", "--name", FUNCTION, "--stage", "DEVELOPMENT")["ETag"]
    call("cloudfront", "publish-function", "--name", FUNCTION, "--if-match", etag)
    got = call("s3api", "get-object", "--bucket", DATA_BUCKET, "--key", "jobs.json", inp["scratch"])
    call("s3api", "put-object", "--bucket", DATA_BUCKET, "--key", "jobs.json", "--body", inp["jobs_path"],
         "--content-type", "application/json", "--if-match", got["ETag"])
    for name, parameter in PARAMS.items():
        call("s3api", "head-object", "--bucket", RELEASE_BUCKET, "--key", f"{name}/{inp['versions'][name]}/index.html")
        call(
            "ssm",
            "put-parameter",
            "--name",
            parameter,
            "--value",
            inp["versions"][name],
            "--type",
            "String",
            "--overwrite",
        )
    for distribution, paths in INVALIDATIONS.items():
        call("cloudfront", "create-invalidation", "--distribution-id", distribution, "--paths", *paths)
    return time.perf_counter() - started, count


# -- the floors --------------------------------------------------------------------------------


def _boto3_clients(endpoint: str) -> dict[str, Any]:
    import boto3

    session = boto3.session.Session()
    return {n: session.client(n, endpoint_url=endpoint) for n in ("ssm", "cloudfront", "s3")}


def _boto3_sequence(c: dict[str, Any], inp: dict[str, Any]) -> int:
    """The CLI's requests, made with boto3 clients; returns the number of requests."""
    import uuid

    ssm, cf, s3 = c["ssm"], c["cloudfront"], c["s3"]
    for parameter in PARAMS.values():
        ssm.get_parameter(Name=parameter)
    etag = cf.describe_function(Name=FUNCTION, Stage="DEVELOPMENT")["ETag"]
    cf.update_function(
        Name=FUNCTION,
        IfMatch=etag,
        FunctionConfig={"Comment": inp["comment"], "Runtime": inp["runtime"]},
        FunctionCode=inp["code"],
    )
    etag = cf.describe_function(Name=FUNCTION, Stage="DEVELOPMENT")["ETag"]
    cf.publish_function(Name=FUNCTION, IfMatch=etag)
    got = s3.get_object(Bucket=DATA_BUCKET, Key="jobs.json")
    got["Body"].read()
    s3.put_object(
        Bucket=DATA_BUCKET, Key="jobs.json", Body=inp["jobs_body"], ContentType="application/json", IfMatch=got["ETag"]
    )
    for name, parameter in PARAMS.items():
        s3.head_object(Bucket=RELEASE_BUCKET, Key=f"{name}/{inp['versions'][name]}/index.html")
        ssm.put_parameter(Name=parameter, Value=inp["versions"][name], Type="String", Overwrite=True)
    for distribution, paths in INVALIDATIONS.items():
        cf.create_invalidation(DistributionId=distribution, InvalidationBatch={
            "Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": str(uuid.uuid4())})
    return 14


def _warm_reconciler(stack: Stack, endpoint: str, state_dir: Path) -> Any:
    from reconciler import events
    from reconciler.core.settings import AwsSettings, Settings
    from reconciler.cycle.reconciling import Reconciler

    events.configure("json", open(os.devnull, "w"))  # noqa: SIM115 - rendered as in the daemon, then discarded
    settings = Settings(desired=stack.desired, state_dir=state_dir, aws=AwsSettings(endpoint_url=endpoint))
    return Reconciler(settings, self_heal=True)


if __name__ == "__main__":
    os.chdir(PROJECT)
    main()
