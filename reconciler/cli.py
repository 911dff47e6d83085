"""Command line: parses arguments, builds `Settings`, wires the parts, maps results to exit codes.

Heavy modules (boto3, moto, V8) are imported lazily inside each command so `validate` and
`status` start fast. Over 300 lines because every command's and option's `--help` text (SPEC
section 4) sits beside the option it describes; there is no logic beyond parsing here.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from reconciler.core.settings import AwsSettings, Settings, WatchSettings

USAGE_ERROR = 64
"""Exit code of a usage error (sysexits EX_USAGE); 2 belongs to `plan` ("changes pending")."""

DESCRIPTION = """\
Keep a static site's AWS edge (CloudFront Functions, the SSM version pointers of its
releases, the jobs object in S3) equal to the YAML files of a desired directory in git."""

EPILOG = """\
Run 'reconciler COMMAND --help' for what a command does and what each of its options means.
A usage error (unknown option, missing argument, bad value) exits 64."""


class _Parser(argparse.ArgumentParser):
    """argparse with exit 64 on a usage error: one line saying what is wrong, then the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message}\n{self.format_usage()}"
                  f"Run '{self.prog} --help' for help.\n")


class _Version(argparse.Action):
    """`--version`, looked up only when asked (the package metadata scan costs every start otherwise)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("edge-reconciler")
        except PackageNotFoundError:
            found = "(not installed)"
        print(f"reconciler {found}")
        parser.exit(0)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0: {text!r}")
    return value


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"not a TCP port (0-65535): {text!r}")
    return int(text)


def _version(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9._-]+", text) or text in (".", ".."):
        raise argparse.ArgumentTypeError(f"a version is letters, digits, '.', '_' and '-' (got {text!r})")
    return text


class _ReleaseOption(argparse.Action):
    """`--release NAME` opens a group; `--parameter`, `--bucket`, `--prefix` fill the last one."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        releases: list[dict[str, str]] = list(namespace.releases or [])
        namespace.releases = releases
        field = self.dest
        if field == "release":
            if not re.fullmatch(r"[A-Za-z0-9_-]+", values):
                parser.error(f"argument --release: a Release name is letters, digits, '_' and '-' (got {values!r})")
            releases.append({"name": values})
        elif not releases:
            parser.error(f"argument {option_string}: must follow --release NAME")
        elif field in releases[-1]:
            parser.error(f"argument {option_string}: given twice for --release {releases[-1]['name']}")
        else:
            releases[-1][field] = values


def _checked(name: str) -> Callable[[str], str]:
    """An argparse type that runs `newjob.<name>` so a refused value is a usage error."""

    def check(text: str) -> str:
        from reconciler.loading import newjob

        try:
            getattr(newjob, name)(text)
        except newjob.NewJobError as exc:
            raise argparse.ArgumentTypeError(str(exc).split(" ", 1)[1]) from None
        return text

    return check


def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """The options every command accepts, before or after the command name."""
    default = argparse.SUPPRESS if suppress else None
    group = parser.add_argument_group("common options (before or after the command)")
    group.add_argument("--desired", metavar="DIR", default=default,
                       help="the desired state directory: YAML files searched recursively (default: desired/)")
    group.add_argument("--endpoint-url", metavar="URL", default=default,
                       help="send every AWS call to this endpoint instead of AWS, e.g. the sandbox's "
                            "http://127.0.0.1:PORT (default: $AWS_ENDPOINT_URL)")
    group.add_argument("--profile", metavar="NAME", default=default,
                       help="AWS profile from ~/.aws/config to take credentials from (default: $AWS_PROFILE, "
                            "then the usual credential chain)")
    group.add_argument("--state-dir", metavar="DIR", default=default,
                       help="where the reconciler keeps its state: drift baselines, owed invalidations, the "
                            "last result (default: .reconciler/ beside the desired directory)")
    group.add_argument("--log-format", choices=("json", "console"), default=default,
                       help="log events as JSON lines or readable console lines "
                            "(default: json unless stdout is a terminal)")


