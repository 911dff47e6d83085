"""A Function document's code and tests, checked with the local CloudFront runtime (`cfjs`).

`check` is what the loader calls at `validate` time for every function: the code is compiled
under its declared runtime whether or not it has tests (`FILE:LINE: message` with the line in the
`.js` file), then each declared test runs and is compared with its `expect`. A failing test is one
error line; the lines the function logged follow it, indented by two spaces. The rest is
re-exported from `reconciler.cfjs` (and the matcher from `core.matching`) for the tests.
"""

from __future__ import annotations

from reconciler.cfjs import Execution, Runner, compile_code, complete_event, execute
from reconciler.core.matching import subset_mismatch
from reconciler.core.model import Function, FunctionTest

__all__ = ["Execution", "check", "complete_event", "execute", "subset_mismatch"]


def check(function: Function) -> list[str]:
    """Every problem of `function`'s code and tests, one `FILE:LINE: message` error each."""
    code = function.code.decode("utf-8", errors="replace")
    if function.tests:  # the first run compiles the code too (one V8 context less than compiling first)
        runs = _runs(function, code)
        if not any(run.refused for _, run in runs):
            return [failure for test, run in runs if (failure := _failure(test, run))]
    return [f"{function.code_path}:{f.line}: {f.message}" for f in compile_code(code, function.runtime).findings]


def _runs(function: Function, code: str) -> list[tuple[FunctionTest, Execution]]:
    runner = Runner()  # one V8 context for the function's tests while they leave it clean
    try:
        return [(t, execute(code, function.runtime, dict(t.event), t.kvs, runner)) for t in function.tests]
    finally:
        runner.close()


def _failure(test: FunctionTest, run: Execution) -> str:
    """`FILE:LINE: test 'NAME': problem`, the logged lines under it; "" when the test passed."""
    problem = f"the function failed: {run.error}" if run.error is not None else subset_mismatch(
        dict(test.expect), run.output)
    if not problem:
        return ""
    logs = "".join(f"\n  {line}" for entry in run.logs for line in entry.splitlines() or [""])
    return f"{test.source}: test '{test.name}': {problem}{logs}"
