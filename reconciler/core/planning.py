"""The plan: a pure function from (desired, live) to the ordered, minimal list of actions.

Order follows SPEC section 3: functions, then releases and jobs, then one invalidation per
distribution. Nothing is planned for a resource whose live state already equals desired:
function code is compared as exact bytes plus runtime and comment, jobs as parsed JSON.
The actions themselves, one type per kind, are `core.actions`; the invalidations that end a
plan are made by `core.invalidating`.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from reconciler.core.actions import (
    KIND_ORDER,
    FieldChange,
    FunctionAction,
    JobChanges,
    JobsAction,
    Plan,
    ReleaseAction,
)
from reconciler.core.invalidating import invalidations_for
from reconciler.core.jsonvalue import JSON, JSONObject
from reconciler.core.model import (
    Desired,
    Function,
    FunctionStage,
    Live,
    LiveFunction,
    Release,
    canonical_json,
    digest,
)


def plan(desired: Desired, live: Live, skip: Iterable[str] = ()) -> Plan:
    """The minimal ordered plan; resources in `skip` (e.g. drift not to be healed) are left alone."""
    skipped = set(skip)
    changes = [
        a
        for a in (
            *(_plan_function(f, live.functions.get(f.name)) for f in desired.functions),
            *(_plan_release(r, live.parameters.get(r.parameter)) for r in desired.releases),
            _plan_jobs(desired, live),
        )
        if a is not None and a.resource not in skipped
    ]
    changes.sort(key=lambda a: (KIND_ORDER[a.kind], a.resource))
    return Plan(tuple(changes) + invalidations_for(changes, desired.site.distributions))


# -- functions -------------------------------------------------------------------------------


def stage_equals(function: Function, stage: FunctionStage | None) -> bool:
    return (
        stage is not None
        and stage.code == function.code
        and stage.runtime == function.runtime
        and (stage.comment or "") == (function.comment or "")
        and stage.key_value_stores == function.key_value_stores
    )


def _plan_function(function: Function, live: LiveFunction | None) -> FunctionAction | None:
    current = live.live if live else None
    if stage_equals(function, current):
        return None
    development = live.development if live else None
    if live is None or development is None:
        verb = "create"
    elif stage_equals(function, development):
        verb = "publish"
    else:
        verb = "update"
    fields = _function_fields(function, current)
    return FunctionAction(
        verb,
        function.resource,
        function.invalidate,
        name=function.name,
        fields=fields,
        settings=_settings_changed(function, current),
        changes=_function_changes(function, current, fields),
        diff=code_diff(function.name, current.code if current else b"", function.code),
        development_etag=development.etag if development else None,
        tests=tuple(t.name for t in function.tests),
    )


def _function_fields(function: Function, current: FunctionStage | None) -> tuple[str, ...]:
    if current is None:
        return ("code", "runtime", "comment") + (("keyValueStores",) if function.key_value_stores else ())
    fields = []
    if current.code != function.code:
        fields.append("code")
    if current.runtime != function.runtime:
        fields.append("runtime")
    if (current.comment or "") != (function.comment or ""):
        fields.append("comment")
    if current.key_value_stores != function.key_value_stores:
        fields.append("keyValueStores")
    return tuple(fields)


def _settings_changed(function: Function, current: FunctionStage | None) -> dict[str, tuple[str, str]]:
    """Runtime, comment and key value store: LIVE -> desired, for those that differ (shown by plan)."""
    def shown(stage: FunctionStage | Function | None) -> dict[str, str]:
        if stage is None:
            return {"runtime": "(absent)", "comment": "(absent)", "keyValueStores": "(none)"}
        return {"runtime": stage.runtime, "comment": stage.comment or "",
                "keyValueStores": ", ".join(stage.key_value_stores) or "(none)"}

    old, new = shown(current), shown(function)
    return {name: (old[name], new[name]) for name in old if old[name] != new[name]}


_ATTRIBUTES = {"keyValueStores": "key_value_stores"}


def _function_changes(
    function: Function, current: FunctionStage | None, fields: Iterable[str]
) -> tuple[FieldChange, ...]:
    """One change per differing field, LIVE -> desired (code as text)."""
    def value(stage: Function | FunctionStage | None, field: str) -> str | tuple[str, ...] | None:
        if stage is None:
            return None
        raw: bytes | str | tuple[str, ...] | None = getattr(stage, _ATTRIBUTES.get(field, field))
        if isinstance(raw, bytes):
            return raw.decode("utf-8", "replace")
        return raw if isinstance(raw, tuple) else raw or ""

    return tuple(FieldChange(f, value(current, f), value(function, f)) for f in fields)


def code_diff(name: str, old: bytes, new: bytes) -> str:
    """Unified diff of function code, LIVE -> desired."""
    lines = difflib.unified_diff(
        old.decode("utf-8", "replace").splitlines(keepends=True),
        new.decode("utf-8", "replace").splitlines(keepends=True),
        fromfile=f"{name} (LIVE)",
        tofile=f"{name} (desired)",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


# -- releases --------------------------------------------------------------------------------


def _plan_release(release: Release, current: str | None) -> ReleaseAction | None:
    if current == release.version:
        return None
    return ReleaseAction(
        "create" if current is None else "update",
        release.resource,
        release.invalidate,
        name=release.name,
        parameter=release.parameter,
        old=current,
        new=release.version,
        bucket=release.bucket,
        require=tuple(release.required_keys()),
    )


# -- jobs ------------------------------------------------------------------------------------


def _plan_jobs(desired: Desired, live: Live) -> JobsAction | None:
    target = desired.site.jobs
    if target is None:
        return None
    current = live.jobs
    if current is not None and current.exists and current.canonical == desired.jobs_canonical:
        return None
    document = desired.jobs_document()
    exists = current is not None and current.exists
    old = current.document if exists and current else None
    serialized = current.job_canonical if current else canonical_json  # once per job per object read
    changes = job_changes(old, document, _canonical_by_id(desired), serialized)
    if exists and old is None:
        changes = replace(changes, replaced=True)  # the live object is there but is not JSON
    return JobsAction(
        "update" if exists else "create",
        target.resource,
        target.invalidate,
        bucket=target.bucket,
        key=target.key,
        etag=current.etag if exists and current else None,
        jobs=changes,
    )


def _canonical_by_id(desired: Desired) -> dict[str, bytes] | None:
    """Job id -> `Job.canonical`; None unless ids are unique (the loader guarantees they are)."""
    by_id = {j.id: j.canonical for j in desired.jobs}
    return by_id if len(by_id) == len(desired.jobs) else None


def _jobs_by_id(document: Any) -> dict[str, Mapping[str, Any]] | None:
    if not isinstance(document, dict) or not isinstance(document.get("jobs"), list):
        return None
    jobs: dict[str, Mapping[str, Any]] = {}
    for job in document["jobs"]:
        if not isinstance(job, dict) or not isinstance(job.get("id"), str):
            return None
        jobs[job["id"]] = job
    return jobs


def job_changes(
    old_document: JSON,
    new_document: Mapping[str, Any],
    new_canonical: Mapping[str, bytes] | None = None,
    old_canonical: Callable[[JSONObject], bytes] = canonical_json,
) -> JobChanges:
    """Added, removed and changed job ids (with changed field names only: no customer data).

    `new_canonical` (job id -> canonical JSON of that job of `new_document`, as `Job.canonical`)
    lets a job whose whole canonical JSON is unchanged skip the per-field comparison: equal
    canonical JSON of two objects means equal canonical JSON of every field. `old_canonical` is
    how a job of `old_document` is serialized (`LiveObject.job_canonical` does it once per job)."""
    new = _jobs_by_id(new_document) or {}
    old = _jobs_by_id(old_document)
    if old is None:
        return JobChanges(added=tuple(sorted(new)), replaced=old_document is not None)
    same: set[str] = set()
    if new_canonical is not None:
        same = {
            job_id
            for job_id in set(old) & set(new)
            if job_id in new_canonical and old_canonical(old[job_id]) == new_canonical[job_id]
        }
    changed = {
        job_id: tuple(sorted(
            k
            for k in set(old[job_id]) | set(new[job_id])
            if canonical_json(old[job_id].get(k)) != canonical_json(new[job_id].get(k))
        ))
        for job_id in sorted(set(old) & set(new))
        if job_id not in same
    }
    return JobChanges(
        added=tuple(sorted(set(new) - set(old))),
        removed=tuple(sorted(set(old) - set(new))),
        changed={k: v for k, v in changed.items() if v},
    )


# -- observation, for drift ------------------------------------------------------------------


@dataclass(frozen=True)
class Observation:
    """A resource's desired and live digests at one read; `live` is None when absent."""

    desired: str
    live: str | None

    @property
    def in_sync(self) -> bool:
        return self.desired == self.live


