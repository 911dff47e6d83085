"""What a plan is made of: one frozen action type per kind, and the `Plan` that orders them.

Each kind carries exactly what the renderers and the writer need, as typed fields: a function
its fields, code diff and DEVELOPMENT ETag, a release its old and new version, the jobs object
its added/removed/changed job ids (never values), an invalidation its distribution and paths.
`FieldChange` is the `{field, before, after}` entry of `plan --json` (SPEC section 5).
Which fields a drifted resource differs in is decided here too (`drift_fields`), next to the
data it is read from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from reconciler.core.jsonvalue import JSON
from reconciler.core.model import Invalidate

FUNCTION, RELEASE, JOBS, INVALIDATION = "function", "release", "jobs", "invalidation"
KIND_ORDER = {FUNCTION: 0, RELEASE: 1, JOBS: 2, INVALIDATION: 3}


@dataclass(frozen=True)
class FieldChange:
    """One changed field, LIVE -> desired; `before` is None when the resource is absent."""

    field: str
    before: JSON
    after: JSON

    def as_dict(self) -> dict[str, JSON]:
        return {"field": self.field, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class _Change:
    """What every action has: the verb, the resource id, and the paths it invalidates."""

    kind: ClassVar[str]
    action: str
    """create | update | publish (functions) | invalidate."""
    resource: str
    invalidate: Invalidate

    def as_dict(self) -> dict[str, str]:
        return {"action": self.action, "resource": self.resource}


@dataclass(frozen=True)
class FunctionAction(_Change):
    """Create or update DEVELOPMENT (unless it already holds the code: publish), test, publish."""

    kind: ClassVar[str] = FUNCTION
    name: str
    fields: tuple[str, ...]
    """The differing fields among code, runtime, comment, keyValueStores."""
    settings: Mapping[str, tuple[str, str]]
    """Runtime, comment, keyValueStores as shown: name -> (LIVE, desired), for those that differ."""
    changes: tuple[FieldChange, ...]
    diff: str
    """Unified diff of the code, LIVE -> desired."""
    development_etag: str | None
    tests: tuple[str, ...]
    """Names of the tests run against DEVELOPMENT before publishing."""

    def drift_fields(self) -> list[str]:
        return list(self.fields)


@dataclass(frozen=True)
class ReleaseAction(_Change):
    """Move a release's SSM pointer from `old` (None: absent) to `new`."""

    kind: ClassVar[str] = RELEASE
    name: str
    parameter: str
    old: str | None
    new: str
    bucket: str
    require: tuple[str, ...]
    """Keys that must exist in the new version's folder before the pointer moves."""

    @property
    def changes(self) -> tuple[FieldChange, ...]:
        return (FieldChange("version", self.old, self.new),)

    def drift_fields(self) -> list[str]:
        return ["version"]


@dataclass(frozen=True)
class JobChanges:
    """The jobs that differ, by id and field name only: job fields hold customer data."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Job id -> names of its changed fields."""
    replaced: bool = False
    """The live object is there but is not a jobs document: it is replaced whole."""


@dataclass(frozen=True)
class JobsAction(_Change):
    """Write the jobs object, guarded by the ETag read (`etag` None: only if still absent)."""

    kind: ClassVar[str] = JOBS
    bucket: str
    key: str
    etag: str | None
    jobs: JobChanges

    def drift_fields(self) -> list[str]:
        jobs = self.jobs
        named = {*jobs.added, *jobs.removed, *(f"{i}.{f}" for i, fs in jobs.changed.items() for f in fs)}
        return sorted(named) or ["document"]


@dataclass(frozen=True)
class InvalidationAction(_Change):
    """One CloudFront invalidation: the union of the paths the changes on a distribution cause."""

    kind: ClassVar[str] = INVALIDATION
    distribution: str
    """The logical name (as in the Site); `distribution_id` is CloudFront's id, None if unknown."""
    distribution_id: str | None
    paths: tuple[str, ...]
    causes: tuple[str, ...]
    """The resource ids whose changes invalidate these paths."""

    @property
    def changes(self) -> tuple[FieldChange, ...]:
        return (FieldChange("paths", None, self.paths),)

    def drift_fields(self) -> list[str]:
        return []


Action = FunctionAction | ReleaseAction | JobsAction | InvalidationAction
"""One change to make; `match` on the type to read what its kind carries."""


def drift_fields(action: Action | None) -> list[str]:
    """What a drifted resource differs in, as logged (`drift.detected`, `conflict.detected`):
    function fields, `version`, or job ids and `id.field` names; nothing when nothing is planned."""
    return action.drift_fields() if action is not None else []


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...] = ()

    @property
    def changes(self) -> tuple[Action, ...]:
        """The actions that change a resource (everything but invalidations)."""
        return tuple(a for a in self.actions if not isinstance(a, InvalidationAction))

    @property
    def invalidations(self) -> tuple[InvalidationAction, ...]:
        return tuple(a for a in self.actions if isinstance(a, InvalidationAction))

    def __bool__(self) -> bool:
        return bool(self.actions)
