"""Structured log events (SPEC section 5): structlog set-up, done once, and the event names.

Every event is one JSON object per line with `timestamp`, `level`, `event` and keyword fields.
A last processor scrubs job secrets (tokens, customer names, addresses, notes, credentials) from
every value (never from event names, levels or keys; see `reconciler.events.redaction`), so a careless
field can never leak them.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog

from reconciler.events.escaping import printable
from reconciler.events.redaction import Registry

RECONCILE_START = "reconcile.start"
VALIDATION_FAILED = "validation.failed"
ACTION_APPLIED = "action.applied"
ACTION_FAILED = "action.failed"
INVALIDATION_CREATED = "invalidation.created"
DRIFT_DETECTED = "drift.detected"
DRIFT_RESOLVED = "drift.resolved"
RECONCILE_DONE = "reconcile.done"

STRUCTURE = frozenset({"event", "level", "timestamp", "logger"})
"""Keys whose values are the reconciler's own structure: never redacted (SPEC section 5)."""

_registry = Registry()


def register_secrets(values: Iterable[str]) -> None:
    """Remember strings (tokens, names, addresses) that must never appear in a value printed.
    The registry only grows: a value a job used to have stays secret after an edit or removal."""
    _registry.add(values)


def register_vocabulary(words: Iterable[str]) -> None:
    """Names the reconciler prints as structure (resource ids, distribution and release names)."""
    _registry.add_vocabulary(words)


def redact(text: str) -> str:
    """One value with every registered secret replaced (longest cover first, never in part)."""
    return _registry.redact(text)


def scrub(value: Any) -> Any:
    """A JSON-like value with every string redacted; mapping keys are structure and kept."""
    return _deep(_registry.redact, value)


def _scrub_processor(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    if not _registry:
        return event_dict
    return {k: v if k in STRUCTURE else scrub(v) for k, v in event_dict.items()}


def _printable_processor(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Console lines reach a terminal raw: a value read from live must not carry an ANSI escape
    or forge a line there (JSON lines are escaped by the JSON encoder itself)."""
    return {k: _deep(printable, v) for k, v in event_dict.items()}


def _deep(clean: Any, value: Any) -> Any:
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {k: _deep(clean, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_deep(clean, v) for v in value]
    return value


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
            *([_printable_processor] if log_format == "console" else []),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )


def log() -> Any:
    return structlog.get_logger()
