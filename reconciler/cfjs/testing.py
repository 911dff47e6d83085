"""Function tests as CloudFront sees them: full events, TestFunction's output, CloudFront's rules.

`complete_event` turns a test's shorthand into a full viewer-request or viewer-response event;
`execute` runs a handler and answers in TestFunction's shape (`FunctionOutput` as `{request: R}`
or `{response: R}`), failing a result CloudFront would reject; `core.matching.subset_mismatch` compares an
expectation (with `null` meaning "absent") with that output.
Event structure: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-event-structure.html
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.cfjs.engine import Runner, run
from reconciler.cfjs.syntax import Finding

_ENTRY_SECTIONS = ("querystring", "headers", "cookies")


@dataclass(frozen=True)
class Execution:
    """One run: `output` in FunctionOutput shape, or `error` when it threw, timed out or returned
    something CloudFront rejects. `logs` are kept either way, as CloudFront keeps them."""

    output: dict[str, Any] | None
    error: str | None = None
    logs: tuple[str, ...] = field(default_factory=tuple)
    compute_utilization: int = 0
    refused: Finding | None = None
    """Set when the code does not compile under the runtime (the line is in the `.js` file)."""


# --- events ----------------------------------------------------------------------------------


def _entry(value: Any) -> Any:
    """CloudFront's `{value: ...}` entry from a plain string, or an entry written out."""
    if not isinstance(value, dict):
        return {"value": value}
    entry = dict(value)
    if "multiValue" in entry:
        entry["multiValue"] = [v if isinstance(v, dict) else {"value": v} for v in entry["multiValue"]]
    return entry


def _entries(given: Any, lower: bool) -> Any:
    if not isinstance(given, dict):
        return given  # a querystring may be given as a string, as a function may return it
    return {(str(k).lower() if lower else k): _entry(v) for k, v in given.items()}


def _message(given: Mapping[str, Any] | None, defaults: dict[str, Any]) -> dict[str, Any]:
    message = dict(defaults)
    for key, value in (given or {}).items():
        message[key] = _entries(value, key == "headers") if key in _ENTRY_SECTIONS else value
    for section in _ENTRY_SECTIONS:
        message.setdefault(section, {})
    return message


def complete_event(shorthand: Mapping[str, Any], event_type: str = "viewer-request") -> dict[str, Any]:
    """The full event of `event_type` for a test's shorthand, so tests state only what matters:
    version, context, viewer, empty headers/querystring/cookies; a viewer-response event also
    gets a response (status 200, empty headers and cookies) where not given."""
    context = {
        "distributionDomainName": "d111111abcdef8.cloudfront.net",
        "distributionId": "EDFDVBD6EXAMPLE",
        "requestId": "reconciler-local-test",
        **dict(shorthand.get("context") or {}),
        "eventType": event_type,
    }
    event: dict[str, Any] = {
        "version": str(shorthand.get("version", "1.0")),
        "context": context,
        "viewer": {"ip": "1.2.3.4", **dict(shorthand.get("viewer") or {})},
        "request": _message(shorthand.get("request"), {"method": "GET", "uri": "/"}),
    }
    if event_type == "viewer-response":
        response = _message(shorthand.get("response"), {"statusCode": 200})
        response.pop("querystring", None)
        event["response"] = response
    return event


# --- what CloudFront accepts back ------------------------------------------------------------


def _entries_problem(where: str, entries: Any, lower_names: bool) -> str | None:
    if not isinstance(entries, dict):
        return f"{where} must be an object of {{value: ...}} entries"
    for name, entry in entries.items():
        if lower_names and name != name.lower():
            return f"header name {name!r} must be lower case"
        if not isinstance(entry, dict) or not isinstance(entry.get("value"), str):
            return f"{where}.{name} must be an object with a string `value`"
        multi = entry.get("multiValue")
        if multi is not None and not (isinstance(multi, list) and all(
                isinstance(m, dict) and isinstance(m.get("value"), str) for m in multi)):
            return f"{where}.{name}.multiValue must be a list of {{value: string}} entries"
    return None


def _response_problem(response: dict[str, Any]) -> str | None:
    status = response.get("statusCode")
    if isinstance(status, bool) or not isinstance(status, int | float) or status != int(status):
        return "statusCode must be an integer (not a string)"
    if not 100 <= int(status) <= 599:
        return f"statusCode {int(status)} is not an HTTP status code"
    if "statusDescription" in response and not isinstance(response["statusDescription"], str):
        return "statusDescription must be a string"
    for section in ("headers", "cookies"):
        if section in response:
            problem = _entries_problem(f"response.{section}", response[section], section == "headers")
            if problem:
                return problem
    body = response.get("body")
    if body is None or isinstance(body, str):
        return None
    if not isinstance(body, dict) or not isinstance(body.get("data"), str):
        return "body must be a string or {data: string, encoding: 'text' | 'base64'}"
    encoding = body.get("encoding", "text")
    if encoding not in ("text", "base64"):
        return "body.encoding must be 'text' or 'base64'"
    if encoding == "base64":
        try:
            base64.b64decode(body["data"], validate=True)
        except (binascii.Error, ValueError):
            return "body.data is not valid base64"
    return None


def _request_problem(request: dict[str, Any], event: Mapping[str, Any]) -> str | None:
    uri = request.get("uri")
    if not isinstance(uri, str) or not uri.startswith("/"):
        return "request.uri must be a string that begins with '/'"
    original = (event.get("request") or {}).get("method")
    if original is not None and request.get("method", original) != original:
        return "request.method is read-only"
    for section in _ENTRY_SECTIONS:
        if section in request and not (section == "querystring" and isinstance(request[section], str)):
            problem = _entries_problem(f"request.{section}", request[section], section == "headers")
            if problem:
                return problem
    return None


def function_output(kind: str | None, value: Any, event: Mapping[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """TestFunction's FunctionOutput for what the handler returned, or why CloudFront rejects it."""
    event_type = str((event.get("context") or {}).get("eventType") or "viewer-request")
    if kind != "object" or not isinstance(value, dict):
        shown = "nothing" if kind == "undefined" else f"a value of type {kind}"
        wanted = "the response object" if event_type == "viewer-response" else "a request or response object"
        return None, f"the handler returned {shown}; a {event_type} function must return {wanted}"
    if "statusCode" in value:
        problem = _response_problem(value)
        return (None, f"CloudFront rejects the response: {problem}") if problem else ({"response": value}, None)
    if event_type == "viewer-response":
        return None, "a viewer-response function must return a response object (with statusCode), not a request"
    problem = _request_problem(value, event)
    return (None, f"CloudFront rejects the request: {problem}") if problem else ({"request": value}, None)


def execute(code: str, runtime: str, event: dict[str, Any], kvs: Mapping[str, str] | None = None,
            runner: Runner | None = None) -> Execution:
    """Run `handler(event)` under `runtime` and answer as TestFunction does (in `runner`'s V8
    context when given, else in a fresh one)."""
    outcome = (runner.run if runner else run)(code, runtime, event, dict(kvs) if kvs else None)
    if outcome.error is not None:
        return Execution(None, outcome.error, outcome.logs, outcome.compute_utilization, outcome.refused)
    output, problem = function_output(outcome.kind, outcome.value, event)
    return Execution(output, problem, outcome.logs, outcome.compute_utilization)
