"""The commands that meet AWS or the state directory: plan, apply, status."""

from __future__ import annotations

import sys

from reconciler import events
from reconciler.settings import Settings


def plan(settings: Settings, fmt: str) -> int:
    """Print the plan document on stdout; exit 0 in sync, 2 changes pending, 1 error."""
    from reconciler import rendering
    from reconciler.aws.reading import read
    from reconciler.aws.session import make_clients
    from reconciler.errors import InvalidDesired, ReconcilerError
    from reconciler.loading import load
    from reconciler.planning import plan as make_plan
    from reconciler.reconciling import secrets_of

    events.configure(settings.log_format, sys.stderr)
    try:
        desired = load(settings.desired)
    except InvalidDesired as exc:
        for line in exc.errors:
            print(line, file=sys.stderr)
        return 1
    events.register_secrets(secrets_of(desired))
    try:
        live = read(make_clients(settings.aws, desired.site.region), desired)
    except ReconcilerError as exc:
        print(f"reconciler: error: {events.redact(str(exc))}", file=sys.stderr)
        return 1
    result = make_plan(desired, live)
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
    from reconciler.reconciling import FAILED, INVALID, Reconciler
    from reconciler.statefile import Locked, StateLock

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
