"""What one reconcile came to: `reconcile.done`'s `result` (SPEC section 5), as one enum, decided
in one place (`result_of`), and the `CycleResult` value the daemon's loop acts on.

Not to be confused with `drift.Verdict`, which is about one resource: a resource can be
`Verdict.DRIFT` while its reconcile is `Result.APPLIED` (self-heal put git's version back) or
`Result.DRIFT` (the drift is left open). A `StrEnum`, so logs, JSON and the state file carry the
same words as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from reconciler.core.retrying import Retry


class Result(StrEnum):
    IN_SYNC = "in_sync"
    """Nothing to do: live already equals desired."""
    APPLIED = "applied"
    """At least one change was applied, and nothing failed."""
    DRIFT = "drift"
    """Nothing applied, and some drift is left open (not self-healing)."""
    FAILED = "failed"
    """An action, an invalidation or the read failed; retried along `core.retrying`."""
    INVALID = "invalid"
    """The desired directory is invalid; waits for a change to the files."""

    @property
    def ok(self) -> bool:
        """False for failed and invalid: `apply` exits 1, `status` reports a failure."""
        return self not in (Result.FAILED, Result.INVALID)


def result_of(*, failed: bool, applied: bool, drift_open: bool) -> Result:
    """A failure outranks changes applied, which outrank drift left open; else in sync."""
    if failed:
        return Result.FAILED
    if applied:
        return Result.APPLIED
    return Result.DRIFT if drift_open else Result.IN_SYNC


@dataclass(frozen=True)
class CycleResult:
    """One reconcile as the daemon's loop sees it (and `reconcile.done` and `status` report it)."""

    result: Result
    changes: int = 0
    duration_ms: int = 0
    api_calls: int = 0
    commit: str | None = None
    errors: tuple[str, ...] = ()
    drifted: tuple[str, ...] = ()
    writes: int = 0
    retry: Retry | None = None
    """For a failed result: how the daemon retries it (the errors' own paths, `retrying.combined`)."""
