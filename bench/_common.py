"""Shared by the benchmarks in bench/: the stack they deploy, the sandbox subprocess, timing of
whole processes (wall time and peak RSS), the awscli venv, statistics and the machine line.

Nothing here asserts a timing: the benchmarks print figures and ratios, people judge them.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
BENCH = PROJECT / "bench"
PYTHON = sys.executable
RECONCILER = [PYTHON, "-m", "reconciler"]

REGION = "us-east-1"
SITE_ID, DASH_ID = "E1BENCHSITE01", "E1BENCHDASH01"
RELEASE_BUCKET, DATA_BUCKET = "bench-releases", "bench-data"
FUNCTION = "bench-rewrite"
PARAMS = {"site": "/bench/site/version", "dashboard": "/bench/dashboard/version"}


def env(**extra: str) -> dict[str, str]:
    """The environment of every child process: the project importable, dummy credentials, no
    shared AWS config (so nothing on this machine changes the figures), no instance metadata."""
    out = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    out.update(
        PYTHONPATH=str(PROJECT),
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_PAGER="",
    )
    out.update(extra)
    return out


def use_env_here() -> None:
    """The same environment for the benchmark process itself (in-process reconcilers, boto3)."""
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        del os.environ[key]
    os.environ.update({k: v for k, v in env().items() if k.startswith("AWS_")})
    if str(PROJECT) not in sys.path:
        sys.path.insert(0, str(PROJECT))


# -- statistics and output ------------------------------------------------------------------


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def percentile(values: Iterable[float], pct: float) -> float:
    """Nearest-rank percentile (p95 of 50 samples is the 48th smallest)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = f", load {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""
    return (
        f"{os.cpu_count()} CPU ({cpu}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}{load}"
    )


def header(title: str) -> None:
    print(f"== {title}")
    print(f"   machine: {machine()}")
    sys.stdout.flush()


# -- processes ------------------------------------------------------------------------------


@dataclass
class Ran:
    seconds: float
    maxrss_mb: float
    returncode: int
    stdout: str
    stderr: str

    def events(self) -> list[dict[str, Any]]:
        return parse_events(self.stdout)


