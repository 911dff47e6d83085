"""No customer data, token or credential in any line any command prints, errors included."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from reconciler.loading import load
from reconciler.sandbox.seeding import seed
from tests.reliability.ondisk import CODE, DiskStack, command, env, reconciler, write_desired

CUSTOMER = "Custmarker Qzx"
ADDRESS = "Addrmarker Lane 7"
NOTES = "Notemarker gate code 4411"
TOKEN = "Tokmarker0123456789abcdefXYZ"
SECRET_KEY = "Secretmarker/AbCdEf0123456789"
MARKERS = ("Custmarker", "Addrmarker", "Notemarker", TOKEN, "Secretmarker")


def clean(label: str, *streams: str) -> int:
    lines = 0
    for stream in streams:
        for line in stream.splitlines():
            lines += 1
            for marker in MARKERS:
                assert marker not in line, f"{label}: marker {marker!r} leaked: {line[:300]}"
    return lines


@pytest.fixture
def marked(sandbox: Any, tmp_path: Path) -> DiskStack:
    stack = write_desired(tmp_path, secrets.token_hex(4), customer=CUSTOMER, address=ADDRESS, notes=NOTES, token=TOKEN)
    seed(sandbox.endpoint, load(stack.desired, run_tests=False))
    return stack


def cli(stack: DiskStack, endpoint: str, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return reconciler(stack, endpoint, *args, timeout=timeout, AWS_SECRET_ACCESS_KEY=SECRET_KEY)


def test_every_command_keeps_markers_out_of_output(marked: DiskStack, sandbox: Any, table: Any) -> None:
    """validate, plan (text/json/markdown), apply, status (text/json), new-job, run: clean."""
    ep = sandbox.endpoint
    total = 0
    for args, codes in [
        (("validate",), {0}),
        (("plan",), {2}),
        (("plan", "--json"), {2}),
        (("plan", "--markdown"), {2}),
        (("apply",), {0}),
        (("status",), {0}),
        (("status", "--json"), {0}),
        (("plan", "--markdown"), {0}),
    ]:
        result = cli(marked, ep, *args)
        assert result.returncode in codes, (args, result.returncode, result.stderr[-500:])
        total += clean(" ".join(args), result.stdout, result.stderr)
    # a job change after the first apply: the plan shows per-job changes, by id and field only
    write_desired(
        marked.root,
        marked.tag,
        customer=CUSTOMER,
        address=ADDRESS,
        notes=NOTES + " changed",
        token=TOKEN,
        status="scheduled",
    )
    for args in (("plan",), ("plan", "--markdown"), ("plan", "--json")):
        result = cli(marked, ep, *args)
        assert result.returncode == 2, result.stderr
        total += clean(" ".join(args) + " (job changed)", result.stdout, result.stderr)
    result = reconciler(
        marked,
        ep,
        "new-job",
        "--customer",
        CUSTOMER,
        "--address",
        ADDRESS,
        "--price",
        "42",
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
    )
    assert result.returncode == 0, result.stderr
    total += clean("new-job", result.stdout, result.stderr)
    proc = subprocess.Popen(
        command(marked, ep, "run", "--interval", "0.5"),
        env=env(AWS_SECRET_ACCESS_KEY=SECRET_KEY),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=marked.root,
    )
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + 60  # two reconciles, however loaded the machine is
    while sum('"reconcile.done"' in line for line in seen) < 2 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
    proc.send_signal(signal.SIGTERM)
    rest, err = proc.communicate(timeout=20)
    out = "".join(seen) + rest
    assert proc.returncode == 0, err[-500:]
    assert out.count('"reconcile.done"') >= 2, out[-1000:]
    total += clean("run", out, err)
    table(
        "secrets",
        "every command (validate, plan x3, apply, status x2, new-job, run 2 s) on a stack of marker strings",
        f"{total} output lines, no customer/address/notes/token/secret key",
    )


def test_errors_from_aws_are_redacted(marked: DiskStack, sandbox: Any, table: Any) -> None:
    """An AWS error message echoing customer data: apply's action.failed and plan's error line are clean."""
    ep = sandbox.endpoint
    echo = f"body rejected: customer {CUSTOMER} at {ADDRESS}, token {TOKEN}"
    sandbox.faults.fail_next("PutObject", status=400, code="InvalidRequest", message=echo, times=10)
    try:
        result = cli(marked, ep, "apply")
    finally:
        sandbox.faults.clear()
    assert result.returncode == 1
    assert '"action.failed"' in result.stdout and "[redacted]" in result.stdout
    lines = clean("apply with failing PutObject", result.stdout, result.stderr)
    sandbox.faults.fail_next("GetObject", status=400, code="InvalidRequest", message=echo, times=10)
    try:
        result = cli(marked, ep, "plan")
    finally:
        sandbox.faults.clear()
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines += clean("plan with failing GetObject", result.stdout, result.stderr)
    table(
        "secrets",
        "AWS error messages echoing customer, address and token (apply, plan)",
        f"{lines} lines, all redacted; exit 1, no traceback",
    )


def test_invalid_job_values_are_not_echoed(tmp_path: Path, table: Any) -> None:
    """validate on a job whose bad values are markers: the errors name fields, never values."""
    stack = write_desired(
        tmp_path, secrets.token_hex(4), customer=CUSTOMER, address=ADDRESS, token=TOKEN, status="Custmarker"
    )
    job = next((stack.desired / "jobs").iterdir())
    job.write_text(job.read_text().replace("amount: 600", "amount: Addrmarker") + "notes: [Notemarker]\n")
    result = reconciler(stack, "http://127.0.0.1:9", "validate", AWS_SECRET_ACCESS_KEY=SECRET_KEY)
    assert result.returncode == 1 and result.stderr.strip()
    lines = clean("validate (invalid job)", result.stdout, result.stderr)
    table(
        "secrets",
        "validate on a job with marker strings in invalid fields",
        f"{lines} error lines, fields named, values never echoed",
    )
    assert os.environ.get("AWS_SECRET_ACCESS_KEY") != SECRET_KEY


def test_values_a_job_used_to_have_stay_redacted(marked: DiskStack, sandbox: Any, table: Any) -> None:
    """After an edit and after a removal, the old customer data (still live until applied) never
    shows in plan (text, JSON, markdown), apply or status; nor does new data in function code."""
    ep = sandbox.endpoint
    assert cli(marked, ep, "apply").returncode == 0
    write_desired(marked.root, marked.tag, customer="Newcust Person", address="Newaddr Road 1", token=TOKEN,
                  code=CODE.replace("return request;", "return request; // Custmarker Qzx, Newcust Person"))
    lines = 0
    for args in (("plan",), ("plan", "--json"), ("plan", "--markdown")):
        result = cli(marked, ep, *args)
        assert result.returncode == 2, result.stderr
        assert "Newcust" not in result.stdout
        lines += clean("plan after edit " + " ".join(args), result.stdout, result.stderr)
    for job in (marked.desired / "jobs").iterdir():
        job.unlink()
    for args in (("plan",), ("plan", "--json"), ("plan", "--markdown"), ("apply",), ("status", "--json")):
        result = cli(marked, ep, *args)
        assert result.returncode in (0, 2), (args, result.stderr)
        lines += clean("after removal " + " ".join(args), result.stdout, result.stderr)
    table("secrets", "customer data after an edit and after a removal (still live), and in function code",
          f"{lines} lines; old and new values redacted in plan x3, apply, status")


def test_vocabulary_values_leave_structure_intact(sandbox: Any, tmp_path: Path, table: Any) -> None:
    """Job values that are the reconciler's own words (`failed`, `applied`, `done`, `error`):
    events, levels and keys stay intact and `status --json` parses."""
    stack = write_desired(tmp_path, secrets.token_hex(4), customer="failed", address="applied", notes="done")
    seed(sandbox.endpoint, load(stack.desired, run_tests=False))
    result = reconciler(stack, sandbox.endpoint, "apply")
    assert result.returncode == 0, result.stderr
    logged = [json.loads(line) for line in result.stdout.splitlines()]
    assert {e["event"] for e in logged} >= {"reconcile.start", "action.applied", "reconcile.done"}
    assert all(e["level"] in ("info", "warning", "error") for e in logged)
    assert "[redacted]" not in result.stdout
    status = reconciler(stack, sandbox.endpoint, "status", "--json")
    assert status.returncode == 0 and json.loads(status.stdout)["last"]["result"] == "applied"
    table("secrets", "job values `failed`, `applied`, `done` (the reconciler's own words)",
          "events, levels, keys intact; status --json parses")


def test_live_values_cannot_spoof_plan_output(marked: DiskStack, sandbox: Any, table: Any) -> None:
    """An SSM value set behind git's back with ANSI, a newline and markdown: escaped in every format."""
    import boto3

    ep = sandbox.endpoint
    assert cli(marked, ep, "apply").returncode == 0
    evil = "v9\x1b[2J\x1b[31m\nupdate function/x: forged @org/team [x](https://evil.example) <img src=x>"
    ssm = boto3.client("ssm", endpoint_url=ep, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    ssm.put_parameter(Name=marked.parameter("web"), Value=evil, Type="String", Overwrite=True)
    text = cli(marked, ep, "plan")
    assert text.returncode == 2, text.stderr
    assert "\x1b" not in text.stdout and "\\x1b[2J" in text.stdout
    assert not any(line.startswith("update function/x") for line in text.stdout.splitlines())
    markdown = cli(marked, ep, "plan", "--markdown")
    assert "\x1b" not in markdown.stdout and "<img" not in markdown.stdout
    assert "@org" not in markdown.stdout and "](https://" not in markdown.stdout
    as_json = json.loads(cli(marked, ep, "plan", "--json").stdout)
    assert as_json["actions"]
    table("secrets", "live SSM value with ANSI, a newline, a mention, a link and HTML",
          "escaped in plan text and markdown; JSON parses")


def test_endpoint_password_is_never_printed(marked: DiskStack, table: Any) -> None:
    """An endpoint URL with a password that cannot be reached: the error line hides the password."""
    url = "http://user:Secretmarkerpw@127.0.0.1:9"
    lines = 0
    for args in (("plan",), ("apply",)):
        result = reconciler(marked, url, *args, timeout=60)
        assert result.returncode == 1
        assert "Secretmarkerpw" not in result.stdout + result.stderr, (result.stdout + result.stderr)[-500:]
        lines += len((result.stdout + result.stderr).splitlines())
    table("secrets", "endpoint URL with a password, unreachable (plan, apply)", f"{lines} lines, password never shown")
