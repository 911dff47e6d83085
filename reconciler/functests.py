"""A Function document's code and tests, checked with the local CloudFront runtime (`cfjs`).

`check` is what the loader calls at `validate` time for every function: the code is compiled
under its declared runtime whether or not it has tests (`FILE:LINE: message` with the line in the
`.js` file), then each declared test runs and is compared with its `expect`. A failing test is one
error line; the lines the function logged follow it, indented by two spaces. The rest is
re-exported from `reconciler.cfjs` for the modules that used to find it here.
"""

from __future__ import annotations

from reconciler.cfjs import Execution, compile_code, complete_event, execute, subset_mismatch
from reconciler.core.model import Function

__all__ = ["Execution", "check", "complete_event", "execute", "subset_mismatch"]


def check(function: Function) -> list[str]:
    """Every problem of `function`'s code and tests, one `FILE:LINE: message` error each."""
    code = function.code.decode("utf-8", errors="replace")
    compiled = compile_code(code, function.runtime)
    if compiled.findings:
        return [f"{function.code_path}:{f.line}: {f.message}" for f in compiled.findings]
    failures = []
    for test in function.tests:
        run = execute(code, function.runtime, dict(test.event), test.kvs)
        if run.error is not None:
            problem = f"the function failed: {run.error}"
        else:
            problem = subset_mismatch(dict(test.expect), run.output) or ""
        if problem:
            logs = "".join(f"\n  {line}" for entry in run.logs for line in entry.splitlines() or [""])
            failures.append(f"{test.source}: test '{test.name}': {problem}{logs}")
    return failures
