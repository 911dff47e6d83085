"""The commands behind the CLI: each takes `Settings` (plus its options) and returns an exit code.

Heavy modules are imported inside each command so `validate` starts fast.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any

from reconciler.core.errors import InvalidDesired
from reconciler.core.settings import Settings


def validate(settings: Settings) -> int:
    """SPEC 4: exit 0 valid, 1 invalid; errors one per line on stderr (GitHub annotations in Actions)."""
    from reconciler.loading import load
    from reconciler.reports.sanitizing import clean

    try:
        desired = load(settings.desired)
    except InvalidDesired as exc:
        annotate = os.environ.get("GITHUB_ACTIONS") == "true"
        # a file name or key may carry ANSI, a forged line, a customer; a test's log lines stay lines
        for error in ("\n".join(map(clean, e.split("\n"))) for e in exc.errors):
            print(_annotation(error) if annotate else error, file=sys.stderr)
        return 1
    for line in _id_warnings(desired.jobs):
        print(clean(line), file=sys.stderr)
    counts = f"{len(desired.releases)} release(s), {len(desired.functions)} function(s), {len(desired.jobs)} job(s)"
    print(f"{settings.desired}: valid ({counts})", file=sys.stderr)
    return 0


WARNINGS_SHOWN = 10


def _id_warnings(jobs: Any) -> list[str]:
    """Job ids that cannot hold the 64 random bits `new-job` makes: warned, not refused (they are
    published names, and renaming one breaks whoever holds it; see docs/failure-modes.md)."""
    from reconciler.loading import ID_BITS, id_bits, weak_id

    weak = [job for job in jobs if weak_id(job.id)]
    lines = [
        f"{job.source}: warning: job id {job.id!r} holds at most {id_bits(job.id):.0f} random bits; new-job makes "
        f"{ID_BITS} (ids that short collide and can be guessed)"
        for job in weak[:WARNINGS_SHOWN]
    ]
    if len(weak) > WARNINGS_SHOWN:
        lines.append(f"{len(weak) - WARNINGS_SHOWN} more job id(s) with fewer than {ID_BITS} random bits not shown")
    return lines


def _annotation(error: str) -> str:
    """`FILE:LINE: message` as a GitHub Actions `::error` workflow command."""
    match = _ERROR.match(error)
    file, line, message = match.groups() if match else ("", None, error)
    props = f"file={_escape(file, True)}" + (f",line={line}" if line else "")
    return f"::error {props}::{_escape(message, False)}"


_ERROR = re.compile(r"^(.*?)(?::(\d+))?: (.*)$", re.S)


def _escape(text: str, prop: bool) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def new_job(settings: Settings, customer: str, address: str, price: str, status: str) -> int:
    """SPEC 4: write desired/jobs/<id>.yaml; print its path and `/track/<token>`, nothing else."""
    from reconciler.loading.newjob import NewJobError, write_job

    try:
        path, token = write_job(settings.desired, customer, address, price, status)
    except NewJobError as exc:
        print(f"reconciler: error: {exc}", file=sys.stderr)
        return 1
    print(path)
    print(f"/track/{token}")
    return 0
