"""Function documents through the loader: every function compiled at validate, tests of both
event types, `kvs` data, `null` meaning absent, rejected results and logs under a failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.core.errors import InvalidDesired
from reconciler.loading import load

SITE = "kind: Site\nname: edge-lab\nregion: eu-west-1\ndistributions: {web: E3EDGELAB0001}\n"


def errors(tmp_path: Path, yaml: str, code: str) -> list[str]:
    """The loader's errors for one Function document (`f.yaml`) and its code (`f.js`)."""
    root = tmp_path / "d"
    (root / "fn").mkdir(parents=True)
    (root / "site.yaml").write_text(SITE)
    (root / "fn" / "f.yaml").write_text(yaml)
    (root / "fn" / "f.js").write_text(code)
    try:
        load(root)
    except InvalidDesired as exc:
        return [e.replace(f"{root}/", "") for e in exc.errors]
    return []


def function(runtime: str = "cloudfront-js-2.0", extra: str = "", tests: str = "") -> str:
    return f"kind: Function\nname: f\nruntime: {runtime}\ncode: f.js\n{extra}" + (f"tests:\n{tests}" if tests else "")


SECURITY = """\
function handler(event) {
  var response = event.response;
  response.headers['x-frame-options'] = {value: 'DENY'};
  delete response.headers['server'];
  return response;
}
"""


class TestCompiledAtValidate:
    """Code is compiled under its runtime whether or not it has tests (SPEC section 2)."""

    def test_syntax_error_without_tests(self, tmp_path: Path) -> None:
        """The error names the `.js` file and its line."""
        found = errors(tmp_path, function(), "function handler(event) {\n  return event.request\n  var = 1;\n}\n")
        assert found == ["fn/f.js:3: SyntaxError: Unexpected token '='"]

    def test_const_under_1_0_without_tests(self, tmp_path: Path) -> None:
        """A construct the runtime lacks is refused at its line."""
        code = "function handler(event) {\n  const r = event.request;\n  return r;\n}\n"
        assert errors(tmp_path, function("cloudfront-js-1.0"), code) == [
            "fn/f.js:2: cloudfront-js-1.0 does not support `const` (use var, or runtime cloudfront-js-2.0)"]
        assert errors(tmp_path / "v2", function("cloudfront-js-2.0"), code) == []


class TestEventTypes:
    """`eventType` (default: the Function's `event`, itself default viewer-request)."""

    def test_viewer_response_with_null_meaning_absent(self, tmp_path: Path) -> None:
        """SPEC's security-headers example passes: the header is added and `server` is gone."""
        tests = ("  - name: security headers on every page\n    eventType: viewer-response\n"
                 "    event: {request: {uri: /}, response: {statusCode: 200, headers: {server: {value: nginx}}}}\n"
                 "    expect: {response: {headers: {x-frame-options: {value: DENY}, server: null}}}\n")
        assert errors(tmp_path, function(tests=tests), SECURITY) == []

    def test_null_fails_when_the_key_is_present(self, tmp_path: Path) -> None:
        """`null` in expect fails when the key is still there."""
        tests = ("  - name: server hidden\n    event: {response: {headers: {server: nginx}}}\n"
                 "    expect: {response: {headers: {server: null}}}\n")
        code = "function handler(event) { return event.response; }\n"
        assert errors(tmp_path, function(extra="event: viewer-response\n", tests=tests), code) == [
            "fn/f.yaml:7: test 'server hidden': expected response.headers.server to be absent, got {'value': 'nginx'}"]

    def test_function_event_is_the_default(self, tmp_path: Path) -> None:
        """A Function declared `event: viewer-response` gets viewer-response test events, status 200."""
        tests = "  - name: t\n    event: {request: {uri: /}}\n    expect: {response: {statusCode: 200, headers: {}}}\n"
        code = "function handler(event) { return event.response; }\n"
        assert errors(tmp_path, function(extra="event: viewer-response\n", tests=tests), code) == []

    def test_a_full_event_says_its_type(self, tmp_path: Path) -> None:
        """A full event written out (context.eventType) is tested as that event type."""
        tests = ("  - name: t\n    event: {version: '1.0', context: {eventType: viewer-response},"
                 " request: {method: GET, uri: /}, response: {statusCode: 200}}\n"
                 "    expect: {response: {headers: {x-frame-options: {value: DENY}}}}\n")
        assert errors(tmp_path, function(tests=tests), SECURITY) == []

    def test_viewer_response_function_must_return_a_response(self, tmp_path: Path) -> None:
        """Returning the request from a viewer-response function is what CloudFront rejects."""
        tests = "  - name: t\n    eventType: viewer-response\n    event: {}\n    expect: {request: {}}\n"
        code = "function handler(event) { return event.request; }\n"
        assert errors(tmp_path, function(tests=tests), code) == [
            "fn/f.yaml:6: test 't': the function failed: a viewer-response function must return a response object "
            "(with statusCode), not a request"]


