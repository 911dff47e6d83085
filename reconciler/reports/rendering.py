"""Plans as documents for people and machines: text, JSON. Pure; never prints job data.

Values in the plan are already redacted and escaped (`sanitizing.shown_plan`, applied by
`operations.plan`); markdown adds its own escaping of mentions, links and HTML.

Job changes are shown by id and field name only, so a plan can be pasted anywhere.

Over 300 lines on purpose: the three formats share the per-action wording (`describe`,
`detail_lines`, `label`, `changes_of`), so a change to what a plan says is made once. The
markdown comment (from `# -- markdown`) is the seam to split along if it grows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace

from reconciler.core.actions import (
    Action,
    FunctionAction,
    InvalidationAction,
    JobChanges,
    JobsAction,
    Plan,
    ReleaseAction,
)
from reconciler.core.jsonvalue import JSON
from reconciler.core.model import Desired, Function, Invalidate
from reconciler.reports.sanitizing import clean


def as_json(plan: Plan, drift: Collection[str] = (), errors: Sequence[str] = ()) -> str:
    """`{"actions": [{action, resource, drift, changes}], "errors": [...]}`; job changes carry no values."""
    actions = [{**a.as_dict(), "drift": a.resource in drift, "changes": changes_of(a)} for a in plan.actions]
    return json.dumps({"actions": actions, "errors": list(errors)}, indent=2) + "\n"


def changes_of(action: Action) -> list[dict[str, JSON]]:
    """`{field, before, after}` per changed field; for jobs `{job, field}` only (`field` None: the
    whole job added or removed), since job fields hold customer data."""
    if not isinstance(action, JobsAction):
        return [c.as_dict() for c in action.changes]
    jobs = action.jobs
    entries: list[tuple[str, str | None]] = [(i, None) for i in (*jobs.added, *jobs.removed)]
    entries += [(i, f) for i, fs in jobs.changed.items() for f in fs]
    return [{"job": i, "field": f} for i, f in sorted(entries, key=lambda e: (e[0], e[1] or ""))]


def label(action: Action, drift: Collection[str]) -> str:
    """The action's verb, marked when drift caused it (live changed while desired did not)."""
    return f"{action.action} (drift)" if action.resource in drift else action.action


def checks_line(errors: Sequence[str]) -> str:
    return f"{len(errors)} check{'s' if len(errors) != 1 else ''} failed: apply would not move those resources."


def summary(plan: Plan) -> str:
    """One line: `3 changes: publish function x, move release site a -> b, 1 job added`."""
    changes = plan.changes
    if not changes:
        return "No changes: live state matches desired state."
    parts = [describe(a) for a in changes]
    noun = "change" if len(changes) == 1 else "changes"
    return f"{len(changes)} {noun}: " + ", ".join(parts)


def describe(action: Action) -> str:
    match action:
        case FunctionAction():
            verb = {"create": "create and publish", "update": "update and publish", "publish": "publish"}[action.action]
            return f"{verb} function {action.name}"
        case ReleaseAction(name=name, old=old, new=new):
            return f"move release {name} {old} -> {new}" if old else f"set release {name} to {new}"
        case JobsAction():
            return jobs_summary(action.jobs)
        case InvalidationAction():
            return f"invalidate {' '.join(action.paths)} on {action.distribution}"


def jobs_summary(jobs: JobChanges) -> str:
    counts = [(len(jobs.added), "added"), (len(jobs.changed), "changed"), (len(jobs.removed), "removed")]
    parts = [f"{n} job{'s' if n != 1 else ''} {what}" for n, what in counts if n]
    if jobs.replaced:
        parts.append("unreadable live object replaced")
    return ", ".join(parts) or "rewrite jobs object"


def as_text(plan: Plan, drift: Collection[str] = (), errors: Sequence[str] = ()) -> str:
    lines = []
    for action in plan.actions:
        lines.append(f"{label(action, drift)} {action.resource}: {describe(action)}")
        lines.extend("    " + line for line in detail_lines(action))
    lines.extend(f"error: {e}" for e in errors)
    if lines:
        lines.append("")
    lines.append(summary(plan))
    if errors:
        lines.append(checks_line(errors))
    return "\n".join(lines) + "\n"


