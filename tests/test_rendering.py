"""Plan documents: the PR comment (golden files), its privacy, and the JSON shape.

Regenerate the goldens after an intended change with `UPDATE_GOLDEN=1 pytest tests/test_rendering.py`
and read every changed `tests/golden/*.md` before committing it.
"""

from __future__ import annotations

import json
import os
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from reconciler.core.actions import Plan
from reconciler.core.model import (
    Desired,
    Function,
    FunctionStage,
    FunctionTest,
    Job,
    JobsTarget,
    Live,
    LiveFunction,
    LiveObject,
    Release,
    Site,
)
from reconciler.core.planning import plan
from reconciler.reports import rendering

GOLDEN = Path(__file__).parent / "golden"

# Marker strings: if any of them reaches a plan document, customer data leaked.
SECRETS = {
    "customer": "CUSTOMER-MARKER-Mark",
    "address": "ADDRESS-MARKER-Soderblom",
    "notes": "NOTES-MARKER-gate-code",
    "token": "TOKENMARKER3f9c0a6e1b2d4c5f",
}

OLD_CODE = b"""function handler(event) {
  var request = event.request;
  if (request.uri.startsWith('/track/')) {
    request.uri = '/index.html';
  }
  return request;
}
"""

NEW_CODE = b"""function handler(event) {
  var request = event.request;
  if (request.uri.startsWith('/track/') || request.uri.startsWith('/book/')) {
    request.uri = '/index.html';
  }
  return request;
}
"""

SITE = Site(
    name="quickdumpnow",
    region="us-east-1",
    distributions={"site": "E1QDNSITE0001", "dashboard": "E1QDNDASH0001"},
    jobs=JobsTarget("qdn-data", "jobs.json", {"site": ("/jobs.json",)}),
)


def release(version: str, name: str = "site", invalidate: Any = None) -> Release:
    return Release(
        name=name,
        parameter=f"/qdn/{name}/version",
        version=version,
        bucket="qdn-releases",
        prefix=f"{name}/",
        invalidate=invalidate if invalidate is not None else {"site": ("/*",)},
    )


def function(code: bytes = NEW_CODE, name: str = "qdn-track-rewrite", tests: tuple[str, ...] = ()) -> Function:
    return Function(
        name=name,
        runtime="cloudfront-js-2.0",
        code=code,
        code_path=f"{name}.js",
        comment="SPA rewrites for /track/ and /book/",
        invalidate={"site": ("/track/*", "/book/*")},
        tests=tuple(
            FunctionTest(t, {"request": {"method": "GET", "uri": "/track/x"}}, {"request": {"uri": "/index.html"}})
            for t in tests
        ),
    )


def job(job_id: str, status: str = "requested", amount: int = 600, n: int = 0) -> Job:
    document: dict[str, Any] = {
        "id": job_id,
        "token": f"{SECRETS['token']}{n:04d}",
        "customer": f"{SECRETS['customer']}{n}",
        "address": f"{SECRETS['address']} {n}",
        "notes": f"{SECRETS['notes']}-{n}",
        "price": {"amount": amount, "currency": "USD", "all_inclusive": True},
        "status": status,
    }
    return Job(job_id, document["token"], document)


SITE_WITHOUT_JOBS = Site(name="quickdumpnow", region="us-east-1", distributions=SITE.distributions)


def desired(releases=(), functions=(), jobs=(), site=SITE) -> Desired:  # type: ignore[no-untyped-def]
    return Desired(Path("desired"), site, tuple(releases), tuple(functions), tuple(jobs))


def live_function(code: bytes, development: bytes | None = None, name: str = "qdn-track-rewrite") -> LiveFunction:
    def stage(code: bytes, etag: str) -> FunctionStage:
        return FunctionStage(etag, code, "cloudfront-js-2.0", "SPA rewrites for /track/ and /book/")

    return LiveFunction(name, stage(development if development is not None else code, "ETVDEV"), stage(code, "ETVLIVE"))


