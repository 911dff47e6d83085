"""Drift versus change, decided from a per-resource baseline (pure; the state file holds it).

A baseline is recorded whenever a reconcile sees a resource's live state equal to its desired
state (after applying it, or found in sync). Later, live differing while the desired digest is
still the baseline's is drift: someone changed live behind git's back. Anything else that
differs (desired changed, or never seen in sync) is a change to apply.

After each reconcile the cycle keeps its books with the rest: which drift to log now
(`detected`), which recorded drift is gone (`resolved`), and the new baselines (`baselines_after`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from enum import StrEnum

from reconciler.core.planning import Observation
from reconciler.core.staterecords import Baseline, DriftRecord, now_iso


class Verdict(StrEnum):
    """One resource at one read (see `results.Result` for what a whole reconcile came to)."""

    IN_SYNC = "in_sync"
    """Live equals desired."""
    DRIFT = "drift"
    """Live changed behind git's back: desired is still what was last seen in sync."""
    CHANGE = "change"
    """Desired changed (or was never seen in sync): a change to apply."""


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


def should_log(record: DriftRecord | None, live_digest: str | None, now: float, repeat: float) -> bool:
    """Log `drift.detected` once per distinct drifted live state, again after `repeat` seconds."""
    if record is None or record.live != live_digest:
        return True
    return now - record.logged_at >= repeat


def detected(
    records: Mapping[str, DriftRecord],
    drifted: Iterable[str],
    observations: Mapping[str, Observation],
    fields: Mapping[str, Sequence[str]],
    now: float,
    repeat: float,
) -> dict[str, DriftRecord]:
    """The drift to log as `drift.detected` now, as the records that replace the old ones: each
    drifted resource whose live state is new, or was last logged `repeat` seconds ago. `since`
    stays while live stays in the same drifted state."""
    logged: dict[str, DriftRecord] = {}
    for resource in drifted:
        live, record = observations[resource].live, records.get(resource)
        if should_log(record, live, now, repeat):
            since = record.since if record is not None and record.live == live else now_iso(now)
            logged[resource] = DriftRecord(since, live, tuple(fields.get(resource, ())), now)
    return logged


def resolved(records: Mapping[str, DriftRecord], still_open: Collection[str]) -> list[str]:
    """The recorded drift that is gone: healed by self-heal, put back by hand, or no longer drift."""
    return [resource for resource in records if resource not in still_open]


def baselines_after(
    baselines: Mapping[str, Baseline],
    observations: Mapping[str, Observation],
    verdicts: Mapping[str, Verdict],
    applied: Collection[str],
) -> dict[str, Baseline]:
    """The baselines after a reconcile: what was applied is live as desired now, what was found in
    sync is its own baseline; drift and pending changes keep theirs; unknown resources drop."""
    after = dict(baselines)
    for resource, seen in observations.items():
        if resource in applied:
            after[resource] = Baseline(seen.desired, seen.desired)
        elif verdicts.get(resource) == Verdict.IN_SYNC:
            after[resource] = Baseline(seen.desired, seen.live)
    return {resource: b for resource, b in after.items() if resource in observations}
