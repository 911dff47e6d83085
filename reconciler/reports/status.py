"""`reconciler status`: what the state directory says, as a value, text or JSON. Pure.

Called by `cycle.statusreading`, which reads `state.json` and `intents.json` and hands their
`core.staterecords` values here. No AWS call and no boto3: an operator (or a monitoring check) gets an answer
even when AWS is unreachable, which is exactly when it is wanted.

Exit codes (SPEC section 4): 0 when the last reconcile was in sync or applied, 3 while drift is
open, 1 when it failed or the desired state was invalid (an unknown result counts as failed).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime

from reconciler.core.jsonvalue import JSONObject
from reconciler.core.results import Result
from reconciler.core.staterecords import Created, Intent, Last, State

OK, DRIFT_OPEN, FAILED = 0, 3, 1
HEALTHY_RESULTS = (Result.IN_SYNC, Result.APPLIED)
FAILED_RESULTS = (Result.FAILED, Result.INVALID)


@dataclass(frozen=True)
class Drifted:
    resource: str
    since: str | None
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pending:
    """An invalidation not yet confirmed: `owed` (intent recorded, not created) or `created`."""

    state: str
    distribution: str
    distribution_id: str | None
    paths: tuple[str, ...]
    since: str | None
    id: str | None = None
    reference: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class Status:
    last: Last
    drift: tuple[Drifted, ...] = ()
    invalidations: tuple[Pending, ...] = ()
    age_seconds: float | None = field(default=None, compare=False)

    @property
    def exit_code(self) -> int:
        """Failure outranks drift: a failed reconcile may not have seen the drift at all."""
        if self.last.result not in HEALTHY_RESULTS and self.last.result != Result.DRIFT:
            return FAILED
        if self.drift or self.last.result == Result.DRIFT:
            return DRIFT_OPEN
        return OK


def status_of(state: State, intents: Iterable[Intent] = (), now: datetime | None = None) -> Status | None:
    """The status the state and intents documents give; None before any reconcile has run (the
    daemon records `last` every cycle)."""
    last = state.last
    if last is None:
        return None
    drift = tuple(Drifted(resource, record.since, record.fields) for resource, record in sorted(state.drift.items()))
    owed = [_owed(i) for i in intents if i.paths]
    created = [_created(c) for c in state.invalidations]
    pending = tuple(sorted(owed + created, key=lambda p: (p.since or "", p.distribution, p.state)))
    return Status(last, drift, pending, _age(last.time, now))


def _owed(intent: Intent) -> Pending:
    return Pending("owed", intent.distribution, intent.distribution_id, intent.paths, intent.recorded_at,
                   reference=intent.reference)


def _created(created: Created) -> Pending:
    return Pending("created", created.distribution, created.distribution_id, created.paths, created.created_at,
                   id=created.id, status=created.status)


def _age(time: str | None, now: datetime | None) -> float | None:
    if time is None or now is None:
        return None
    try:
        then = datetime.fromisoformat(time.replace("Z", "+00:00"))
    except ValueError:
        return None
    return max(0.0, (now - then).total_seconds())


def shown(status: Status, clean: Callable[[str], str]) -> Status:
    """The status with every recorded string passed through `clean` (redact, escape): the state
    directory may be hand-edited, and recorded errors may quote AWS echoing job data."""

    def each(values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(clean(v) for v in values)

    def opt(value: str | None) -> str | None:
        return None if value is None else clean(value)

    last = status.last
    return replace(
        status,
        last=replace(last, time=opt(last.time), result=clean(last.result), commit=opt(last.commit),
                     errors=each(last.errors)),
        drift=tuple(replace(d, resource=clean(d.resource), since=opt(d.since), fields=each(d.fields))
                    for d in status.drift),
        invalidations=tuple(
            replace(p, distribution=clean(p.distribution), distribution_id=opt(p.distribution_id),
                    paths=each(p.paths), since=opt(p.since), id=opt(p.id), reference=opt(p.reference),
                    status=opt(p.status))
            for p in status.invalidations
        ),
    )


# -- documents -------------------------------------------------------------------------------


def as_dict(status: Status) -> JSONObject:
    """The `--json` document: the same facts as the text, plus the exit code for monitors."""
    return {
        "last": {**asdict(status.last), "errors": list(status.last.errors)},
        "age_seconds": None if status.age_seconds is None else round(status.age_seconds, 3),
        "drift": [{**asdict(d), "fields": list(d.fields)} for d in status.drift],
        "invalidations": [
            {k: v for k, v in {**asdict(p), "paths": list(p.paths)}.items() if v is not None}
            for p in status.invalidations
        ],
        "exit_code": status.exit_code,
    }


def as_json(status: Status) -> str:
    return json.dumps(as_dict(status), indent=2, sort_keys=False) + "\n"


def as_text(status: Status) -> str:
    last = status.last
    age = f" ({_human(status.age_seconds)} ago)" if status.age_seconds is not None else ""
    lines = [
        f"last reconcile: {last.time or 'unknown time'}{age}",
        f"result:         {last.result} "
        f"({last.changes} change{'s' if last.changes != 1 else ''}, {last.duration_ms} ms)",
        f"commit:         {last.commit or '(not a git checkout)'}",
    ]
    lines += [f"error:          {e}" for e in last.errors]
    if status.drift:
        lines.append(f"drift:          {len(status.drift)} resource{'s' if len(status.drift) != 1 else ''}")
        for d in status.drift:
            fields = f"  fields: {', '.join(d.fields)}" if d.fields else ""
            lines.append(f"  {d.resource}  since {d.since or 'unknown'}{fields}")
    else:
        lines.append("drift:          none")
    if status.invalidations:
        lines.append(f"invalidations not yet confirmed: {len(status.invalidations)}")
        for p in status.invalidations:
            where = f"{p.distribution} ({p.distribution_id or 'unknown id'})"
            if p.state == "owed":
                what = f"owed since {p.since or 'unknown'} (not yet created)"
            else:
                what = f"created {p.since or 'unknown'}, id {p.id}, status {p.status or 'not checked yet'}"
            lines.append(f"  {where}  {' '.join(p.paths)}  {what}")
    else:
        lines.append("invalidations not yet confirmed: none")
    return "\n".join(lines) + "\n"


def _human(seconds: float | None) -> str:
    s = int(seconds or 0)
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    if s < 172800:
        return f"{s // 3600} h"
    return f"{s // 86400} d"
