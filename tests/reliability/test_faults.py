"""Faults on every step of SPEC section 3: each heals (same or next reconcile), nothing is lost,
nothing runs out of order, and a resource that keeps failing is reported by its id while the
others are applied."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

import pytest

from tests.aws.conftest import run
from tests.reliability.conftest import ProxiedStack
from tests.reliability.helpers import (
    assert_converged,
    assert_ordered,
    change_everything,
    covers,
    events_named,
    invalidated_paths,
)

READS = ("GetParameters", "DescribeFunction", "GetFunction", "GetObject")
WRITES = (
    "UpdateFunction",
    "TestFunction",
    "PublishFunction",
    "HeadObject",
    "PutParameter",
    "PutObject",
    "CreateInvalidation",
)

# How a request is recognised in its HTTP head, for the proxy's connection-level faults.
HEADS = {
    "GetParameters": b"AmazonSSM.GetParameters",
    "PutParameter": b"AmazonSSM.PutParameter",
    "DescribeFunction": b"/describe",
    "GetFunction": b"GET /2020-05-31/function/fn-",
    "CreateFunction": b"POST /2020-05-31/function HTTP",
    "UpdateFunction": b"PUT /2020-05-31/function/",
    "TestFunction": b"/test HTTP",
    "PublishFunction": b"/publish HTTP",
    "GetObject": b"GET /data-",
    "HeadObject": b"HEAD /rel-",
    "PutObject": b"PUT /data-",
    "CreateInvalidation": b"/invalidation HTTP",
}

Inject = Callable[[ProxiedStack, str], None]


def http_500(stack: ProxiedStack, op: str) -> None:
    stack.sandbox.faults.fail_next(op, status=500)


def http_503(stack: ProxiedStack, op: str) -> None:
    stack.sandbox.faults.fail_next(op, status=503)


def throttled(stack: ProxiedStack, op: str) -> None:
    stack.sandbox.faults.throttle_next(op, times=2)


def reset(stack: ProxiedStack, op: str) -> None:
    assert stack.proxy is not None
    stack.proxy.reset_next(HEADS[op])


def answer_lost(stack: ProxiedStack, op: str) -> None:
    """The call is carried out, then the connection is reset: the client never sees the answer."""
    assert stack.proxy is not None
    stack.proxy.reset_next(HEADS[op], after=True)


def latency(stack: ProxiedStack, op: str) -> None:
    assert stack.proxy is not None
    stack.proxy.delay(0.25, HEADS[op], times=2)


KINDS: dict[str, tuple[Inject, str]] = {
    "500": (http_500, "500 InternalError once"),
    "503": (http_503, "503 ServiceUnavailable once"),
    "throttle": (throttled, "throttled twice"),
    "reset": (reset, "connection reset before the call"),
    "lost": (answer_lost, "applied, answer lost (reset after)"),
    "latency": (latency, "+250 ms latency twice"),
}

CASES = [
    *[(op, "500") for op in READS],
    *[(op, "reset") for op in ("GetParameters", "GetFunction", "GetObject")],
    *[(op, kind) for op in WRITES for kind in ("500", "lost")],
    *[(op, "reset") for op in ("UpdateFunction", "PutParameter", "PutObject", "CreateInvalidation")],
    ("GetParameters", "throttle"),
    ("PutParameter", "throttle"),
    ("PutObject", "throttle"),
    ("CreateInvalidation", "throttle"),
    ("CreateFunction", "500"),
    ("CreateFunction", "lost"),
    ("PutObject", "503"),
    ("CreateInvalidation", "503"),
    ("PublishFunction", "latency"),
]


def reconcile_until_converged(stack: ProxiedStack, limit: int = 2) -> list[MutableMapping[str, Any]]:
    """Reconcile up to `limit` times (the faulted one, then the retry); check order every time."""
    all_logs: list[MutableMapping[str, Any]] = []
    for _ in range(limit):
        mark = len(stack.order)
        result, logs = run(stack.reconciler())
        all_logs += logs
        assert_ordered(stack.order[mark:])
        if result.result in ("applied", "in_sync"):
            break
    return all_logs


@pytest.mark.parametrize(("op", "kind"), CASES, ids=[f"{op}-{kind}" for op, kind in CASES])
def test_step_failing_once_converges(rstack: ProxiedStack, op: str, kind: str, table: Any) -> None:
    """One injected fault on one step: the same or the next reconcile converges, invalidations
    cover every change, and no invalidation is left owed."""
    stack = rstack
    fresh = op == "CreateFunction"
    before = {"web": 0, "admin": 0}
    if not fresh:
        assert run(stack.reconciler())[0].result == "applied"
        change_everything(stack)
        before = {d: len(stack.invalidations(d)) for d in before}
    inject, description = KINDS[kind]
    inject(stack, op)
    logs = reconcile_until_converged(stack)
    hit = stack.sandbox.faults.calls[op] if kind not in ("reset", "lost", "latency") else len(stack.proxy.hits)  # type: ignore[union-attr]
    assert hit, f"the fault on {op} was never triggered"
    assert_converged(stack)
    web = {p for batch in invalidated_paths(stack, "web", before["web"]) for p in batch}
    d = stack.holder.desired
    for needed in ("/track/*", "/feeds/jobs.json", "/*"):
        assert covers(web, needed), (needed, web)
    if fresh:
        assert {p for b in invalidated_paths(stack, "admin") for p in b} == {"/*"}
    else:
        assert invalidated_paths(stack, "admin", before["admin"]) == []
    refs = [e["id"] for e in events_named(logs, "invalidation.created")]
    assert len(refs) == len(set(refs)), "an invalidation was reported twice"
    assert d  # desired untouched
    table("fault", f"{op}: {description}")


class TestPersistentFailure:
    """One resource keeps failing: the others are applied; the failure names the resource."""

    def _failing(self, stack: ProxiedStack, arm: Callable[[], None], resource: str) -> list[MutableMapping[str, Any]]:
        assert run(stack.reconciler())[0].result == "applied"
        change_everything(stack)
        arm()
        self.mark = mark = len(stack.order)
        result, logs = run(stack.reconciler())
        assert_ordered(stack.order[mark:])
        assert result.result == "failed"
        failed = events_named(logs, "action.failed")
        assert resource in [e["resource"] for e in failed], failed
        assert all(e["error"] for e in failed)
        return logs

    def _heals(self, stack: ProxiedStack) -> None:
        stack.sandbox.faults.clear()
        assert stack.proxy is not None
        stack.proxy.clear()
        result, _ = run(stack.reconciler())
        assert result.result == "applied"
        assert_converged(stack)

    def test_jobs_object_failing_leaves_function_and_releases_applied(self, rstack: ProxiedStack, table: Any) -> None:
        """PutObject always 500: function and release go live, jobs/... is reported, retried later."""
        stack = rstack
        resource = stack.desired.site.jobs.resource  # type: ignore[union-attr]
        logs = self._failing(
            stack, lambda: stack.sandbox.faults.fail_next("PutObject", status=500, times=100), resource
        )
        applied = {e["resource"] for e in events_named(logs, "action.applied")}
        assert applied == {"function/" + stack.desired.functions[0].name, "release/web"}
        d = stack.holder.desired
        assert stack.parameter(d.releases[0].parameter) == "v2"
        self._heals(stack)
        table(
            "fault",
            "PutObject: 500 on every attempt (persistent)",
            "others applied; failure reported as jobs/<bucket>/<key>; converged after the fault cleared",
        )

    def test_one_release_failing_leaves_the_other_resources_applied(self, rstack: ProxiedStack, table: Any) -> None:
        """Every connection for web's require check reset: release/web reported, the rest applied."""
        stack = rstack
        assert stack.proxy is not None
        d = stack.holder.desired
        bucket = d.releases[0].bucket
        proxy = stack.proxy
        logs = self._failing(
            stack, lambda: proxy.reset_next(f"HEAD /{bucket}/web/v2/".encode(), times=100), "release/web"
        )
        applied = {e["resource"] for e in events_named(logs, "action.applied")}
        assert applied == {"function/" + d.functions[0].name, d.site.jobs.resource}  # type: ignore[union-attr]
        assert stack.parameter(d.releases[0].parameter) == "v1"
        self._heals(stack)
        table(
            "fault",
            "HeadObject of one release: connection reset on every attempt (persistent)",
            "others applied; failure reported as release/web; converged after the fault cleared",
        )

    def test_function_failing_blocks_releases_not_jobs(self, rstack: ProxiedStack, table: Any) -> None:
        """PublishFunction always 503: no release moves before its function, jobs still published."""
        stack = rstack
        d = stack.desired
        logs = self._failing(
            stack,
            lambda: stack.sandbox.faults.fail_next("PublishFunction", status=503, times=100),
            f"function/{d.functions[0].name}",
        )
        failed = {e["resource"] for e in events_named(logs, "action.failed")}
        assert "release/web" in failed
        assert {e["resource"] for e in events_named(logs, "action.applied")} == {d.site.jobs.resource}  # type: ignore[union-attr]
        assert stack.parameter(d.releases[0].parameter) == "v1"
        assert "PutParameter" not in stack.order[self.mark :]
        self._heals(stack)
        table(
            "fault",
            "PublishFunction: 503 on every attempt (persistent)",
            "releases held back, jobs applied, function reported; converged after the fault cleared",
        )


def test_write_order_under_faults(rstack: ProxiedStack, table: Any) -> None:
    """With retries everywhere, the sandbox still sees: function writes, require checks,
    pointer moves, and invalidations last."""
    stack = rstack
    assert run(stack.reconciler())[0].result == "applied"
    change_everything(stack)
    for op in ("UpdateFunction", "TestFunction", "PublishFunction", "HeadObject", "PutParameter"):
        stack.sandbox.faults.fail_next(op, status=500)
    assert stack.proxy is not None
    stack.proxy.delay(0.2, HEADS["PublishFunction"])  # a slow publish must still come before the pointer
    mark = len(stack.order)
    result, _ = run(stack.reconciler())
    assert result.result == "applied"
    writes = [op for op in stack.order[mark:] if op in WRITES]
    assert_ordered(writes)
    assert writes.index("PutParameter") > max(i for i, op in enumerate(writes) if op == "PublishFunction")
    assert writes[-1] == "CreateInvalidation"
    assert_converged(stack)
    table(
        "fault",
        "500 once on every function/release step + slow PublishFunction: write order",
        "functions < require check < pointer < invalidation; converged",
    )
