"""A stage-aware store of CloudFront Functions: the state behind the sandbox's `/function` routes.

Each function has a DEVELOPMENT stage (from CreateFunction/UpdateFunction) and, once published,
a LIVE stage; each stage has its own code, config and ETag. Every write is guarded by `IfMatch`
as on AWS: missing or malformed -> 400 `InvalidIfMatchVersion`, stale -> 412 `PreconditionFailed`.
Pure Python (no HTTP): `wire.py` parses requests and renders results; called by `middleware.py`.
"""

from __future__ import annotations

import json
import re
import secrets
import string
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from reconciler.sandbox.errors import ApiError

DEVELOPMENT = "DEVELOPMENT"
LIVE = "LIVE"
STAGES = (DEVELOPMENT, LIVE)
RUNTIMES = ("cloudfront-js-1.0", "cloudfront-js-2.0")
MAX_CODE_BYTES = 10 * 1024
_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_ETAG = re.compile(r"^[A-Z0-9]{1,64}$")
_ETAG_ALPHABET = string.ascii_uppercase + string.digits


def new_etag() -> str:
    """An ETag in AWS's look: `E` and 13 upper-case letters or digits."""
    return "E" + "".join(secrets.choice(_ETAG_ALPHABET) for _ in range(13))


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class FunctionConfig:
    comment: str
    runtime: str
    key_value_store_arns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Stage:
    """One stage of one function as stored."""

    config: FunctionConfig
    code: bytes
    etag: str
    last_modified: datetime


@dataclass
class StoredFunction:
    name: str
    arn: str
    created: datetime
    stages: dict[str, Stage] = field(default_factory=dict)
    published: bool = False

    @property
    def status(self) -> str:
        return "UNASSOCIATED" if self.published else "UNPUBLISHED"


@dataclass(frozen=True)
class Summary:
    """A FunctionSummary of one stage: what Describe/Create/Update/Publish/List return."""

    name: str
    status: str
    config: FunctionConfig
    arn: str
    stage: str
    created: datetime
    last_modified: datetime
    etag: str


@dataclass(frozen=True)
class TestOutcome:
    summary: Summary
    compute_utilization: int
    logs: tuple[str, ...]
    error: str | None
    output: str | None


