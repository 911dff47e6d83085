"""Command line: parses arguments, builds `Settings`, wires the parts, maps results to exit codes.

Heavy modules (boto3, moto, V8) are imported lazily inside each command so `validate` and
`status` start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from reconciler.core.settings import AwsSettings, Settings, WatchSettings

COMMANDS = ("validate", "plan", "apply", "run", "new-job", "status", "sandbox", "dev")


def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--desired", default=default, help="desired state directory (default: desired/)")
    parser.add_argument("--endpoint-url", default=default, help="AWS endpoint (also AWS_ENDPOINT_URL)")
    parser.add_argument("--profile", default=default, help="AWS profile")
    parser.add_argument("--state-dir", default=default, help="state directory (default: .reconciler/ beside desired)")
    parser.add_argument("--log-format", choices=("json", "console"), default=default)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reconciler", description=__doc__.splitlines()[0])
    _common(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", required=True)
    subs = {name: sub.add_parser(name) for name in COMMANDS}
    for p in subs.values():
        _common(p, suppress=True)
    fmt = subs["plan"].add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--markdown", action="store_true")
    subs["status"].add_argument("--json", action="store_true")
    run = subs["run"]
    run.add_argument("--interval", type=float, default=60.0)
    run.add_argument("--self-heal", action="store_true")
    run.add_argument("--git-pull", action="store_true")
    run.add_argument("--drift-repeat", type=float, default=3600.0, help="re-log open drift after SECONDS")
    dev = subs["dev"]
    dev.add_argument("--interval", type=float, default=60.0)
    dev.add_argument("--self-heal", action="store_true")
    nj = subs["new-job"]
    nj.add_argument("--customer", required=True)
    nj.add_argument("--address", required=True)
    nj.add_argument("--price", required=True)
    nj.add_argument("--status", default="requested")
    sb = subs["sandbox"]
    sb.add_argument("--port", type=int, default=0)
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    desired = Path(args.desired or "desired")
    state = Path(args.state_dir) if args.state_dir else Settings.default_state_dir(desired)
    log_format = args.log_format or ("console" if sys.stdout.isatty() else "json")
    aws = AwsSettings(
        endpoint_url=args.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None,
        profile=args.profile,
    )
    watch = WatchSettings(
        interval=getattr(args, "interval", 60.0),
        self_heal=getattr(args, "self_heal", False),
        git_pull=getattr(args, "git_pull", False),
        drift_repeat=getattr(args, "drift_repeat", 3600.0),
    )
    return Settings(desired=desired, state_dir=state, log_format=log_format, aws=aws, watch=watch)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = settings_from(args)
    handler: Callable[[argparse.Namespace, Settings], int] = HANDLERS[args.command]
    try:
        return handler(args, settings)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - last line of defence: one line, no traceback
        from reconciler.events import redact

        print(f"reconciler: error: {redact(f'{type(exc).__name__}: {exc}')}", file=sys.stderr)
        return 1


def _validate(args: argparse.Namespace, s: Settings) -> int:
    from reconciler.commands import validate

    return validate(s)


def _plan(args: argparse.Namespace, s: Settings) -> int:
    from reconciler.operations import plan

    return plan(s, "json" if args.json else "markdown" if args.markdown else "text")


def _apply(args: argparse.Namespace, s: Settings) -> int:
    from reconciler.operations import apply

    return apply(s)


def _run(args: argparse.Namespace, s: Settings) -> int:
    from reconciler.watching import run

    return run(s)


def _dev(args: argparse.Namespace, s: Settings) -> int:
    from reconciler.watching import dev

    return dev(s)


def _new_job(args: argparse.Namespace, s: Settings) -> int:
    from reconciler.commands import new_job

    return new_job(s, customer=args.customer, address=args.address, price=args.price, status=args.status)


def _status(args: argparse.Namespace, s: Settings) -> int:
    from reconciler.operations import status

    return status(s, as_json=args.json)


def _sandbox(args: argparse.Namespace, s: Settings) -> int:
    from reconciler.sandbox.server import serve

    return serve(port=args.port, desired=s.desired)


HANDLERS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "validate": _validate,
    "plan": _plan,
    "apply": _apply,
    "run": _run,
    "dev": _dev,
    "new-job": _new_job,
    "status": _status,
    "sandbox": _sandbox,
}
