"""The read cache over HTTP: the cycle hands the jobs object it uploaded to the cache, so the next
read is answered 304 (nothing downloaded); an upload by someone else is downloaded."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from reconciler.aws.session import make_clients
from reconciler.cycle.reconciling import Reconciler
from tests.aws.conftest import Stack, run


def watched(reconciler: Reconciler) -> list[int]:
    """Give `reconciler` clients whose every GetObject answer's HTTP status is appended to the list."""
    statuses: list[int] = []

    def seen(http_response: Any = None, **_: Any) -> None:
        statuses.append(http_response.status_code)

    reconciler.clients = make_clients(reconciler.settings.aws, "us-east-1")
    reconciler.clients.s3.meta.events.register("after-call.s3.GetObject", seen)
    return statuses


def reconcile(reconciler: Reconciler, statuses: list[int]) -> tuple[str, list[int]]:
    """One reconcile: its result and the GetObject statuses it saw."""
    before = len(statuses)
    result, _ = run(reconciler, "interval")
    return result.result, statuses[before:]


def test_own_upload_is_not_downloaded_again_but_someone_elses_is(stack: Stack) -> None:
    reconciler = stack.reconciler()
    statuses = watched(reconciler)
    assert reconcile(reconciler, statuses) == ("applied", [404])  # creates the jobs object
    assert reconcile(reconciler, statuses) == ("in_sync", [304])  # its own upload: not downloaded

    job = stack.desired.jobs[0]
    stack.change(jobs=(replace(job, document={**job.document, "status": "scheduled"}),))
    # read 304, then PutObject guarded by the ETag the cache was told (a wrong one would be a 412)
    assert reconcile(reconciler, statuses) == ("applied", [304])
    assert reconcile(reconciler, statuses) == ("in_sync", [304])

    target = stack.desired.site.jobs
    assert target is not None
    stack.s3.put_object(Bucket=target.bucket, Key=target.key, Body=b'{"jobs": []}')
    assert reconcile(reconciler, statuses) == ("applied", [200])  # someone else's bytes: read them
    assert reconcile(reconciler, statuses) == ("in_sync", [304])
    body = stack.s3.get_object(Bucket=target.bucket, Key=target.key)["Body"].read()
    assert b'"status":"scheduled"' in body


def test_a_fresh_cache_downloads_what_another_process_uploaded(stack: Stack) -> None:
    """The 304 comes from this process's cache, not from the object: a new reconciler reads it."""
    assert run(stack.reconciler())[0].result == "applied"
    fresh = stack.reconciler()
    statuses = watched(fresh)
    assert reconcile(fresh, statuses) == ("in_sync", [200])
    assert reconcile(fresh, statuses) == ("in_sync", [304])


def test_the_upload_retried_after_a_conflict_is_known_too(stack: Stack) -> None:
    """A 412 on PutObject: re-read (200), re-planned, uploaded again; that upload reaches the cache."""
    reconciler = stack.reconciler()
    statuses = watched(reconciler)
    assert reconcile(reconciler, statuses) == ("applied", [404])
    target = stack.desired.site.jobs
    assert target is not None
    job = stack.desired.jobs[0]
    stack.change(jobs=(replace(job, document={**job.document, "status": "delivered"}),))
    done: list[bool] = []

    def someone_else_writes(**_: Any) -> None:
        if not done:
            done.append(True)
            stack.s3.put_object(Bucket=target.bucket, Key=target.key, Body=b'{"jobs": []}')

    assert reconciler.clients is not None
    reconciler.clients.s3.meta.events.register("before-call.s3.PutObject", someone_else_writes)
    assert reconcile(reconciler, statuses) == ("applied", [304, 200])  # 412, then re-read
    assert reconcile(reconciler, statuses) == ("in_sync", [304])