def detail_lines(action: Action) -> list[str]:
    match action:
        case FunctionAction():
            out = [f"fields: {', '.join(action.fields)}"]
            out += [f"{name}: {old} -> {new}" for name, (old, new) in action.settings.items()]
            if action.tests:
                out.append(f"tests before publishing: {len(action.tests)}")
            return out + action.diff.rstrip("\n").splitlines()
        case ReleaseAction():
            return [
                f"{action.parameter}: {action.old or '(absent)'} -> {action.new}",
                f"requires: {', '.join(action.require)}",
            ]
        case JobsAction(jobs=jobs):
            out = [f"+ {i}" for i in jobs.added]
            out += [f"~ {i}: {', '.join(fs)}" for i, fs in jobs.changed.items()]
            out += [f"- {i}" for i in jobs.removed]
            return out
        case InvalidationAction():
            return [f"distribution {action.distribution_id}, caused by {', '.join(action.causes)}"]


# -- markdown: the pull-request comment ------------------------------------------------------

MARKER = "<!-- edge-reconciler-plan -->"
"""First line of every plan comment: CI finds the comment by it and edits it in place."""

DIFF_LIMIT = 20_000
"""Characters of one function diff shown; GitHub refuses comments over 65,536 characters."""

JOB_ROWS_LIMIT = 200
"""Job rows shown per plan; the rest are counted, so a bulk import cannot blow the comment up."""

Checker = Callable[[Function], list[str]]
"""`functests.check`: runs a function's declared tests locally, returns the failures."""


def as_markdown(
    plan: Plan,
    desired: Desired,
    check: Checker | None = None,
    drift: Collection[str] = (),
    errors: Sequence[str] = (),
) -> str:
    """The plan as a PR comment: marker, summary, action table, diffs, test results, job ids.

    Deterministic (no timestamps, sorted) so CI only edits the comment when the plan changes.
    Jobs appear by id and field name only: everyone who can read the repository sees the
    comment, and customers' names, addresses, notes and tokens must never be in it.
    """
    failed = _failed_checks(errors)
    if not plan.actions:
        return f"{MARKER}\n**No changes**: live state matches desired state.\n" + (f"\n{failed}\n" if failed else "")
    sections = [
        f"{MARKER}\n### edge reconciler plan\n\n**{_md(summary(plan))}**",
        failed,
        _action_table(plan, drift),
        *(_function_diff(a) for a in plan.changes if isinstance(a, FunctionAction)),
        _function_tests(plan, desired, check),
        *(_job_table(a) for a in plan.changes if isinstance(a, JobsAction)),
        "<sub>Applied by the reconciler once this pull request is merged; "
        "roll back with <code>git revert</code>.</sub>",
    ]
    return "\n\n".join(s for s in sections if s) + "\n"


def _md(text: str) -> str:
    """Text safe inside a table cell or a line: no pipes, no HTML tags, no newlines, no
    mentions, links or autolinked URLs (a live value must not ping people or link elsewhere).

    Only `<` is escaped (it opens tags); `>` stays readable, as in `a -> b`.
    """
    return (
        text.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace("@", "&#64;")
        .replace("[", "&#91;")
        .replace("]", "&#93;")
        .replace("://", "&#58;//")
        .replace("\r", " ")
        .replace("\n", " ")
    )


def _code(text: str) -> str:
    """Inline code for a cell; a backtick inside falls back to escaped plain text."""
    return f"`{text.replace('|', chr(92) + '|')}`" if "`" not in text else _md(text)


def _paths(invalidate: Invalidate) -> str:
    return "<br>".join(
        f"{_md(logical)}: " + " ".join(_code(p) for p in paths)
        for logical, paths in sorted(invalidate.items())
        if paths
    ) or "—"


def _what(action: Action) -> str:
    """The table's `what` cell, already escaped."""
    match action:
        case FunctionAction(fields=fields):
            return _md(describe(action) + (f" ({', '.join(fields)})" if fields else ""))
        case ReleaseAction():
            return f"{_md(describe(action))} ({_code(action.parameter)})"
        case InvalidationAction():
            causes = ", ".join(_code(c) for c in action.causes)
            where = f"{action.distribution} ({action.distribution_id or 'unknown id'})"
            return f"one invalidation on {_md(where)}, caused by {causes}"
        case JobsAction():
            return _md(describe(action))


def _failed_checks(errors: Sequence[str]) -> str:
    """The checks apply would fail on, before the table: those resources are not in it."""
    if not errors:
        return ""
    return f"**{_md(checks_line(errors))}**\n\n" + "\n".join(f"- ❌ {_md(e)}" for e in errors)


def _action_table(plan: Plan, drift: Collection[str] = ()) -> str:
    """Every action in apply order, with the paths each one invalidates."""
    rows = [
        f"| {n} | {label(a, drift)} | {_code(a.resource)} | {_what(a)} | {_paths(a.invalidate)} |"
        for n, a in enumerate(plan.actions, 1)
    ]
    return "\n".join(["| # | action | resource | what | invalidates |", "|---|---|---|---|---|", *rows])


