"""Running a snippet of JavaScript under a runtime and reading back what it computed."""

from __future__ import annotations

from typing import Any

from reconciler.cfjs import Execution, complete_event, execute

V1 = "cloudfront-js-1.0"
V2 = "cloudfront-js-2.0"


def probe(runtime: str, body: str, event_type: str = "viewer-request", kvs: dict[str, str] | None = None,
          prefix: str = "") -> Any:
    """The string value of `body` (a function body with a `return`), computed inside a handler;
    raises AssertionError with the error when the run fails."""
    code = (f"{prefix}\nfunction handler(event) {{ var r = (function () {{ {body} }})();\n"
            f"  var out = event.{'response' if event_type == 'viewer-response' else 'request'};\n"
            "  out.headers['x-r'] = {value: String(r)}; return out; }")
    run = execute(code, runtime, complete_event({}, event_type), kvs)
    assert run.error is None, run.error
    assert run.output is not None
    return next(iter(run.output.values()))["headers"]["x-r"]["value"]


def run(runtime: str, code: str, event: dict[str, Any] | None = None, event_type: str = "viewer-request",
        kvs: dict[str, str] | None = None) -> Execution:
    return execute(code, runtime, complete_event(event or {}, event_type), kvs)
