"""Structured log events (SPEC section 5): structlog set-up, done once, and the event names.

Every event is one JSON object per line with `timestamp`, `level`, `event` and keyword fields.
A last processor scrubs job secrets (tokens, customer names, addresses) from every value, so a
careless field can never leak them.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog

RECONCILE_START = "reconcile.start"
VALIDATION_FAILED = "validation.failed"
ACTION_APPLIED = "action.applied"
ACTION_FAILED = "action.failed"
INVALIDATION_CREATED = "invalidation.created"
DRIFT_DETECTED = "drift.detected"
DRIFT_RESOLVED = "drift.resolved"
RECONCILE_DONE = "reconcile.done"

_secrets: frozenset[str] = frozenset()
_MARKER = "[redacted]"
_marker_clash = False
"""True once a secret could match inside (or across) an inserted marker: then `redact` always
takes the plain path, whose result depends on the order of replacements."""


def register_secrets(values: Iterable[str]) -> None:
    """Remember strings (tokens, names, addresses) that must never appear in a log line."""
    global _secrets, _marker_clash
    values = list(values)
    if _secrets.issuperset(values):
        return  # the daemon registers the same values every reconcile: nothing new, no new set
    new = frozenset(v for v in values if v and len(v) >= 3) - _secrets
    if new:
        _marker_clash = _marker_clash or any("[" in v or "]" in v or v in _MARKER for v in new)
        _secrets = _secrets | new


def redact(text: str) -> str:
    current = _secrets  # one snapshot: the daemon may register more from another thread
    secrets: Iterable[str] = current
    if current and not _marker_clash and _substrings(len(text)) < len(current):
        # Cheaper than testing every secret (10,000 jobs are 30,000 secrets): which of the
        # text's own substrings are secrets. Only those can be replaced below.
        present = {text[i:j] for i in range(len(text)) for j in range(i + 3, len(text) + 1)} & current
        if not present:
            return text
        if len(present) == 1:
            return text.replace(present.pop(), _MARKER)
        secrets = [s for s in current if s in present]  # in the order of _secrets, as below
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "[redacted]")
    return text


def _substrings(length: int) -> int:
    """How many substrings of at least 3 characters a text of `length` characters has."""
    return (length - 1) * (length - 2) // 2 if length >= 3 else 0


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    return value


def _scrub_processor(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    if not _secrets:
        return event_dict
    return {k: _scrub(v) for k, v in event_dict.items()}


def configure(log_format: str = "json", stream: TextIO | None = None) -> None:
    """Set structlog up once for this process: JSON (or console) lines on `stream`."""
    out = stream if stream is not None else sys.stdout
    renderer: Any
    if log_format == "console":
        renderer = structlog.dev.ConsoleRenderer(colors=out.isatty())
    else:
        renderer = structlog.processors.JSONRenderer(sort_keys=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
            _scrub_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )


def log() -> Any:
    return structlog.get_logger()