def _fence(text: str) -> str:
    """A code fence longer than any backtick run in `text`, so code cannot close it early."""
    longest = max((len(run) for run in text.split("\n") for run in _backtick_runs(run)), default=0)
    return "`" * max(3, longest + 1)


def _backtick_runs(line: str) -> list[str]:
    runs, current = [], ""
    for ch in line:
        if ch == "`":
            current += ch
        elif current:
            runs.append(current)
            current = ""
    return runs + ([current] if current else [])


def _function_diff(action: FunctionAction) -> str:
    diff = action.diff
    if not diff:
        body = "_Code unchanged; only " + ", ".join(action.fields or ["the LIVE stage"]) + " differ._"
        if action.action == "publish":
            body = "_DEVELOPMENT already holds the desired code; it is published to LIVE unchanged._"
        title = f"Function code: {_md(action.name)} ({action.action})"
        return f"<details><summary>{title}</summary>\n\n{body}\n\n</details>"
    shown, note = diff, ""
    if len(diff) > DIFF_LIMIT:
        cut = diff.rfind("\n", 0, DIFF_LIMIT) + 1
        shown = diff[:cut]
        note = (
            f"\n_Diff truncated: {diff.count(chr(10)) - shown.count(chr(10))} more lines; "
            "run `reconciler plan` to see it all._\n"
        )
    added = sum(1 for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in diff.splitlines() if line.startswith("-") and not line.startswith("---"))
    fence = _fence(shown)
    return (
        f"<details><summary>Function code: {_md(action.name)} (+{added} −{removed})</summary>\n\n"  # noqa: RUF001 - typographic minus
        f"{fence}diff\n{shown}{fence}\n{note}\n</details>"
    )


def _default_checker() -> Checker | None:
    """`functests.check` when the local V8 runner offers it; None lets the comment say so."""
    try:
        from reconciler.loading import functests
    except ImportError:
        return None
    found = getattr(functests, "check", None)
    return found if callable(found) else None


def _function_tests(plan: Plan, desired: Desired, check: Checker | None) -> str:
    """Pass/fail per declared test of each function this plan publishes, run locally."""
    names = [a.name for a in plan.changes if isinstance(a, FunctionAction)]
    by_name = {f.name: f for f in desired.functions}
    functions = [by_name[n] for n in names if n in by_name and by_name[n].tests]
    if not functions:
        return ""
    check = check or _default_checker()
    rows, passed, failed = [], 0, 0
    for function in functions:
        for test in function.tests:
            if check is None:
                rows.append(f"| {_md(function.name)} | {_md(test.name)} | not run |  |")
                continue
            try:
                failures = check(replace(function, tests=(test,)))
            except Exception as exc:  # noqa: BLE001 - a runner crash is a result to show, not a crash of plan
                failures = [f"test runner error: {type(exc).__name__}: {exc}"]
            ok = not failures
            passed, failed = passed + ok, failed + (not ok)
            why = "<br>".join(_md(clean(f)) for f in failures)
            rows.append(f"| {_md(function.name)} | {_md(test.name)} | {'✅ pass' if ok else '❌ fail'} | {why} |")
    if check is None:
        title = (
            "Function tests: not run (local test runner unavailable); they run against DEVELOPMENT before publishing"
        )
    else:
        title = f"Function tests: {passed} passed, {failed} failed"
    table = "\n".join(["| function | test | result | failure |", "|---|---|---|---|", *rows])
    return f"<details><summary>{title}</summary>\n\n{table}\n\n</details>"


def _job_table(action: JobsAction) -> str:
    """Per job id: added, changed (with field names) or removed. Never a field's value."""
    jobs = action.jobs
    rows = [(i, "added", "") for i in jobs.added]
    rows += [(i, "changed", ", ".join(fs)) for i, fs in sorted(jobs.changed.items())]
    rows += [(i, "removed", "") for i in jobs.removed]
    rows.sort()
    lines = [f"| {_code(i)} | {what} | {_md(fields)} |" for i, what, fields in rows[:JOB_ROWS_LIMIT]]
    if len(rows) > JOB_ROWS_LIMIT:
        lines.append(f"| … | {len(rows) - JOB_ROWS_LIMIT} more | |")
    title = f"Jobs: {_md(jobs_summary(jobs))} (<code>{_md(action.resource)}</code>)"
    note = "\n\n_The live object was unreadable; it is replaced whole._" if jobs.replaced else ""
    table = (
        "\n".join(["| job | change | fields |", "|---|---|---|", *lines])
        if lines
        else "_No jobs: the object is written with an empty list._"
    )
    return f"<details><summary>{title}</summary>\n\n{table}{note}\n\n</details>"
