"""The CloudFront Functions runtimes, locally: cloudfront-js-1.0 and cloudfront-js-2.0 on V8.

Its own room: the loader compiles and tests functions with it at `validate` time, the sandbox's
TestFunction runs code with it. It imports no AWS library. What it supports, and what it cannot
know, is in docs/function-runtime.md; the facts come from AWS's pages listed in `features.PAGES`.
"""

from reconciler.cfjs.engine import Compiled, Runner, compile_code
from reconciler.cfjs.features import EVENT_TYPES, RUNTIMES
from reconciler.cfjs.syntax import Finding
from reconciler.cfjs.testing import Execution, complete_event, execute

__all__ = [
    "EVENT_TYPES", "RUNTIMES", "Compiled", "Execution", "Finding", "Runner", "compile_code", "complete_event",
    "execute",
]
