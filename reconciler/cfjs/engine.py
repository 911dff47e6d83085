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
def compile_code(code: str, runtime: str) -> Compiled:
    """What `runtime` refuses in `code`: a V8 syntax error, else the constructs it lacks."""
    from py_mini_racer import MiniRacer

    findings, script = scan(code, runtime)
    wrapped = _WRAP_HEAD + script + _WRAP_TAIL
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


def run(code: str, runtime: str, event: dict[str, Any], kvs: dict[str, str] | None = None) -> Outcome:
    """Run `handler(event)` from `code` under `runtime` in a fresh V8 context, within the local
    time and memory budgets; `kvs` is what `cf.kvs()` holds (2.0)."""
    from py_mini_racer import JSOOMException, JSTimeoutException, MiniRacer

    compiled = compile_code(code, runtime)
    if compiled.findings:
        first = compiled.findings[0]
        return Outcome(error=f"line {first.line}: {first.message}")
    started = datetime.now(UTC)
    event_type = str((event.get("context") or {}).get("eventType") or "viewer-request")
    config = {
        "runtime2": runtime == RUNTIME_2, "eventType": event_type, "kvs": kvs or {},
        "start": int(started.timestamp() * 1000), "startIso": started.isoformat().replace("+00:00", "Z"),
    }
    ctx = MiniRacer()
    clock = time.perf_counter()
    try:
        ctx.eval(_prelude())
        ctx.eval(f"__cf.setup({json.dumps(config)});")
        ctx.eval(compiled.script)
        ctx.set_hard_memory_limit(int(ctx.heap_stats()["used_heap_size"]) + MEMORY_BUDGET_BYTES)
        clock = time.perf_counter()
        promise: Any = ctx.eval(f"__cf.start({json.dumps(event)})", timeout_sec=TIME_BUDGET_SECONDS)
        raw = promise.get(timeout=max(0.001, TIME_BUDGET_SECONDS - (time.perf_counter() - clock)))
        elapsed = time.perf_counter() - clock
    except JSOOMException:
        budget = MEMORY_BUDGET_BYTES // 1024 // 1024
        return Outcome(error=f"The function exceeded the memory limit (local budget {budget} MB)",
                       logs=_logs_after_failure(ctx), compute_utilization=_utilization(time.perf_counter() - clock))
    except (JSTimeoutException, TimeoutError):
        with contextlib.suppress(Exception):  # let V8 deliver the cancelled task before closing
            ctx.eval("0")
        return Outcome(error=f"The function exceeded the time limit (local budget {TIME_BUDGET_SECONDS * 1000:g} ms)",
                       logs=_logs_after_failure(ctx), compute_utilization=100)
    except Exception as exc:  # noqa: BLE001 - a failure while loading the code is the function's error
        return Outcome(error=_v8_error(exc)[1], logs=_logs_after_failure(ctx))
    finally:
        ctx.close()
    result = json.loads(str(raw))
    logs = truncate_logs([str(line) for line in result.get("logs", [])])
    utilization = _utilization(elapsed)
    if "error" in result:
        return Outcome(error=str(result["error"]), logs=logs, compute_utilization=utilization)
    return Outcome(kind=result["kind"], value=result["value"], logs=logs, compute_utilization=utilization)


def _utilization(elapsed: float) -> int:
    """ComputeUtilization: the run's share of the local time budget, 1..100."""
    return max(1, min(100, round(elapsed / TIME_BUDGET_SECONDS * 100)))


def _logs_after_failure(ctx: Any) -> tuple[str, ...]:
    """The lines logged before a run was stopped: CloudFront keeps them when the handler fails."""
    try:
        return truncate_logs([str(line) for line in json.loads(str(ctx.eval("JSON.stringify(__cf.logs || [])")))])
    except Exception:  # noqa: BLE001 - a context stopped for memory may not answer any more
        return ()
