"""docs/function-runtime.md's feature table is `features.FEATURES`, and every row of it is true of
the runtime: each has a probe that yields 'ok' where the row says yes and is refused or fails where
it says no."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reconciler.cfjs import compile_code, complete_event, execute
from reconciler.cfjs.features import FEATURES, RUNTIMES, feature_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "function-runtime.md"

# feature -> code whose handler sets header x-ok to 'ok' when the feature works.
PROBES = {
    "ES 5.1 statements": "var r = ''; for (var k in {o: 1}) { r += k; }"
                         " lbl: switch (1) { case 1: r += 'k'; break lbl; } try { throw 1; } catch (e) {} finally {}"
                         " return r;",
    "arrow functions": "var f = (...a) => `${a[0]}`; return 2 ** 3 === 8 ? f('ok') : 'no';",
    "`const` and `let`": "const a = 'o'; let b = 'k'; return a + b;",
    "`async` functions": "FILE:async function f() { return 'ok'; }\nasync function handler(event) {"
                         " event.request.headers['x-ok'] = {value: await f()}; return event.request; }",
    "`import name from": "FILE:import qs from 'querystring';\nfunction handler(event) {"
                         " event.request.headers['x-ok'] = {value: qs.parse('a=ok').a}; return event.request; }",
    "numeric separators": "return 1_000 === 1000 ? 'ok' : 'no';",
    "async arrow": "var f = async () => 1; return 'ok';",
    "classes, generators": "class K {} return 'ok';",
    "optional chaining": "var a = {b: 'ok'}; return a?.b;",
    "`crypto`: createHash": "var c = require('crypto');"
                            " return c.createHmac('sha256', 'k').update('x').digest('hex').length === 64"
                            " && c.createHash('md5').update('x').digest('base64url').length === 22 ? 'ok' : 'no';",
    "`crypto` digest() without": "var d = require('crypto').createHash('sha1').update('x').digest();"
                                 " return Buffer.isBuffer(d) ? 'ok' : 'no';",
    "`querystring`": "var q = require('querystring'); return q.stringify(q.parse('a=ok')) === 'a=ok' ? 'ok' : 'no';",
    "`buffer` and the global": "return require('buffer').Buffer.from('b2s', 'base64').toString();",
    "`cloudfront`: kvs()": "FILE:import cf from 'cloudfront';\nasync function handler(event) {"
                           " event.request.headers['x-ok'] = {value: await cf.kvs().get('k')}; return event.request; }",
    "`cloudfront`: updateRequestOrigin": "FILE:import cf from 'cloudfront';\nfunction handler(event) {"
                                         " cf.updateRequestOrigin({domainName: 'example.com'});"
                                         " cf.selectRequestOriginById('o');"
                                         " event.request.headers['x-ok'] = {value: 'ok'}; return event.request; }",
    "String.bytesFrom": "return String.bytesFrom('6f6b', 'hex').toBytes().fromBytes().toUTF8().fromUTF8();",
    "String.prototype.replaceAll": "return 'oo'.replaceAll('o', 'k').replace('k', 'o');",
    "atob, btoa": "return atob(btoa(new TextDecoder().decode(new TextEncoder().encode('ok'))));",
    "Symbol, DataView": "return typeof Symbol.for('x') === 'symbol'"
                        " && new DataView(new ArrayBuffer(2)).byteLength === 2 ? 'ok' : 'no';",
    "Promise, typed arrays": "return Promise.resolve(1) instanceof Promise && new Uint8Array(2).length === 2"
                             " && JSON.parse('\"ok\"') === 'ok' && /o(k)/.test('ok') && Math.max(1, 2) === 2"
                             " ? 'ok' : 'no';",
    "Map, Set, WeakMap": "return [globalThis.Map, globalThis.Set, globalThis.Proxy, globalThis.Reflect].every("
                         "function (x) { return x; }) ? 'ok' : 'no';",
    "console.log": "console.log('a line'); return 'ok';",
    "Date answers": "return Date.now() === new Date().getTime() ? 'ok' : 'no';",
    "eval() and the Function": "return eval('\"ok\"');",
    "setTimeout, setImmediate": "setTimeout(function () {}, 1); return 'ok';",
    "process, fs": "return require('fs') ? 'ok' : 'no';",
}


def probe_for(what: str) -> str:
    keys = [k for k in PROBES if what.startswith(k)]
    assert len(keys) == 1, f"one probe per feature row: {what!r} has {keys}"
    return PROBES[keys[0]]


def works(code: str, runtime: str) -> bool:
    if not code.startswith("FILE:"):
        code = ("function handler(event) { var r = (function () { " + code + " })();\n"
                "  event.request.headers['x-ok'] = {value: String(r)}; return event.request; }")
    source = code.removeprefix("FILE:")
    if compile_code(source, runtime).findings:
        return False
    run = execute(source, runtime, complete_event({}), {"k": "ok"})
    return run.output is not None and run.output["request"]["headers"].get("x-ok") == {"value": "ok"}


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("feature", FEATURES, ids=lambda f: f.what[:40])
def test_each_row_is_true(feature: object, runtime: str) -> None:
    """The row's yes/no for this runtime is what the runtime does."""
    from reconciler.cfjs.features import Feature

    assert isinstance(feature, Feature)
    assert works(probe_for(feature.what), runtime) == feature.supported(runtime)


def test_every_probe_belongs_to_a_row() -> None:
    """No probe without a row, so the table cannot lose a feature the tests prove."""
    for key in PROBES:
        assert any(f.what.startswith(key) for f in FEATURES), key


def test_doc_shows_the_table() -> None:
    """docs/function-runtime.md holds exactly `feature_table()` between its markers."""
    text = DOC.read_text()
    match = re.search(r"<!-- feature-table -->\n(.*?)<!-- /feature-table -->", text, re.S)
    assert match, "markers missing"
    assert match.group(1) == feature_table(), "regenerate: python -m reconciler.cfjs.features > table"
