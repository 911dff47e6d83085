"""A plan (or any JSON-like value) as it may be shown: every string redacted, then escaped.

`operations.plan` passes the plan through `shown_plan` before any renderer sees it, so text,
`--json` and `--markdown` get the same redaction as the logs (SPEC section 5), and a value set
behind git's back (a live SSM value, live code, a key of the live jobs object) cannot forge a
line, recolour a terminal or inject markdown. Code diffs are cleaned line by line so they stay
diffs. Pure apart from the process-wide secret registry `events.redact` reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, replace
from typing import Any

from reconciler import events
from reconciler.core.model import Desired, Live
from reconciler.core.planning import Action, Plan
from reconciler.events.escaping import printable
from reconciler.events.redaction import job_secrets


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


def clean_value(value: Any) -> Any:
    """A JSON-like value with every string cleaned (mapping keys too: live keys are values)."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(k) if isinstance(k, str) else k: clean_value(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(clean_value(v) for v in value)
    if isinstance(value, list):
        return [clean_value(v) for v in value]
    return value


def clean_lines(text: str) -> str:
    """Multi-line text (a unified diff) cleaned line by line; line ends kept."""
    return "".join(clean(line) + "\n" for line in text.splitlines())


def _shown_change(change: Any) -> Any:
    """A `{field, before, after}` entry; function code stays multi-line (cleaned line by line)."""
    if not isinstance(change, dict) or change.get("field") != "code":
        return clean_value(change)
    return {k: clean_lines(v) if k in ("before", "after") and isinstance(v, str) else clean_value(v)
            for k, v in change.items()}


def shown_plan(plan: Plan) -> Plan:
    return Plan(tuple(_shown(a) for a in plan.actions))


def _shown(action: Action) -> Action:
    """Every field cleaned, not a list of known ones: a field added later is covered without
    anyone remembering this module."""
    cleaned = {f.name: _field(f.name, getattr(action, f.name)) for f in fields(action) if f.init}
    return replace(action, **cleaned)


def _field(name: str, value: Any) -> Any:
    if name != "detail" or not isinstance(value, Mapping):
        return clean_value(value)
    detail = {k: clean_lines(v) if k == "diff" and isinstance(v, str) else clean_value(v) for k, v in value.items()}
    if isinstance(value.get("changes"), list):
        detail["changes"] = [_shown_change(c) for c in value["changes"]]
    return detail
