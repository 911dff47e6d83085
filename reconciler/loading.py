"""Desired directory -> `Desired`. Called by `validate`, `plan`, `apply` (`load`) and by the
daemon (`Loader`, which re-parses only the files that changed).

Every problem is collected and raised at once as `InvalidDesired` with `FILE:LINE: message`
lines. The happy path is PyYAML's C parser plus cheap checks; line numbers of fields are looked
up in the YAML nodes only for documents that have a problem. Messages name fields and rules,
never values, so they can be logged without leaking customer data or tokens.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import stat
import sys
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml

from reconciler import functests
from reconciler.errors import InvalidDesired
from reconciler.model import Desired, Function, FunctionTest, Job, JobsTarget, Release, Site, Source

MAX_FILE_BYTES = 1_048_576
"""A desired YAML file larger than this is refused unread."""
MAX_CODE_BYTES = 10_240
"""The CloudFront Functions code size limit."""
MAX_DEPTH = 64
MAX_VALUES = 100_000
"""Values per document after alias expansion: stops "billion laughs" before it costs anything."""
MAX_PROBLEMS = 20
"""Problems reported per document; 60,000 unknown keys must not cost 60,000 node searches."""
KINDS = ("Site", "Release", "Function", "Job")
YAML_SUFFIXES = (".yaml", ".yml")

StatKey = tuple[int, int, int]
FieldPath = tuple[Any, ...]


class _Problem(Exception):
    """One problem in a document; `path` locates the field (its line is looked up only if needed)."""

    def __init__(self, message: str, path: FieldPath = (), show_path: bool = True):
        super().__init__(message)
        self.message = message
        self.path = path
        self.show_path = show_path


@dataclass(frozen=True)
class _Doc:
    """One valid-by-schema document, JSON-ready, with where it came from."""

    kind: str
    data: dict[str, Any]
    shown: str
    path: Path
    index: int
    line: int

    @property
    def source(self) -> Source:
        return Source(self.shown, self.line)


@dataclass(frozen=True)
class _Parsed:
    """What one file yields on its own: documents and per-file errors (cacheable by stat)."""

    docs: tuple[_Doc, ...] = ()
    errors: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()
    """Kinds of the documents refused for their fields (an invalid Site is not a missing one)."""


# --- public API ------------------------------------------------------------------------------


def load(root: Path, run_tests: bool = True) -> Desired:
    """Load and validate the desired directory at `root`; raises `InvalidDesired` with every error."""
    return Loader(root, run_tests).load()


class Loader:
    """Loads the same directory repeatedly, re-parsing only files whose (mtime, size, inode)
    changed and re-running function tests only when code, runtime or tests changed."""

    def __init__(self, root: Path, run_tests: bool = True):
        self.root = Path(root)
        self.run_tests = run_tests
        self._files: dict[str, tuple[StatKey, _Parsed]] = {}
        self._tests: dict[str, tuple[str, ...]] = {}
        self._jobs: dict[int, tuple[_Doc, Job]] = {}
        """Job built from each unchanged document, reused so its cached canonical JSON is too."""

    def load(self) -> Desired:
        files, errors = _scan(self.root)
        if not files and errors:
            raise InvalidDesired(errors)
        fresh: dict[str, tuple[StatKey, _Parsed]] = {}
        for shown, path, key in files:
            cached = self._files.get(shown)
            fresh[shown] = cached if cached and cached[0] == key else (key, _parse_file(Path(path), shown))
        self._files = fresh
        docs = [doc for _, parsed in fresh.values() for doc in parsed.docs]
        errors += [e for _, parsed in fresh.values() for e in parsed.errors]
        rejected = {kind for _, parsed in fresh.values() for kind in parsed.rejected}
        built: dict[int, tuple[_Doc, Job]] = {}

        def job_of(doc: _Doc) -> Job:
            entry = self._jobs.get(id(doc))
            if entry is None or entry[0] is not doc:
                entry = (doc, _job(doc))
            built[id(doc)] = entry
            return entry[1]

        desired, problems, functions = _assemble(self.root, docs, rejected, job_of)
        self._jobs = built
        errors += _located(problems)
        if self.run_tests:
            errors += self._test_failures(functions)
        if errors or desired is None:
            raise InvalidDesired(errors)
        return desired

    def _test_failures(self, functions: tuple[Function, ...]) -> list[str]:
        """Run (or recall) each function's tests, keyed by a digest of what they depend on."""
        used: dict[str, tuple[str, ...]] = {}
        for function in functions:
            key = _tests_digest(function)
            used[key] = self._tests[key] if key in self._tests else tuple(functests.check(function))
        self._tests = used
        return [failure for failures in used.values() for failure in failures]


