"""`reconciler status`: what the state directory says, as a value, text or JSON. Pure.

Called by `operations.status`, which reads `state.json` and `intents.json` and hands the parsed
documents here. No AWS call and no boto3: an operator (or a monitoring check) gets an answer
even when AWS is unreachable, which is exactly when it is wanted.

Exit codes (SPEC section 4): 0 when the last reconcile was in sync or applied, 3 while drift is
open, 1 when it failed or the desired state was invalid (an unknown result counts as failed).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from reconciler.core.results import Result

OK, DRIFT_OPEN, FAILED = 0, 3, 1
HEALTHY_RESULTS = (Result.IN_SYNC, Result.APPLIED)
FAILED_RESULTS = (Result.FAILED, Result.INVALID)


class Unreadable(Exception):
    """The state documents do not have the shape the reconciler writes (torn, or not ours)."""


@dataclass(frozen=True)
class Last:
    time: str | None
    result: str
    commit: str | None
    changes: int = 0
    duration_ms: int = 0
    errors: tuple[str, ...] = ()


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


def status_of(state: Mapping[str, Any], intents: Mapping[str, Any] | None, now: datetime | None = None) -> Status:
    """The status from the parsed state and intents documents; raises `Unreadable` on a bad shape."""
    try:
        return _status_of(state, intents or {}, now)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise Unreadable(f"unexpected content ({type(exc).__name__}: {exc})") from None


def has_run(state: Mapping[str, Any] | None) -> bool:
    """True once a reconcile has recorded its result (the daemon writes `last` every cycle)."""
    return bool(state) and isinstance(state.get("last"), dict)  # type: ignore[union-attr]


def _status_of(state: Mapping[str, Any], intents: Mapping[str, Any], now: datetime | None) -> Status:
    raw = state["last"]
    last = Last(
        time=_opt_str(raw.get("time")),
        result=str(raw["result"]),
        commit=_opt_str(raw.get("commit")),
        changes=int(raw.get("changes") or 0),
        duration_ms=int(raw.get("duration_ms") or 0),
        errors=tuple(str(e) for e in raw.get("errors") or ()),
    )
    drift = tuple(
        Drifted(str(resource), _opt_str(record.get("since")), tuple(str(f) for f in record.get("fields") or ()))
        for resource, record in sorted(dict(state.get("drift") or {}).items())
    )
    owed = [
        _pending("owed", i, "recorded_at", reference=_opt_str(i.get("reference")))
        for i in intents.get("intents") or ()
        if i.get("paths")
    ]
    created = [
        _pending("created", i, "created_at", id=_opt_str(i.get("id")), status=_opt_str(i.get("status")))
        for i in state.get("invalidations") or ()
    ]
    pending = tuple(sorted(owed + created, key=lambda p: (p.since or "", p.distribution, p.state)))
    return Status(last, drift, pending, _age(last.time, now))


def _pending(state: str, record: Mapping[str, Any], since_key: str, **marks: str | None) -> Pending:
    """One not-yet-confirmed invalidation from its intent or created record (same fields, own `since`)."""
    return Pending(
        state,
        str(record["distribution"]),
        _opt_str(record.get("distribution_id")),
        tuple(str(p) for p in record["paths"]),
        _opt_str(record.get(since_key)),
        **marks,
    )


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


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


def as_dict(status: Status) -> dict[str, Any]:
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
