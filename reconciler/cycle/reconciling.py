"""One reconcile: load -> read -> classify drift -> plan -> apply -> invalidate -> record.

Level-triggered and idempotent: whatever the trigger, everything is read and planned from
scratch. Returns a `CycleResult` value; only the daemon's loop decides what to do with it (along
`core.retrying`). Drift is decided by `core.drift`; what is owed to CloudFront is kept by
`journal.InvalidationJournal`; the state document (`core.staterecords.State`) is read once per
reconcile through `statestore`, carried through it as new values, and written once at its end.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import InitVar, dataclass, field, replace
from typing import Protocol

import structlog
from structlog.typing import FilteringBoundLogger

from reconciler import events
from reconciler.aws import applying, preflight
from reconciler.aws.applying import Outcome
from reconciler.aws.reading import ReadCache, read
from reconciler.aws.session import Clients, make_clients
from reconciler.core import drift
from reconciler.core.actions import Plan, drift_fields
from reconciler.core.errors import InvalidDesired, PreconditionFailed, ReconcilerError
from reconciler.core.jsonvalue import JSONObject
from reconciler.core.model import Desired
from reconciler.core.planning import Observation, observe, plan
from reconciler.core.results import CycleResult, Result, result_of
from reconciler.core.retrying import Retry, combined
from reconciler.core.settings import Settings
from reconciler.core.staterecords import Last, State, now_iso
from reconciler.cycle import statefile
from reconciler.cycle.journal import InvalidationJournal
from reconciler.cycle.statestore import StateStore
from reconciler.loading import Loader, gitinfo
from reconciler.reports import sanitizing


class Source(Protocol):
    """Where the desired state comes from: a `loading.Loader` (or a test's fixed `Desired`)."""

    def load(self) -> Desired: ...


@dataclass
class Reconciler:
    """Holds what survives between reconciles in one process: loader, clients, read cache."""

    settings: Settings
    self_heal: bool = False
    clients: Clients | None = None
    loader: InitVar[Source | None] = None
    cache: ReadCache = field(default_factory=ReadCache)
    log: FilteringBoundLogger = field(default_factory=events.log)
    source: Source = field(init=False)
    """The `loader` passed in, or a `Loader` of `settings.desired`."""
    store: StateStore = field(init=False)
    journal: InvalidationJournal = field(init=False)

    def __post_init__(self, loader: Source | None) -> None:
        self.source = loader or Loader(self.settings.desired)
        statefile.ensure_dir(self.settings.state_dir)
        self.store = StateStore(self.settings.state_dir, self.log)
        self.journal = InvalidationJournal(self.store, self.log)

    # -- the cycle -------------------------------------------------------------------------

    def reconcile(self, trigger: str) -> CycleResult:
        started = time.perf_counter()
        commit = gitinfo.commit(self.settings.desired)
        structlog.contextvars.bind_contextvars(commit=commit)
        self.log.info(events.RECONCILE_START, trigger=trigger)
        calls_before = self._calls()
        state: State | None = None  # this cycle's state document, written once, with `last`, below
        try:
            result, state = self._cycle(commit)
        except InvalidDesired as exc:
            self.log.error(events.VALIDATION_FAILED, errors=exc.errors)
            result = CycleResult(Result.INVALID, errors=tuple(exc.errors))
        except ReconcilerError as exc:
            result = CycleResult(Result.FAILED, errors=(str(exc),), retry=exc.retry)
        except Exception as exc:  # noqa: BLE001 - a bug must not kill the daemon; reported, retried
            result = CycleResult(Result.FAILED, errors=(f"{type(exc).__name__}: {exc}",), retry=Retry.BACKOFF)
        calls, writes = self._calls()
        duration_ms = int((time.perf_counter() - started) * 1000)
        result = replace(result, commit=commit, duration_ms=duration_ms, api_calls=calls - calls_before[0],
                         writes=writes - calls_before[1])
        self._record_last(state, result)
        fields: dict[str, object] = {"result": result.result, "changes": result.changes,
                                     "duration_ms": result.duration_ms, "api_calls": result.api_calls}
        if result.errors and result.result == Result.FAILED:
            fields["errors"] = list(result.errors)
        level = self.log.error if result.result in (Result.FAILED, Result.INVALID) else self.log.info
        level(events.RECONCILE_DONE, **fields)
        return result

    def _calls(self) -> tuple[int, int]:
        return self.clients.counter.snapshot() if self.clients is not None else (0, 0)

    def _ensure_clients(self, desired: Desired) -> Clients:
        if self.clients is None:
            preflight.check(self.settings.aws, desired.site.region, probe=False)  # no request: it retries
            self.clients = make_clients(self.settings.aws, desired.site.region)
        return self.clients

    def _cycle(self, commit: str | None) -> tuple[CycleResult, State]:
        desired = self.source.load()
        self.journal.distributions = dict(desired.site.distributions)
        sanitizing.register(desired)
        clients = self._ensure_clients(desired)
        state = self.store.read_state()
        live = read(clients, desired, self.cache)
        sanitizing.register(desired, live)
        observations = observe(desired, live)
        verdicts = drift.classify(state.baselines, observations)
        drifted = sorted(r for r, v in verdicts.items() if v == drift.Verdict.DRIFT)
        full = plan(desired, live)
        state = self._log_drift(state, full, drifted, observations)
        todo = full if self.self_heal else plan(desired, live, skip=drifted)
        outcomes = self._apply(clients, desired, todo, drifted, commit) if todo.changes else []
        invalidation_errors = self.journal.issue(clients)
        state = replace(state, invalidations=self.journal.confirm(clients, state.invalidations))

        applied = {o.action.resource for o in outcomes if o.ok}
        failed = [str(o.error) for o in outcomes if not o.ok] + [str(e) for e in invalidation_errors]
        causes = [o.error for o in outcomes if o.error is not None and not o.skipped] + invalidation_errors
        still_drifted = tuple(r for r in drifted if r not in applied)
        resolved = drift.resolved(state.drift, still_drifted)
        for resource in resolved:
            self.log.info(events.DRIFT_RESOLVED, resource=resource)
        state = replace(
            state,
            baselines=drift.baselines_after(state.baselines, observations, verdicts, applied),
            drift={r: record for r, record in state.drift.items() if r not in resolved},
        )
        result = result_of(failed=bool(failed), applied=bool(applied), drift_open=bool(still_drifted))
        retry = combined(e.retry for e in causes) if failed else None
        return CycleResult(result, len(applied), errors=tuple(failed), drifted=still_drifted, retry=retry), state

    def _apply(
        self, clients: Clients, desired: Desired, todo: Plan, drifted: list[str], commit: str | None
    ) -> list[Outcome]:
        """The invalidations owed recorded first, then the changes; afterwards owe only what changed."""
        intent = self.journal.record(todo)
        outcomes = applying.execute(clients, desired, todo, commit, self._notify)
        self.cache.own_writes(desired, outcomes)
        outcomes = self._replan_conflicts(clients, desired, outcomes, drifted, commit)
        self.journal.narrow(intent, [o.action for o in outcomes if o.ok], desired)
        for o in outcomes:
            if o.ok:
                self.log.info(events.ACTION_APPLIED, action=o.action.action, resource=o.action.resource)
            else:
                self.log.error(events.ACTION_FAILED, action=o.action.action, resource=o.action.resource,
                               error=str(o.error))
        return outcomes

    # -- conflicts ---------------------------------------------------------------------------

    def _replan_conflicts(
        self, clients: Clients, desired: Desired, outcomes: list[Outcome], drifted: list[str], commit: str | None
    ) -> list[Outcome]:
        """A stale ETag is never overwritten blindly: re-read, log what changed, re-plan once."""
        conflicted = {o.action.resource: o for o in outcomes if isinstance(o.error, PreconditionFailed)}
        if not conflicted:
            return outcomes
        live = read(clients, desired, self.cache)
        again = plan(desired, live, skip=() if self.self_heal else drifted)
        theirs = {a.resource: a for a in again.changes}
        for o in conflicted.values():
            # what the other writer's version differs in, logged before git's version replaces it
            self.log.warning("conflict.detected", resource=o.action.resource, action=o.action.action,
                             fields=drift_fields(theirs.get(o.action.resource)), error=str(o.error))
        retry = Plan(tuple(a for a in again.changes if a.resource in conflicted))
        redone = {o.action.resource: o for o in applying.execute(clients, desired, retry, commit, self._notify)}
        self.cache.own_writes(desired, redone.values())
        # a conflicted resource that re-planned to nothing was made equal by the other writer
        return [
            redone.get(o.action.resource, applying.Outcome(o.action)) if o.action.resource in conflicted else o
            for o in outcomes
        ]

    def _notify(self, event: str, fields: JSONObject) -> None:
        self.log.warning(event, **fields)

    # -- drift and state ---------------------------------------------------------------------

    def _log_drift(
        self, state: State, full: Plan, drifted: list[str], observations: Mapping[str, Observation]
    ) -> State:
        """`drift.detected` for new drift (and again every `drift_repeat`); the records it leaves."""
        details = {a.resource: a for a in full.changes}
        fields = {resource: drift_fields(details.get(resource)) for resource in drifted}
        repeat = self.settings.watch.drift_repeat
        logged = drift.detected(state.drift, drifted, observations, fields, time.time(), repeat)
        for resource, record in logged.items():
            self.log.warning(events.DRIFT_DETECTED, resource=resource, fields=list(record.fields))
        return replace(state, drift={**state.drift, **logged})

    def _record_last(self, state: State | None, result: CycleResult) -> None:
        """The state with `last` (the one written this reconcile; re-read when the cycle failed)."""
        try:
            last = Last(now_iso(), result.result, result.commit, result.changes, result.duration_ms,
                        tuple(events.redact(e) for e in result.errors))
            self.store.write_state(replace(state or self.store.read_state(), last=last))
        except OSError as exc:
            self.store.write_failed(exc)
            return
        self.journal.flush()  # the disk has room again: make intents kept in memory durable
        if self.journal.unsaved is None:
            self.store.write_recovered()