def check_text(text: str, shown: str) -> list[str]:
    """Per-file errors of YAML `text` (syntax, schema, field rules) as if it were file `shown`."""
    return list(_parse_bytes(text.encode(), shown, Path(shown)).errors)


# --- finding and reading files ---------------------------------------------------------------


def _scan(root: Path) -> tuple[list[tuple[str, str, StatKey]], list[str]]:
    """Every `*.yaml`/`*.yml` under root (dot-names skipped), sorted, with its stat key; symlinks
    are followed only inside root, each real directory once, so loops cannot hang us. Paths are
    plain strings: a `Path` per file costs more than the stat, and only changed files need one."""
    try:
        real_root = root.resolve(strict=True)
    except (OSError, RuntimeError):
        return [], [f"{root}: desired directory not found"]
    if not real_root.is_dir():
        return [], [f"{root}: not a directory"]
    files: list[tuple[str, str, StatKey]] = []
    errors: list[str] = []
    seen_dirs: set[str] = set()

    def walk(directory: Path, shown: str) -> None:
        seen_dirs.add(os.path.realpath(directory))
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            errors.append(f"{shown}: cannot list directory: {exc.strerror}")
            return
        prefix = shown if shown.endswith(os.sep) else shown + os.sep  # os.path.join, once per directory
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = entry.path  # os.path.join(directory, entry.name)
            name = prefix + entry.name
            is_yaml = entry.name.endswith(YAML_SUFFIXES)
            try:
                if entry.is_symlink() and not _inside(os.path.realpath(path), real_root):
                    if is_yaml or entry.is_dir():
                        errors.append(f"{name}: symbolic link points outside the desired directory")
                    continue
                st = entry.stat()
            except OSError:
                if is_yaml:
                    errors.append(f"{name}: broken symbolic link")
                continue
            if stat.S_ISDIR(st.st_mode):
                if os.path.realpath(path) not in seen_dirs:
                    walk(Path(path), name)
            elif is_yaml and not stat.S_ISREG(st.st_mode):
                errors.append(f"{name}: not a regular file")
            elif is_yaml:
                files.append((name, path, (st.st_mtime_ns, st.st_size, st.st_ino)))

    walk(root, str(root))
    return files, errors


def _inside(real: str | Path, real_root: Path) -> bool:
    text, base = str(real), str(real_root)
    return text == base or text.startswith(base.rstrip(os.sep) + os.sep)


def _read(path: Path, cap: int, too_large: str) -> bytes:
    """A regular file's bytes; FIFOs and devices are refused without blocking, big files unread."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _Problem("not a regular file")
        if st.st_size > cap:
            raise _Problem(too_large.format(size=st.st_size, cap=cap))
        chunks = []
        remaining = cap + 1
        while remaining > 0:
            chunk = os.read(fd, remaining)
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
    finally:
        os.close(fd)
    if len(data) > cap:
        raise _Problem(too_large.format(size=len(data), cap=cap))
    return data


# --- parsing one file ------------------------------------------------------------------------

_MERGE_TAG = "tag:yaml.org,2002:merge"


class _YamlLoader(yaml.CSafeLoader):  # type: ignore[misc]
    """The C safe loader, refusing duplicate keys in one mapping instead of keeping the last."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue
                key = (key_node.tag, key_node.value) if isinstance(key_node, yaml.ScalarNode) else id(key_node)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {_short(key_node.value)}", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep)  # type: ignore[no-any-return]

    def construct_yaml_timestamp(self, node: yaml.Node) -> Any:
        """An impossible date (2026-02-30) stays a string, for the schema to report with the rest."""
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            return node.value


_YamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _YamlLoader.construct_yaml_timestamp)


def _parse_file(path: Path, shown: str) -> _Parsed:
    try:
        raw = _read(path, MAX_FILE_BYTES, "file too large ({size} bytes; the limit is {cap})")
    except _Problem as problem:
        return _Parsed(errors=(f"{shown}: {problem.message}",))
    except OSError as exc:
        return _Parsed(errors=(f"{shown}: cannot read: {exc.strerror or exc}",))
    return _parse_bytes(raw, shown, path)


