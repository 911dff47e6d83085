"""Shared checks of the reliability tests: converged live state, write order, invalidations."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from reconciler.core.staterecords import Intent
from reconciler.cycle import statefile, stateschema
from tests.aws.conftest import CODE, Stack, run

FUNCTION_WRITES = ("CreateFunction", "UpdateFunction", "TestFunction", "PublishFunction")


def events_named(logs: Iterable[Mapping[str, Any]], name: str) -> list[Mapping[str, Any]]:
    return [e for e in logs if e["event"] == name]


def change_everything(stack: Stack) -> None:
    """New function code, release web -> v2 (its files uploaded first), one job changed."""
    d = stack.holder.desired
    bucket = d.releases[0].bucket
    for key in ("web/v2/index.html", "web/v2/app.js"):
        stack.s3.put_object(Bucket=bucket, Key=key, Body=b"v2")
    job = d.jobs[0]
    stack.change(
        functions=(replace(d.functions[0], code=CODE + b"// v2\n"),),
        releases=(replace(d.releases[0], version="v2"), d.releases[1]),
        jobs=(replace(job, document={**job.document, "status": "scheduled"}),),
    )


def live_state(stack: Stack) -> dict[str, Any]:
    d = stack.holder.desired
    fn = d.functions[0]
    try:
        code = stack.cf.get_function(Name=fn.name, Stage="LIVE")["FunctionCode"].read()
    except Exception:  # noqa: BLE001 - absent
        code = None
    target = d.site.jobs
    assert target is not None
    try:
        jobs = json.loads(stack.s3.get_object(Bucket=target.bucket, Key=target.key)["Body"].read())
    except Exception:  # noqa: BLE001 - absent
        jobs = None
    return {
        "parameters": {r.parameter: stack.parameter(r.parameter) for r in d.releases},
        "code": code,
        "jobs": jobs,
    }


def desired_state(stack: Stack) -> dict[str, Any]:
    d = stack.holder.desired
    return {
        "parameters": {r.parameter: r.version for r in d.releases},
        "code": d.functions[0].code,
        "jobs": json.loads(json.dumps(d.jobs_document())),
    }


def pending_intents(stack: Stack) -> list[Intent]:
    return list(stateschema.parse_intents(statefile.read_json(stack.state_dir / statefile.INTENTS) or {}).intents)


def assert_converged(stack: Stack) -> None:
    """Live equals desired, no invalidation is owed, and one more reconcile writes nothing."""
    assert live_state(stack) == desired_state(stack)
    assert pending_intents(stack) == []
    result, logs = run(stack.reconciler())
    assert result.result == "in_sync", (result, logs)
    assert result.writes == 0
    assert not events_named(logs, "invalidation.created")


def assert_ordered(ops: list[str]) -> None:
    """SPEC 3 order within one reconcile: functions before releases, require check before the
    pointer, invalidations after every change."""
    def first(names: tuple[str, ...]) -> int:
        found = [i for i, op in enumerate(ops) if op in names]
        return min(found) if found else len(ops)

    def last(names: tuple[str, ...]) -> int:
        found = [i for i, op in enumerate(ops) if op in names]
        return max(found) if found else -1

    if "PutParameter" in ops:
        assert last(FUNCTION_WRITES) < first(("PutParameter",)), ops
        assert first(("HeadObject",)) < first(("PutParameter",)), ops
    if "CreateInvalidation" in ops:
        assert last(("PutParameter", "PutObject", *FUNCTION_WRITES)) < first(("CreateInvalidation",)), ops


def invalidated_paths(stack: Stack, logical: str, before: int = 0) -> list[list[str]]:
    """Paths of each invalidation on `logical` after the first `before` ones."""
    return stack.invalidations(logical)[before:]


def covers(paths: set[str], needed: str) -> bool:
    if needed in paths or "/*" in paths:
        return True
    return any(p.endswith("*") and needed.startswith(p[:-1]) for p in paths)
