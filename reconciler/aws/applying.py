"""The one writer: carries out a plan's changes in SPEC section 3 order, every write guarded.

Functions first (update DEVELOPMENT with IfMatch, TestFunction, publish with IfMatch); then
releases (require objects checked first) concurrently with each other; the jobs object starts
at once, concurrently with everything (If-Match / If-None-Match). A failed action is a value in
the outcomes, never an exception that unwinds the others. Invalidations are the caller's, last.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from reconciler.aws.errors import is_not_found, translate
from reconciler.aws.folders import missing_objects
from reconciler.aws.session import Clients
from reconciler.core.actions import Action, FunctionAction, JobsAction, Plan, ReleaseAction
from reconciler.core.errors import PermanentError, ReconcilerError, RequirementMissing
from reconciler.core.matching import subset_mismatch
from reconciler.core.model import Desired, Function, Release

DEVELOPMENT, LIVE = "DEVELOPMENT", "LIVE"
HIGH_UTILIZATION = 70


@dataclass(frozen=True)
class Outcome:
    action: Action
    error: ReconcilerError | None = None
    skipped: bool = False
    """True when the action was not attempted because something it depends on failed."""
    written_etag: str | None = None
    """The ETag S3 gave the jobs object this action wrote (the reader's cache wants it), else None."""

    @property
    def ok(self) -> bool:
        return self.error is None and not self.skipped


Notify = Callable[[str, dict[str, Any]], None]
"""Callback for events raised while applying: (event name, fields)."""


def execute(clients: Clients, desired: Desired, plan: Plan, commit: str | None, notify: Notify) -> list[Outcome]:
    """Apply every change of `plan` in dependency order; returns one outcome per change."""
    functions = {f.resource: f for f in desired.functions}
    releases = {r.resource: r for r in desired.releases}
    changes = plan.changes
    outcomes: list[Outcome] = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        jobs: list[tuple[Action, Future[str | None]]] = [
            (a, pool.submit(write_jobs, clients, desired, a, commit)) for a in changes if isinstance(a, JobsAction)
        ]
        functions_ok = True
        for action in (a for a in changes if isinstance(a, FunctionAction)):
            def write(a: FunctionAction = action) -> None:
                write_function(clients, functions[a.resource], a, notify)

            outcome = _attempt(action, write)
            functions_ok &= outcome.ok
            outcomes.append(outcome)
        release_actions = [a for a in changes if isinstance(a, ReleaseAction)]
        if functions_ok:
            futures = [
                (a, pool.submit(write_release, clients, releases[a.resource], a, commit)) for a in release_actions
            ]
            outcomes.extend(_collect(futures))
        else:
            blocked = PermanentError("not applied: a function in this reconcile failed")
            outcomes.extend(Outcome(a, blocked, skipped=True) for a in release_actions)
        outcomes.extend(_collect(jobs))
    return outcomes


def _attempt(action: Action, run: Callable[[], str | None]) -> Outcome:
    """`run()` as a value: its error, or the ETag it wrote (if any)."""
    try:
        etag = run()
    except Exception as exc:  # noqa: BLE001 - becomes a value
        return Outcome(action, translate(exc, action.resource))
    return Outcome(action, written_etag=etag)


def _collect(futures: Iterable[tuple[Action, Future[str | None] | Future[None]]]) -> list[Outcome]:
    return [_attempt(action, future.result) for action, future in futures]


# -- functions -------------------------------------------------------------------------------


def write_function(clients: Clients, function: Function, action: FunctionAction, notify: Notify) -> None:
    """Create or update DEVELOPMENT, test it there, publish it to LIVE: every write with IfMatch."""
    cf = clients.cloudfront
    stores = [{"KeyValueStoreARN": arn} for arn in function.key_value_stores]
    config = {"Comment": function.comment or "", "Runtime": function.runtime,
              "KeyValueStoreAssociations": {"Quantity": len(stores), "Items": stores}}
    if action.action == "create":
        answer = cf.create_function(Name=function.name, FunctionConfig=config, FunctionCode=function.code)
        etag = answer.get("ETag") or _development_etag(clients, function.name)
    elif action.action == "update":
        cf.update_function(
            Name=function.name,
            IfMatch=action.development_etag,
            FunctionConfig=config,
            FunctionCode=function.code,
        )
        etag = _development_etag(clients, function.name)  # botocore models this header as `ETtag`
    else:
        etag = action.development_etag
    run_tests(clients, function, etag, notify)
    cf.publish_function(Name=function.name, IfMatch=etag)


def _development_etag(clients: Clients, name: str) -> str:
    return str(clients.cloudfront.describe_function(Name=name, Stage=DEVELOPMENT)["ETag"])


def run_tests(clients: Clients, function: Function, etag: str, notify: Notify) -> None:
    """Run the declared tests against DEVELOPMENT with TestFunction; any failure blocks publishing."""
    for test in function.tests:
        if test.kvs is not None:  # SPEC 2: a test's own `kvs` data is local only; AWS reads the real store
            continue
        result = clients.cloudfront.test_function(
            Name=function.name,
            IfMatch=etag,
            Stage=DEVELOPMENT,
            EventObject=json.dumps(dict(test.event)).encode(),
        )["TestResult"]
        if result.get("FunctionErrorMessage"):
            raise PermanentError(f"test '{test.name}' failed in DEVELOPMENT: {result['FunctionErrorMessage']}")
        utilization = int(result.get("ComputeUtilization") or 0)
        if utilization > HIGH_UTILIZATION:
            notify(
                "function.high_utilization",
                {"resource": function.resource, "test": test.name, "compute_utilization": utilization},
            )
        output = json.loads(result.get("FunctionOutput") or "{}")
        mismatch = subset_mismatch(dict(test.expect), output)
        if mismatch:
            raise PermanentError(f"test '{test.name}' failed in DEVELOPMENT: {mismatch}")


# -- releases --------------------------------------------------------------------------------


def write_release(clients: Clients, release: Release, action: ReleaseAction, commit: str | None) -> None:
    """Move the pointer only once every `require` object exists in the new version's folder."""
    missing = missing_objects(clients, release.bucket, release.required_keys())
    if missing:
        raise RequirementMissing(
            f"{release.resource}: s3://{release.bucket}/{missing[0]} does not exist; "
            f"the pointer stays at {action.old}"
        )
    clients.ssm.put_parameter(
        Name=release.parameter,
        Value=release.version,
        Type="String",
        Overwrite=True,
        Description=_description(commit),
    )


def _description(commit: str | None) -> str:
    return f"managed by edge-reconciler; commit {commit or 'unknown'}"


# -- jobs ------------------------------------------------------------------------------------


def write_jobs(clients: Clients, desired: Desired, action: JobsAction, commit: str | None) -> str | None:
    """Replace the jobs object only if it is still what was read (never a blind overwrite); returns
    the new object's ETag."""
    guard = {"IfMatch": action.etag} if action.etag else {"IfNoneMatch": "*"}
    answer = clients.s3.put_object(
        Bucket=action.bucket,
        Key=action.key,
        Body=desired.jobs_canonical,  # canonical_json(desired.jobs_document()), computed once
        ContentType="application/json",
        CacheControl="no-cache",
        Metadata={"reconciler-commit": commit or "unknown"},
        **guard,
    )
    return answer.get("ETag") or None


# -- invalidations ---------------------------------------------------------------------------


def create_invalidation(clients: Clients, distribution_id: str, paths: list[str], caller_reference: str) -> str:
    """One CreateInvalidation; the same caller reference re-issued returns the same invalidation."""
    try:
        answer = clients.cloudfront.create_invalidation(
            DistributionId=distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": len(paths), "Items": list(paths)},
                "CallerReference": caller_reference,
            },
        )
    except Exception as exc:
        raise translate(exc, f"invalidation/{distribution_id}") from exc
    return str(answer["Invalidation"]["Id"])


def invalidation_status(clients: Clients, distribution_id: str, invalidation_id: str) -> str:
    try:
        answer = clients.cloudfront.get_invalidation(DistributionId=distribution_id, Id=invalidation_id)
    except Exception as exc:
        if is_not_found(exc):
            return "unknown"
        raise translate(exc, f"invalidation/{distribution_id}") from exc
    return str(answer["Invalidation"]["Status"])
