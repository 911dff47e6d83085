"""A plan (or any JSON-like value) as it may be shown: every string redacted, then escaped.

`operations.plan` passes the plan through `shown_plan` before any renderer sees it, so text,
`--json` and `--markdown` get the same redaction as the logs (SPEC section 5), and a value set
behind git's back (a live SSM value, live code, a key of the live jobs object) cannot forge a
line, recolour a terminal or inject markdown. Code diffs are cleaned line by line so they stay
diffs. Pure apart from the process-wide secret registry `events.redact` reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import Field, fields, is_dataclass, replace
from typing import Any, ClassVar, Protocol, TypeVar

from reconciler import events
from reconciler.core.actions import FieldChange, Plan
from reconciler.core.jsonvalue import JSON
from reconciler.core.model import Desired, Live
from reconciler.events.escaping import printable
from reconciler.events.redaction import job_secrets


class _Dataclass(Protocol):
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]


_Record = TypeVar("_Record", bound=_Dataclass)
"""The records a plan is made of: actions, their field and job changes (frozen dataclasses)."""


def register(desired: Desired, live: Live | None = None) -> None:
    """Register the desired jobs' customer data, and the live object's (a job removed or edited
    in git is still live until applied); the names the plan prints are vocabulary, not secrets."""
    events.register_vocabulary(
        [
            desired.site.name,
            *desired.site.distributions,
            *(r.name for r in desired.releases),
            *(f.name for f in desired.functions),  # not job ids: 100,000 would cost all their substrings
        ]
    )
    events.register_secrets(job_secrets(j.document for j in desired.jobs))
    document = live.jobs.document if live is not None and live.jobs is not None else None
    live_jobs = document.get("jobs") if isinstance(document, Mapping) else None
    if isinstance(live_jobs, list):
        events.register_secrets(job_secrets(live_jobs))


def clean(text: str) -> str:
    """One printable line with no registered secret in it."""
    return printable(events.redact(text))


def clean_value(value: JSON) -> JSON:
    """A JSON-like value with every string cleaned (mapping keys too: live keys are values)."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, Mapping):
        return {clean(k) if isinstance(k, str) else k: clean_value(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(clean_value(v) for v in value)
    if isinstance(value, list):
        return [clean_value(v) for v in value]
    return value


def clean_lines(text: str) -> str:
    """Multi-line text (a unified diff) cleaned line by line; line ends kept."""
    return "".join(clean(line) + "\n" for line in text.splitlines())


def shown_plan(plan: Plan) -> Plan:
    return Plan(tuple(_shown(a) for a in plan.actions))


def _shown(value: _Record) -> _Record:
    """Every field cleaned, nested records too, not a list of known ones: a field added later is
    covered without anyone remembering this module."""
    return replace(value, **{f.name: _field(f.name, getattr(value, f.name)) for f in fields(value)})


def _field(name: str, value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _shown(value)
    if name == "diff" and isinstance(value, str):
        return clean_lines(value)  # function code stays a diff
    if name == "changes" and isinstance(value, tuple):
        return tuple(_shown_change(c) for c in value)
    return clean_value(value)


def _shown_change(change: FieldChange) -> FieldChange:
    """Function code stays multi-line (cleaned line by line)."""
    if change.field != "code":
        return _shown(change)

    def code(text: JSON) -> JSON:
        return clean_lines(text) if isinstance(text, str) else clean_value(text)

    return replace(change, field=clean(change.field), before=code(change.before), after=code(change.after))
