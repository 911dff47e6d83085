"""The language level of each runtime, as AWS's runtime pages list it: what compiles, and what is
refused at `validate` with the line in the `.js` file.

Sources: functions-javascript-runtime-10.html and -20.html ("Core features", "Restricted
features") under https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/.
"""

from __future__ import annotations

import pytest

from reconciler.cfjs import compile_code
from tests.cfjs.helpers import V1, V2

OK = "function handler(event) {\n  return event.request;\n}\n"


def refusals(code: str, runtime: str) -> list[tuple[int, str]]:
    return [(f.line, f.message) for f in compile_code(code, runtime).findings]


# (runtime, code with the construct on line 2, a word the message must contain)
REFUSED = [
    # 1.0: "The const and let statements are not supported"; async/await/import are 2.0's.
    (V1, "var a = 1;\nconst b = 2;", "`const`"),
    (V1, "var a = 1;\nlet b = 2;", "`let`"),
    (V1, "var a = 1;\nfor (let i = 0; i < 1; i++) {}", "`let`"),
    (V1, "var a = 1;\nasync function f() {}", "`async`"),
    (V1, "var a = 1;\nvar cf = 1; import x from 'crypto';", "`import`"),
    # Both: "Dynamic code evaluation is not supported", "Timers", no process, no fs, no network.
    (V1, "var a = 1;\nvar b = eval('1');", "eval()"),
    (V2, "var a = 1;\nvar b = eval('1');", "eval()"),
    (V1, "var a = 1;\nvar sum = new Function('a', 'b', 'return a + b');", "Function constructor"),
    (V2, "var a = 1;\nconst sum = new Function('a', 'b', 'return a + b');", "Function constructor"),
    (V2, "var a = 1;\nvar f = Function('return 1');", "Function constructor"),
    (V1, "var a = 1;\nsetTimeout(function () {}, 10);", "timers"),
    (V2, "var a = 1;\nsetImmediate(function () {});", "timers"),
    (V2, "var a = 1;\nclearTimeout(0);", "timers"),
    (V2, "var a = 1;\nvar fs = require('fs');", "unknown module 'fs'"),
    (V2, "var a = 1;\nimport http from 'http';", "unknown module 'http'"),
    (V1, "var a = 1;\nvar b = require('buffer');", "unknown module 'buffer'"),
    (V1, "var a = 1;\nvar b = require('cloudfront');", "unknown module 'cloudfront'"),
    (V2, "var a = 1;\nvar e = process.env.SECRET;", "process"),
    (V2, "var a = 1;\nfetch('https://example.com');", "network"),
    # Not on either page: refused rather than guessed.
    (V2, "var a = 1;\nclass K {}", "classes"),
    (V2, "var a = 1;\nconst {x} = {x: 1};", "destructuring"),
    (V2, "var a = 1;\nvar b = [].concat([...[1]]);", "spread"),
    (V2, "var a = 1;\nfor (const k of []) {}", "for...of"),
    (V2, "var a = 1;\nvar b = a?.b;", "optional chaining"),
    (V2, "var a = 1;\nvar b = a ?? 2;", "nullish"),
    (V2, "var a = 1;\nfunction f(x = 1) { return x; }", "default parameter"),
    (V2, "var a = 1;\nfunction* g() {}", "generator"),
    (V2, "var a = 1;\nvar o = {a};", "shorthand"),
    # 2.0: "await can be used inside async functions only. async arguments and closures are not supported."
    (V2, "var a = 1;\nvar f = async () => 1;", "async"),
    (V2, "var a = 1;\nfunction outer() { async function inner() {} }", "async"),
    (V2, "var a = 1;\nimport {createHash} from 'crypto';", "import name from"),
    (V2, "var a = 1;\nexport default function handler(e) { return e.request; }", "export"),
]


@pytest.mark.parametrize(("runtime", "code", "word"), REFUSED)
def test_refused_with_line(runtime: str, code: str, word: str) -> None:
    """The construct is refused at validate, on the line it is written."""
    found = refusals(code + "\n" + OK, runtime)
    assert any(line == 2 and word in message for line, message in found), found


ACCEPTED = [
    # 1.0 core features: ES 5.1 statements, `**`, template literals, arrow functions, rest parameters.
    (V1, "var a = 2 ** 3; var s = `x${a}`; var f = (x) => x; function g(...rest) { return rest; }"),
    (V1, "var c = require('crypto'); var q = require('querystring'); label: for (var i in {}) { break label; }"),
    (V1, "var o = {get x() { return 1; }}; try { throw new TypeError('t'); } catch (e) {} finally {}"),
    # 2.0: const, let, async/await, import of the four modules, numeric separators.
    (V2, "import cf from 'cloudfront';\nimport crypto from 'crypto';\nconst a = 1_000; let b = a;"),
    (V2, "import qs from 'querystring';\nimport b from 'buffer';\nasync function f() { return await 1; }"),
]


@pytest.mark.parametrize(("runtime", "code"), ACCEPTED)
def test_listed_features_compile(runtime: str, code: str) -> None:
    """Every listed feature compiles under its runtime."""
    assert refusals(code + "\n" + OK, runtime) == []


def test_syntax_error_names_its_line() -> None:
    """A plain syntax error is V8's message with the line in the `.js` file."""
    assert refusals("function handler(event) {\n  var x = ;\n}", V2) == [(2, "SyntaxError: Unexpected token ';'")]


def test_strict_mode_always() -> None:
    """"Functions operate in strict mode by default": a legacy octal literal does not compile."""
    (found,) = refusals("function handler(event) {\n  var x = 010;\n  return event.request;\n}", V1)
    assert found[0] == 2 and "strict mode" in found[1]


def test_a_declared_name_is_not_a_restricted_global() -> None:
    """Code that declares its own `process` uses its own, not Node's."""
    assert refusals("function handler(event) { var process = 1; return process; }", V2) == []


def test_scans_from_many_threads_agree() -> None:
    """The sandbox compiles in request threads: concurrent scans give the single-threaded answer."""
    from concurrent.futures import ThreadPoolExecutor

    from reconciler.cfjs.syntax import scan

    codes = [f"var a{i} = 1;\nconst b{i} = {i};\n" + OK for i in range(32)]
    alone = [scan(code, V1)[0] for code in codes]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(lambda code: scan(code, V1)[0], codes))
    assert together == alone and all(found[0].line == 2 for found in together)