def _parse_bytes(raw: bytes, shown: str, path: Path) -> _Parsed:
    """Documents and errors of one file's bytes; never raises."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        return _Parsed(errors=(f"{shown}:{line}: not valid UTF-8 (byte 0x{raw[exc.start]:02x})",))
    docs: list[_Doc] = []
    errors: list[str] = []
    rejected: list[str] = []
    for index, node, value in _documents(raw, shown, errors):
        if value is None:
            continue
        try:
            kind, data = _checked(value)
        except _Problem as problem:
            errors.append(f"{shown}:{_node_line(node, problem.path)}: {_with_path(problem)}")
            continue
        problems = _field_problems(kind, data)
        if len(problems) > MAX_PROBLEMS:  # each is located in the nodes: keep that linear
            more = len(problems) - MAX_PROBLEMS
            problems = problems[:MAX_PROBLEMS] + [_Problem(f"{more} more problem(s) in this document not shown")]
        if problems:
            errors += [f"{shown}:{_node_line(node, p.path)}: {_with_path(p)}" for p in problems]
            rejected.append(kind)
        else:
            docs.append(_Doc(kind, data, shown, path, index, node.start_mark.line + 1))
    return _Parsed(tuple(docs), tuple(errors), tuple(rejected))


def _documents(raw: bytes, shown: str, errors: list[str]) -> Iterator[tuple[int, yaml.Node, Any]]:
    """(index, root node, constructed value) per document; syntax errors end the file, errors in
    constructing one document (duplicate key, unknown tag, bad date) skip only that document."""
    loader = _YamlLoader(raw)
    index = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            try:
                value = loader.construct_document(node)
            except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
                line = _error_line(exc) or node.start_mark.line + 1
                errors.append(f"{shown}:{line}: {_yaml_message(exc)}")
                loader.constructed_objects, loader.recursive_objects, loader.state_generators = {}, {}, []
                value = None
            yield index, node, value
            index += 1
    except yaml.YAMLError as exc:
        line = _error_line(exc)
        if line is None and isinstance(exc, yaml.reader.ReaderError):
            line = raw.count(b"\n", 0, exc.position) + 1
        errors.append(f"{shown}:{line or 1}: {_yaml_message(exc)}")
    except (RecursionError, UnboundLocalError, MemoryError):
        errors.append(f"{shown}:1: YAML nested too deeply")
    except Exception as exc:  # noqa: BLE001 - a hostile file must not crash the loader or the daemon
        errors.append(f"{shown}:1: YAML could not be read ({type(exc).__name__})")
    finally:
        loader.dispose()


def _compose(path: Path) -> list[yaml.Node]:
    """The root nodes of a file again, for line numbers of problems found after parsing."""
    try:
        loader = _YamlLoader(_read(path, MAX_FILE_BYTES, "too large"))
    except (OSError, _Problem):
        return []
    nodes = []
    try:
        while loader.check_node():
            nodes.append(loader.get_node())
    except Exception:  # noqa: BLE001 - the file changed since; lines are best effort
        pass
    finally:
        loader.dispose()
    return nodes


def _error_line(exc: BaseException) -> int | None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line + 1 if mark is not None else None


def _yaml_message(exc: BaseException) -> str:
    if isinstance(exc, yaml.reader.ReaderError):
        return "YAML: not valid UTF-8 or a control character is not allowed"
    if isinstance(exc, yaml.MarkedYAMLError):
        parts = [p for p in (exc.context, exc.problem) if p]
        if exc.problem and "could not determine a constructor" in exc.problem:
            return f"YAML: tag {_short(exc.problem.split('tag ', 1)[-1].strip(chr(39)))} is not allowed"
        return "YAML: " + ": ".join(parts).replace("\n", " ")
    if isinstance(exc, (ValueError, OverflowError)):
        return f"YAML: invalid value ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
    return f"YAML: {type(exc).__name__}"


def _node_line(node: yaml.Node, path: FieldPath) -> int:
    """The line of the key (or item) at `path`, or of the deepest part of it that exists."""
    line: int = node.start_mark.line + 1
    for step in path:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == step:
                    line, node = key.start_mark.line + 1, value
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            return line
    return line


# --- one document ----------------------------------------------------------------------------


def _checked(value: Any) -> tuple[str, dict[str, Any]]:
    """The document's kind and its JSON-ready copy, or a `_Problem`."""
    if not isinstance(value, dict):
        raise _Problem("a document must be a mapping with a `kind`")
    kind = value.get("kind")
    if kind is None:
        raise _Problem("missing `kind` (one of " + ", ".join(KINDS) + ")")
    if kind not in KINDS:
        raise _Problem(f"unknown kind {_short(kind)} (expected one of " + ", ".join(KINDS) + ")", ("kind",))
    return kind, _plain(value)