def live_jobs(*jobs: Job) -> LiveObject:
    return LiveObject("qdn-data", "jobs.json", True, '"etag1"', {"jobs": [dict(j.document) for j in jobs]})


def fake_check(fn: Function) -> list[str]:
    """Stands in for `functests.check`: a test whose name says `broken` fails."""
    return [f"{t.name}: expected request.uri /index.html, got /book/x" for t in fn.tests if "broken" in t.name]


JOBS_BEFORE = (job("job_a1", n=1), job("job_b2", n=2), job("job_c3", n=3))
JOBS_AFTER = (job("job_a1", n=1), job("job_b2", status="scheduled", amount=650, n=2), job("job_d4", n=4))

CASES: dict[str, tuple[Desired, Live]] = {
    "no-changes": (
        desired([release("20261122-1530")], [function()], JOBS_BEFORE),
        Live(
            {"qdn-track-rewrite": live_function(NEW_CODE)},
            {"/qdn/site/version": "20261122-1530"},
            live_jobs(*JOBS_BEFORE),
        ),
    ),
    "new-stack": (
        desired([release("20261122-1530")], [function(tests=("tracking link opens the app",))], JOBS_BEFORE),
        Live({}, {"/qdn/site/version": None}, LiveObject("qdn-data", "jobs.json", False)),
    ),
    "release-move": (
        desired([release("20261122-1530")], site=SITE_WITHOUT_JOBS),
        Live({}, {"/qdn/site/version": "20261120-0900"}),
    ),
    "function-code-change": (
        desired(
            functions=[function(tests=("tracking link opens the app", "booking link is broken", "home | untouched"))],
            site=SITE_WITHOUT_JOBS,
        ),
        Live({"qdn-track-rewrite": live_function(OLD_CODE)}),
    ),
    "jobs-first-publish-empty": (
        desired(),
        Live(jobs=LiveObject("qdn-data", "jobs.json", False)),
    ),
    "jobs-unreadable-live-object": (
        desired(jobs=JOBS_BEFORE[:1]),
        Live(jobs=LiveObject("qdn-data", "jobs.json", True, '"etag0"', None)),
    ),
    "jobs-added-changed-removed": (
        desired(jobs=JOBS_AFTER),
        Live(jobs=live_jobs(*JOBS_BEFORE)),
    ),
    "everything": (
        desired(
            [
                release("20261122-1530"),
                release("2026.11.22", name="dashboard", invalidate={"dashboard": ("/*",)}),
            ],
            [
                function(tests=("tracking link opens the app",)),
                function(name="qdn-headers", code=b"function handler(e) { return e.request; }\n"),
            ],
            JOBS_AFTER,
        ),
        Live(
            {
                "qdn-track-rewrite": live_function(OLD_CODE),
                "qdn-headers": live_function(
                    b"// old\n", development=b"function handler(e) { return e.request; }\n", name="qdn-headers"
                ),
            },
            {"/qdn/site/version": "20261120-0900", "/qdn/dashboard/version": "2026.11.01"},
            live_jobs(*JOBS_BEFORE),
        ),
    ),
}


CASES["release-drift-and-failed-check"] = (
    desired([release("20261122-1530"), release("2026.11.22", name="dashboard", invalidate={"dashboard": ("/*",)})],
            site=SITE_WITHOUT_JOBS),
    Live({}, {"/qdn/site/version": "20261120-0900", "/qdn/dashboard/version": "2026.11.01"}),
)
CHECKS: dict[str, tuple[frozenset[str], list[str]]] = {
    "release-drift-and-failed-check": (
        frozenset({"release/site"}),
        ["release/dashboard: s3://qdn-releases/dashboard/2026.11.22/index.html does not exist, so the pointer "
         "cannot move to 2026.11.22 (upload the version first: reconciler upload dashboard 2026.11.22 DIR)"],
    ),
}
"""Per case: the resources labelled drift and the failed checks (what `plan` adds to the pure plan)."""


