"""Plans as documents for people and machines: text, JSON. Pure; never prints job data.

Job changes are shown by id and field name only, so a plan can be pasted anywhere.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.planning import FUNCTION, INVALIDATION, JOBS, RELEASE, Action, Plan


def as_json(plan: Plan) -> str:
    return json.dumps({"actions": [a.as_dict() for a in plan.actions]}, indent=2) + "\n"


def summary(plan: Plan) -> str:
    """One line: `3 changes: publish function x, move release site a -> b, 1 job added`."""
    changes = plan.changes
    if not changes:
        return "No changes: live state matches desired state."
    parts = [describe(a) for a in changes]
    noun = "change" if len(changes) == 1 else "changes"
    return f"{len(changes)} {noun}: " + ", ".join(parts)


def describe(action: Action) -> str:
    d = action.detail
    if action.kind == FUNCTION:
        verb = {"create": "create and publish", "update": "update and publish", "publish": "publish"}[action.action]
        return f"{verb} function {d['name']}"
    if action.kind == RELEASE:
        old = d.get("old")
        return f"move release {d['name']} {old} -> {d['new']}" if old else f"set release {d['name']} to {d['new']}"
    if action.kind == JOBS:
        return jobs_summary(d)
    if action.kind == INVALIDATION:
        return f"invalidate {' '.join(d['paths'])} on {d['distribution']}"
    return f"{action.action} {action.resource}"


def jobs_summary(d: Any) -> str:
    counts = [(len(d.get("added", [])), "added"), (len(d.get("changed", {})), "changed"), (len(d.get("removed", [])), "removed")]
    parts = [f"{n} job{'s' if n != 1 else ''} {what}" for n, what in counts if n]
    if d.get("replaced"):
        parts.append("unreadable live object replaced")
    return ", ".join(parts) or "rewrite jobs object"


def as_text(plan: Plan) -> str:
    if not plan.actions:
        return summary(plan) + "\n"
    lines = []
    for action in plan.actions:
        lines.append(f"{action.action} {action.resource}: {describe(action)}")
        lines.extend("    " + line for line in detail_lines(action))
    lines.append("")
    lines.append(summary(plan))
    return "\n".join(lines) + "\n"


def detail_lines(action: Action) -> list[str]:
    d = action.detail
    if action.kind == FUNCTION:
        out = [f"fields: {', '.join(d.get('fields', []))}"]
        if d.get("tests"):
            out.append(f"tests before publishing: {len(d['tests'])}")
        return out + d.get("diff", "").rstrip("\n").splitlines()
    if action.kind == RELEASE:
        return [f"{d['parameter']}: {d.get('old') or '(absent)'} -> {d['new']}", f"requires: {', '.join(d.get('require', []))}"]
    if action.kind == JOBS:
        out = [f"+ {i}" for i in d.get("added", [])]
        out += [f"~ {i}: {', '.join(fs)}" for i, fs in d.get("changed", {}).items()]
        out += [f"- {i}" for i in d.get("removed", [])]
        return out
    if action.kind == INVALIDATION:
        return [f"distribution {d.get('distribution_id')}, caused by {', '.join(d.get('causes', []))}"]
    return []