def _plain(root: Any) -> Any:
    """A JSON-ready copy: dates as ISO 8601 strings, string keys only; bounded in depth and in
    values after alias expansion (aliases share objects, so a bomb is cheap until walked)."""
    budget = [MAX_VALUES]

    def walk(value: Any, depth: int) -> Any:
        budget[0] -= 1
        if budget[0] < 0:
            raise _Problem(f"more than {MAX_VALUES} values after alias expansion: refusing a YAML alias bomb",
                           show_path=False)
        kind = type(value)
        if kind is dict:
            if depth >= MAX_DEPTH:
                raise _Problem(f"nested deeper than {MAX_DEPTH} levels", show_path=False)
            out = {}
            for key, item in value.items():
                if type(key) is not str:
                    raise _Problem(f"key {_short(key)} must be a string (quote it)")
                try:
                    out[sys.intern(key)] = walk(item, depth + 1)
                except _Problem as problem:
                    problem.path = (key, *problem.path)
                    raise
            return out
        if kind is list:
            if depth >= MAX_DEPTH:
                raise _Problem(f"nested deeper than {MAX_DEPTH} levels", show_path=False)
            items = []
            for index, item in enumerate(value):
                try:
                    items.append(walk(item, depth + 1))
                except _Problem as problem:
                    problem.path = (index, *problem.path)
                    raise
            return items
        if kind in (str, int, float, bool) or value is None:
            return value
        if kind is dt.date:
            return value.isoformat()
        if kind is dt.datetime:
            text = value.isoformat()
            return text[:-6] + "Z" if value.utcoffset() == dt.timedelta(0) else text
        raise _Problem("unsupported YAML value (binary, set or pairs are not allowed here)")

    return walk(root, 0)


def _field_problems(kind: str, data: dict[str, Any]) -> list[_Problem]:
    """Schema problems, then the rules a JSON Schema cannot say well (decimals, real dates)."""
    problems = _schema_problems(kind, data)
    if kind == "Job":
        reported = {p.path for p in problems}
        problems += [p for p in _job_problems(data) if p.path not in reported]
    return problems


def _job_problems(data: dict[str, Any]) -> list[_Problem]:
    """Job rules beyond the schema; written to run on schema-invalid documents too."""
    problems = []
    amount = _get(data, "price", "amount")
    if type(amount) in (int, float) and not _two_decimals(amount):
        problems.append(_Problem("must be a finite number with at most 2 decimals", ("price", "amount")))
    date = _get(data, "scheduled", "date")
    if isinstance(date, str) and not _parses(dt.date.fromisoformat, date):
        problems.append(_Problem("must be a real date (YYYY-MM-DD)", ("scheduled", "date")))
    history = data.get("history")
    for i, entry in enumerate(history if isinstance(history, list) else ()):
        at = _get(entry, "at")
        if isinstance(at, str) and not _parses(dt.datetime.fromisoformat, re.sub("[Zz]$", "+00:00", at)):
            problems.append(_Problem("must be a real date and time (ISO 8601)", ("history", i, "at")))
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


def _with_path(problem: _Problem) -> str:
    if not problem.show_path:
        return problem.message
    dotted = ""
    for step in problem.path:
        dotted += f"[{step}]" if isinstance(step, int) else (f".{step}" if dotted else str(step))
    return f"{dotted}: {problem.message}" if dotted else problem.message


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


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


def _schema_problems(kind: str, data: dict[str, Any]) -> list[_Problem]:
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

    cls = validators.extend(Draft202012Validator, {"pattern": pattern})
    return cls(schema(kind))


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _matches(pattern: str, text: str) -> bool:
    return _regex(pattern).search(text) is not None and not (pattern.endswith("$") and text.endswith("\n"))