def _stage_digest(code: bytes, runtime: str, comment: str, key_value_stores: tuple[str, ...] = ()) -> str:
    parts: dict[str, Any] = {"code": digest(code), "runtime": runtime, "comment": comment or ""}
    if key_value_stores:  # only when set, so the digests recorded before this field existed still match
        parts["keyValueStores"] = list(key_value_stores)
    return digest(parts)


def observe(desired: Desired, live: Live) -> dict[str, Observation]:
    """Per resource id, digests of desired and live (LIVE stage for functions, parsed JSON for jobs)."""
    seen: dict[str, Observation] = {}
    for f in desired.functions:
        current = live.functions.get(f.name)
        stage = current.live if current else None
        seen[f.resource] = Observation(
            _stage_digest(f.code, f.runtime, f.comment, f.key_value_stores),
            _stage_digest(stage.code, stage.runtime, stage.comment, stage.key_value_stores) if stage else None,
        )
    for r in desired.releases:
        value = live.parameters.get(r.parameter)
        seen[r.resource] = Observation(digest(r.version), digest(value) if value is not None else None)
    if desired.site.jobs is not None:
        jobs = live.jobs
        present = jobs is not None and jobs.exists
        live_json = jobs.canonical if present and jobs is not None else None
        seen[desired.site.jobs.resource] = Observation(
            digest(desired.jobs_canonical),
            digest(jobs.document if live_json is None else live_json) if present and jobs is not None else None,
        )
    return seen
