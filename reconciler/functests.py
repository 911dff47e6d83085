"""CloudFront Functions executed in V8 (mini-racer): the local runtime behind function tests at
`validate` time and behind the sandbox's TestFunction.

`execute` runs one handler on one event and returns the output in TestFunction's
`FunctionOutput` shape: `{"request": R}` or `{"response": R}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

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
    from py_mini_racer import MiniRacer

    import time

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
            return Execution(None, f"The function exceeded the time limit ({timeout:g} s)")
        message = str(exc).strip().splitlines()
        return Execution(None, message[0] if message else name)
    finally:
        elapsed = time.perf_counter() - started
    result = json.loads(raw)
    out = result["out"]
    utilization = min(100, max(1, int(elapsed * 1000)))
    if not isinstance(out, dict):
        return Execution(None, "The function must return a request or a response object", tuple(result["logs"]))
    shape = {"response": out} if "statusCode" in out else {"request": out}
    return Execution(shape, None, tuple(result["logs"]), utilization)
