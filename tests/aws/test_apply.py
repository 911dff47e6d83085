"""apply over HTTP against the sandbox: convergence, minimality, ordering and safety rules."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

import pytest

from reconciler.core.model import FunctionTest
from reconciler.core.retrying import Retry
from tests.aws.conftest import CODE, Stack, run, viewer_request


def events_named(logs: Iterable[Mapping[str, Any]], name: str) -> list[Mapping[str, Any]]:
    return [e for e in logs if e["event"] == name]


def applied(logs: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    return [(e["action"], e["resource"]) for e in events_named(logs, "action.applied")]


def live_code(stack: Stack, stage: str) -> bytes:
    name = stack.desired.functions[0].name
    code: bytes = stack.cf.get_function(Name=name, Stage=stage)["FunctionCode"].read()
    return code


class TestConvergence:
    def test_fresh_sandbox_converges_then_second_apply_writes_nothing(self, stack: Stack) -> None:
        """First apply creates everything; the second makes no write and no invalidation."""
        first, logs = run(stack.reconciler())
        assert first.result == "applied" and first.changes == 4
        assert stack.parameter(stack.desired.releases[0].parameter) == "v1"
        assert live_code(stack, "LIVE") == CODE
        assert stack.invalidations("web") == [["/*"]]
        assert stack.invalidations("admin") == [["/*"]]
        second, logs = run(stack.reconciler())
        assert second.result == "in_sync" and second.writes == 0
        assert not events_named(logs, "invalidation.created")
        assert len(stack.invalidations("web")) == 1

    def test_done_event_counts_api_calls(self, stack: Stack) -> None:
        """reconcile.done carries result, changes, duration and the number of AWS requests."""
        _, logs = run(stack.reconciler())
        done = events_named(logs, "reconcile.done")[-1]
        assert done["result"] == "applied" and done["changes"] == 4
        assert isinstance(done["api_calls"], int) and done["api_calls"] > 5

    def test_steady_state_reads_once_per_resource_kind(self, stack: Stack) -> None:
        """A warm reconciler with nothing to do asks SSM, CloudFront and S3 once each."""
        reconciler = stack.reconciler()
        run(reconciler)
        run(reconciler)  # confirms the invalidations created by the first
        result, _ = run(reconciler, "interval")
        assert result.result == "in_sync" and result.api_calls <= 3 and result.writes == 0


class TestSingleChange:
    def _converged(self, stack: Stack) -> None:
        assert run(stack.reconciler())[0].result == "applied"

    def test_release_change_moves_one_pointer_and_invalidates_its_distribution(self, stack: Stack) -> None:
        """One release: one action, its paths on its distribution only."""
        self._converged(stack)
        releases = stack.desired.releases
        stack.sandbox.faults.clear()
        stack.s3.put_object(Bucket=releases[0].bucket, Key="web/v2/index.html", Body=b"x")
        stack.s3.put_object(Bucket=releases[0].bucket, Key="web/v2/app.js", Body=b"x")
        stack.change(releases=(replace(releases[0], version="v2"), releases[1]))
        _, logs = run(stack.reconciler())
        assert applied(logs) == [("update", "release/web")]
        assert stack.parameter(releases[0].parameter) == "v2"
        assert stack.invalidations("web") == [["/*"], ["/*"]]
        assert len(stack.invalidations("admin")) == 1

    def test_function_change_updates_tests_and_publishes_with_own_paths(self, stack: Stack) -> None:
        """New code: one function action, /track/* invalidated on its distribution only."""
        self._converged(stack)
        function = stack.desired.functions[0]
        new_code = CODE.replace(b"'/index.html'", b"'/index.html' /* v2 */")
        stack.change(functions=(replace(function, code=new_code),))
        _, logs = run(stack.reconciler())
        assert applied(logs) == [("update", function.resource)]
        assert live_code(stack, "LIVE") == new_code
        assert stack.invalidations("web")[-1] == ["/track/*"]
        assert len(stack.invalidations("admin")) == 1

    def test_job_change_rewrites_object_and_invalidates_its_path(self, stack: Stack) -> None:
        """One job changed: one jobs action, its path invalidated."""
        self._converged(stack)
        job = stack.desired.jobs[0]
        stack.change(jobs=(replace(job, document={**job.document, "status": "scheduled"}),))
        _, logs = run(stack.reconciler())
        target = stack.desired.site.jobs
        assert target is not None
        assert applied(logs) == [("update", target.resource)]
        assert stack.invalidations("web")[-1] == ["/feeds/jobs.json"]
        body = stack.s3.get_object(Bucket=target.bucket, Key="feeds/jobs.json")
        assert body["ContentType"] == "application/json"
        assert b'"status":"scheduled"' in body["Body"].read()


