"""Escaping of values before they are printed (SPEC section 5: "values read from live are escaped").

A value set behind git's back (an SSM parameter, live function code, a key of the live jobs
object, a hand-edited state file) must not be able to spoof the output it lands in: no ANSI
escape that recolours or rewrites a terminal, no newline that forges another plan line or log
line, no markdown that pings people, links elsewhere or injects HTML into a pull-request
comment. Pure functions; `rendering` (plans), `status` and `operations` call them.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
"""C0 and C1 controls (ESC starts ANSI sequences), DEL, line/paragraph separators, zero-width and
bidirectional overrides (which reorder what a reader sees)."""

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """One line: every control or invisible-reordering character shown as an escape (`\\x1b`)."""
    return _CONTROL.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    return _NAMED.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")


_MARKDOWN = re.compile(r"[\\`*_{}\[\]()<>#+!|~@:&]")


def markdown_text(text: str) -> str:
    """A value as inert markdown text on one line: no mention (`@x`), link, image, emphasis,
    HTML tag or entity, table pipe or autolinked URL (`://` is broken by the escaped colon)."""
    return _MARKDOWN.sub(lambda m: f"&#{ord(m.group())};", printable(text))
