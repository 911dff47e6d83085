"""A desired-state problem located by a field path, and its value-free wording.

Shared by YAML reading, schema checking and the cross-document rules of the loader
(`reconciler.loading.loader`), which turn a `Problem` into one `FILE:LINE: message` line: the path is
resolved to a line in the YAML nodes only when a problem occurs. Messages name fields and rules,
never values, so they can be logged without leaking customer data or tokens; `short` bounds the
few values that are shown (names, keys).
"""

from __future__ import annotations

from typing import Any

FieldPath = tuple[Any, ...]


class Problem(Exception):
    """One problem in a document; `path` locates the field (its line is looked up only if needed)."""

    def __init__(self, message: str, path: FieldPath = (), show_path: bool = True):
        super().__init__(message)
        self.message = message
        self.path = path
        self.show_path = show_path



def with_path(problem: Problem) -> str:
    if not problem.show_path:
        return problem.message
    dotted = ""
    for step in problem.path:
        dotted += f"[{step}]" if isinstance(step, int) else (f".{step}" if dotted else str(step))
    return f"{dotted}: {problem.message}" if dotted else problem.message


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

