"""The one reader: everything the planner compares, in one pass with the fewest requests.

SSM GetParameters in batches of 10; per function DescribeFunction(LIVE) and GetFunction only
when the ETag is new to this process; DEVELOPMENT only when LIVE differs from desired; one
conditional GetObject for the jobs object. A `ReadCache` kept across reconciles makes the
steady state one request per resource kind; the jobs object this process wrote itself is
recognised by its ETag (304) and never downloaded or parsed again.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from reconciler.aws.errors import is_not_found, is_not_modified, translate
from reconciler.aws.session import Clients
from reconciler.core.model import Desired, FunctionStage, Live, LiveFunction, LiveObject
from reconciler.core.planning import remember_live, stage_equals

DEVELOPMENT, LIVE = "DEVELOPMENT", "LIVE"


@dataclass
class ReadCache:
    """Bodies already fetched, keyed by ETag: function code per (name, stage), the jobs object."""

    code: dict[tuple[str, str, str], bytes] = field(default_factory=dict)
    objects: dict[tuple[str, str], tuple[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def read(clients: Clients, desired: Desired, cache: ReadCache | None = None) -> Live:
    """The live state of every resource `desired` declares."""
    cache = cache or ReadCache()
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


def read_function(clients: Clients, function: Any, cache: ReadCache) -> LiveFunction | None:
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
    mine = getattr(clients, "written", {}).get(where)
    if mine is not None and (cached is None or cached[0] != mine[0]):
        cached = _own_write(*mine)
    kwargs: dict[str, Any] = {"Bucket": target.bucket, "Key": target.key}
    if cached:
        kwargs["IfNoneMatch"] = cached[0]
    try:
        got = clients.s3.get_object(**kwargs)
    except Exception as exc:
        if cached and is_not_modified(exc):
            with cache.lock:
                cache.objects[where] = cached
            return LiveObject(target.bucket, target.key, True, cached[0], cached[1])
        if is_not_found(exc):
            with cache.lock:
                cache.objects.pop(where, None)
            _forget_own_write(clients, where)
            return LiveObject(target.bucket, target.key, False)
        raise translate(exc, target.resource) from exc
    _forget_own_write(clients, where)  # changed since this process wrote it: read what is there
    body = got["Body"].read()
    etag = got["ETag"]
    if body == desired.jobs_canonical:
        # Exactly the bytes we would upload (the common, in-sync case): the same JSON as parsing
        # them, without parsing (at 100,000 jobs that is ~40 MB of JSON and ~300 MB of objects).
        document = _own_write(etag, desired)[1]
        with cache.lock:
            cache.objects[where] = (etag, document)
        return LiveObject(target.bucket, target.key, True, etag, document)
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    with cache.lock:
        cache.objects[where] = (etag, document)
    return LiveObject(target.bucket, target.key, True, etag, document)


def _own_write(etag: str, written: Desired) -> tuple[str, Any]:
    """The object built from `written` as the reader would have parsed it: the same JSON
    (`jobs_canonical` is its exact bytes), its canonical form handed to the planner. Used when S3
    answers 304 to the ETag of this process's own upload, or sends exactly those bytes."""
    document = written.jobs_document()
    remember_live(document, written.jobs_canonical, {j.id: j.canonical for j in written.jobs})
    return etag, document


def _forget_own_write(clients: Clients, where: tuple[str, str]) -> None:
    getattr(clients, "written", {}).pop(where, None)