def planned(name: str) -> Plan:
    """The plan of a case as `plan` shows it: a release whose check failed is left out."""
    want, have = CASES[name]
    _, errors = CHECKS.get(name, (frozenset(), []))
    return plan(want, have, skip=[e.split(":", 1)[0] for e in errors])


def render(name: str) -> str:
    want, _ = CASES[name]
    drift, errors = CHECKS.get(name, (frozenset(), []))
    return rendering.as_markdown(planned(name), want, check=fake_check, drift=drift, errors=errors)


class TestMarkdownGolden:
    @pytest.mark.parametrize("name", sorted(CASES))
    def test_matches_golden(self, name: str) -> None:
        """The comment is byte-for-byte the reviewed golden file."""
        path = GOLDEN / f"{name}.md"
        got = render(name)
        if os.environ.get("UPDATE_GOLDEN") == "1":
            path.write_text(got, encoding="utf-8")
        assert path.exists(), f"missing {path}: run with UPDATE_GOLDEN=1 and review it"
        assert got == path.read_text(encoding="utf-8")

    @pytest.mark.parametrize("name", sorted(CASES))
    def test_is_stable(self, name: str) -> None:
        """Rendering twice gives the same bytes, so CI edits the comment only when the plan changes."""
        assert render(name) == render(name)


class TestMarkdownShape:
    @pytest.mark.parametrize("name", sorted(CASES))
    def test_marker_is_first_line(self, name: str) -> None:
        """CI finds the comment to update by its first line."""
        assert render(name).splitlines()[0] == "<!-- edge-reconciler-plan -->"

    def test_no_changes_is_short(self) -> None:
        """An in-sync plan renders as a short `No changes` comment."""
        assert (
            render("no-changes") == "<!-- edge-reconciler-plan -->\n**No changes**: live state matches desired state.\n"
        )

    def test_summary_reuses_plan_summary(self) -> None:
        """The bold line is `rendering.summary` of the plan."""
        want, have = CASES["everything"]
        result = plan(want, have)
        assert f"**{rendering.summary(result)}**" in rendering.as_markdown(result, want, check=fake_check)

    def test_actions_in_apply_order(self) -> None:
        """Table rows follow the plan: functions, releases, jobs, invalidations last."""
        want, have = CASES["everything"]
        result = plan(want, have)
        rows = [
            line for line in render("everything").splitlines() if line.startswith("| ") and "`" in line.split("|")[3]
        ]
        assert [r.split("|")[3].strip().strip("`") for r in rows[: len(result.actions)]] == [
            a.resource for a in result.actions
        ]

    def test_diff_is_fenced_in_details(self) -> None:
        """Function code diffs sit in a collapsible block with a diff fence."""
        text = render("function-code-change")
        assert "<details><summary>Function code: qdn-track-rewrite" in text
        assert "```diff\n--- qdn-track-rewrite (LIVE)\n+++ qdn-track-rewrite (desired)\n" in text

    def test_backticks_in_code_cannot_close_the_fence(self) -> None:
        """Code containing ``` gets a longer fence."""
        want = desired(functions=[function(code=b"var s = `a`;\n// ```\n")])
        text = rendering.as_markdown(plan(want, Live()), want, check=fake_check)
        assert "````diff\n" in text

    def test_long_diff_is_truncated(self) -> None:
        """A huge diff is cut with a note, keeping the comment under GitHub's size limit."""
        code = b"".join(b"var line%05d = %d;\n" % (i, i) for i in range(4000))
        want = desired(functions=[function(code=code)])
        text = rendering.as_markdown(plan(want, Live()), want, check=fake_check)
        assert "_Diff truncated:" in text
        assert len(text) < 65536

    def test_many_jobs_are_counted_not_listed(self) -> None:
        """Beyond the row limit the job table says how many more."""
        want = desired(jobs=[job(f"job_{i:04d}", n=i) for i in range(rendering.JOB_ROWS_LIMIT + 5)])
        text = rendering.as_markdown(plan(want, Live()), want)
        assert "| … | 5 more | |" in text