class FunctionStore:
    """Thread-safe CloudFront Functions of one sandbox (one account: `account_id`)."""

    def __init__(self, account_id: str = "123456789012") -> None:
        self.account_id = account_id
        self._functions: dict[str, StoredFunction] = {}
        self._lock = threading.RLock()

    # -- reads ---------------------------------------------------------------------------------

    def describe(self, name: str, stage: str | None = None) -> Summary:
        with self._lock:
            fn, st = self._stage(name, stage)
            return self._summary(fn, st)

    def get(self, name: str, stage: str | None = None) -> tuple[bytes, str]:
        """The code bytes and the ETag of one stage."""
        with self._lock:
            fn, st = self._stage(name, stage)
            return fn.stages[st].code, fn.stages[st].etag

    def list(self, stage: str | None = None) -> list[Summary]:
        """Summaries sorted by name; without `stage`, every existing stage of every function."""
        if stage is not None:
            _check_stage(stage)
        with self._lock:
            out = []
            for name in sorted(self._functions):
                fn = self._functions[name]
                for st in STAGES if stage is None else (stage,):
                    if st in fn.stages:
                        out.append(self._summary(fn, st))
            return out

    # -- writes --------------------------------------------------------------------------------

    def create(self, name: str, config: FunctionConfig, code: bytes) -> Summary:
        if not _NAME.match(name or ""):
            raise ApiError(400, "InvalidArgument", f"Invalid function name: {name!r}")
        _check_config(config, code)
        with self._lock:
            if name in self._functions:
                raise ApiError(409, "FunctionAlreadyExists", f"Function {name} already exists")
            t = now()
            fn = StoredFunction(
                name=name,
                arn=f"arn:aws:cloudfront::{self.account_id}:function/{name}",
                created=t,
                stages={DEVELOPMENT: Stage(config, code, new_etag(), t)},
            )
            self._functions[name] = fn
            return self._summary(fn, DEVELOPMENT)

    def update(self, name: str, if_match: str | None, config: FunctionConfig, code: bytes) -> Summary:
        _check_config(config, code)
        with self._lock:
            fn = self._function(name)
            self._check_if_match(fn, DEVELOPMENT, if_match)
            fn.stages[DEVELOPMENT] = Stage(config, code, new_etag(), now())
            return self._summary(fn, DEVELOPMENT)

    def publish(self, name: str, if_match: str | None) -> Summary:
        """Copy DEVELOPMENT to LIVE; both stages get new ETags. Returns the LIVE summary."""
        with self._lock:
            fn = self._function(name)
            self._check_if_match(fn, DEVELOPMENT, if_match)
            dev = fn.stages[DEVELOPMENT]
            t = now()
            fn.stages[LIVE] = Stage(dev.config, dev.code, new_etag(), t)
            fn.stages[DEVELOPMENT] = replace(dev, etag=new_etag())
            fn.published = True
            return self._summary(fn, LIVE)

    def delete(self, name: str, if_match: str | None) -> None:
        """Delete the whole function; `if_match` is the current ETag of either stage."""
        with self._lock:
            fn = self._function(name)
            _check_if_match_format(if_match)
            if if_match not in {s.etag for s in fn.stages.values()}:
                raise ApiError(412, "PreconditionFailed", "The If-Match version does not match the current version")
            del self._functions[name]

    def test(self, name: str, if_match: str | None, stage: str | None, event: bytes) -> TestOutcome:
        """Run one stage's code on `event` (JSON) with the local runtime of its `Runtime`.

        As the API reference and botocore's model say: EventObject is at most 40,960 bytes, and the
        operation's errors are InvalidArgument, InvalidIfMatchVersion (also for a stale ETag: the
        model lists no PreconditionFailed for TestFunction), NoSuchFunctionExists.
        https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_TestFunction.html"""
        from reconciler.cfjs import execute
        from reconciler.cfjs.features import EVENT_LIMIT_BYTES

        if len(event) > EVENT_LIMIT_BYTES:
            raise ApiError(400, "InvalidArgument", f"EventObject is larger than {EVENT_LIMIT_BYTES} bytes")
        with self._lock:
            fn, st = self._stage(name, stage)
            _check_if_match_format(if_match)
            if if_match != fn.stages[st].etag:
                raise ApiError(400, "InvalidIfMatchVersion", f"The If-Match version is not the current one of {st}")
            summary = self._summary(fn, st)
            code = fn.stages[st].code
            runtime = fn.stages[st].config.runtime
        try:
            parsed = json.loads(event.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ApiError(400, "InvalidArgument", f"EventObject is not valid JSON: {exc}") from None
        if not isinstance(parsed, dict):
            raise ApiError(400, "InvalidArgument", "EventObject must be a JSON object")
        run = execute(code.decode("utf-8", errors="replace"), runtime, parsed)
        output = None if run.output is None else json.dumps(run.output, separators=(",", ":"))
        return TestOutcome(summary, run.compute_utilization, run.logs, run.error, output)

    # -- helpers -------------------------------------------------------------------------------

    def _function(self, name: str) -> StoredFunction:
        fn = self._functions.get(name)
        if fn is None:
            raise ApiError(404, "NoSuchFunctionExists", f"The function {name} does not exist")
        return fn

    def _stage(self, name: str, stage: str | None) -> tuple[StoredFunction, str]:
        st = stage or DEVELOPMENT
        _check_stage(st)
        fn = self._function(name)
        if st not in fn.stages:
            raise ApiError(404, "NoSuchFunctionExists", f"The function {name} does not exist in stage {st}")
        return fn, st

    @staticmethod
    def _check_if_match(fn: StoredFunction, stage: str, if_match: str | None) -> None:
        _check_if_match_format(if_match)
        if if_match != fn.stages[stage].etag:
            raise ApiError(412, "PreconditionFailed", "The If-Match version does not match the current version")

    @staticmethod
    def _summary(fn: StoredFunction, stage: str) -> Summary:
        st = fn.stages[stage]
        return Summary(fn.name, fn.status, st.config, fn.arn, stage, fn.created, st.last_modified, st.etag)


def _check_stage(stage: str) -> None:
    if stage not in STAGES:
        raise ApiError(400, "InvalidArgument", f"Stage must be one of {', '.join(STAGES)}")


def _check_if_match_format(if_match: str | None) -> None:
    if not if_match or not _ETAG.match(if_match):
        raise ApiError(400, "InvalidIfMatchVersion", "The If-Match version is missing or not valid for the resource")


def _check_config(config: FunctionConfig, code: bytes) -> None:
    if config.runtime not in RUNTIMES:
        raise ApiError(400, "InvalidArgument", f"Runtime must be one of {', '.join(RUNTIMES)}")
    if not code:
        raise ApiError(400, "InvalidArgument", "FunctionCode must not be empty")
    if len(code) > MAX_CODE_BYTES:
        raise ApiError(413, "FunctionSizeLimitExceeded", f"Function code exceeds {MAX_CODE_BYTES} bytes")


def summary_dict(s: Summary) -> dict[str, Any]:
    """A FunctionSummary as botocore names its members (for XML rendering)."""
    config: dict[str, Any] = {"Comment": s.config.comment, "Runtime": s.config.runtime}
    if s.config.key_value_store_arns:
        config["KeyValueStoreAssociations"] = {
            "Quantity": len(s.config.key_value_store_arns),
            "Items": [{"KeyValueStoreARN": a} for a in s.config.key_value_store_arns],
        }
    return {
        "Name": s.name,
        "Status": s.status,
        "FunctionConfig": config,
        "FunctionMetadata": {
            "FunctionARN": s.arn,
            "Stage": s.stage,
            "CreatedTime": s.created,
            "LastModifiedTime": s.last_modified,
        },
    }
