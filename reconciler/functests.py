"""CloudFront Functions executed in V8 (mini-racer): the local runtime behind function tests at
`validate` time and behind the sandbox's TestFunction.

`execute` runs one handler on one event and returns the output in TestFunction's
`FunctionOutput` shape: `{"request": R}` or `{"response": R}`. `complete_event` turns a test's
shorthand event into a full viewer-request event, `subset_mismatch` compares an expectation with
an output, and `check` runs a Function's declared tests (the loader calls it at `validate` time).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from reconciler.core.model import Function

_PRELUDE = """
var __logs = [];
var console = {log: function() { __logs.push(Array.prototype.slice.call(arguments).map(String).join(' ')); }};
"""

_CALL = """
(function(event) {
  var out = handler(event);
  if (out && typeof out.then === 'function') { throw new Error('async handler: await is not supported here'); }
  return JSON.stringify({out: out === undefined ? null : out, logs: __logs});
})
"""


@dataclass(frozen=True)
class Execution:
    """One run of a handler: `output` in FunctionOutput shape, or `error` when it threw or timed out."""

    output: dict[str, Any] | None
    error: str | None = None
    logs: tuple[str, ...] = field(default_factory=tuple)
    compute_utilization: int = 0


def execute(code: str, event: dict[str, Any], timeout: float = 1.0) -> Execution:
    """Run `handler(event)` from `code` in a fresh V8 context, stopped after `timeout` seconds."""
    import time

    from py_mini_racer import MiniRacer

    ctx = MiniRacer()
    started = time.perf_counter()
    try:
        ctx.eval(_PRELUDE, timeout_sec=timeout)
        ctx.eval(code, timeout_sec=timeout)
        if ctx.eval("typeof handler", timeout_sec=timeout) != "function":
            return Execution(None, "The function does not define a handler function")
        raw = ctx.eval(f"({_CALL})({json.dumps(event)})", timeout_sec=timeout)
    except Exception as exc:  # noqa: BLE001 - every JS failure becomes a reported error
        name = type(exc).__name__
        if "Timeout" in name:
            _settle(ctx)
            return Execution(None, f"The function exceeded the time limit ({timeout:g} s)")
        message = str(exc).strip().splitlines()
        return Execution(None, message[0] if message else name)
    finally:
        elapsed = time.perf_counter() - started
        ctx.close()
    result = json.loads(cast(str, raw))  # the harness returns JSON.stringify(...)
    out = result["out"]
    utilization = min(100, max(1, int(elapsed * 1000)))
    if not isinstance(out, dict):
        return Execution(None, "The function must return a request or a response object", tuple(result["logs"]))
    shape = {"response": out} if "statusCode" in out else {"request": out}
    return Execution(shape, None, tuple(result["logs"]), utilization)


def _settle(ctx: Any) -> None:
    """After a timeout, let V8 deliver the cancelled task's callback before the context closes;
    mini-racer 0.14 otherwise prints an 'Event loop is closed' traceback at a random moment."""
    with contextlib.suppress(Exception):  # best effort; the result is already decided
        ctx.eval("0")


# --- tests declared in Function documents -------------------------------------------------

_ENTRY_SECTIONS = ("querystring", "headers", "cookies")
_MISSING = object()
_TIMEOUT = "The function exceeded the time limit"


def _entry(value: Any) -> dict[str, Any]:
    """CloudFront's `{value: ...}` entry from a plain string or an entry written out."""
    if not isinstance(value, dict):
        return {"value": value}
    entry = dict(value)
    if "multiValue" in entry:
        entry["multiValue"] = [v if isinstance(v, dict) else {"value": v} for v in entry["multiValue"]]
    return entry


def complete_event(shorthand: Mapping[str, Any]) -> dict[str, Any]:
    """The full viewer-request event for a test's shorthand, so tests state only what matters."""
    request = dict(shorthand.get("request") or {})
    viewer = dict(shorthand.get("viewer") or {})
    completed = {
        "method": request.pop("method", "GET"),
        "uri": request.pop("uri", "/"),
    }
    for section in _ENTRY_SECTIONS:
        entries = request.pop(section, None) or {}
        if section == "headers":
            entries = {str(k).lower(): v for k, v in entries.items()}
        completed[section] = {k: _entry(v) for k, v in entries.items()}
    completed.update(request)
    return {
        "version": "1.0",
        "context": {
            "distributionDomainName": "d111111abcdef8.cloudfront.net",
            "distributionId": "EDFDVBD6EXAMPLE",
            "eventType": "viewer-request",
            "requestId": "reconciler-local-test",
        },
        "viewer": {"ip": "1.2.3.4", **viewer},
        "request": completed,
    }


def subset_mismatch(expect: Any, actual: Any, path: str = "") -> str | None:
    """The first place where `actual` does not contain `expect` (dicts as subsets), or None."""
    if isinstance(expect, dict):
        if not isinstance(actual, dict):
            return _mismatch(path, expect, actual)
        for key, want in expect.items():
            sub = f"{path}.{key}" if path else str(key)
            found = subset_mismatch(want, actual.get(key, _MISSING), sub)
            if found:
                return found
        return None
    if isinstance(expect, list):
        if not isinstance(actual, list) or len(actual) != len(expect):
            return _mismatch(path, expect, actual)
        for i, (want, got) in enumerate(zip(expect, actual, strict=True)):
            found = subset_mismatch(want, got, f"{path}[{i}]")
            if found:
                return found
        return None
    same_kind = isinstance(expect, bool) == isinstance(actual, bool)
    if actual is _MISSING or not same_kind or expect != actual:
        return _mismatch(path, expect, actual)
    return None


def _mismatch(path: str, expect: Any, actual: Any) -> str:
    got = "<missing>" if actual is _MISSING else repr(actual)
    return f"expected {path or 'output'} {expect!r}, got {got}"


def check(function: Function) -> list[str]:
    """Run every test of `function` in V8; one `FILE:LINE: test 'NAME': ...` line per failure."""
    if not function.tests:
        return []
    code = function.code.decode("utf-8", errors="replace")
    failures = []
    for test in function.tests:
        run = execute(code, dict(test.event))
        if run.error is not None:
            timed_out = run.error.startswith(_TIMEOUT)
            problem = "the function exceeded the time limit" if timed_out else f"the function failed: {run.error}"
        else:
            problem = subset_mismatch(dict(test.expect), run.output) or ""
        if problem:
            failures.append(f"{test.source}: test '{test.name}': {problem}")
    return failures
