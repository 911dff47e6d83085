"""The commands that meet AWS or the state directory: plan, apply, status."""

from __future__ import annotations

import sys
from datetime import UTC

from reconciler import events
from reconciler.core.settings import Settings


def plan(settings: Settings, fmt: str) -> int:
    """Print the plan document on stdout; exit 0 in sync, 2 changes pending, 1 error."""
    from reconciler.aws.reading import read
    from reconciler.aws.session import make_clients
    from reconciler.core.errors import InvalidDesired, ReconcilerError
    from reconciler.core.planning import plan as make_plan
    from reconciler.loading import load
    from reconciler.reports import rendering
    from reconciler.reports.sanitizing import register, shown_plan

    events.configure(settings.log_format, sys.stderr)
    try:
        desired = load(settings.desired)
    except InvalidDesired as exc:
        for line in exc.errors:
            print(line, file=sys.stderr)
        return 1
    register(desired)
    try:
        live = read(make_clients(settings.aws, desired.site.region), desired)
    except ReconcilerError as exc:
        print(f"reconciler: error: {events.redact(str(exc))}", file=sys.stderr)
        return 1
    register(desired, live)
    result = shown_plan(make_plan(desired, live))
    if fmt == "json":
        document = rendering.as_json(result)
    elif fmt == "markdown":
        document = rendering.as_markdown(result, desired)
    else:
        document = rendering.as_text(result)
    sys.stdout.write(document)
    return 2 if result.actions else 0


def apply(settings: Settings) -> int:
    """One reconcile, self-healing (an explicit apply makes live equal to git); exit 0 or 1."""
    from reconciler.cycle.reconciling import FAILED, INVALID, Reconciler
    from reconciler.cycle.statefile import Locked, StateLock

    events.configure(settings.log_format, sys.stdout)
    try:
        lock = StateLock(settings.state_dir).acquire()
    except Locked as exc:
        print(f"reconciler: {exc}", file=sys.stderr)
        return 1
    try:
        result = Reconciler(settings, self_heal=True).reconcile("startup")
    finally:
        lock.release()
    return 1 if result.result in (FAILED, INVALID) else 0


def status(settings: Settings, as_json: bool) -> int:
    """Print what the state directory says (no AWS call); exit 0 healthy, 3 drift open, 1 failed.

    Reads files only, so monitoring gets an answer while AWS is unreachable. Every problem
    with the state directory is one line on stderr and exit 1, never a traceback.
    """
    from datetime import datetime

    from reconciler.cycle import statefile
    from reconciler.reports import status as report

    where = settings.state_dir
    try:
        state = statefile.read_json(where / statefile.STATE)
        intents = statefile.read_json(where / statefile.INTENTS)
    except statefile.Corrupt as exc:
        print(
            f"reconciler: state file is unreadable (torn or edited?): {exc}; the next reconcile rebuilds it",
            file=sys.stderr,
        )
        return 1
    except OSError as exc:
        print(f"reconciler: cannot read state directory {where}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    if not report.has_run(state):
        print(f"reconciler: no reconcile has run yet for {settings.desired} (no state in {where})", file=sys.stderr)
        return 1
    try:
        current = report.status_of(state or {}, intents, now=datetime.now(UTC))
    except report.Unreadable as exc:
        print(f"reconciler: state file is unreadable: {where / statefile.STATE}: {exc}", file=sys.stderr)
        return 1
    _register_job_secrets(settings)
    from reconciler.reports.sanitizing import clean

    code = current.exit_code
    current = report.shown(current, clean)
    document = report.as_json(current) if as_json else report.as_text(current)
    sys.stdout.write(document)
    return code


def _register_job_secrets(settings: Settings) -> None:
    """Best effort, files only: recorded errors may quote an AWS message echoing job data."""
    from reconciler.reports.sanitizing import register

    try:
        from reconciler.loading import load

        register(load(settings.desired, run_tests=False))
    except Exception:  # noqa: BLE001 - status must answer even when desired/ is invalid or absent
        pass
