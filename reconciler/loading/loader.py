"""Desired directory -> `Desired`. Called by `validate`, `plan`, `apply` (`load`) and by the
daemon (`Loader`, which re-parses only the files that changed).

Every problem is collected and raised at once as `InvalidDesired` with `FILE:LINE: message`
lines. The happy path is PyYAML's C parser plus cheap checks; line numbers of fields are looked
up in the YAML nodes only for documents that have a problem. Messages name fields and rules,
never values, so they can be logged without leaking customer data or tokens.

This module is the public entry and the per-file step; the parts live in modules of their own:
`desiredfiles` (finding and reading files), `yamlreading` (safe, bounded YAML with line numbers),
`schemachecking` (the field rules of one document), `assembling` (the cross-document rules and
the model's values) and `problems` (a located problem and its wording).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler import events
from reconciler.core.errors import InvalidDesired
from reconciler.core.model import Desired, Function
from reconciler.events.redaction import job_secrets
from reconciler.loading import functests
from reconciler.loading.assembling import MAX_CODE_BYTES, Doc, assemble, build_job, located, tests_digest
from reconciler.loading.desiredfiles import MAX_FILE_BYTES, YAML_SUFFIXES, StatKey, read_bounded, scan
from reconciler.loading.problems import FieldPath, Problem, short, with_path
from reconciler.loading.schemachecking import KINDS, field_problems, schema
from reconciler.loading.yamlreading import MAX_DEPTH, MAX_VALUES, documents, node_line, plain

__all__ = [
    "KINDS", "MAX_CODE_BYTES", "MAX_DEPTH", "MAX_FILE_BYTES", "MAX_PROBLEMS", "MAX_VALUES", "YAML_SUFFIXES",
    "FieldPath", "Loader", "StatKey", "check_text", "load", "schema",
]

MAX_PROBLEMS = 20
"""Problems reported per document; 60,000 unknown keys must not cost 60,000 node searches."""


@dataclass(frozen=True, slots=True)
class _Parsed:
    """What one file yields on its own: documents and per-file errors (cacheable by stat)."""

    docs: tuple[Doc, ...] = ()
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
        self._files: dict[str, tuple[str, StatKey, _Parsed]] = {}
        """shown name -> (that name, stat key, what the file yielded): an unchanged file keeps its
        first name string and key, so a reload retains nothing new from the scan (100,000 files
        would otherwise swap in 100,000 new name strings each time)."""
        self._tests: dict[str, tuple[str, ...]] = {}
        self._last: Desired | None = None
        """The last `Desired` returned: returned again while equal, so its cached canonical JSON
        (~45 MB at 100,000 jobs) is not rebuilt every reconcile, nor kept twice by the planner's
        and reader's memory of the live object."""

    def load(self) -> Desired:
        files, errors = scan(self.root)
        if not files and errors:
            raise InvalidDesired(errors)
        fresh: dict[str, tuple[str, StatKey, _Parsed]] = {}
        for shown, path, key in files:
            cached = self._files.get(shown)
            if cached is not None and cached[1] == key:
                fresh[cached[0]] = cached
            else:
                fresh[shown] = (shown, key, _parse_file(Path(path), shown))
        del files
        self._files = fresh
        docs = [doc for _, _, parsed in fresh.values() for doc in parsed.docs]
        errors += [e for _, _, parsed in fresh.values() for e in parsed.errors]
        rejected = {kind for _, _, parsed in fresh.values() for kind in parsed.rejected}
        # An unchanged file keeps its `Doc`, and the Job built from it (`build_job` keeps it on the
        # Doc), so its cached canonical JSON is reused too.
        desired, problems, functions = assemble(self.root, docs, rejected, build_job)
        errors += located(problems)
        if self.run_tests:
            errors += self._test_failures(functions)
        if errors or desired is None:
            raise InvalidDesired(errors)
        if desired == self._last:  # cheap when nothing changed: the same Job objects, compared by identity
            return self._last
        self._last = desired
        return desired

    def _test_failures(self, functions: tuple[Function, ...]) -> list[str]:
        """Run (or recall) each function's tests, keyed by a digest of what they depend on."""
        used: dict[str, tuple[str, ...]] = {}
        for function in functions:
            key = tests_digest(function)
            used[key] = self._tests[key] if key in self._tests else tuple(functests.check(function))
        self._tests = used
        return [failure for failures in used.values() for failure in failures]


def check_text(text: str, shown: str) -> list[str]:
    """Per-file errors of YAML `text` (syntax, schema, field rules) as if it were file `shown`."""
    return list(_parse_bytes(text.encode(), shown, Path(shown)).errors)



# --- parsing one file ------------------------------------------------------------------------


def _parse_file(path: Path, shown: str) -> _Parsed:
    try:
        raw = read_bounded(path, MAX_FILE_BYTES, "file too large ({size} bytes; the limit is {cap})")
    except Problem as problem:
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
    docs: list[Doc] = []
    errors: list[str] = []
    rejected: list[str] = []
    for index, node, value in documents(raw, shown, errors):
        if value is None:
            continue
        if isinstance(value, dict) and value.get("kind") == "Job":
            events.register_secrets(job_secrets([value]))  # even from an invalid job: errors are printed
        try:
            kind, data = _checked(value)
        except Problem as problem:
            errors.append(f"{shown}:{node_line(node, problem.path)}: {with_path(problem)}")
            continue
        problems = field_problems(kind, data)
        if len(problems) > MAX_PROBLEMS:  # each is located in the nodes: keep that linear
            more = len(problems) - MAX_PROBLEMS
            problems = [*problems[:MAX_PROBLEMS], Problem(f"{more} more problem(s) in this document not shown")]
        if problems:
            errors += [f"{shown}:{node_line(node, p.path)}: {with_path(p)}" for p in problems]
            rejected.append(kind)
        else:
            del data["kind"]  # in `Doc.kind`; without it, `data` is a Job's published object as is
            docs.append(Doc(kind, data, shown, os.fspath(path), index, node.start_mark.line + 1))
    return _Parsed(tuple(docs), tuple(errors), tuple(rejected))


# --- one document ----------------------------------------------------------------------------


def _checked(value: Any) -> tuple[str, dict[str, Any]]:
    """The document's kind and its JSON-ready copy, or a `Problem`."""
    if not isinstance(value, dict):
        raise Problem("a document must be a mapping with a `kind`")
    kind = value.get("kind")
    if kind is None:
        raise Problem("missing `kind` (one of " + ", ".join(KINDS) + ")")
    if kind not in KINDS:
        raise Problem(f"unknown kind {short(kind)} (expected one of " + ", ".join(KINDS) + ")", ("kind",))
    return kind, plain(value)


