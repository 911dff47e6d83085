"""The state directory's two documents as frozen values: what the cycle keeps between reconciles.

`State` is `state.json` (baselines, open drift, invalidations created but not yet confirmed, the
last result); `Intents` is `intents.json` (invalidations owed: recorded before a change, removed
once created). Pure data, in core because the cycle writes them and `reports.status` reads them;
`cycle.stateschema` parses and dumps them (same JSON keys, `version`). A change is a new value
(`dataclasses.replace`), never an edit in place.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

VERSION = 1
"""The schema version this reconciler writes and reads."""


def now_iso(at: float | None = None) -> str:
    """A moment as the state files and status show it: ISO 8601 UTC, milliseconds, `Z`."""
    moment = datetime.fromtimestamp(at if at is not None else time.time(), UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Baseline:
    """A resource's digests when last seen in sync (drift is live moving away from it)."""

    desired: str
    live: str | None


@dataclass(frozen=True)
class DriftRecord:
    """Open drift on one resource: since when, which live state, when `drift.detected` was logged."""

    since: str
    live: str | None
    fields: tuple[str, ...] = ()
    logged_at: float = 0.0


@dataclass(frozen=True)
class Created:
    """An invalidation created at CloudFront, not yet seen completed."""

    id: str
    distribution: str
    distribution_id: str
    paths: tuple[str, ...]
    created_at: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class Last:
    """The last reconcile's result, as `status` shows it."""

    time: str | None
    result: str
    commit: str | None = None
    changes: int = 0
    duration_ms: int = 0
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class State:
    baselines: Mapping[str, Baseline] = field(default_factory=dict)
    drift: Mapping[str, DriftRecord] = field(default_factory=dict)
    invalidations: tuple[Created, ...] = ()
    last: Last | None = None
    version: int = VERSION


@dataclass(frozen=True)
class Intent:
    """An owed invalidation with its own CallerReference (reused only to re-issue it)."""

    reference: str
    distribution: str
    distribution_id: str
    paths: tuple[str, ...]
    recorded_at: str | None = None


@dataclass(frozen=True)
class Intents:
    intents: tuple[Intent, ...] = ()
    version: int = VERSION
