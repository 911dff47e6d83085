"""CloudFront Functions code in V8 (mini-racer): compile under a runtime, run a handler on an event.

`compile_code` answers what the runtime refuses in the code (V8 syntax errors and the constructs
`syntax.scan` finds), cached by code digest. `run` executes the handler in a fresh V8 context
whose globals, modules and limits are those of the runtime (js/*.js, loaded in order), and
returns the raw outcome; `reconciler.cfjs.testing` turns it into TestFunction's shape.
Used by the loader at `validate` time and by the sandbox's TestFunction; no AWS library here.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from reconciler.cfjs.features import LOG_LIMIT_BYTES, MEMORY_BUDGET_BYTES, RUNTIME_2, TIME_BUDGET_SECONDS
from reconciler.cfjs.syntax import Finding, scan

_PRELUDE_FILES = ("bytes.js", "crypto.js", "querystring.js", "buffer.js", "cloudfront.js", "environment.js")
_WRAP_HEAD = "__cf.load = (function (require) { 'use strict'; "
_WRAP_TAIL = "\n;return typeof handler === 'function' ? handler : undefined; });"
_V8_LINE = re.compile(r"^<anonymous>:(\d+): (.*)$")

RUNAWAY_SECONDS = 10 * TIME_BUDGET_SECONDS
"""Wall time after which V8 stops a run outright. The budget itself is judged on `_Clock.charged`,
so a run that a busy machine only made wait is not failed; a run still going after ten budgets
of wall time is a runaway (or a machine ten times overloaded) and is stopped."""

_OVER_TIME = f"The function exceeded the time limit (local budget {TIME_BUDGET_SECONDS * 1000:g} ms)"


@dataclass(frozen=True)
class Compiled:
    """The code as the runtime sees it: refusals (empty when it compiles) and the V8 script."""

    findings: tuple[Finding, ...]
    script: str


@dataclass(frozen=True)
class Outcome:
    """One handler run: what it returned (`kind` is its JS type), or the error that stopped it."""

    kind: str | None = None
    value: Any = None
    error: str | None = None
    logs: tuple[str, ...] = field(default_factory=tuple)
    compute_utilization: int = 0
    refused: Finding | None = None
    """Set when the code itself does not compile under the runtime (then nothing ran)."""


@lru_cache(maxsize=1)
def _prelude() -> str:
    folder = resources.files("reconciler.cfjs") / "js"
    return "\n".join((folder / name).read_text(encoding="utf-8") for name in _PRELUDE_FILES)


def _v8_error(exc: Exception) -> tuple[int | None, str]:
    """(line, message) of a mini-racer exception: its first line reads `<anonymous>:LINE: message`."""
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    match = _V8_LINE.match(first)
    return (int(match.group(1)), match.group(2)) if match else (None, first)


@lru_cache(maxsize=256)
def _scanned(code: str, runtime: str) -> Compiled:
    findings, script = scan(code, runtime)
    return Compiled(tuple(findings), _WRAP_HEAD + script + _WRAP_TAIL)


@lru_cache(maxsize=256)
def compile_code(code: str, runtime: str) -> Compiled:
    """What `runtime` refuses in `code`: the constructs it lacks, and a V8 syntax error."""
    from py_mini_racer import MiniRacer

    scanned = _scanned(code, runtime)
    findings, wrapped = list(scanned.findings), scanned.script
    ctx = MiniRacer()
    try:
        ctx.eval("var __cf = {};")
        ctx.eval(wrapped)
    except Exception as exc:  # noqa: BLE001 - any V8 refusal is a finding
        line, message = _v8_error(exc)
        if not any(f.line == line for f in findings):  # else a refused construct is the reason
            findings.append(Finding(line or 1, message))
        return Compiled(tuple(sorted(findings, key=lambda f: f.line)), wrapped)
    finally:
        ctx.close()
    return Compiled(tuple(findings), wrapped)


def digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def truncate_logs(lines: list[str]) -> tuple[str, ...]:
    """CloudFront keeps the first 10 KB of a run's log lines (the restrictions page)."""
    kept: list[str] = []
    used = 0
    for line in lines:
        size = len(line.encode("utf-8"))
        if used + size > LOG_LIMIT_BYTES:
            room = LOG_LIMIT_BYTES - used
            if room > 0:
                kept.append(line.encode("utf-8")[:room].decode("utf-8", errors="ignore"))
            break
        kept.append(line)
        used += size
    return tuple(kept)