class TestSafetyRules:
    def test_release_without_required_file_does_not_move_and_says_why(self, stack: Stack) -> None:
        """A missing `require` object keeps the pointer where it was, with the missing key named."""
        run(stack.reconciler())
        releases = stack.desired.releases
        stack.s3.put_object(Bucket=releases[0].bucket, Key="web/v3/index.html", Body=b"x")  # app.js missing
        stack.change(releases=(replace(releases[0], version="v3"), releases[1]))
        result, logs = run(stack.reconciler())
        assert result.result == "failed"
        failed = events_named(logs, "action.failed")
        assert [e["resource"] for e in failed] == ["release/web"]
        assert "web/v3/app.js" in failed[0]["error"]
        assert stack.parameter(releases[0].parameter) == "v1"
        assert not events_named(logs, "invalidation.created")

    def test_failing_function_test_blocks_publish_and_releases(self, stack: Stack) -> None:
        """TestFunction failing in DEVELOPMENT: LIVE keeps the old code; releases wait."""
        run(stack.reconciler())
        function = stack.desired.functions[0]
        broken = b"function handler(event) { return event.request; }\n"
        bad_test = FunctionTest("track opens app", viewer_request("/track/abc"), {"request": {"uri": "/index.html"}})
        releases = stack.desired.releases
        stack.s3.put_object(Bucket=releases[1].bucket, Key="admin/a2/index.html", Body=b"x")
        stack.change(
            functions=(replace(function, code=broken, tests=(bad_test,)),),
            releases=(releases[0], replace(releases[1], version="a2")),
        )
        result, logs = run(stack.reconciler())
        assert result.result == "failed"
        assert live_code(stack, "LIVE") == CODE
        assert live_code(stack, "DEVELOPMENT") == broken
        failed = {e["resource"]: e["error"] for e in events_named(logs, "action.failed")}
        assert "track opens app" in failed[function.resource]
        assert "release/admin" in failed
        assert stack.parameter(releases[1].parameter) == "a1"

    def test_key_value_store_association_is_applied_and_removed(self, stack: Stack) -> None:
        """keyValueStores reaches DEVELOPMENT and LIVE (KeyValueStoreAssociations), and leaves with git."""
        store = "arn:aws:cloudfront::123456789012:key-value-store/8d1c2a3b-0000-4000-8000-00000000abcd"
        run(stack.reconciler())
        function = stack.desired.functions[0]

        def associations(stage: str) -> list[str]:
            config = stack.cf.describe_function(Name=function.name, Stage=stage)["FunctionSummary"]["FunctionConfig"]
            return [i["KeyValueStoreARN"] for i in config.get("KeyValueStoreAssociations", {}).get("Items", [])]

        stack.change(functions=(replace(function, key_value_stores=(store,)),))
        result, _ = run(stack.reconciler())
        assert result.changes >= 1 and associations("LIVE") == associations("DEVELOPMENT") == [store]
        again, _ = run(stack.reconciler())
        assert again.writes == 0
        stack.change(functions=(function,))
        run(stack.reconciler())
        assert associations("LIVE") == []

    def test_test_with_kvs_data_runs_locally_only(self, stack: Stack) -> None:
        """SPEC 2: a test with `kvs` is not sent to TestFunction (AWS reads the real store): the code,
        which fails that test at AWS's empty sandbox store, is published."""
        run(stack.reconciler())
        function = stack.desired.functions[0]
        code = b"function handler(event) { event.request.uri = '/kvs'; return event.request; }\n"
        kvs_test = FunctionTest("mapped by the store", viewer_request("/a"), {"request": {"uri": "/elsewhere"}},
                                kvs={"a": "elsewhere"})
        stack.change(functions=(replace(function, code=code, tests=(kvs_test,)),))
        result, _ = run(stack.reconciler())
        assert result.result != "failed"
        assert live_code(stack, "LIVE") == code

    def test_function_changed_between_plan_and_apply_is_replanned_not_overwritten(self, stack: Stack) -> None:
        """A 412 on UpdateFunction: re-read, log their change, re-plan, then git's version wins."""
        run(stack.reconciler())
        function = stack.desired.functions[0]
        new_code = CODE + b"// git version\n"
        stack.change(functions=(replace(function, code=new_code),))
        reconciler = stack.reconciler()
        theirs = b"function handler(event) { return event.request; } // console edit\n"
        done: list[bool] = []

        def someone_else_edits(**_: Any) -> None:
            if done:
                return
            done.append(True)
            etag = stack.cf.describe_function(Name=function.name, Stage="DEVELOPMENT")["ETag"]
            stack.cf.update_function(
                Name=function.name,
                IfMatch=etag,
                FunctionConfig={"Comment": "rewrites", "Runtime": "cloudfront-js-2.0"},
                FunctionCode=theirs,
            )

        def hook_once(clients: Any) -> None:
            clients.cloudfront.meta.events.register("before-call.cloudfront.UpdateFunction", someone_else_edits)

        from reconciler.aws.session import make_clients

        reconciler.clients = make_clients(reconciler.settings.aws, "us-east-1")
        from reconciler.aws.reading import ReadCache

        reconciler.cache = ReadCache()
        hook_once(reconciler.clients)
        result, logs = run(reconciler)
        names = [e["event"] for e in logs]
        assert "conflict.detected" in names
        assert names.index("conflict.detected") < names.index("action.applied")
        conflict = events_named(logs, "conflict.detected")[0]
        assert conflict["resource"] == function.resource and conflict["fields"] == ["code"]
        assert result.result == "applied"
        assert live_code(stack, "LIVE") == new_code

    def test_jobs_object_changed_underneath_is_reread_not_overwritten_blindly(self, stack: Stack) -> None:
        """A 412 on PutObject: the conflict is logged and the write retried with the new ETag."""
        run(stack.reconciler())
        target = stack.desired.site.jobs
        assert target is not None
        job = stack.desired.jobs[0]
        stack.change(jobs=(replace(job, document={**job.document, "status": "delivered"}),))
        reconciler = stack.reconciler()
        from reconciler.aws.reading import ReadCache
        from reconciler.aws.session import make_clients

        reconciler.clients = make_clients(reconciler.settings.aws, "us-east-1")
        reconciler.cache = ReadCache()
        done: list[bool] = []

        def someone_else_writes(**_: Any) -> None:
            if not done:
                done.append(True)
                stack.s3.put_object(Bucket=target.bucket, Key=target.key, Body=b'{"jobs": []}')

        reconciler.clients.s3.meta.events.register("before-call.s3.PutObject", someone_else_writes)
        result, logs = run(reconciler)
        assert "conflict.detected" in [e["event"] for e in logs]
        assert result.result == "applied"
        body = stack.s3.get_object(Bucket=target.bucket, Key=target.key)["Body"].read()
        assert b'"status":"delivered"' in body


