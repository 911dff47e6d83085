"""The field rules of one desired document: its kind's JSON Schema, and the rules a JSON Schema
cannot say well (decimals, real dates).

Used by the loader (`reconciler.loading.loader`) for every document and by `newjob` (through
`reconciler.loading.loader.schema`). Kept apart because it is a small engine of its own: the happy path
is a predicate compiled from the schema itself (so the two cannot drift apart) and only a
document it refuses goes to jsonschema, whose errors are reworded into value-free `Problem`s.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from reconciler.loading import documentrules
from reconciler.loading.problems import Problem

KINDS = ("Site", "Release", "Function", "Job")
"""The document kinds, each with a schema in `schemas/<kind>.json`."""


def field_problems(kind: str, data: dict[str, Any]) -> list[Problem]:
    """Schema problems, then the rules a JSON Schema cannot say well (decimals, real dates)."""
    problems = _schema_problems(kind, data)
    reported = {p.path for p in problems}
    extra = [*(_job_problems(data) if kind == "Job" else ()), *documentrules.RULES.get(kind, _none)(data)]
    return problems + [p for p in extra if p.path not in reported]


def _none(_data: dict[str, Any]) -> list[Problem]:
    return []


def _job_problems(data: dict[str, Any]) -> list[Problem]:
    """Job rules beyond the schema; written to run on schema-invalid documents too."""
    problems = []
    amount = _get(data, "price", "amount")
    if type(amount) in (int, float) and not _two_decimals(amount):
        problems.append(Problem("must be a finite number with at most 2 decimals", ("price", "amount")))
    date = _get(data, "scheduled", "date")
    if isinstance(date, str) and not _parses(dt.date.fromisoformat, date):
        problems.append(Problem("must be a real date (YYYY-MM-DD)", ("scheduled", "date")))
    history = data.get("history")
    for i, entry in enumerate(history if isinstance(history, list) else ()):
        at = _get(entry, "at")
        if isinstance(at, str) and not _parses(dt.datetime.fromisoformat, re.sub("[Zz]$", "+00:00", at)):
            problems.append(Problem("must be a real date and time (ISO 8601)", ("history", i, "at")))
    return problems


def _get(value: Any, *path: str) -> Any:
    for step in path:
        value = value.get(step) if isinstance(value, dict) else None
    return value


def _two_decimals(amount: int | float) -> bool:
    try:
        exponent = Decimal(str(amount)).as_tuple().exponent
    except InvalidOperation:
        return False
    return isinstance(exponent, int) and exponent >= -2


def _parses(parse: Callable[[str], Any], text: str) -> bool:
    try:
        parse(text)
    except ValueError:
        return False
    return True




# --- schemas ---------------------------------------------------------------------------------


@cache
def schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of `kind`, from the installed package data or the checkout's schemas/."""
    name = f"{kind.lower()}.json"
    try:
        from importlib.resources import files

        text = files("reconciler.schemas").joinpath(name).read_text(encoding="utf-8")
    except (ImportError, OSError):
        text = (Path(__file__).resolve().parent.parent / "schemas" / name).read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def _schema_problems(kind: str, data: dict[str, Any]) -> list[Problem]:
    fast = _fast_check(kind)
    if fast is not None and fast(data):
        return []
    found = [p for error in _validator(kind).iter_errors(data) for p in _problems_of(error)]
    return sorted(found, key=lambda p: (str(p.path), p.message))


@cache
def _validator(kind: str) -> Any:
    """Draft 2020-12 validator (built once) whose `pattern` also refuses a trailing newline, as
    ECMA-262's `$` does."""
    from jsonschema import Draft202012Validator, ValidationError, validators

    def pattern(validator: Any, patrn: str, instance: Any, _schema: Any) -> Iterator[Any]:
        if isinstance(instance, str) and not _matches(patrn, instance):
            yield ValidationError(f"does not match {patrn}")

    cls = validators.extend(Draft202012Validator, {"pattern": pattern})  # type: ignore[no-untyped-call]
    return cls(schema(kind))


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _matches(pattern: str, text: str) -> bool:
    return _regex(pattern).search(text) is not None and not (pattern.endswith("$") and text.endswith("\n"))