def run(
    command: list[str], *, environ: dict[str, str] | None = None, check: bool = True, cwd: Path | None = None
) -> Ran:
    """Run one whole process; wall time and the child's own peak RSS (wait4, not RUSAGE_CHILDREN,
    so a bigger earlier child does not hide a smaller later one)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=err, env=environ or env(), cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        ran = Ran(
            elapsed,
            usage.ru_maxrss / 1024,
            proc.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
        )
    if check and ran.returncode not in (0, 2):
        sys.exit(f"failed ({ran.returncode}): {' '.join(command)}\n{ran.stderr[-3000:]}\n{ran.stdout[-2000:]}")
    return ran


def parse_events(text: str) -> list[dict[str, Any]]:
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                found.append(json.loads(line))
    return found


def done_event(events: list[dict[str, Any]]) -> dict[str, Any]:
    done = [e for e in events if e.get("event") == "reconcile.done"]
    if not done:
        raise RuntimeError(f"no reconcile.done among {len(events)} events")
    return done[-1]


class SandboxProcess:
    """`reconciler sandbox` in its own process (so its request handling never shares our GIL)."""

    def __init__(self, desired: Path) -> None:
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - the sandbox's stderr for the object's life
        self.proc = subprocess.Popen(
            [*RECONCILER, "sandbox", "--port", "0", "--desired", str(desired)],
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=env(),
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()
        if not line.startswith("endpoint "):
            self.stop()
            self.log.seek(0)
            sys.exit(f"sandbox did not start: {line!r}\n{self.log.read().decode()[-3000:]}")
        self.endpoint = line.split()[1]
        self.warm()

    def warm(self) -> None:
        """One request per service first: moto builds some backends lazily on first use (SSM
        loads its default parameters), a cost of the sandbox that no reconciler figure should carry."""
        boto3_client("ssm", self.endpoint).get_parameters(Names=["/bench/warm"])
        boto3_client("cloudfront", self.endpoint).list_distributions()
        boto3_client("s3", self.endpoint).list_buckets()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def boto3_client(service: str, endpoint: str) -> Any:
    import boto3

    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


# -- the awscli --------------------------------------------------------------------------------


def aws_cli() -> str:
    """The `aws` executable: $BENCH_AWS_CLI, else bench/.awscli-venv (created here on first use:
    awscli is a benchmark-only tool and must not be installed into the project's venv)."""
    given = os.environ.get("BENCH_AWS_CLI")
    if given:
        return given
    venv = BENCH / ".awscli-venv"
    aws = venv / "bin" / "aws"
    if not aws.exists():
        print(f"   installing awscli into {venv} (once) ...", flush=True)
        subprocess.run([PYTHON, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", "awscli"],
            check=True,
        )
    return str(aws)


# -- the stack the benchmarks deploy --------------------------------------------------------

SITE = f"""kind: Site
name: bench
region: {REGION}
distributions: {{site: {SITE_ID}, dashboard: {DASH_ID}}}
jobs: {{bucket: {DATA_BUCKET}, key: jobs.json, invalidate: {{site: [/jobs.json]}}}}
"""
RELEASE = """kind: Release
name: {name}
parameter: {parameter}
version: "{version}"
bucket: {bucket}
prefix: {name}/
require: [index.html]
invalidate: {{{name}: ["/*"]}}
"""
FUNCTION_YAML = f"""kind: Function
name: {FUNCTION}
runtime: cloudfront-js-2.0
comment: SPA rewrites for /track/ and /book/
code: rewrite.js
invalidate: {{site: ["/track/*", "/book/*"]}}
"""
FUNCTION_JS = """// Viewer request: /track/* and /book/* are answered by the single-page app. Deploy {n}.
function handler(event) {{
  var request = event.request;
  var uri = request.uri;
  if (uri.indexOf('/track/') === 0 || uri.indexOf('/book/') === 0) {{
    request.querystring = request.querystring || {{}};
    request.querystring.original_path = {{ value: uri }};
    request.uri = '/index.html';
  }}
  return request;
}}
"""
JOB = """kind: Job
id: {id}
token: {token}
customer: Customer {n}
address: {n} Bench Street
price: {{amount: {amount}, currency: USD, all_inclusive: true}}
status: {status}
scheduled: {{date: 2026-11-22, window: afternoon}}
notes: gate code at the side door ({note})
history:
  - {{status: requested, at: 2026-11-20T09:00:00Z}}
  - {{status: scheduled, at: 2026-11-21T10:30:00Z}}
"""
STATUSES = ("scheduled", "delivered", "ready_for_pickup", "picked_up", "completed")


def version(n: int) -> str:
    return f"v{n:05d}"


def job_id(n: int) -> str:
    return f"job_{n:010x}"


@dataclass
class Stack:
    """A desired directory the benchmarks rewrite: deploy `n` changes the function code, flips
    both release versions to `version(n)` and changes one job's status."""

    root: Path
    jobs: int = 20
    tokens: list[str] = field(default_factory=list)

    @property
    def desired(self) -> Path:
        return self.root / "desired"

    def create(self, n: int = 0) -> Stack:
        d = self.desired
        (d / "jobs").mkdir(parents=True, exist_ok=True)
        (d / "functions").mkdir(exist_ok=True)
        (d / "site.yaml").write_text(SITE)
        (d / "functions" / "rewrite.yaml").write_text(FUNCTION_YAML)
        self.tokens = [secrets.token_urlsafe(18) for _ in range(self.jobs)]
        for i in range(self.jobs):
            self.write_job(i, STATUSES[0])
        self.deploy(n)
        return self

    def write_job(self, i: int, status: str, note: str = "initial") -> Path:
        path = self.desired / "jobs" / f"{job_id(i)}.yaml"
        _replace(
            path,
            JOB.format(
                id=job_id(i), token=self.tokens[i], n=i, amount=f"{i % 900}.{i % 100:02d}", status=status, note=note
            ),
        )
        return path

    def deploy(self, n: int) -> None:
        """Write desired state number `n` (function code, both versions, one job's status)."""
        self.set_code(n)
        self.set_versions(n)
        if n:
            self.change_job(n)

    def set_code(self, n: int) -> None:
        _replace(self.desired / "functions" / "rewrite.js", FUNCTION_JS.format(n=n))

    def set_versions(self, n: int) -> None:
        _replace(self.desired / "releases.yaml", "---\n".join(
            RELEASE.format(name=name, parameter=param, version=version(n), bucket=RELEASE_BUCKET)
            for name, param in PARAMS.items()
        ))

    def change_job(self, n: int) -> Path:
        """Change one job (its status, and its notes so that every change is a change)."""
        return self.write_job(n % self.jobs, STATUSES[n % len(STATUSES)], f"change {n}")

    def git_init(self) -> None:
        """Make the desired directory a git checkout, as in production (the reconciler reads HEAD)."""
        def git(*args: str) -> None:
            subprocess.run(["git", *args], capture_output=True, check=True, cwd=self.root)

        git("init", "-q")
        git("add", "desired")
        git("-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-qm", "bench")


def _replace(path: Path, text: str) -> None:
    """Write-then-rename, as git and most editors do: a watcher sees one complete change."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def seed_versions(endpoint: str, versions: Iterable[str]) -> None:
    """Create the release folders (index.html) of every version a benchmark will flip to."""
    s3 = boto3_client("s3", endpoint)
    for v in versions:
        for name in PARAMS:
            s3.put_object(
                Bucket=RELEASE_BUCKET, Key=f"{name}/{v}/index.html", Body=b"<!doctype html>\n", ContentType="text/html"
            )


def generate_jobs(directory: Path, jobs: int) -> None:
    """`jobs` one-job files plus a Site with a jobs section (the layout of bench/validate.py)."""
    (directory / "jobs").mkdir(parents=True, exist_ok=True)
    (directory / "site.yaml").write_text(SITE)
    for n in range(jobs):
        text = JOB.format(id=job_id(n), token=secrets.token_urlsafe(24), n=n, amount=f"{n % 900}.{n % 100:02d}",
                          status="scheduled", note="initial")
        (directory / "jobs" / f"{job_id(n)}.yaml").write_text(text)
