"""The function-test matcher: does a function's output contain what a test `expect`s?

Pure, so both the local runtime (`cfjs`, at `validate`) and the AWS writer (TestFunction before
a publish) compare results by the same rule.
"""

from __future__ import annotations

from typing import Any

_MISSING = object()


def subset_mismatch(expect: Any, actual: Any, path: str = "") -> str | None:
    """The first place where `actual` does not contain `expect` (dicts as subsets; `None` in a
    dict means the key must be absent), or None."""
    if isinstance(expect, dict):
        if not isinstance(actual, dict):
            return _mismatch(path, expect, actual)
        for key, want in expect.items():
            sub = f"{path}.{key}" if path else str(key)
            got = actual.get(key, _MISSING)
            if want is None:
                if got is not _MISSING:
                    return f"expected {sub} to be absent, got {got!r}"
                continue
            found = subset_mismatch(want, got, sub)
            if found:
                return found
        return None
    if isinstance(expect, list):
        if not isinstance(actual, list) or len(actual) != len(expect):
            return _mismatch(path, expect, actual)
        for i, (want, got) in enumerate(zip(expect, actual, strict=True)):
            found = subset_mismatch(want, got, f"{path}[{i}]")
            if found:
                return found
        return None
    same_kind = isinstance(expect, bool) == isinstance(actual, bool)
    if actual is _MISSING or not same_kind or expect != actual:
        return _mismatch(path, expect, actual)
    return None


def _mismatch(path: str, expect: Any, actual: Any) -> str:
    got = "<missing>" if actual is _MISSING else repr(actual)
    return f"expected {path or 'output'} {expect!r}, got {got}"