def _problems_of(error: Any) -> list[Problem]:
    """Readable, value-free problems from one jsonschema error."""
    path = tuple(error.absolute_path)
    rule, arg, instance = error.validator, error.validator_value, error.instance
    if "propertyNames" in error.schema_path:
        return [Problem(f"name must match {arg}" if rule == "pattern" else "invalid name", (*path, instance))]
    if rule == "additionalProperties" and isinstance(instance, dict):
        known = error.schema.get("properties", {})
        return [Problem("unknown field", (*path, key)) for key in instance if key not in known]
    if rule == "required":
        return [Problem(f"missing required field {error.message.split(' is a required')[0]}", path)]
    if rule == "type":
        wanted = " or ".join(_TYPE_NAMES.get(t, t) for t in ([arg] if isinstance(arg, str) else arg))
        hint = " (quote it)" if "string" in arg and isinstance(instance, (int, float, bool)) else ""
        return [Problem(f"must be {wanted}{hint}", path)]
    messages = {
        "pattern": lambda: f"must match {arg}",
        "enum": lambda: "must be one of " + ", ".join(map(str, arg)),
        "const": lambda: f"must be {arg!r}",
        "minimum": lambda: f"must be >= {arg}",
        "maximum": lambda: f"must be <= {arg}",
        "minLength": lambda: "must not be empty" if arg == 1 else f"must be at least {arg} characters",
        "maxLength": lambda: f"must be at most {arg} characters",
        "minItems": lambda: "must not be empty" if arg == 1 else f"must have at least {arg} items",
        "maxItems": lambda: f"must have at most {arg} item" + ("" if arg == 1 else "s"),
        "minProperties": lambda: "must not be empty" if arg == 1 else f"must have at least {arg} entries",
    }
    message = messages.get(rule)
    return [Problem(message() if message else f"fails the {rule!r} rule", path)]


_TYPE_NAMES = {"string": "a string", "object": "a mapping", "array": "a list", "number": "a number",
               "integer": "an integer", "boolean": "true or false", "null": "null"}


# --- the fast path: a schema compiled to a predicate -----------------------------------------

Check = Callable[[Any], bool]
_ANNOTATIONS = frozenset({"$schema", "$id", "title", "description", "default", "examples", "$comment", "$defs"})
_PY_TYPES = {"string": (str,), "object": (dict,), "array": (list,), "boolean": (bool,),
             "number": (int, float), "integer": (int,), "null": (type(None),)}


class _Unsupported(Exception):
    """The schema uses a keyword the fast path does not know: always use jsonschema then."""


@cache
def _fast_check(kind: str) -> Check | None:
    """A predicate that is True only for documents the schema surely accepts (False means: ask
    jsonschema for the errors). Compiled from the schema itself, so the two cannot drift apart."""
    root = schema(kind)
    try:
        return _compile(root, root)
    except _Unsupported:
        return None


def _compile(node: Any, root: dict[str, Any]) -> Check:
    if node is True or node == {}:
        return lambda v: True
    if not isinstance(node, dict):
        raise _Unsupported(repr(node))
    checks = [_keyword(key, arg, node, root) for key, arg in node.items() if key not in _ANNOTATIONS]
    if len(checks) == 1:
        return checks[0]

    def all_of(v: Any) -> bool:
        for check in checks:  # noqa: SIM110 - hot path: faster than all() over a generator
            if not check(v):
                return False
        return True

    return all_of


def _keyword(key: str, arg: Any, node: dict[str, Any], root: dict[str, Any]) -> Check:
    """One keyword as a predicate; keywords ignore instances of other types, as JSON Schema says."""
    if key == "type":
        types = frozenset(t for name in ([arg] if isinstance(arg, str) else arg) for t in _PY_TYPES[name])
        return lambda v: type(v) in types
    if key == "properties":
        props = {name: _compile(sub, root) for name, sub in arg.items()}

        def properties(v: Any) -> bool:
            if type(v) is dict:
                for name, item in v.items():
                    check = props.get(name)
                    if check is not None and not check(item):
                        return False
            return True

        return properties
    if key == "additionalProperties":
        known = frozenset(node.get("properties", ()))
        if "patternProperties" in node:
            raise _Unsupported(key)
        if arg is False:
            return lambda v: type(v) is not dict or known.issuperset(v)
        extra = _compile(arg, root)
        return lambda v: type(v) is not dict or all(extra(x) for k, x in v.items() if k not in known)
    if key == "required":
        required = tuple(arg)
        return lambda v: type(v) is not dict or all(name in v for name in required)
    if key == "propertyNames":
        names = _compile(arg, root)
        return lambda v: type(v) is not dict or all(names(k) for k in v)
    if key == "items" and isinstance(arg, dict):
        each = _compile(arg, root)
        return lambda v: type(v) is not list or all(each(x) for x in v)
    if key == "pattern":
        return lambda v: type(v) is not str or _matches(arg, v)
    if key == "enum" and all(type(e) is str for e in arg):
        allowed = frozenset(arg)
        return lambda v: type(v) is str and v in allowed
    if key == "const" and type(arg) is str:
        return lambda v: type(v) is str and v == arg
    if key == "minimum":
        return lambda v: type(v) not in (int, float) or v >= arg
    if key == "maximum":
        return lambda v: type(v) not in (int, float) or v <= arg
    sized = {"minLength": (str, 1), "maxLength": (str, -1), "minItems": (list, 1), "maxItems": (list, -1),
             "minProperties": (dict, 1), "maxProperties": (dict, -1)}
    if key in sized:
        of, sign = sized[key]
        return lambda v: type(v) is not of or (len(v) - arg) * sign >= 0
    if key == "$ref" and isinstance(arg, str) and arg.startswith("#/$defs/"):
        return _compile(root["$defs"][arg.removeprefix("#/$defs/")], root)
    raise _Unsupported(key)