class TestInvalidationIntent:
    def test_failed_invalidation_is_issued_by_the_next_reconcile_once(self, stack: Stack) -> None:
        """CreateInvalidation failing after the changes: the next reconcile issues it, exactly once."""
        stack.sandbox.faults.fail_next("CreateInvalidation", status=400, code="AccessDenied", times=1)
        first, logs = run(stack.reconciler())
        assert first.result == "failed"
        created_first = len(events_named(logs, "invalidation.created"))
        assert created_first == 1  # one of the two distributions got through
        _, logs = run(stack.reconciler())
        assert len(events_named(logs, "invalidation.created")) == 1
        _, logs = run(stack.reconciler())
        assert not events_named(logs, "invalidation.created")
        assert len(stack.invalidations("web")) == 1 and len(stack.invalidations("admin")) == 1


@pytest.mark.usefixtures("fast_retries")
class TestRetries:
    def test_throttling_and_server_errors_are_retried_and_converge(self, stack: Stack) -> None:
        """Injected throttling and 500s on every step are retried by botocore (without its real
        waits: the fake backoff of `fast_retries`); the run converges."""
        faults = stack.sandbox.faults
        for op in (
            "GetParameters",
            "UpdateFunction",
            "CreateFunction",
            "PublishFunction",
            "PutParameter",
            "PutObject",
            "CreateInvalidation",
        ):
            faults.throttle_next(op)
            faults.fail_next(op, status=500)
        result, _ = run(stack.reconciler())
        assert result.result == "applied", result.errors
        assert run(stack.reconciler())[0].result == "in_sync"

    def test_access_denied_is_permanent_and_takes_the_slow_path(self, stack: Stack) -> None:
        """AccessDenied on the pointer fails the cycle with the SLOW path; once allowed, it applies."""
        stack.sandbox.faults.fail_next("PutParameter", status=403, code="AccessDenied", times=10)
        result, _ = run(stack.reconciler())
        assert result.result == "failed" and "AccessDenied" in " ".join(result.errors)
        assert result.retry is Retry.SLOW
        stack.sandbox.faults.clear()
        assert run(stack.reconciler())[0].result == "applied"
