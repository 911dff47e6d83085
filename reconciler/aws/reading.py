"""The one reader: everything the planner compares, in one pass with the fewest requests.

SSM GetParameters in batches of 10; per function DescribeFunction(LIVE) and GetFunction only
when the ETag is new to this process; DEVELOPMENT only when LIVE differs from desired; one
conditional GetObject for the jobs object. A `ReadCache` kept across reconciles makes the
steady state one request per resource kind; the jobs object this process wrote itself is
recognised by its ETag (304, once the caller has told the cache about the write) and never
downloaded or parsed again.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from reconciler.aws.applying import Outcome
from reconciler.aws.errors import is_not_found, is_not_modified, translate
from reconciler.aws.session import Clients
from reconciler.core.model import Desired, Function, FunctionStage, Live, LiveFunction, LiveObject
from reconciler.core.planning import stage_equals

DEVELOPMENT, LIVE = "DEVELOPMENT", "LIVE"


@dataclass
class ReadCache:
    """What one process has already fetched, kept across its reconciles and passed to every read.

    `code`: function code per (name, stage, ETag). `objects`: the jobs object last seen per
    (bucket, key), read or written by this process; its ETag makes the next read conditional
    (304: the same `LiveObject`, whose canonical JSON is then never computed again)."""

    code: dict[tuple[str, str, str], bytes] = field(default_factory=dict)
    objects: dict[tuple[str, str], LiveObject] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def own_write(self, bucket: str, key: str, etag: str, desired: Desired) -> None:
        """This process uploaded `desired.jobs_canonical` there and S3 answered `etag`: the next
        read sends that ETag and, on 304, neither downloads nor parses its own upload."""
        with self.lock:
            self.objects[(bucket, key)] = LiveObject.built_from(desired, bucket, key, etag)

    def own_writes(self, desired: Desired, outcomes: Iterable[Outcome]) -> None:
        """`own_write` for each jobs write among `outcomes` (the writer's values carry its ETag)."""
        target = desired.site.jobs
        for outcome in outcomes:
            if target is not None and outcome.action.resource == target.resource and outcome.written_etag:
                self.own_write(target.bucket, target.key, outcome.written_etag, desired)


def read(clients: Clients, desired: Desired, cache: ReadCache) -> Live:
    """The live state of every resource `desired` declares; `cache` is filled for the next read."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        params = pool.submit(read_parameters, clients, [r.parameter for r in desired.releases])
        jobs = pool.submit(read_jobs, clients, desired, cache) if desired.site.jobs else None
        functions = {
            f.name: pool.submit(read_function, clients, f, cache) for f in desired.functions
        }
        return Live(
            functions={name: found for name, fut in functions.items() if (found := fut.result()) is not None},
            parameters=params.result(),
            jobs=jobs.result() if jobs else None,
        )


def read_parameters(clients: Clients, names: list[str]) -> dict[str, str | None]:
    values: dict[str, str | None] = {name: None for name in names}
    unique = sorted(set(names))
    for start in range(0, len(unique), 10):
        batch = unique[start : start + 10]
        try:
            answer = clients.ssm.get_parameters(Names=batch)
        except Exception as exc:
            raise translate(exc, "ssm:GetParameters") from exc
        for p in answer.get("Parameters", []):
            values[p["Name"]] = p["Value"]
    return values


def read_function(clients: Clients, function: Function, cache: ReadCache) -> LiveFunction | None:
    live = read_stage(clients, function.name, LIVE, cache)
    if stage_equals(function, live):
        return LiveFunction(function.name, None, live)  # LIVE is right: DEVELOPMENT does not matter
    development = read_stage(clients, function.name, DEVELOPMENT, cache)
    if development is None and live is None:
        return None
    return LiveFunction(function.name, development, live)


def read_stage(clients: Clients, name: str, stage: str, cache: ReadCache) -> FunctionStage | None:
    """One stage: DescribeFunction for ETag and config, GetFunction only for an ETag not cached."""
    described = _unless_absent(clients.cloudfront.describe_function, name, stage)
    if described is None:
        return None
    etag = described["ETag"]
    config = described["FunctionSummary"]["FunctionConfig"]
    key = (name, stage, etag)
    with cache.lock:
        code = cache.code.get(key)
    if code is None:
        got = _unless_absent(clients.cloudfront.get_function, name, stage)
        if got is None:
            return None
        code = got["FunctionCode"].read()
        if got.get("ETag") == etag:
            with cache.lock:
                cache.code = {k: v for k, v in cache.code.items() if k[:2] != (name, stage)}
                cache.code[key] = code
    stores = tuple(i["KeyValueStoreARN"] for i in (config.get("KeyValueStoreAssociations") or {}).get("Items") or [])
    return FunctionStage(etag, code, config.get("Runtime", ""), config.get("Comment", "") or "", stores)


def _unless_absent(call: Any, name: str, stage: str) -> Any:
    """`call(Name=name, Stage=stage)`, or None when the function (or that stage) does not exist."""
    try:
        return call(Name=name, Stage=stage)
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise translate(exc, f"function/{name}") from exc


def read_jobs(clients: Clients, desired: Desired, cache: ReadCache) -> LiveObject:
    target = desired.site.jobs
    assert target is not None
    where = (target.bucket, target.key)
    with cache.lock:
        cached = cache.objects.get(where)
    kwargs: dict[str, Any] = {"Bucket": target.bucket, "Key": target.key}
    if cached is not None:
        kwargs["IfNoneMatch"] = cached.etag
    try:
        got = clients.s3.get_object(**kwargs)
    except Exception as exc:
        if cached is not None and is_not_modified(exc):
            return cached
        if is_not_found(exc):
            with cache.lock:
                cache.objects.pop(where, None)
            return LiveObject(target.bucket, target.key, False)
        raise translate(exc, target.resource) from exc
    body = got["Body"].read()
    etag = got["ETag"]
    if body == desired.jobs_canonical:
        # Exactly the bytes we would upload (the common, in-sync case): the same JSON as parsing
        # them, without parsing (at 100,000 jobs that is ~40 MB of JSON and ~300 MB of objects).
        found = LiveObject.built_from(desired, target.bucket, target.key, etag)
    else:
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        found = LiveObject(target.bucket, target.key, True, etag, document)
    with cache.lock:
        cache.objects[where] = found
    return found
