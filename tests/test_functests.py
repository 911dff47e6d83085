"""Function tests in V8: event completion, subset matching, failure messages, and the sample
rewrite function (a rewrite must keep the original path)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.core.model import Function, FunctionTest, Source
from reconciler.loading import load
from reconciler.loading.functests import check, complete_event, execute, subset_mismatch

SAMPLE = Path(__file__).resolve().parent.parent / "desired"
RUNTIME = "cloudfront-js-1.0"


def function(code: str, *tests: tuple[str, dict[str, Any], dict[str, Any]]) -> Function:
    return Function(
        name="f", runtime="cloudfront-js-2.0", code=code.encode(), code_path="f.js",
        tests=tuple(FunctionTest(n, complete_event(e), x, Source("fn.yaml", 10 + i)) for i, (n, e, x) in
                    enumerate(tests)),
    )


class TestCompleteEvent:
    """The shorthand becomes a full viewer-request event."""

    def test_minimal(self) -> None:
        """Only a uri: everything else gets CloudFront's defaults."""
        event = complete_event({"request": {"uri": "/x"}})
        assert event == {
            "version": "1.0",
            "context": {"distributionDomainName": "d111111abcdef8.cloudfront.net", "distributionId": "EDFDVBD6EXAMPLE",
                        "eventType": "viewer-request", "requestId": "reconciler-local-test"},
            "viewer": {"ip": "1.2.3.4"},
            "request": {"method": "GET", "uri": "/x", "querystring": {}, "headers": {}, "cookies": {}},
        }

    @pytest.mark.parametrize(("section", "given", "expected"), [
        ("querystring", {"a": "1"}, {"a": {"value": "1"}}),
        ("querystring", {"a": {"value": "1", "multiValue": ["1", {"value": "2"}]}},
         {"a": {"value": "1", "multiValue": [{"value": "1"}, {"value": "2"}]}}),
        ("headers", {"User-Agent": "curl", "Host": {"value": "x.example"}},
         {"user-agent": {"value": "curl"}, "host": {"value": "x.example"}}),
        ("cookies", {"session": "abc"}, {"session": {"value": "abc"}}),
    ])
    def test_entries(self, section: str, given: dict[str, Any], expected: dict[str, Any]) -> None:
        """Plain strings become `{value: ...}` entries; header names are lower-cased."""
        assert complete_event({"request": {section: given}})["request"][section] == expected

    def test_viewer_response(self) -> None:
        """A viewer-response event also gets a response: status 200, empty headers and cookies."""
        event = complete_event({"request": {"uri": "/"}}, "viewer-response")
        assert event["context"]["eventType"] == "viewer-response"
        assert event["response"] == {"statusCode": 200, "headers": {}, "cookies": {}}

    def test_viewer_and_method(self) -> None:
        """The viewer ip and the method can be given."""
        event = complete_event({"request": {"method": "POST"}, "viewer": {"ip": "10.0.0.9"}})
        assert (event["request"]["method"], event["viewer"]["ip"]) == ("POST", "10.0.0.9")


class TestSubsetMismatch:
    """`expect` is a subset of the output; the first difference is named by its dotted path."""

    @pytest.mark.parametrize(
        ("expect", "actual", "message"),
        [
            ({"request": {"uri": "/a"}}, {"request": {"uri": "/a", "method": "GET"}}, None),
            ({"request": {"uri": "/a"}}, {"request": {"uri": "/b"}}, "expected request.uri '/a', got '/b'"),
            (
                {"request": {"querystring": {"q": {"value": "1"}}}},
                {"request": {"querystring": {}}},
                "expected request.querystring.q {'value': '1'}, got <missing>",
            ),
            (
                {"response": {"statusCode": 302}},
                {"request": {"uri": "/"}},
                "expected response {'statusCode': 302}, got <missing>",
            ),
            (
                {"response": {"statusCode": 1}},
                {"response": {"statusCode": True}},
                "expected response.statusCode 1, got True",
            ),
            ({"a": [1, {"b": 2}]}, {"a": [1, {"b": 2, "c": 3}]}, None),
            ({"a": [1, 2]}, {"a": [1]}, "expected a [1, 2], got [1]"),
            ({"a": [{"b": 2}]}, {"a": [{"b": 3}]}, "expected a[0].b 2, got 3"),
            ({"a": {}}, {"a": "x"}, "expected a {}, got 'x'"),
        ],
    )
    def test_table(self, expect: dict[str, Any], actual: dict[str, Any], message: str | None) -> None:
        """Literal cases."""
        assert subset_mismatch(expect, actual) == message


