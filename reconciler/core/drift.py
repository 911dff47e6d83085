"""Drift versus change, decided from a per-resource baseline (pure; the state file holds it).

A baseline is recorded whenever a reconcile sees a resource's live state equal to its desired
state (after applying it, or found in sync). Later, live differing while the desired digest is
still the baseline's is drift: someone changed live behind git's back. Anything else that
differs (desired changed, or never seen in sync) is a change to apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from reconciler.core.planning import Observation


class Verdict(StrEnum):
    """One resource at one read (see `results.Result` for what a whole reconcile came to)."""

    IN_SYNC = "in_sync"
    """Live equals desired."""
    DRIFT = "drift"
    """Live changed behind git's back: desired is still what was last seen in sync."""
    CHANGE = "change"
    """Desired changed (or was never seen in sync): a change to apply."""


@dataclass(frozen=True)
class Baseline:
    desired: str
    live: str | None


def classify(baselines: Mapping[str, Baseline], observations: Mapping[str, Observation]) -> dict[str, Verdict]:
    """Per resource: in_sync, drift (desired unchanged since last seen in sync) or change."""
    verdicts: dict[str, Verdict] = {}
    for resource, seen in observations.items():
        base = baselines.get(resource)
        if seen.in_sync:
            verdicts[resource] = Verdict.IN_SYNC
        elif base is not None and base.desired == seen.desired and base.live != seen.live:
            verdicts[resource] = Verdict.DRIFT
        else:
            verdicts[resource] = Verdict.CHANGE
    return verdicts


def should_log(record: Mapping[str, Any] | None, live_digest: str | None, now: float, repeat: float) -> bool:
    """Log `drift.detected` once per distinct drifted live state, again after `repeat` seconds."""
    if record is None or record.get("live") != live_digest:
        return True
    return now - float(record.get("logged_at", 0)) >= repeat


def baselines_from(raw: Mapping[str, Any]) -> dict[str, Baseline]:
    return {
        k: Baseline(str(v["desired"]), v.get("live"))
        for k, v in raw.items()
        if isinstance(v, dict) and "desired" in v
    }
