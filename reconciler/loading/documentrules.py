"""Rules on desired values that are well-formed but wrong (SPEC section 2), and the id warning.

Used by `schemachecking.field_problems` (one document at a time: a Release's `version` and
`require`, a Job's token), by `assembling` (a Function's `code` suffix, two Releases sharing one
SSM parameter) and by `validate` (job ids with fewer random bits than `new-job` makes). Pure.
Each rule closes a class a hostile probe found; docs/failure-modes.md argues the numbers.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Iterable
from typing import Any

from reconciler.loading.problems import Problem

MAX_REQUIRE = 100
"""`require` entries per Release: each is one S3 HEAD before the pointer moves (in `plan` too)."""

TOKEN_DISTINCT = 8
"""Distinct characters a tracking token needs (SPEC section 2): `0000000000000000` is guessable."""

ID_BITS = 64
"""Random bits of a `new-job` id (SPEC section 4); an id that cannot hold as many is warned about."""

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def release_problems(data: dict[str, Any]) -> list[Problem]:
    """`version` not `.`/`..` (a folder that is not a version); `require` plain relative keys."""
    problems = []
    if data.get("version") in (".", ".."):
        problems.append(Problem("must be a version name, not '.' or '..'", ("version",)))
    require = data.get("require")
    if isinstance(require, list):
        if len(require) > MAX_REQUIRE:
            problems.append(Problem(f"at most {MAX_REQUIRE} entries ({len(require)} given)", ("require",)))
        else:
            for i, entry in enumerate(require):
                why = require_problem(entry) if isinstance(entry, str) else None
                if why:
                    problems.append(Problem(why, ("require", i)))
    return problems


def require_problem(key: str) -> str | None:
    """Why `key` is not a plain key relative to the version folder, or None."""
    if not key.strip():
        return "must not be empty"
    if key.startswith(("/", "\\")):
        return "must be relative to the version folder, not absolute"
    if _SCHEME.match(key) or "//" in key:
        return "must be a key relative to the version folder, not a URL"
    if any(part in ("..", ".") for part in re.split(r"[/\\]", key)):
        return "must not contain '.' or '..' segments"
    if any(ch in key for ch in "\\\x00") or not key.isprintable():
        return "must be a plain key (no backslash or control character)"
    return None


def job_problems(data: dict[str, Any]) -> list[Problem]:
    token = data.get("token")
    if isinstance(token, str) and len(set(token)) < TOKEN_DISTINCT:
        return [Problem(f"must have at least {TOKEN_DISTINCT} distinct characters (too easy to guess)", ("token",))]
    return []


def code_problem(code: str) -> Problem | None:
    """`code` must name a `.js` file: never a desired document (a job file) or anything else.
    Checked by `assembling` after the path rules, whose messages say more (absolute, escapes)."""
    return None if code.endswith(".js") else Problem("must be a .js file", ("code",))


RULES = {"Release": release_problems, "Job": job_problems}


def shared_parameters(releases: Iterable[tuple[Any, str]]) -> list[tuple[Any, Any]]:
    """(later, first) for each Release whose `parameter` an earlier one already names.

    Names are compared as SSM compares them, case-sensitively, but without a leading `/`: the
    API reference (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html)
    requires the slash in a hierarchy and is silent on whether `/name` and `name` are one
    parameter, so they are refused together rather than risk one pointer moved by two Releases."""
    first: dict[str, Any] = {}
    clashes = []
    for doc, parameter in releases:
        key = parameter.lstrip("/")
        if key in first:
            clashes.append((doc, first[key]))
        else:
            first[key] = doc
    return clashes


def id_bits(job_id: str) -> float:
    """At most how many random bits `job_id` can hold: its part after a word prefix (`job_`),
    by the smallest alphabet that spells it (hex, lower-case alphanumerics, or with `_-`).
    An upper bound: `job_1` holds at most 4 bits, whatever made it."""
    random_part = re.sub(r"^[a-z]+[_-]", "", job_id)
    for alphabet in _ALPHABETS:
        if set(random_part) <= alphabet:
            return len(random_part) * math.log2(len(alphabet))
    return len(random_part) * math.log2(38)


_ALPHABETS = (frozenset("0123456789abcdef"), frozenset(string.digits + string.ascii_lowercase))
"""Hex first (an all-digit id may be random hex: 4 bits a character, never less)."""


def weak_id(job_id: str) -> bool:
    return id_bits(job_id) < ID_BITS
