"""What one reconcile came to: `reconcile.done`'s `result` (SPEC section 5), as one enum.

Not to be confused with `drift.Verdict`, which is about one resource: a resource can be
`Verdict.DRIFT` while its reconcile is `Result.APPLIED` (self-heal put git's version back) or
`Result.DRIFT` (the drift is left open). A `StrEnum`, so logs, JSON and the state file carry the
same words as before.
"""

from __future__ import annotations

from enum import StrEnum


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