class TestFunctionTests:
    def test_pass_and_fail_per_test_name(self) -> None:
        """Each declared test of a changed function shows pass or fail with the reason."""
        text = render("function-code-change")
        assert "Function tests: 2 passed, 1 failed" in text
        assert "| qdn-track-rewrite | tracking link opens the app | ✅ pass |  |" in text
        assert "| qdn-track-rewrite | booking link is broken | ❌ fail | booking link is broken: expected" in text
        assert "home \\| untouched" in text

    def test_runner_absent_says_not_run(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without a local runner the tests are listed as not run, and plan still renders."""
        monkeypatch.setattr(rendering, "_default_checker", lambda: None)
        want, have = CASES["function-code-change"]
        text = rendering.as_markdown(plan(want, have), want)
        assert "Function tests: not run" in text
        assert "| qdn-track-rewrite | tracking link opens the app | not run |  |" in text

    def test_uses_functests_check_when_available(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """By default the tests run through `reconciler.loading.functests.check`, one test at a time."""
        seen: list[tuple[str, ...]] = []

        def check(fn: Function) -> list[str]:
            seen.append(tuple(t.name for t in fn.tests))
            return []

        fake = types.ModuleType("reconciler.loading.functests")
        fake.check = check  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "reconciler.loading.functests", fake)
        monkeypatch.setattr("reconciler.loading.functests", fake, raising=False)
        want, have = CASES["function-code-change"]
        text = rendering.as_markdown(plan(want, have), want)
        assert seen == [("tracking link opens the app",), ("booking link is broken",), ("home | untouched",)]
        assert "Function tests: 3 passed, 0 failed" in text

    def test_runner_crash_is_a_failure_not_a_crash(self) -> None:
        """A test runner that raises marks the test failed; the comment is still produced."""

        def boom(fn: Function) -> list[str]:
            raise RuntimeError("V8 went away")

        want, have = CASES["function-code-change"]
        text = rendering.as_markdown(plan(want, have), want, check=boom)
        assert "test runner error: RuntimeError: V8 went away" in text


class TestPrivacy:
    @pytest.mark.parametrize("name", sorted(CASES))
    @pytest.mark.parametrize("fmt", ["markdown", "text", "json"])
    def test_no_customer_data_in_any_document(self, name: str, fmt: str) -> None:
        """No customer name, address, notes or tracking token reaches a plan document."""
        want, have = CASES[name]
        result = plan(want, have)
        text = {
            "markdown": lambda: rendering.as_markdown(result, want, check=fake_check),
            "text": lambda: rendering.as_text(result),
            "json": lambda: rendering.as_json(result),
        }[fmt]()
        for field, marker in SECRETS.items():
            assert marker not in text, f"{field} leaked into the {fmt} plan of {name}"

    def test_job_changes_name_fields_only(self) -> None:
        """Changed jobs list the changed field names, not their values."""
        text = render("jobs-added-changed-removed")
        assert "| `job_b2` | changed | price, status |" in text
        assert "scheduled" not in text and "650" not in text


class TestJson:
    def test_shape(self) -> None:
        """`--json` is {"actions": [{action, resource, drift, changes}], "errors": [...]}."""
        want, have = CASES["everything"]
        document = json.loads(rendering.as_json(plan(want, have)))
        assert list(document) == ["actions", "errors"] and document["errors"] == []
        assert all(set(a) == {"action", "resource", "drift", "changes"} for a in document["actions"])
        assert {a["action"] for a in document["actions"]} <= {"create", "update", "publish", "delete", "invalidate"}
        assert document["actions"][-1]["resource"] == "invalidation/site"
        assert document["actions"][-1]["changes"] == [{"field": "paths", "before": None, "after": ["/*"]}]

    def test_release_and_function_changes_have_before_and_after(self) -> None:
        """Releases: the version moving; functions: each changed field, code as text."""
        want, have = CASES["everything"]
        actions = {a["resource"]: a for a in json.loads(rendering.as_json(plan(want, have)))["actions"]}
        assert actions["release/site"]["changes"] == [
            {"field": "version", "before": "20261120-0900", "after": "20261122-1530"}
        ]
        assert actions["function/qdn-track-rewrite"]["changes"] == [
            {"field": "code", "before": OLD_CODE.decode(), "after": NEW_CODE.decode()}
        ]
        created = json.loads(rendering.as_json(plan(desired(functions=[function()]), Live())))["actions"][0]
        assert created["action"] == "create"
        assert [(c["field"], c["before"]) for c in created["changes"]] == [
            ("code", None), ("runtime", None), ("comment", None)
        ]

    def test_code_stays_multiline_once_sanitized(self) -> None:
        """`plan` cleans every shown value; function code in `changes` keeps its line breaks."""
        from reconciler.reports.sanitizing import shown_plan

        want, have = CASES["function-code-change"]
        (action, _) = json.loads(rendering.as_json(shown_plan(plan(want, have))))["actions"]
        assert action["changes"][0]["before"] == OLD_CODE.decode()

    def test_job_changes_are_job_and_field_only(self) -> None:
        """Jobs: `{job, field}` per changed field, field null for a job added or removed; no values."""
        want, have = CASES["jobs-added-changed-removed"]
        (action,) = [a for a in json.loads(rendering.as_json(plan(want, have)))["actions"] if a["resource"] != (
            "invalidation/site")]
        assert action["changes"] == [
            {"job": "job_b2", "field": "price"},
            {"job": "job_b2", "field": "status"},
            {"job": "job_c3", "field": None},
            {"job": "job_d4", "field": None},
        ]

    def test_drift_and_failed_checks(self) -> None:
        """A drift-caused action says so; a failed check is in `errors`, its action left out."""
        drift, errors = CHECKS["release-drift-and-failed-check"]
        document = json.loads(rendering.as_json(planned("release-drift-and-failed-check"), drift, errors))
        assert [(a["resource"], a["drift"]) for a in document["actions"]] == [
            ("release/site", True), ("invalidation/site", False)
        ]
        assert document["errors"] == errors


class TestText:
    def test_drift_label_errors_and_summary(self) -> None:
        """Text shows what JSON and markdown show: the drift label and each failed check."""
        drift, errors = CHECKS["release-drift-and-failed-check"]
        text = rendering.as_text(planned("release-drift-and-failed-check"), drift, errors)
        assert "update (drift) release/site: move release site 20261120-0900 -> 20261122-1530" in text
        assert f"error: {errors[0]}" in text
        assert "dashboard 2026.11.01 -> 2026.11.22" not in text
        assert text.endswith("1 check failed: apply would not move those resources.\n")

    def test_errors_without_any_action(self) -> None:
        """Only a failed check: the error and no pending change."""
        text = rendering.as_text(Plan(), errors=["release/x: missing"])
        assert text.splitlines()[0] == "error: release/x: missing"

    def test_markdown_shows_the_same(self) -> None:
        """The comment lists the failed check and labels the drift action in the table."""
        text = render("release-drift-and-failed-check")
        assert "| 1 | update (drift) | `release/site` |" in text
        assert "- ❌ release/dashboard: s3&#58;//qdn-releases/dashboard/2026.11.22/index.html does not exist" in text


class TestFunctionSettingsInText:
    """SPEC 2: plan shows a Function's runtime, comment and keyValueStores changes."""

    def test_settings_old_to_new(self) -> None:
        """A store associated in git and a new runtime are shown as `name: old -> new` lines."""
        from dataclasses import replace

        store = "arn:aws:cloudfront::123456789012:key-value-store/7c1d0e2f-0000-4000-8000-000000000001"
        wanted = replace(function(code=OLD_CODE), runtime="cloudfront-js-1.0", key_value_stores=(store,))
        text = rendering.as_text(plan(desired(functions=(wanted,)), Live(functions={
            "qdn-track-rewrite": live_function(OLD_CODE)})))
        assert "    fields: runtime, keyValueStores" in text
        assert "    runtime: cloudfront-js-2.0 -> cloudfront-js-1.0" in text
        assert f"    keyValueStores: (none) -> {store}" in text