def _command(sub: Any, name: str, summary: str, description: str, exits: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=summary, description=f"{summary}\n\n{description}", epilog=f"exit status: {exits}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; every command and option says what it does in `--help`."""
    parser = _Parser(prog="reconciler", description=DESCRIPTION, epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action=_Version, nargs=0, help="print the installed version and exit")
    _common(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands", required=True)

    _command(sub, "validate", "Check the desired directory without touching AWS.",
             "Loads every YAML file, checks it against the JSON Schemas and the cross-document rules,\n"
             "compiles each function under its runtime and runs its tests locally. Every error is one\n"
             "line FILE:LINE: message on stderr.",
             "0 valid, 1 invalid")

    plan = _command(sub, "plan", "Show what apply would change, without changing anything.",
                    "Reads live SSM, CloudFront and S3, compares them with the desired directory and prints\n"
                    "each action (with a readable diff) on stdout. Also checks what apply would check before\n"
                    "moving anything (the `require` files of a new release version exist); a failed check is an\n"
                    "error. Actions caused by drift (live changed, desired did not) are labelled drift.",
                    "0 in sync, 2 changes pending, 1 error (invalid desired state, AWS unreadable, failed check)")
    fmt = plan.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print the plan as one JSON document")
    fmt.add_argument("--markdown", action="store_true",
                     help="print the plan as a pull-request comment (no customer data, no tokens)")

    _command(sub, "apply", "Make live equal to the desired directory once, then exit.",
             "One reconcile: functions (tested against DEVELOPMENT, then published), then releases, the\n"
             "jobs object, and last one invalidation per distribution. Drift is repaired too: an explicit\n"
             "apply makes live equal to git. Log events go to stdout.",
             "0 applied or nothing to do, 1 failure")

    run = _command(sub, "run", "Keep live equal to the desired directory, as a daemon.",
                   "Reconciles at start, on every change under the desired directory, and every --interval\n"
                   "seconds to detect drift (live changed behind git's back). Stops cleanly on SIGTERM/SIGINT;\n"
                   "SIGUSR1 logs the status. Log events go to stdout.",
                   "0 after a clean stop, 1 if it cannot start")
    _watch_options(run)
    run.add_argument("--git-pull", action="store_true",
                     help="fetch and fast-forward the checkout's upstream branch every interval")
    run.add_argument("--drift-repeat", type=_positive, default=3600.0, metavar="SECONDS",
                     help="log drift that is still open again after SECONDS (default: 3600)")

    nj = _command(sub, "new-job", "Write a new job file with a fresh id and tracking token.",
                  "Writes <desired>/jobs/<id>.yaml with a random id and a random tracking token, then prints\n"
                  "the file's path and the tracking path /track/<token> (the only output that shows a token).",
                  "0 written, 1 error")
    nj.add_argument("--customer", required=True, metavar="NAME", help="the customer's name")
    nj.add_argument("--address", required=True, metavar="TEXT", help="the pickup or delivery address")
    nj.add_argument("--price", required=True, type=_checked("parse_price"), metavar="AMOUNT",
                    help="the price in USD, a number >= 0 with at most 2 decimals, e.g. 600 or 59.90")
    nj.add_argument("--status", default="requested", metavar="S", type=_checked("check_status"),
                    help="the job's status (default: requested; one of requested, scheduled, delivered, "
                         "ready_for_pickup, picked_up, completed, cancelled)")

    st = _command(sub, "status", "Show the last reconcile, open drift and owed invalidations.",
                  "Reads the state directory only (no AWS call): the last reconcile's time, result and commit,\n"
                  "each drifted resource since when, and invalidations not yet confirmed.",
                  "0 healthy, 3 drift open, 1 last reconcile failed or invalid, or the state is unreadable")
    st.add_argument("--json", action="store_true", help="print the status as one JSON document")

    sb = _command(sub, "sandbox", "Serve a local AWS-compatible endpoint for the desired directory.",
                  "Starts moto on 127.0.0.1 with the CloudFront Functions calls moto lacks, creates the buckets,\n"
                  "distributions and release folders the Site references, then prints\n"
                  "'endpoint http://127.0.0.1:PORT'. Use it with --endpoint-url. Runs until killed.",
                  "0 when stopped, 1 if it cannot start")
    sb.add_argument("--port", type=_port, default=0, metavar="N",
                    help="port to listen on (default: a free one)")

    dev = _command(sub, "dev", "Run the whole system locally: a sandbox plus the daemon against it.",
                   "No AWS account and no network needed. Prints the sandbox's 'endpoint http://127.0.0.1:PORT'\n"
                   "line, then reconciles every change under the desired directory at once.",
                   "0 after a clean stop, 1 if it cannot start")
    _watch_options(dev)

    up = _command(sub, "upload", "Upload a built site folder as a new version of a Release.",
                  "Puts every file of DIR at s3://<bucket>/<prefix><VERSION>/ of the Release named RELEASE\n"
                  "(bucket and prefix from its YAML), with a Content-Type from each file name, so VERSION\n"
                  "can then be named in the Release's `version`. A version folder is immutable: if it holds\n"
                  "different files, nothing is uploaded and the command fails; the same files again do\n"
                  "nothing. Names starting with '.' are skipped (except .well-known/); symlinks are refused.\n"
                  "The Release's `require` files are uploaded last. A progress bar shows on a terminal.",
                  "0 uploaded or already there, 1 error (refused, AWS unreachable, no such Release)")
    up.add_argument("release", metavar="RELEASE", help="the `name` of a Release in the desired directory")
    up.add_argument("version", metavar="VERSION", type=_version,
                    help="the new version's name: letters, digits, '.', '_' and '-', e.g. 20261122-1530")
    up.add_argument("folder", metavar="DIR", type=Path, help="the built site folder to upload (e.g. dist/)")

    im = _command(sub, "import", "Adopt what is live: write desired files for a hand-run stack.",
                  "Writes the desired YAML for each resource named, from what is live now, so that `plan` right\n"
                  "after finds nothing to do:\n"
                  "  --function NAME   functions/NAME.yaml and functions/NAME.js from the function's LIVE stage\n"
                  "  --release NAME --parameter PARAM --bucket B [--prefix PFX]\n"
                  "                    releases/NAME.yaml, its version the parameter's current value\n"
                  "  --jobs            jobs/<id>.yaml for each job of the Site's jobs object (combined layout)\n"
                  "Repeat them to import several. The desired directory needs a Site document first. An\n"
                  "existing file is never overwritten (the import is refused, naming it). `invalidate` cannot\n"
                  "be read from AWS: it is written as /* on every distribution of the Site; narrow it.",
                  "0 written, 1 error (refused, not found live, AWS unreachable); nothing is half-written")
    im.set_defaults(functions=[], releases=[], jobs=False)
    im.add_argument("--function", dest="functions", action="append", metavar="NAME",
                    help="a CloudFront function to adopt (its LIVE stage)")
    im.add_argument("--release", action=_ReleaseOption, metavar="NAME",
                    help="a Release to adopt, named NAME in the desired files; needs --parameter and --bucket after it")
    im.add_argument("--parameter", action=_ReleaseOption, metavar="PARAM",
                    help="the SSM parameter holding the active version of the --release before it")
    im.add_argument("--bucket", action=_ReleaseOption, metavar="B",
                    help="the S3 bucket holding the version folders of the --release before it")
    im.add_argument("--prefix", action=_ReleaseOption, metavar="PFX",
                    help="the key prefix of its version folders, e.g. site/ (default: none)")
    im.add_argument("--jobs", action="store_true", help="adopt every job of the Site's jobs object")

    for command in sub.choices.values():
        _common(command, suppress=True)
        command.set_defaults(parser_of_command=command)
    return parser


def _watch_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--interval", type=_positive, default=60.0, metavar="SECONDS",
                        help="seconds between reconciles that look for drift (default: 60)")
    parser.add_argument("--self-heal", action="store_true",
                        help="repair drift (put git's version back) instead of only logging it")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line; a usage error exits 64 with the usage of the command at fault."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        args.parser_of_command.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


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


def _hide_credentials(settings: Settings) -> None:
    """An endpoint URL's password is never printed (SPEC section 5), whatever quotes the URL."""
    from reconciler import events
    from reconciler.events.redaction import url_credentials

    events.register_secrets(url_credentials(settings.aws.endpoint_url))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    settings = settings_from(args)
    _hide_credentials(settings)
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
    from reconciler.commands.files import validate

    return validate(s)


def _plan(args: argparse.Namespace, s: Settings) -> int:
    from reconciler.commands.operations import plan

    return plan(s, "json" if args.json else "markdown" if args.markdown else "text")


def _apply(args: argparse.Namespace, s: Settings) -> int:
    from reconciler.commands.operations import apply

    return apply(s)


def _run(args: argparse.Namespace, s: Settings) -> int:
    from reconciler.daemon.watching import run

    return run(s)


def _dev(args: argparse.Namespace, s: Settings) -> int:
    from reconciler.commands.devstack import dev

    return dev(s)


def _new_job(args: argparse.Namespace, s: Settings) -> int:
    from reconciler.commands.files import new_job

    return new_job(s, customer=args.customer, address=args.address, price=args.price, status=args.status)


def _status(args: argparse.Namespace, s: Settings) -> int:
    from reconciler.commands.operations import status

    return status(s, as_json=args.json)


def _sandbox(args: argparse.Namespace, s: Settings) -> int:
    from reconciler.commands.devstack import sandbox

    return sandbox(port=args.port, desired=s.desired)


def _upload(args: argparse.Namespace, s: Settings) -> int:
    from reconciler.commands.uploading import command

    return command(s, args.release, args.version, args.folder)


def _import(args: argparse.Namespace, s: Settings) -> int:
    from reconciler.commands.importing import ReleaseSpec, command

    usage = args.parser_of_command
    if not (args.functions or args.releases or args.jobs):
        usage.error("nothing to import: give --function NAME, --release NAME --parameter PARAM --bucket B, or --jobs")
    for group in args.releases:
        missing = [f"--{f}" for f in ("parameter", "bucket") if f not in group]
        if missing:
            usage.error(f"--release {group['name']} needs {' and '.join(missing)}")
    releases = [ReleaseSpec(g["name"], g["parameter"], g["bucket"], g.get("prefix", "")) for g in args.releases]
    return command(s, args.functions, releases, args.jobs)


HANDLERS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "validate": _validate,
    "plan": _plan,
    "apply": _apply,
    "run": _run,
    "dev": _dev,
    "new-job": _new_job,
    "status": _status,
    "sandbox": _sandbox,
    "upload": _upload,
    "import": _import,
}
