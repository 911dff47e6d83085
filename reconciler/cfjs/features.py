"""Facts about the two CloudFront Functions runtimes, from AWS's pages (the URLs below): names,
built-in modules, limits. Code elsewhere in `cfjs` reads these; docs/function-runtime.md shows them.
"""

from __future__ import annotations

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
