"""The commands that meet AWS or the state directory: plan, apply, status."""

from __future__ import annotations

import sys

from reconciler import events
from reconciler.core.settings import Settings


def plan(settings: Settings, fmt: str) -> int:
    """Print the plan document on stdout; exit 0 in sync, 2 changes pending, 1 error."""
    from reconciler.aws import preflight
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
        preflight.check(settings.aws, desired.site.region)
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
    from reconciler.aws import preflight
    from reconciler.core.errors import AccessError, ReconcilerError
    from reconciler.cycle.reconciling import FAILED, INVALID, Reconciler
    from reconciler.cycle.statefile import Locked, StateLock
    from reconciler.loading import Loader

    events.configure(settings.log_format, sys.stdout)
    loader = Loader(settings.desired)
    try:
        preflight.check(settings.aws, loader.load().site.region)
    except AccessError as exc:
        print(f"reconciler: error: {exc}", file=sys.stderr)
        return 1
    except ReconcilerError:
        pass  # invalid desired state: the reconcile reports it (validation.failed)
    try:
        lock = StateLock(settings.state_dir).acquire()
    except Locked as exc:
        print(f"reconciler: {exc}", file=sys.stderr)
        return 1
    try:
        result = Reconciler(settings, self_heal=True, loader=loader).reconcile("startup")
    finally:
        lock.release()
    return 1 if result.result in (FAILED, INVALID) else 0


def status(settings: Settings, as_json: bool) -> int:
    """Print what the state directory says (no AWS call); exit 0 healthy, 3 drift open, 1 failed
    or when the state directory cannot be written (the last result shown may then be stale).

    Reads files only, so monitoring gets an answer while AWS is unreachable. Every problem
    with the state directory is one line on stderr and exit 1, never a traceback.
    """
    from reconciler.cycle import statefile
    from reconciler.cycle.statusreading import current_status
    from reconciler.reports import status as report
    from reconciler.reports.sanitizing import clean

    current = current_status(settings)
    if isinstance(current, str):
        print(f"reconciler: {clean(current)}", file=sys.stderr)
        return 1
    code: int = current.exit_code
    shown = report.shown(current, clean)
    sys.stdout.write(report.as_json(shown) if as_json else report.as_text(shown))
    unwritable = statefile.unwritable(settings.state_dir)
    if unwritable is not None:
        print(
            f"reconciler: state directory {clean(str(settings.state_dir))} cannot be written ({clean(unwritable)}): "
            "the reconciler cannot record new results, so the last reconcile shown may be stale",
            file=sys.stderr,
        )
        return 1
    return code
