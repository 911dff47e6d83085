"""The commands that meet AWS or the state directory: plan, apply, status."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from reconciler import events
from reconciler.core.settings import Settings

if TYPE_CHECKING:
    from reconciler.aws.session import Clients
    from reconciler.core.actions import Plan


def plan(settings: Settings, fmt: str) -> int:
    """Print the plan document on stdout; exit 0 in sync, 2 changes pending, 1 error."""
    from reconciler.aws import preflight
    from reconciler.aws.reading import ReadCache, read
    from reconciler.aws.session import make_clients
    from reconciler.core.errors import InvalidDesired, ReconcilerError
    from reconciler.core.planning import plan as make_plan
    from reconciler.loading import load
    from reconciler.reports import rendering
    from reconciler.reports.sanitizing import clean, register, shown_plan

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
        clients = make_clients(settings.aws, desired.site.region)
        live = read(clients, desired, ReadCache())  # one read: nothing to keep for a next one
        errors = failed_checks(clients, make_plan(desired, live))
    except ReconcilerError as exc:
        print(f"reconciler: error: {events.redact(str(exc))}", file=sys.stderr)
        return 1
    register(desired, live)
    # a failed check is an error, not a pending change
    result = shown_plan(make_plan(desired, live, skip=errors))
    drifted = drifted_resources(settings, desired, live)
    messages = [clean(e) for e in errors.values()]
    if fmt == "json":
        document = rendering.as_json(result, drifted, messages)
    elif fmt == "markdown":
        document = rendering.as_markdown(result, desired, drift=drifted, errors=messages)
    else:
        document = rendering.as_text(result, drifted, messages)
    sys.stdout.write(document)
    return 1 if errors else 2 if result.actions else 0


def failed_checks(clients: Clients, full: Plan) -> dict[str, str]:
    """What apply would check before moving anything: each new version's `require` objects exist.
    Resource id -> the error, for every release action whose check fails."""
    from reconciler.aws.folders import missing_objects
    from reconciler.core.actions import ReleaseAction

    errors = {}
    for action in full.changes:
        if not isinstance(action, ReleaseAction):
            continue
        missing = missing_objects(clients, action.bucket, action.require)
        if missing:
            errors[action.resource] = (
                f"{action.resource}: s3://{action.bucket}/{missing[0]} does not exist, so the pointer cannot move "
                f"to {action.new} (upload the version first: reconciler upload {action.name} {action.new} DIR)"
            )
    return errors


def drifted_resources(settings: Settings, desired: Any, live: Any) -> frozenset[str]:
    """Resources whose live state changed while their desired state did not, from the drift
    baselines of the state directory (read only; none when it is absent or unreadable)."""
    from reconciler.core import drift
    from reconciler.core.planning import observe
    from reconciler.cycle import statefile, stateschema

    try:
        state = stateschema.parse_state(statefile.read_json(settings.state_dir / statefile.STATE) or {})
    except (statefile.Corrupt, stateschema.SchemaError, OSError):
        return frozenset()
    verdicts = drift.classify(state.baselines, observe(desired, live))
    return frozenset(r for r, v in verdicts.items() if v == drift.Verdict.DRIFT)


def load_reporting(settings: Settings) -> Any:
    """The desired state without running function tests (`Desired`), or None once each error
    is printed on stderr: for commands that only need the Site and a few names from it."""
    from reconciler.core.errors import InvalidDesired
    from reconciler.loading import load

    try:
        return load(settings.desired, run_tests=False)
    except InvalidDesired as exc:
        for line in exc.errors:
            print(events.redact(line), file=sys.stderr)
        return None


def apply(settings: Settings) -> int:
    """One reconcile, self-healing (an explicit apply makes live equal to git); exit 0 or 1."""
    from reconciler.aws import preflight
    from reconciler.core.errors import AccessError, ReconcilerError
    from reconciler.cycle.reconciling import Reconciler
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
    return 0 if result.result.ok else 1


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