class Runner:
    """Runs handlers in one V8 context with the runtime loaded, reused from run to run while runs
    leave its globals as they found them (the outcome says); otherwise, and after a run that was
    stopped, the next run gets a fresh context. Not thread-safe: one runner per thread."""

    def __init__(self) -> None:
        self._ctx: Any = None
        self._runtime = ""

    def close(self) -> None:
        if self._ctx is not None:
            self._ctx.close()
            self._ctx = None

    def _context(self, runtime: str) -> Any:
        from py_mini_racer import MiniRacer

        if self._ctx is None or self._runtime != runtime:
            self.close()
            ctx = MiniRacer()
            ctx.eval(f"{_prelude()}\n__cf.install({json.dumps(runtime == RUNTIME_2)});")  # one round trip
            ctx.set_hard_memory_limit(_baseline_heap(ctx) + MEMORY_BUDGET_BYTES)
            self._ctx, self._runtime = ctx, runtime
        return self._ctx

    def run(self, code: str, runtime: str, event: dict[str, Any], kvs: dict[str, str] | None = None) -> Outcome:
        """Run `handler(event)` from `code` under `runtime` within the local time and memory
        budgets; `kvs` is what `cf.kvs()` holds (2.0)."""
        from py_mini_racer import JSOOMException, JSParseException, JSTimeoutException

        compiled = _scanned(code, runtime)  # a V8 syntax error shows when the script is loaded below
        if compiled.findings:
            first = compiled.findings[0]
            return Outcome(error=f"line {first.line}: {first.message}", refused=first)
        started = datetime.now(UTC)
        config = {
            "runtime2": runtime == RUNTIME_2, "kvs": kvs or {},
            "eventType": str((event.get("context") or {}).get("eventType") or "viewer-request"),
            "start": int(started.timestamp() * 1000), "startIso": started.isoformat().replace("+00:00", "Z"),
        }
        clock = _Clock()
        ctx = self._context(runtime)
        try:
            try:  # begin on the script's first line, so V8's line numbers are the file's
                ctx.eval(f"__cf.begin({json.dumps(config)}); {compiled.script}")
            except JSParseException as exc:
                line, message = _v8_error(exc)
                return Outcome(error=f"line {line or 1}: {message}", refused=Finding(line or 1, message))
            clock = _Clock()
            raw: Any = ctx.eval(f"__cf.start({json.dumps(event)})", timeout_sec=RUNAWAY_SECONDS)
            if not isinstance(raw, str):  # an async handler: its promise of the outcome
                raw = raw.get(timeout=max(0.001, RUNAWAY_SECONDS - clock.wall()))
            elapsed = clock.charged()
        except JSOOMException:
            budget = MEMORY_BUDGET_BYTES // 1024 // 1024
            return self._stopped(f"The function exceeded the memory limit (local budget {budget} MB)",
                                 _utilization(clock.charged()))
        except (JSTimeoutException, TimeoutError):
            with contextlib.suppress(Exception):  # let V8 deliver the cancelled task before closing
                ctx.eval("0")
            return self._stopped(_OVER_TIME, 100)
        except Exception as exc:  # noqa: BLE001 - a failure while loading the code is the function's error
            return self._stopped(_v8_error(exc)[1], 0)
        if elapsed > TIME_BUDGET_SECONDS:  # finished within the runaway bound, but over the budget
            return self._stopped(_OVER_TIME, 100)
        result = json.loads(str(raw))
        if not result.get("clean"):
            self.close()
        logs = truncate_logs([str(line) for line in result.get("logs", [])])
        utilization = _utilization(elapsed)
        if "error" in result:
            return Outcome(error=str(result["error"]), logs=logs, compute_utilization=utilization)
        return Outcome(kind=result["kind"], value=result["value"], logs=logs, compute_utilization=utilization)

    def _stopped(self, error: str, utilization: int) -> Outcome:
        """A run V8 had to stop: keep what it logged, and never reuse the context."""
        logs = _logs_after_failure(self._ctx)
        self.close()
        return Outcome(error=error, logs=logs, compute_utilization=utilization)


def run(code: str, runtime: str, event: dict[str, Any], kvs: dict[str, str] | None = None) -> Outcome:
    """One run in a fresh V8 context (the sandbox's TestFunction; tests of one function share a `Runner`)."""
    runner = Runner()
    try:
        return runner.run(code, runtime, event, kvs)
    finally:
        runner.close()


_baseline: list[int] = []


def _baseline_heap(ctx: Any) -> int:
    """The V8 heap of a context with the runtime loaded, measured once per process: the memory
    budget is counted above it (asking V8 for it on every run costs a round trip)."""
    if not _baseline:
        _baseline.append(int(ctx.heap_stats()["used_heap_size"]))
    return _baseline[0]


class _Clock:
    """The time a run is charged: its wall time, or the process's CPU time if that is less.

    On an idle machine the two agree (V8 runs the handler on one core). On a busy one the wall
    clock also counts the time the process waited for a core, which is not the function's cost;
    CPU time does not, and over-counts only when other threads of this process ran meanwhile
    (the charge is then the wall time, as before). So a legit function passes however loaded
    the machine is, and one that computes for more than the budget still fails."""

    def __init__(self) -> None:
        self._wall = time.perf_counter()
        self._cpu = time.process_time()

    def wall(self) -> float:
        return time.perf_counter() - self._wall

    def charged(self) -> float:
        return min(self.wall(), time.process_time() - self._cpu)


def _utilization(elapsed: float) -> int:
    """ComputeUtilization: the run's share of the local time budget, 1..100."""
    return max(1, min(100, round(elapsed / TIME_BUDGET_SECONDS * 100)))


def _logs_after_failure(ctx: Any) -> tuple[str, ...]:
    """The lines logged before a run was stopped: CloudFront keeps them when the handler fails."""
    try:
        return truncate_logs([str(line) for line in json.loads(str(ctx.eval("JSON.stringify(__cf.logs || [])")))])
    except Exception:  # noqa: BLE001 - a context stopped for memory may not answer any more
        return ()