def _problems_of(error: Any) -> list[_Problem]:
    """Readable, value-free problems from one jsonschema error."""
    path = tuple(error.absolute_path)
    rule, arg, instance = error.validator, error.validator_value, error.instance
    if "propertyNames" in error.schema_path:
        return [_Problem(f"name must match {arg}" if rule == "pattern" else "invalid name", (*path, instance))]
    if rule == "additionalProperties" and isinstance(instance, dict):
        known = error.schema.get("properties", {})
        return [_Problem("unknown field", (*path, key)) for key in instance if key not in known]
    if rule == "required":
        return [_Problem(f"missing required field {error.message.split(' is a required')[0]}", path)]
    if rule == "type":
        wanted = " or ".join(_TYPE_NAMES.get(t, t) for t in ([arg] if isinstance(arg, str) else arg))
        hint = " (quote it)" if "string" in arg and isinstance(instance, (int, float, bool)) else ""
        return [_Problem(f"must be {wanted}{hint}", path)]
    messages = {
        "pattern": lambda: f"must match {arg}",
        "enum": lambda: "must be one of " + ", ".join(map(str, arg)),
        "const": lambda: f"must be {arg!r}",
        "minimum": lambda: f"must be >= {arg}",
        "maximum": lambda: f"must be <= {arg}",
        "minLength": lambda: "must not be empty" if arg == 1 else f"must be at least {arg} characters",
        "maxLength": lambda: f"must be at most {arg} characters",
        "minItems": lambda: "must not be empty" if arg == 1 else f"must have at least {arg} items",
        "minProperties": lambda: "must not be empty" if arg == 1 else f"must have at least {arg} entries",
    }
    message = messages.get(rule)
    return [_Problem(message() if message else f"fails the {rule!r} rule", path)]


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
        for check in checks:
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


# --- across documents ------------------------------------------------------------------------


@dataclass
class _Located:
    """A cross-document problem: its line is found by re-composing the file, only if it occurs."""

    doc: _Doc
    problem: _Problem


@dataclass
class _Assembly:
    problems: list[_Located] = field(default_factory=list)
    plain: list[str] = field(default_factory=list)

    def add(self, doc: _Doc, message: str, path: FieldPath = ()) -> None:
        self.problems.append(_Located(doc, _Problem(message, path)))


def _assemble(
    root: Path, docs: list[_Doc], rejected: set[str], job_of: Callable[[_Doc], Job] | None = None
) -> tuple[Desired | None, list[_Located | str], tuple[Function, ...]]:
    """The cross-document rules (one Site, unique names, declared distributions, code files).
    The functions that could be built come back even when other problems exist, so their tests
    still run and every error is reported in one go."""
    out = _Assembly()
    by_kind: dict[str, list[_Doc]] = {kind: [] for kind in KINDS}
    for doc in docs:
        by_kind[doc.kind].append(doc)
    sites = by_kind["Site"]
    for extra in sites[1:]:
        out.add(extra, f"a second Site document (the first is {sites[0].source}); exactly one is allowed")
    if not sites and "Site" not in rejected:
        out.plain.append(f"{root}: no Site document (exactly one is required)")
    _unique(out, by_kind["Release"], ("name",), "Release name")
    _unique(out, by_kind["Function"], ("name",), "Function name")
    _unique(out, by_kind["Job"], ("id",), "job id")
    _unique(out, by_kind["Job"], ("token",), "tracking token", show_value=False)
    site = _site(sites[0]) if sites else None
    if site is not None:
        declared = site.distributions
        _declared(out, sites[0], ("jobs", "invalidate"), declared)
        for doc in by_kind["Release"] + by_kind["Function"]:
            _declared(out, doc, ("invalidate",), declared)
        if by_kind["Job"] and site.jobs is None:
            out.add(sites[0], f"{len(by_kind['Job'])} Job document(s) exist but the Site has no `jobs` section")
    real_root = root.resolve()
    functions = []
    for doc in by_kind["Function"]:
        try:
            functions.append(_function(doc, real_root))
        except _Problem as problem:
            out.problems.append(_Located(doc, problem))
    problems: list[_Located | str] = [*out.problems, *out.plain]
    if problems or site is None:
        return None, problems, tuple(functions)
    desired = Desired(
        root=root,
        site=site,
        releases=tuple(_release(d) for d in by_kind["Release"]),
        functions=tuple(functions),
        jobs=tuple((job_of or _job)(d) for d in by_kind["Job"]),
    )
    return desired, [], desired.functions


def _unique(out: _Assembly, docs: list[_Doc], path: FieldPath, what: str, show_value: bool = True) -> None:
    first: dict[Any, _Doc] = {}
    for doc in docs:
        value = doc.data[path[0]]
        if value in first:
            shown = f" {_short(value)}" if show_value else ""
            out.add(doc, f"duplicate {what}{shown} (first in {first[value].source})", path)
        else:
            first[value] = doc


def _declared(out: _Assembly, doc: _Doc, path: FieldPath, declared: Any) -> None:
    mapping: Any = doc.data
    for step in path:
        mapping = mapping.get(step) if isinstance(mapping, dict) else None
    for name in mapping or ():
        if name not in declared:
            names = ", ".join(sorted(declared)) or "none"
            out.add(doc, f"invalidate names distribution {_short(name)}, which the Site does not declare "
                         f"(declared: {names})", (*path, name))