class TestKvsAndLogs:
    """`kvs` test data backs `cf.kvs()`; a failing test shows the function's log lines."""

    CODE = """\
import cf from 'cloudfront';
const kvs = cf.kvs();
async function handler(event) {
  const request = event.request;
  const key = request.uri.split('/')[1];
  try {
    request.uri = '/' + await kvs.get(key) + '/index.html';
  } catch (err) {
    console.log('no mapping for ' + key);
  }
  return request;
}
"""

    def test_kvs_data(self, tmp_path: Path) -> None:
        """A mapped key rewrites; the store is empty where a test gives no `kvs`."""
        tests = ("  - name: mapped\n    event: {request: {uri: /old}}\n    kvs: {old: new}\n"
                 "    expect: {request: {uri: /new/index.html}}\n"
                 "  - name: unmapped\n    event: {request: {uri: /old}}\n    expect: {request: {uri: /old}}\n")
        assert errors(tmp_path, function(tests=tests), self.CODE) == []

    def test_logs_under_a_failing_test(self, tmp_path: Path) -> None:
        """Each logged line follows the failing test's line, indented by two spaces."""
        tests = "  - name: mapped\n    event: {request: {uri: /old}}\n    expect: {request: {uri: /new/index.html}}\n"
        assert errors(tmp_path, function(tests=tests), self.CODE) == [
            "fn/f.yaml:6: test 'mapped': expected request.uri '/new/index.html', got '/old'\n  no mapping for old"]


@pytest.mark.parametrize(("code", "why"), [
    ("function handler(event) { }", "the handler returned nothing"),
    ("function handler(event) { return {statusCode: '302'}; }", "statusCode must be an integer"),
    ("function handler(event) { event.request.uri = 'index.html'; return event.request; }", "begins with '/'"),
    ("function handler(event) { event.request.method = 'POST'; return event.request; }", "request.method is read-only"),
    ("function handler(event) { event.request.headers['X-A'] = {value: '1'}; return event.request; }", "lower case"),
    ("function handler(event) { event.request.headers.a = '1'; return event.request; }", "with a string `value`"),
])
def test_results_cloudfront_rejects(tmp_path: Path, code: str, why: str) -> None:
    """A result of the wrong type or shape fails its test, saying why (the event structure page)."""
    tests = "  - name: t\n    event: {request: {uri: /}}\n    expect: {request: {}}\n"
    (found,) = errors(tmp_path, function(tests=tests), code + "\n")
    assert found.startswith("fn/f.yaml:6: test 't': the function failed: ") and why in found


def test_at_most_one_key_value_store(tmp_path: Path) -> None:
    """CloudFront associates at most one key value store with a function."""
    arns = ", ".join(f"arn:aws:cloudfront::123456789012:key-value-store/{n}" for n in ("a1", "b2"))
    code = "function handler(e) { return e.request; }"
    (found,) = errors(tmp_path, function(extra=f"keyValueStores: [{arns}]\n"), code)
    assert found == "fn/f.yaml:5: keyValueStores: must have at most 1 item"
