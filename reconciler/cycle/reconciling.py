"""One reconcile: load -> read -> classify drift -> plan -> apply -> invalidate -> record.

Level-triggered and idempotent: whatever the trigger, everything is read and planned from
scratch. Returns a `CycleResult` value; only the daemon's loop decides what to do with it.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import structlog

from reconciler import events
from reconciler.core import drift
from reconciler.core.errors import InvalidDesired, PreconditionFailed, ReconcilerError
from reconciler.core.model import Desired
from reconciler.core.planning import Action, Plan, invalidations_for, observe, plan
from reconciler.core.results import Result
from reconciler.core.retrying import Retry, combined
from reconciler.core.settings import Settings
from reconciler.cycle import statefile, stateschema
from reconciler.loading import gitinfo
from reconciler.reports import sanitizing


@dataclass(frozen=True)
class CycleResult:
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


def now_iso(at: float | None = None) -> str:
    moment = datetime.fromtimestamp(at if at is not None else time.time(), UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Reconciler:
    """Holds what survives between reconciles in one process: loader, clients, read cache."""

    settings: Settings
    self_heal: bool = False
    clients: Any = None
    loader: Any = None
    cache: Any = None
    log: Any = field(default=None)
    state: dict[str, Any] | None = None
    distributions: dict[str, str] = field(default_factory=dict)
    """The Site's distributions (logical -> id) as last loaded."""
    """This cycle's state document, written once at its end."""
    created: list[dict[str, Any]] = field(default_factory=list)
    """Invalidations created in this reconcile, confirmed from the next one on."""
    unsaved_intents: list[dict[str, Any]] | None = None
    """Owed invalidations while the state directory cannot be written (None: the file holds them)."""
    write_failing: bool = False
    reported: set[str] = field(default_factory=set)
    """Bad state files already logged (one `state.corrupt` each, even if they cannot be moved)."""

    def __post_init__(self) -> None:
        if self.loader is None:
            from reconciler.loading import Loader

            self.loader = Loader(self.settings.desired)
        self.log = self.log or events.log()
        statefile.ensure_dir(self.settings.state_dir)

    # -- the cycle -------------------------------------------------------------------------

    def reconcile(self, trigger: str) -> CycleResult:
        started = time.perf_counter()
        commit = gitinfo.commit(self.settings.desired)
        structlog.contextvars.bind_contextvars(commit=commit)
        self.log.info(events.RECONCILE_START, trigger=trigger)
        calls_before = self._calls()
        try:
            result = self._cycle(commit)
        except InvalidDesired as exc:
            self.log.error(events.VALIDATION_FAILED, errors=exc.errors)
            result = CycleResult(Result.INVALID, errors=tuple(exc.errors))
        except ReconcilerError as exc:
            result = CycleResult(Result.FAILED, errors=(str(exc),), retry=exc.retry)
        except Exception as exc:  # noqa: BLE001 - a bug must not kill the daemon; reported, retried
            result = CycleResult(Result.FAILED, errors=(f"{type(exc).__name__}: {exc}",), retry=Retry.BACKOFF)
        calls, writes = self._calls()
        result = replace(
            result,
            commit=commit,
            duration_ms=int((time.perf_counter() - started) * 1000),
            api_calls=calls - calls_before[0],
            writes=writes - calls_before[1],
        )
        self._record_last(result)
        fields: dict[str, Any] = {
            "result": result.result,
            "changes": result.changes,
            "duration_ms": result.duration_ms,
            "api_calls": result.api_calls,
        }
        if result.errors and result.result == Result.FAILED:
            fields["errors"] = list(result.errors)
        level = self.log.error if result.result in (Result.FAILED, Result.INVALID) else self.log.info
        level(events.RECONCILE_DONE, **fields)
        return result

    def _calls(self) -> tuple[int, int]:
        return self.clients.counter.snapshot() if self.clients is not None else (0, 0)

    def _ensure_clients(self, desired: Desired) -> Any:
        if self.clients is None:
            from reconciler.aws import preflight
            from reconciler.aws.reading import ReadCache
            from reconciler.aws.session import make_clients

            preflight.check(self.settings.aws, desired.site.region, probe=False)  # no request: it retries
            self.clients = make_clients(self.settings.aws, desired.site.region)
            self.cache = ReadCache()
        return self.clients

    def _cycle(self, commit: str | None) -> CycleResult:
        from reconciler.aws import applying
        from reconciler.aws.reading import read

        desired = self.loader.load()
        self.distributions = dict(desired.site.distributions)
        sanitizing.register(desired)
        clients = self._ensure_clients(desired)
        state = self._read_state()
        live = read(clients, desired, self.cache)
        sanitizing.register(desired, live)
        observations = observe(desired, live)
        verdicts = drift.classify(drift.baselines_from(state.get("baselines", {})), observations)
        drifted = sorted(r for r, v in verdicts.items() if v == drift.Verdict.DRIFT)
        full = plan(desired, live)
        self._log_drift(state, full, drifted, observations, commit)
        todo = full if self.self_heal else plan(desired, live, skip=drifted)

        outcomes: list[Any] = []
        if todo.changes:
            intent = self._record_intent(todo)
            outcomes = applying.execute(clients, desired, todo, commit, self._notify)
            outcomes = self._replan_conflicts(desired, outcomes, drifted, commit)
            succeeded = [o.action for o in outcomes if o.ok]
            self._narrow_intent(intent, succeeded, desired)
            for o in outcomes:
                if o.ok:
                    self.log.info(events.ACTION_APPLIED, action=o.action.action, resource=o.action.resource)
                else:
                    self.log.error(
                        events.ACTION_FAILED, action=o.action.action, resource=o.action.resource, error=str(o.error)
                    )
        invalidation_errors = self._issue_intents(clients)
        self._confirm_invalidations(clients, state)

        applied = {o.action.resource for o in outcomes if o.ok}
        failed = [str(o.error) for o in outcomes if not o.ok] + [str(e) for e in invalidation_errors]
        causes = [o.error for o in outcomes if o.error is not None and not o.skipped] + invalidation_errors
        self._record_baselines(state, observations, verdicts, applied)
        healed = set(drifted) & applied
        still_drifted = tuple(r for r in drifted if r not in healed)
        for resource in list(state.get("drift", {})):
            if resource not in still_drifted:
                state["drift"].pop(resource)
                self.log.info(events.DRIFT_RESOLVED, resource=resource)
        self.state = state  # written once, with `last`, by reconcile()
        result = Result.FAILED if failed else Result.APPLIED if applied else Result.IN_SYNC
        if result is Result.IN_SYNC and still_drifted:
            result = Result.DRIFT
        retry = combined(e.retry for e in causes) if failed else None
        return CycleResult(result, changes=len(applied), errors=tuple(failed), drifted=still_drifted, retry=retry)

    # -- conflicts ---------------------------------------------------------------------------

    def _replan_conflicts(
        self, desired: Desired, outcomes: list[Any], drifted: list[str], commit: str | None
    ) -> list[Any]:
        """A stale ETag is never overwritten blindly: re-read, log what changed, re-plan once."""
        from reconciler.aws import applying
        from reconciler.aws.reading import read

        conflicted = {o.action.resource: o for o in outcomes if isinstance(o.error, PreconditionFailed)}
        if not conflicted:
            return outcomes
        live = read(self.clients, desired, self.cache)
        again = plan(desired, live, skip=() if self.self_heal else drifted)
        theirs = {a.resource: a for a in again.changes}
        for o in conflicted.values():
            # what the other writer's version differs in, logged before git's version replaces it
            self.log.warning(
                "conflict.detected",
                resource=o.action.resource,
                action=o.action.action,
                fields=_drift_fields(theirs.get(o.action.resource)),
                error=str(o.error),
            )
        retry = Plan(tuple(a for a in again.changes if a.resource in conflicted))
        redone = {o.action.resource: o for o in applying.execute(self.clients, desired, retry, commit, self._notify)}
        # a conflicted resource that re-planned to nothing was made equal by the other writer
        return [
            redone.get(o.action.resource, applying.Outcome(o.action)) if o.action.resource in conflicted else o
            for o in outcomes
        ]

    def _notify(self, event: str, fields: dict[str, Any]) -> None:
        self.log.warning(event, **fields)

    # -- drift -------------------------------------------------------------------------------

    def _log_drift(
        self, state: dict[str, Any], full: Plan, drifted: list[str], observations: Any, commit: str | None
    ) -> None:
        records = state.setdefault("drift", {})
        details = {a.resource: a for a in full.changes}
        now = time.time()
        for resource in drifted:
            live_digest = observations[resource].live
            record = records.get(resource)
            fields = _drift_fields(details.get(resource))
            if drift.should_log(record, live_digest, now, self.settings.watch.drift_repeat):
                self.log.warning(events.DRIFT_DETECTED, resource=resource, fields=fields)
                since = record["since"] if record and record.get("live") == live_digest else now_iso(now)
                records[resource] = {"since": since, "live": live_digest, "fields": fields, "logged_at": now}

    # -- invalidation intents ----------------------------------------------------------------

    def _intents_path(self) -> Any:
        return self.settings.state_dir / statefile.INTENTS

    def _read_intents(self) -> list[dict[str, Any]]:
        """The owed invalidations; a bad file is set aside and what it owed kept, as `/*` where
        it cannot be read (on every distribution when even the distribution is unknown)."""
        if self.unsaved_intents is not None:
            return list(self.unsaved_intents)  # the state directory is not writable: memory holds them
        path = self._intents_path()
        try:
            raw = statefile.read_json(path)
            return [stateschema.dump_intent(i) for i in stateschema.parse_intents(raw or {}).intents]
        except (statefile.Corrupt, stateschema.SchemaError) as exc:
            raw = None if isinstance(exc, statefile.Corrupt) else raw
            owed = stateschema.salvage_intents(
                raw, self.distributions, lambda: f"reconciler-{uuid.uuid4()}", now_iso()
            )
            self._set_aside(path, exc, "owed invalidations kept; /* where unreadable")
            intents = [stateschema.dump_intent(i) for i in owed]
            self._write_intents(intents)  # whole again; otherwise a no-change reconcile never rewrites it
            return intents

    def _set_aside(self, path: Any, exc: Exception, action: str) -> None:
        """Keep a bad state file for inspection and log `state.corrupt` once for it."""
        try:
            aside: Any = statefile.set_aside(path)
        except OSError as err:
            aside = None
            if str(path) in self.reported:
                return
            action += f"; could not set it aside: {err.strerror or err}"
        self.reported.add(str(path))
        self.log.error("state.corrupt", file=str(path), set_aside=None if aside is None else str(aside),
                       error=str(exc), action=action)

    @staticmethod
    def _intent(distribution: str, distribution_id: str, paths: list[str]) -> dict[str, Any]:
        """One owed invalidation, with its own CallerReference (reused only to re-issue it)."""
        return {
            "reference": f"reconciler-{uuid.uuid4()}",
            "distribution": distribution,
            "distribution_id": distribution_id,
            "paths": paths,
            "recorded_at": now_iso(),
        }

    def _write_intents(self, intents: list[dict[str, Any]]) -> None:
        """Durably, or (state directory read-only or full) in memory, logged once: the daemon
        keeps working and still issues what it owes; only a crash meanwhile could lose it."""
        try:
            statefile.write_json(self._intents_path(), {"version": stateschema.VERSION, "intents": intents})
        except OSError as exc:
            self.unsaved_intents = list(intents)
            self._write_failed(exc)
            return
        self.unsaved_intents = None

    def _record_intent(self, todo: Plan) -> list[dict[str, Any]]:
        """Durably record the invalidations this reconcile will owe, before any change."""
        new = [
            self._intent(a.detail["distribution"], a.detail["distribution_id"], list(a.detail["paths"]))
            for a in todo.invalidations
        ]
        if new:
            self._write_intents(self._read_intents() + new)
        return new

    def _narrow_intent(self, intent: list[dict[str, Any]], succeeded: list[Action], desired: Desired) -> None:
        """After the changes, owe only what actually changed (the recorded intent is a superset)."""
        if not intent:
            return
        actual = {
            a.detail["distribution"]: a.detail["paths"]
            for a in invalidations_for(succeeded, desired.site.distributions)
        }
        mine = {i["reference"] for i in intent}
        kept = []
        for i in self._read_intents():
            if i["reference"] in mine:
                if i["distribution"] not in actual:
                    continue
                i = dict(i, paths=list(actual[i["distribution"]]))
            kept.append(i)
        self._write_intents(kept)

    def _issue_intents(self, clients: Any) -> list[ReconcilerError]:
        """CreateInvalidation for every recorded intent (this reconcile's and any a crash left)."""
        from reconciler.aws.applying import create_invalidation

        errors: list[ReconcilerError] = []
        intents = self._read_intents()
        if not intents:
            return []
        remaining = []
        state_invalidations = []
        owed: dict[str, list[str]] = {}
        for intent in intents:
            current = self.distributions.get(intent["distribution"])
            if current is None:  # the Site no longer declares it: nothing there serves our files
                self.log.warning("invalidation.forgotten", distribution=intent["distribution"],
                                 reason="owed on a distribution the Site no longer declares")
                continue
            intent = dict(intent, distribution_id=current)  # its id changed in git: owe it where it is now
            earlier = owed.setdefault(intent["distribution"], [])
            if earlier and all(_covered(p, earlier) for p in intent["paths"]):
                continue  # an intent a crash left (issued now, after this reconcile's changes) covers it
            earlier.extend(intent["paths"])
            try:
                inv_id = create_invalidation(clients, intent["distribution_id"], intent["paths"], intent["reference"])
            except ReconcilerError as exc:
                remaining.append(intent)
                errors.append(exc)
                self.log.error(
                    events.ACTION_FAILED,
                    action="invalidate",
                    resource=f"invalidation/{intent['distribution']}",
                    error=str(exc),
                )
                continue
            self.log.info(
                events.INVALIDATION_CREATED, distribution=intent["distribution"], paths=intent["paths"], id=inv_id
            )
            state_invalidations.append(
                {
                    "id": inv_id,
                    "distribution": intent["distribution"],
                    "distribution_id": intent["distribution_id"],
                    "paths": intent["paths"],
                    "created_at": now_iso(),
                }
            )
        self._write_intents(remaining)
        self.created.extend(state_invalidations)
        return errors

    def _confirm_invalidations(self, clients: Any, state: dict[str, Any]) -> None:
        """Check unconfirmed invalidations once per reconcile; drop those AWS reports completed,
        and those it does not know (NoSuchInvalidation, or a distribution the Site no longer
        declares): they can never be confirmed, and would show as pending forever."""
        from reconciler.aws.applying import invalidation_status

        still = []
        declared = set(self.distributions.values())
        for inv in state.get("invalidations", []):
            try:
                status = "unknown" if inv["distribution_id"] not in declared else invalidation_status(
                    clients, inv["distribution_id"], inv["id"]
                )
            except ReconcilerError:
                still.append(inv)
                continue
            if status == "unknown":
                self.log.warning("invalidation.forgotten", distribution=inv["distribution"], id=inv["id"],
                                 reason="unknown to CloudFront or to the Site; cannot be confirmed")
            elif status.lower() != "completed":
                still.append(dict(inv, status=status))
        state["invalidations"] = still + self.created
        self.created = []

    # -- state -------------------------------------------------------------------------------

    def _state_path(self) -> Any:
        return self.settings.state_dir / statefile.STATE

    def _read_state(self) -> dict[str, Any]:
        """The state document, validated; a bad one is set aside and rebuilt from live state."""
        path = self._state_path()
        try:
            return stateschema.dump_state(stateschema.parse_state(statefile.read_json(path) or {}))
        except (statefile.Corrupt, stateschema.SchemaError) as exc:
            self._set_aside(path, exc, "rebuilt from live state")
            return stateschema.dump_state(stateschema.State())

    def _write_failed(self, exc: OSError) -> None:
        """`state.write_failed` once per outage (a full disk must not fill the log too)."""
        if not self.write_failing:
            self.write_failing = True
            self.log.error("state.write_failed", dir=str(self.settings.state_dir), error=exc.strerror or str(exc))

    def _write_state(self, state: dict[str, Any]) -> None:
        state["version"] = stateschema.VERSION
        statefile.write_json(self._state_path(), state)

    def _record_baselines(
        self, state: dict[str, Any], observations: Any, verdicts: dict[str, drift.Verdict], applied: set[str]
    ) -> None:
        baselines = state["baselines"]
        for resource, seen in observations.items():
            if resource in applied:
                baselines[resource] = {"desired": seen.desired, "live": seen.desired}
            elif verdicts.get(resource) == drift.Verdict.IN_SYNC:
                baselines[resource] = {"desired": seen.desired, "live": seen.live}
        for resource in list(baselines):
            if resource not in observations:
                baselines.pop(resource)

    def _record_last(self, result: CycleResult) -> None:
        try:
            state, self.state = self.state or self._read_state(), None
            state["last"] = {
                "time": now_iso(),
                "result": result.result,
                "commit": result.commit,
                "changes": result.changes,
                "duration_ms": result.duration_ms,
                "errors": [events.redact(e) for e in result.errors],
            }
            self._write_state(state)
        except OSError as exc:
            self._write_failed(exc)
            return
        if self.unsaved_intents is not None:
            self._write_intents(self.unsaved_intents)  # the disk has room again: make them durable
        if self.write_failing and self.unsaved_intents is None:
            self.write_failing = False
            self.log.info("state.write_recovered", dir=str(self.settings.state_dir))


def _covered(path: str, by: list[str]) -> bool:
    """True when invalidating `by` also invalidates `path` (same path, or a wildcard prefix)."""
    return any(p == path or (p.endswith("*") and path.startswith(p[:-1])) for p in by)


def _drift_fields(action: Action | None) -> list[str]:
    if action is None:
        return []
    if action.kind == "release":
        return ["version"]
    if action.kind == "function":
        return list(action.detail.get("fields", []))
    d = action.detail
    return sorted(
        {
            *(f"{i}" for i in d.get("added", [])),
            *(f"{i}" for i in d.get("removed", [])),
            *(f"{i}.{f}" for i, fs in d.get("changed", {}).items() for f in fs),
        }
    ) or ["document"]
