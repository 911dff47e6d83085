"""Facts about the two CloudFront Functions runtimes, from AWS's pages (the URLs below): names,
built-in modules, limits. Code elsewhere in `cfjs` reads these; docs/function-runtime.md shows them.
"""

from __future__ import annotations

from dataclasses import dataclass

RUNTIME_1 = "cloudfront-js-1.0"
RUNTIME_2 = "cloudfront-js-2.0"
RUNTIMES = (RUNTIME_1, RUNTIME_2)

GUIDE = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/"
PAGES = {
    "runtime 1.0": GUIDE + "functions-javascript-runtime-10.html",
    "runtime 2.0": GUIDE + "functions-javascript-runtime-20.html",
    "restrictions": GUIDE + "cloudfront-function-restrictions.html",
    "event structure": GUIDE + "functions-event-structure.html",
    "key value stores": GUIDE + "functions-custom-methods.html",
    "origin modification": GUIDE + "helper-functions-origin-modification.html",
    "quotas": GUIDE + "cloudfront-limits.html",
    "TestFunction": "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_TestFunction.html",
    "TestResult": "https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_TestResult.html",
}

MODULES = {
    RUNTIME_1: ("crypto", "querystring"),
    RUNTIME_2: ("crypto", "querystring", "buffer", "cloudfront"),
}
"""Built-in modules loadable with `require('name')` (and, in 2.0, `import x from 'name'`)."""

EVENT_TYPES = ("viewer-request", "viewer-response")

LOG_LIMIT_BYTES = 10 * 1024
"""Restrictions page: "Function logs in CloudFront Functions are truncated at 10 KB"."""

MEMORY_LIMIT_BYTES = 2 * 1024 * 1024
"""Quotas page: "Maximum function memory: 2 MB"."""

EVENT_LIMIT_BYTES = 40960
"""TestFunction API: EventObject is at most 40,960 bytes (botocore's model: max 40960)."""

TIME_BUDGET_SECONDS = 0.1
"""The local time budget of one handler run. AWS publishes no time figure: TestResult says only
that ComputeUtilization is "the amount of time that the function took to run as a percentage of
the maximum allowed time". 100 ms of V8 wall time is generous on purpose (a cold V8 on a shared
CI machine): it catches loops that never end or grow with the input, not edge latency."""

MEMORY_BUDGET_BYTES = 8 * MEMORY_LIMIT_BYTES
"""The local heap budget of one handler run: V8 objects are larger than those of CloudFront's
engine and garbage counts until collected, so the local bound is 8x the edge's 2 MB; code that
builds megabytes of live data still fails locally."""


@dataclass(frozen=True)
class Feature:
    """One row of the feature table: area, what, whether each runtime has it, the page that says so."""

    area: str
    what: str
    v1: bool
    v2: bool
    page: str

    def supported(self, runtime: str) -> bool:
        return self.v1 if runtime == RUNTIME_1 else self.v2


_R1, _R2, _RS = "runtime 1.0", "runtime 2.0", "restrictions"
FEATURES = (
    Feature("syntax", "ES 5.1 statements (var, if, for, for-in, switch, try/catch/finally, labels)", True, True, _R1),
    Feature("syntax", "arrow functions, template literals, `**`, rest parameters", True, True, _R1),
    Feature("syntax", "`const` and `let`", False, True, _R2),
    Feature("syntax", "`async` functions and `await`", False, True, _R2),
    Feature("syntax", "`import name from 'module'`", False, True, _R2),
    Feature("syntax", "numeric separators (`1_000`)", False, True, _R2),
    Feature("syntax", "async arrow functions and async closures", False, False, _R2),
    Feature("syntax", "classes, generators, destructuring, spread, default parameters, for-of (not listed)",
            False, False, _R2),
    Feature("syntax", "optional chaining `?.`, nullish `??`, shorthand/computed/method properties (not listed)",
            False, False, _R2),
    Feature("modules", "`crypto`: createHash/createHmac md5, sha1, sha256; digest hex, base64, base64url",
            True, True, _R1),
    Feature("modules", "`crypto` digest() without encoding returns a Buffer", False, True, _R2),
    Feature("modules", "`querystring`: parse/decode, stringify/encode, escape, unescape", True, True, _R1),
    Feature("modules", "`buffer` and the global `Buffer`", False, True, _R2),
    Feature("modules", "`cloudfront`: kvs() get/exists/meta", False, True, "key value stores"),
    Feature("modules", "`cloudfront`: updateRequestOrigin, selectRequestOriginById, createRequestOriginGroup "
            "(viewer-request only)", False, True, "origin modification"),
    Feature("globals", "String.bytesFrom, fromBytes, fromUTF8, toBytes, toUTF8", True, False, _R1),
    Feature("globals", "String.prototype.replaceAll", False, True, _R2),
    Feature("globals", "atob, btoa, TextEncoder, TextDecoder", False, True, _R2),
    Feature("globals", "Symbol, DataView", False, True, _R2),
    Feature("globals", "Promise, typed arrays, ArrayBuffer, JSON, Math, RegExp", True, True, _R1),
    Feature("globals", "Map, Set, WeakMap, Proxy, Reflect, Intl, BigInt (not listed)", False, False, _R2),
    Feature("globals", "console.log (logs truncated at 10 KB)", True, True, _RS),
    Feature("globals", "Date answers the start time of the run", True, True, _R1),
    Feature("restricted", "eval() and the Function constructor", False, False, _R1),
    Feature("restricted", "setTimeout, setImmediate, clearTimeout", False, False, _R1),
    Feature("restricted", "process, fs and other Node modules, network access", False, False, _R2),
)
"""What the local runtime supports; docs/function-runtime.md shows this table and
tests/cfjs/test_feature_table.py proves every row against the runtime."""


def feature_table() -> str:
    """The Markdown table of `FEATURES` for docs/function-runtime.md."""
    rows = ["| area | feature | cloudfront-js-1.0 | cloudfront-js-2.0 | source |", "|---|---|---|---|---|"]
    for f in FEATURES:
        mark = {True: "yes", False: "no"}
        rows.append(f"| {f.area} | {f.what} | {mark[f.supported(RUNTIME_1)]} | {mark[f.supported(RUNTIME_2)]} "
                    f"| [{f.page}]({PAGES[f.page]}) |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":  # python -m reconciler.cfjs.features: the table for docs/function-runtime.md
    print(feature_table(), end="")