class TestCheck:
    """`check` runs every test and words failures as `FILE:LINE: test 'NAME': ...`."""

    def test_failure_message_is_exact(self) -> None:
        """A wrong uri names the field, the expected and the actual value."""
        f = function("function handler(e) { return e.request; }",
                     ("tracking", {"request": {"uri": "/track/x"}}, {"request": {"uri": "/index.html"}}))
        assert check(f) == ["fn.yaml:10: test 'tracking': expected request.uri '/index.html', got '/track/x'"]

    @pytest.mark.timeout(20)
    def test_infinite_loop(self) -> None:
        """A runaway handler is stopped and reported, without a traceback."""
        f = function("function handler(e) { while (true) {} }", ("spins", {"request": {}}, {"request": {}}))
        assert check(f) == ["fn.yaml:10: test 'spins': the function failed: The function exceeded the time limit "
                            "(local budget 100 ms)"]

    def test_thrown_error(self) -> None:
        """An exception in the handler fails the test with its message."""
        f = function("function handler(e) { throw new Error('kaboom'); }", ("t", {"request": {}}, {"request": {}}))
        (failure,) = check(f)
        assert failure.startswith("fn.yaml:10: test 't': the function failed: ") and "kaboom" in failure

    def test_missing_handler(self) -> None:
        """Code without a handler fails every test."""
        (failure,) = check(function("var x = 1;", ("t", {"request": {}}, {"request": {}})))
        assert "handler" in failure

    def test_response_output(self) -> None:
        """A returned response is matched under `response`."""
        code = "function handler(e) { return {statusCode: 302, headers: {location: {value: '/'}}}; }"
        assert check(function(code, ("r", {"request": {}}, {"response": {"statusCode": 302}}))) == []

    def test_code_without_tests_is_compiled(self) -> None:
        """A function without tests is still compiled: a syntax error names the `.js` file and line."""
        found = check(function("var ok = 1;\nsyntax error here"))
        assert found == ["f.js:2: SyntaxError: Unexpected identifier 'error'"]

    def test_code_with_tests_that_does_not_compile(self) -> None:
        """With tests too, code that does not compile is one error at its `.js` line, not failed tests."""
        code = "function handler(e) {\n  return e.request\n  var = 1;\n}"
        f = function(code, ("t", {"request": {}}, {"request": {}}))
        assert check(f) == ["f.js:3: SyntaxError: Unexpected token '='"]

    def test_tests_do_not_see_each_others_globals(self) -> None:
        """Tests share a V8 context only while they leave it clean: what one test puts on globalThis
        or a built-in prototype is gone for the next."""
        code = ("function handler(e) {\n  var seen = typeof globalThis.mark + typeof ''.shout;\n"
                "  globalThis.mark = 1; String.prototype.shout = function () { return 'x'; };\n"
                "  e.request.headers.seen = {value: seen}; return e.request;\n}")
        fresh = {"request": {"headers": {"seen": {"value": "undefinedundefined"}}}}
        f = function(code, ("first", {"request": {}}, fresh), ("second", {"request": {}}, fresh))
        assert check(f) == []

    def test_a_stopped_run_does_not_stop_the_next_test(self) -> None:
        """After a run stopped for time, the next test runs in a fresh context."""
        code = "function handler(e) { if (e.request.uri === '/spin') { for (;;) {} } return e.request; }"
        f = function(code, ("spins", {"request": {"uri": "/spin"}}, {"request": {}}),
                     ("runs", {"request": {"uri": "/ok"}}, {"request": {"uri": "/ok"}}))
        (failure,) = check(f)
        assert failure.startswith("fn.yaml:10: test 'spins': the function failed: The function exceeded the time")

    def test_logs_follow_a_failing_test_indented(self) -> None:
        """What the handler logged is shown under the failing test, two spaces in, also when it throws."""
        code = ("function handler(e) { console.log('seen ' + e.request.uri); console.log('a\\nb');"
                " throw new Error('no'); }")
        (failure,) = check(function(code, ("t", {"request": {"uri": "/x"}}, {"request": {}})))
        assert failure == "fn.yaml:10: test 't': the function failed: Error: no\n  seen /x\n  a\n  b"


@pytest.fixture(scope="module")
def code() -> str:
    """The sample function's code, as the loader reads it."""
    (fn,) = load(SAMPLE, run_tests=False).functions
    return fn.code.decode()


class TestSampleFunction:
    """The sample's /track/ and /book/ rewrite keeps the original path and leaves the rest alone."""

    @pytest.mark.parametrize("uri", ["/track/abc", "/book/x", "/track/fcdc1c82cb284dbe"])
    def test_rewrites_and_keeps_original_path(self, code: str, uri: str) -> None:
        """The SPA answers, and the app can still see where the visitor wanted to go."""
        out = execute(code, RUNTIME, complete_event({"request": {"uri": uri}})).output
        assert out is not None
        assert out["request"]["uri"] == "/index.html"
        assert out["request"]["querystring"]["original_path"] == {"value": uri}

    @pytest.mark.parametrize("uri", ["/assets/app.js", "/", "/tracking", "/index.html"])
    def test_other_paths_untouched(self, code: str, uri: str) -> None:
        """Assets and the home page pass through unchanged."""
        out = execute(code, RUNTIME, complete_event({"request": {"uri": uri}})).output
        assert out == {"request": complete_event({"request": {"uri": uri}})["request"]}

    def test_existing_query_is_kept(self, code: str) -> None:
        """Other query parameters survive the rewrite."""
        event = complete_event({"request": {"uri": "/book/1", "querystring": {"utm": "x"}}})
        out = execute(code, RUNTIME, event).output
        assert out is not None and out["request"]["querystring"]["utm"] == {"value": "x"}

    def test_sample_tests_pass(self) -> None:
        """The sample's own declared tests all pass."""
        (fn,) = load(SAMPLE, run_tests=False).functions
        assert len(fn.tests) >= 4
        assert check(fn) == []
