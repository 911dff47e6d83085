"""`import`: adopt a hand-run stack by writing desired files that say what is live now.

For each named function: `functions/<name>.yaml` and `functions/<name>.js`, from the LIVE
stage (code byte for byte, runtime, comment, key value stores). For each named release:
`releases/<name>.yaml` with the parameter's current value as `version`. With `--jobs`: one
`jobs/<id>.yaml` per job of the Site's jobs object (combined layout). So `plan` right after an
import finds nothing to do.

`invalidate` cannot be read from AWS (it is what *we* do after a change). The default written
is the safe one: `/*` on every distribution of the Site, with a comment saying to narrow it; it
is not live state, so it never makes `plan` report a change.

An existing file is never overwritten and a resource already declared is never declared twice:
either refuses the whole import before anything is written. The written files are loaded with
the rest of the directory; if that fails, they are removed again and the errors shown.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reconciler.core.model import Desired
from reconciler.core.settings import Settings

INVALIDATE_NOTE = (
    "# invalidate: AWS cannot say which paths a change here should invalidate. Imported default:\n"
    "# everything, on every distribution of the Site (safe; one path each). Narrow it, e.g. [/track/*].\n"
)


class ImportRefused(Exception):
    """The import is refused; the message is one line."""


@dataclass(frozen=True)
class ReleaseSpec:
    """One `--release NAME --parameter PARAM --bucket B [--prefix PFX]` group."""

    name: str
    parameter: str
    bucket: str
    prefix: str = ""


@dataclass(frozen=True)
class NewFile:
    path: Path
    content: bytes
    resource: str


def _yaml(document: Mapping[str, Any], header: str = "") -> bytes:
    return (header + yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True, width=1000)).encode()


def _everything(desired: Desired) -> dict[str, list[str]]:
    return {logical: ["/*"] for logical in sorted(desired.site.distributions)}


def function_files(desired: Desired, live: Any) -> list[NewFile]:
    """The YAML and the code file of an adopted function (`aws.adopting.AdoptedFunction`)."""
    folder = desired.root / "functions"
    document: dict[str, Any] = {"kind": "Function", "name": live.name, "runtime": live.runtime}
    if live.comment:
        document["comment"] = live.comment
    document["code"] = f"{live.name}.js"
    if live.key_value_stores:
        document["keyValueStores"] = list(live.key_value_stores)
    document["invalidate"] = _everything(desired)
    header = f"# Imported from the LIVE stage of CloudFront function {live.name}.\n" + INVALIDATE_NOTE
    resource = f"function/{live.name}"
    return [
        NewFile(folder / f"{live.name}.yaml", _yaml(document, header), resource),
        NewFile(folder / f"{live.name}.js", live.code, resource),
    ]


def release_file(desired: Desired, spec: ReleaseSpec, version: str) -> NewFile:
    document: dict[str, Any] = {
        "kind": "Release",
        "name": spec.name,
        "parameter": spec.parameter,
        "version": version,
        "bucket": spec.bucket,
    }
    if spec.prefix:
        document["prefix"] = spec.prefix
    document["invalidate"] = _everything(desired)
    header = f"# Imported from SSM parameter {spec.parameter}.\n" + INVALIDATE_NOTE
    return NewFile(desired.root / "releases" / f"{spec.name}.yaml", _yaml(document, header), f"release/{spec.name}")


def job_files(desired: Desired, document: Any) -> list[NewFile]:
    """One file per job of the live `{"jobs": [...]}` object, fields exactly as published."""
    jobs = document.get("jobs") if isinstance(document, dict) else None
    if not isinstance(jobs, list) or not all(isinstance(j, dict) and isinstance(j.get("id"), str) for j in jobs):
        raise ImportRefused('the live jobs object is not {"jobs": [{"id": ...}, ...]}; nothing imported')
    files = []
    for job in jobs:
        job_id = job["id"]
        if not job_id or "/" in job_id or job_id.startswith("."):
            raise ImportRefused(f"a live job id is not a file name: {job_id!r}")
        files.append(NewFile(desired.root / "jobs" / f"{job_id}.yaml", _yaml({"kind": "Job", **job}), f"job/{job_id}"))
    return files


def already_declared(desired: Desired, functions: Sequence[str], releases: Sequence[ReleaseSpec],
                     job_ids: Sequence[str]) -> str | None:
    """A message when a resource to import is already in the desired directory, else None."""
    for f in desired.functions:
        if f.name in functions:
            return f"function {f.name} is already declared in {f.source}"
    for r in desired.releases:
        for spec in releases:
            if spec.name == r.name or spec.parameter == r.parameter:
                return f"release {r.name} (parameter {r.parameter}) is already declared in {r.source}"
    ids = set(job_ids)
    for j in desired.jobs:
        if j.id in ids:
            return f"job {j.id} is already declared in {j.source}"
    return None


def write_all(files: Sequence[NewFile]) -> list[Path]:
    """Write every file exclusively (never over an existing one); on any failure remove what was written."""
    taken = [f.path for f in files if f.path.exists() or f.path.is_symlink()]
    if taken:
        raise ImportRefused(f"{taken[0]}: already exists; import never overwrites a file (move it away first)")
    written: list[Path] = []
    try:
        for f in files:
            f.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(f.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            written.append(f.path)
            with os.fdopen(fd, "wb") as fh:
                fh.write(f.content)
    except OSError as exc:
        remove(written)
        raise ImportRefused(f"{exc.filename}: {exc.strerror}") from None
    return written


def remove(paths: Sequence[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def command(settings: Settings, functions: Sequence[str], releases: Sequence[ReleaseSpec], jobs: bool) -> int:
    """`reconciler import ...`: exit 0 written, 1 refused or failed (nothing left half-written)."""
    from reconciler import events
    from reconciler.aws import adopting, preflight
    from reconciler.aws.session import make_clients
    from reconciler.commands.operations import load_reporting
    from reconciler.core.errors import ReconcilerError

    events.configure(settings.log_format, sys.stdout)
    desired = load_reporting(settings)
    if desired is None:
        return 1
    try:
        preflight.check(settings.aws, desired.site.region)
        clients = make_clients(settings.aws, desired.site.region)
        files = _collect(desired, clients, adopting, functions, releases, jobs)
        written = write_all(files)
    except (ImportRefused, ReconcilerError) as exc:
        print(f"reconciler: error: {events.redact(str(exc))}", file=sys.stderr)
        return 1
    if load_reporting(settings) is None:
        remove(written)
        print("reconciler: error: the imported files do not load (shown above); none were kept", file=sys.stderr)
        return 1
    log = events.log()
    for f in files:
        if f.path.suffix == ".yaml":
            log.info("import.written", resource=f.resource, file=str(f.path))
    return 0


def _collect(desired: Desired, clients: Any, adopting: Any, functions: Sequence[str],
             releases: Sequence[ReleaseSpec], jobs: bool) -> list[NewFile]:
    """Read what is live and turn it into files; refuses before anything is written."""
    files: list[NewFile] = []
    for name in functions:
        live = adopting.live_function(clients, name)
        if live is None:
            raise ImportRefused(f"function/{name}: no such CloudFront function with a LIVE stage")
        files += function_files(desired, live)
    for spec in releases:
        version = adopting.parameter_value(clients, spec.parameter)
        if version is None:
            raise ImportRefused(f"release/{spec.name}: SSM parameter {spec.parameter} does not exist")
        files.append(release_file(desired, spec, version))
    if jobs:
        target = desired.site.jobs
        if target is None:
            raise ImportRefused("--jobs: the Site declares no `jobs` (bucket and key of the jobs object)")
        if getattr(target, "layout", "combined") != "combined":
            raise ImportRefused("--jobs needs the combined layout (one jobs object), not per-token")
        exists, document = adopting.jobs_document(clients, target.bucket, target.key)
        if not exists:
            raise ImportRefused(f"{target.resource}: the jobs object does not exist")
        files += job_files(desired, document)
    job_ids = [f.resource.removeprefix("job/") for f in files if f.resource.startswith("job/")]
    clash = already_declared(desired, functions, releases, job_ids)
    if clash:
        raise ImportRefused(clash + "; import adds what the desired directory does not have yet")
    return files

