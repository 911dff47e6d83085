"""`sandbox` and `dev`: the whole system on one machine, composed here so nothing else imports the sandbox.

Both need the `sandbox` extra (moto and its web stack), which a production install leaves out;
without it they say which install line to run and exit 1. Only `cli.py` imports this module, and
only for these two commands: the daemon, the reconcile cycle and the AWS layer never import
moto or `reconciler.sandbox`.

`dev`'s state directory belongs to its sandbox's life. The sandbox starts empty every time, so
`dev` keeps its state in `<state-dir>/dev/` and empties it before the daemon starts: what an
earlier sandbox held (baselines, owed invalidations, the last result) can neither show up as drift
nor make the daemon skip a create. Production state (`<state-dir>/state.json`) is never touched.
The sandbox's URL is also written to `<state-dir>/dev/endpoint`, so another window can point
`upload`, `plan` or `status` at it.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import shutil
import sys
from pathlib import Path

from reconciler import events
from reconciler.core.settings import Settings

EXTRA_MODULES = ("moto", "flask", "werkzeug", "boto3")
"""What `reconciler.sandbox` imports from the `sandbox` extra."""

INSTALL_EXTRA = "pip install 'edge-reconciler[sandbox]'"
DEV_STATE = "dev"
ENDPOINT_FILE = "endpoint"
"""`<dev state>/endpoint`: the running sandbox's URL, for other windows (`AWS_ENDPOINT_URL=$(cat ...)`)."""


def missing_extra() -> str | None:
    """The first module of the sandbox extra that is not installed, or None when all are."""
    for name in EXTRA_MODULES:
        if importlib.util.find_spec(name) is None:
            return name
    return None


def extra_missing_message(command: str) -> str | None:
    """One line for stderr when the extra is missing: which module, and the install line to run."""
    module = missing_extra()
    if module is None:
        return None
    return (
        f"reconciler {command}: needs the sandbox extra ({module} is not installed); "
        f"run: {INSTALL_EXTRA}  (from a checkout: pip install '.[sandbox]')"
    )


def sandbox(port: int, desired: Path) -> int:
    """The `sandbox` command."""
    message = extra_missing_message("sandbox")
    if message:
        print(message, file=sys.stderr, flush=True)
        return 1
    from reconciler.sandbox.server import serve

    return serve(port=port, desired=desired)


def dev_state_dir(state_dir: Path) -> Path:
    """Where `dev` keeps its state: a directory of its own beside (never in place of) production state."""
    return state_dir / DEV_STATE


def fresh_state(path: Path) -> None:
    """Empty `path` for a new sandbox, unless another `dev` holds it (then `Locked` is raised)."""
    from reconciler.cycle.statefile import StateLock

    with StateLock(path):
        for entry in path.iterdir():
            if entry.name == "lock":
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()


def dev(settings: Settings) -> int:
    """The `dev` command: a sandbox on a free port, seeded from the desired state, and `run` against it."""
    message = extra_missing_message("dev")
    if message:
        print(message, file=sys.stderr, flush=True)
        return 1
    from reconciler.core.errors import InvalidDesired
    from reconciler.cycle.statefile import Locked
    from reconciler.daemon import watching
    from reconciler.loading import load
    from reconciler.sandbox.server import start

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    try:
        desired = load(settings.desired, run_tests=False)
    except InvalidDesired as exc:
        for line in exc.errors:
            print(events.redact(line), file=sys.stderr)
        return 1
    state_dir = dev_state_dir(settings.state_dir)
    try:
        fresh_state(state_dir)
    except Locked as exc:
        print(f"reconciler: {exc}", file=sys.stderr, flush=True)
        return 1
    os.environ.setdefault("AWS_DEFAULT_REGION", desired.site.region)
    with start(port=0, desired=desired) as box:
        sys.stdout.write(f"endpoint {box.endpoint}\n")
        sys.stdout.flush()
        (state_dir / ENDPOINT_FILE).write_text(f"{box.endpoint}\n")
        aws = dataclasses.replace(settings.aws, endpoint_url=box.endpoint)
        return watching.run(dataclasses.replace(settings, aws=aws, state_dir=state_dir))
