"""The retry policy, in one place: what the daemon does after a failed reconcile, and why.

A failure's error type says how it is retried (`ReconcilerError.retry`), and one frozen
`RetryPolicy` says how long to wait. Three paths:

- `REPLAN`: the live object changed underneath (stale ETag). The cycle re-reads and re-plans at
  once (once per reconcile); a conflict that is still there afterwards backs off like `BACKOFF`.
- `BACKOFF`: throttling, 5xx, network, or a failure of unknown cause. Worth retrying soon, along
  `RetryPolicy.backoff` (the last delay repeats).
- `SLOW`: permanent: AccessDenied, NoSuchBucket, a request AWS rejects as invalid, a function
  test that fails. Retrying at the throttling pace would only hammer AWS and bury the cause in
  the log: the daemon raises an alert (`reconcile.needs_attention`, level error) and retries
  along the slower `RetryPolicy.slow`. (A missing release file backs off instead: its upload is
  usually on the way, and an upload triggers no reconcile.)
  A new commit or file change still runs at once, whatever the path.

Within one AWS call, throttling and 5xx are first retried by botocore itself (adaptive mode,
`AwsSettings.max_attempts`); this policy starts where that one gave up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Retry(StrEnum):
    """How a failure is retried; carried by the error type."""

    REPLAN = "replan"
    BACKOFF = "backoff"
    SLOW = "slow"


@dataclass(frozen=True)
class RetryPolicy:
    backoff: tuple[float, ...] = (1, 2, 5, 10, 30, 60)
    """Seconds before the next reconcile after consecutive transient failures; the last repeats."""
    slow: tuple[float, ...] = (300, 900, 1800)
    """Seconds before the next reconcile after consecutive permanent failures; the last repeats."""

    def delay(self, retry: Retry, failures: int, fallback: float) -> float:
        """The wait after the `failures`-th failure in a row (1-based); `fallback` if a path is empty."""
        steps = self.slow if retry is Retry.SLOW else self.backoff
        if not steps:
            return fallback
        return float(steps[min(max(failures, 1), len(steps)) - 1])


def combined(retries: Iterable[Retry]) -> Retry:
    """The path of a reconcile with several failures: slow only when every failure is permanent
    (a transient one among them deserves the quick retry)."""
    seen = set(retries)
    return Retry.SLOW if seen == {Retry.SLOW} else Retry.BACKOFF
