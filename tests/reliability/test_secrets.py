"""No customer data, token or credential in any line any command prints, errors included."""

from __future__ import annotations

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
from tests.reliability.ondisk import DiskStack, command, env, reconciler, write_desired

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
    time.sleep(2.0)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
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
