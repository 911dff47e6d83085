"""Typed, immutable desired and live state. Everything after the loader and the reader speaks these.

Resource ids follow SPEC section 3: `function/<name>`, `release/<name>`, `jobs/<bucket>/<key>`,
`invalidation/<distribution logical name>`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from reconciler.core.jsonvalue import JSON, JSONObject

Invalidate = Mapping[str, tuple[str, ...]]
"""Distribution logical name -> paths to invalidate when the resource changes."""


@dataclass(frozen=True, slots=True)
class Source:
    """Where a document came from, for `FILE:LINE` messages."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class JobsTarget:
    bucket: str
    key: str
    invalidate: Invalidate = field(default_factory=dict)

    @property
    def resource(self) -> str:
        return jobs_resource(self.bucket, self.key)


@dataclass(frozen=True)
class Site:
    name: str
    region: str
    distributions: Mapping[str, str]
    jobs: JobsTarget | None = None
    source: Source = Source("")


@dataclass(frozen=True)
class Release:
    name: str
    parameter: str
    version: str
    bucket: str
    prefix: str = ""
    require: tuple[str, ...] = ("index.html",)
    invalidate: Invalidate = field(default_factory=dict)
    source: Source = Source("")

    @property
    def resource(self) -> str:
        return f"release/{self.name}"

    @property
    def folder(self) -> str:
        """S3 key prefix of this version's files."""
        return f"{self.prefix}{self.version}/"

    def required_keys(self) -> tuple[str, ...]:
        return tuple(self.folder + r.lstrip("/") for r in self.require)


@dataclass(frozen=True)
class FunctionTest:
    name: str
    event: Mapping[str, Any]
    """The full event of `event_type` (already completed from the shorthand)."""
    expect: Mapping[str, Any]
    source: Source = Source("")
    event_type: str = "viewer-request"
    kvs: Mapping[str, str] | None = None
    """What `cf.kvs()` holds in this test; such a test runs locally only (SPEC section 2)."""


@dataclass(frozen=True)
class Function:
    name: str
    runtime: str
    code: bytes
    code_path: str
    comment: str = ""
    invalidate: Invalidate = field(default_factory=dict)
    tests: tuple[FunctionTest, ...] = ()
    source: Source = Source("")
    event: str = "viewer-request"
    """The event type the function is written for: the default of its tests' `eventType`."""
    key_value_stores: tuple[str, ...] = ()
    """ARNs of the associated key value stores (at most one)."""

    @property
    def resource(self) -> str:
        return f"function/{self.name}"


@dataclass(frozen=True)
class Job:
    id: str
    token: str
    document: Mapping[str, Any]
    """The published JSON object of this job (no `kind`; dates as ISO strings)."""
    source: Source = Source("")

    @cached_property
    def canonical(self) -> bytes:
        """`canonical_json(document)`, computed once per job (the loader reuses unchanged jobs)."""
        return canonical_json(dict(self.document))


@dataclass(frozen=True)
class Desired:
    root: Path
    site: Site
    releases: tuple[Release, ...] = ()
    functions: tuple[Function, ...] = ()
    jobs: tuple[Job, ...] = ()

    def jobs_document(self) -> dict[str, Any]:
        """The object published as jobs.json: every job sorted by id. The jobs' own documents, not
        copies (at 100,000 jobs a copy each is ~60 MB): like everything here, read-only."""
        return {"jobs": [j.document for j in sorted(self.jobs, key=lambda j: j.id)]}

    @cached_property
    def jobs_canonical(self) -> bytes:
        """`canonical_json(self.jobs_document())`, assembled from the jobs' cached bytes (the same
        bytes: canonical JSON of `{"jobs": [...]}` is the items' canonical JSON joined by commas)."""
        return b'{"jobs":[' + b",".join(j.canonical for j in sorted(self.jobs, key=lambda j: j.id)) + b"]}"

    def distribution_id(self, logical: str) -> str:
        return self.site.distributions[logical]


@dataclass(frozen=True)
class FunctionStage:
    """One stage (DEVELOPMENT or LIVE) of a CloudFront function as read."""

    etag: str
    code: bytes
    runtime: str
    comment: str = ""
    key_value_stores: tuple[str, ...] = ()


@dataclass(frozen=True)
class LiveFunction:
    name: str
    development: FunctionStage | None = None
    live: FunctionStage | None = None


@dataclass(eq=False)
class _CanonicalMemo:
    """What a `LiveObject` has serialized of its document so far (filled lazily, once)."""

    whole: bytes | None = None
    per_job: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class LiveObject:
    """The jobs object as read: `document` is the parsed JSON, None when absent or unparsable.

    It carries its own canonical JSON, computed at most once: the reader hands back this same
    object while the object's ETag is unchanged, so a no-change reconcile re-serializes nothing
    (at 100,000 jobs that is ~40 MB of JSON) without the planner keeping any memo of its own."""

    bucket: str
    key: str
    exists: bool
    etag: str | None = None
    document: JSON = None
    _memo: _CanonicalMemo = field(default_factory=_CanonicalMemo, init=False, compare=False, repr=False)
    """Not an argument, so `dataclasses.replace` never hands one document's memo to another."""

    @classmethod
    def built_from(cls, desired: Desired, bucket: str, key: str, etag: str) -> LiveObject:
        """The object whose bytes are exactly `desired.jobs_canonical` (this process's own upload),
        as the reader would have parsed it, its canonical JSON known without serializing anything."""
        built = cls(bucket, key, True, etag, desired.jobs_document())
        built._memo.whole = desired.jobs_canonical
        built._memo.per_job.update((j.id, j.canonical) for j in desired.jobs)
        return built

    @property
    def canonical(self) -> bytes | None:
        """`canonical_json(document)`, or None for an absent/unparsable (None) document."""
        if self.document is None:
            return None
        if self._memo.whole is None:
            self._memo.whole = canonical_json(self.document)
        return self._memo.whole

    def job_canonical(self, job: JSONObject) -> bytes:
        """The canonical JSON of `job`, one job (by its `id`) of this object's document."""
        job_id = str(job["id"])
        found = self._memo.per_job.get(job_id)
        if found is None:
            found = self._memo.per_job[job_id] = canonical_json(job)
        return found


@dataclass(frozen=True)
class Live:
    functions: Mapping[str, LiveFunction] = field(default_factory=dict)
    """Function name -> what exists; a missing name means the function does not exist."""
    parameters: Mapping[str, str | None] = field(default_factory=dict)
    """SSM parameter name -> value (None when it does not exist)."""
    jobs: LiveObject | None = None


def jobs_resource(bucket: str, key: str) -> str:
    return f"jobs/{bucket}/{key}"


def invalidation_resource(distribution: str) -> str:
    return f"invalidation/{distribution}"


def canonical_json(value: Any) -> bytes:
    """Stable bytes for a JSON value: sorted keys, no whitespace, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(value: Any) -> str:
    """Short content digest used by drift baselines and plan comparisons."""
    data = value if isinstance(value, bytes) else canonical_json(value)
    return hashlib.sha256(data).hexdigest()[:16]