def _located(problems: list[_Located | str]) -> list[str]:
    """`FILE:LINE: message` for each problem, composing each affected file once for its lines."""
    nodes: dict[Path, list[yaml.Node]] = {}
    lines = []
    for item in problems:
        if isinstance(item, str):
            lines.append(item)
            continue
        doc, problem = item.doc, item.problem
        if doc.path not in nodes:
            nodes[doc.path] = _compose(doc.path)
        roots = nodes[doc.path]
        line = _node_line(roots[doc.index], problem.path) if doc.index < len(roots) else doc.line
        lines.append(f"{doc.shown}:{line}: {_with_path(problem)}")
    return lines


# --- building the model ----------------------------------------------------------------------


def _invalidate(mapping: dict[str, list[str]] | None) -> dict[str, tuple[str, ...]]:
    return {name: tuple(paths) for name, paths in (mapping or {}).items()}


def _site(doc: _Doc) -> Site:
    d = doc.data
    jobs = d.get("jobs")
    target = JobsTarget(jobs["bucket"], jobs["key"], _invalidate(jobs.get("invalidate"))) if jobs else None
    return Site(d["name"], d["region"], dict(d["distributions"]), target, doc.source)


def _release(doc: _Doc) -> Release:
    d = doc.data
    return Release(
        name=d["name"], parameter=d["parameter"], version=d["version"], bucket=d["bucket"],
        prefix=d.get("prefix", ""), require=tuple(d.get("require", ("index.html",))),
        invalidate=_invalidate(d.get("invalidate")), source=doc.source,
    )


def _job(doc: _Doc) -> Job:
    document = {k: v for k, v in doc.data.items() if k != "kind"}
    return Job(document["id"], document["token"], document, doc.source)


def _function(doc: _Doc, real_root: Path) -> Function:
    d = doc.data
    code, code_path = _code(doc, real_root)
    tests = d.get("tests") or []
    test_lines = _test_lines(doc, len(tests))
    return Function(
        name=d["name"], runtime=d["runtime"], code=code, code_path=code_path,
        comment=d.get("comment", ""), invalidate=_invalidate(d.get("invalidate")),
        tests=tuple(
            FunctionTest(t["name"], functests.complete_event(t["event"]), t["expect"], Source(doc.shown, line))
            for t, line in zip(tests, test_lines)
        ),
        source=doc.source,
    )


def _test_lines(doc: _Doc, count: int) -> list[int]:
    if not count:
        return []
    roots = _compose(doc.path)
    node = roots[doc.index] if doc.index < len(roots) else None
    return [_node_line(node, ("tests", i)) if node else doc.line for i in range(count)]


def _code(doc: _Doc, real_root: Path) -> tuple[bytes, str]:
    """The function code file's bytes: relative, inside the desired directory, regular, <= 10 KB."""
    code = doc.data["code"]
    where = ("code",)
    if os.path.isabs(code) or code.startswith("~"):
        raise _Problem("must be a path relative to this YAML file, not absolute", where)
    target = doc.path.parent / code
    shown = os.path.normpath(os.path.join(os.path.dirname(doc.shown), code))
    try:
        real = target.resolve(strict=True)
    except FileNotFoundError:
        if not _inside(os.path.abspath(target), real_root):
            raise _Problem("escapes the desired directory", where) from None
        raise _Problem(f"code file {shown} not found", where) from None
    except (OSError, RuntimeError):
        raise _Problem(f"code file {shown} cannot be resolved (symbolic link loop?)", where) from None
    if not _inside(real, real_root):
        raise _Problem("escapes the desired directory (via '..' or a symbolic link)", where)
    try:
        return _read(real, MAX_CODE_BYTES, "too large ({size} bytes; CloudFront Functions allow at most {cap})"), shown
    except _Problem as problem:
        raise _Problem(f"code file {shown}: {problem.message}", where) from None
    except OSError as exc:
        raise _Problem(f"code file {shown} cannot be read: {exc.strerror or exc}", where) from None


def _tests_digest(function: Function) -> str:
    """What a function's test results depend on: code, runtime, the tests and their lines."""
    parts = [function.runtime, function.code.hex(),
             [(t.name, t.event, t.expect, str(t.source)) for t in function.tests]]
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=repr).encode()).hexdigest()
