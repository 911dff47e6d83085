"""Schema-valid documents -> `Desired`: the cross-document rules and the model's values.

Used by the loader (`reconciler.loading.loader`) once every file is parsed. Kept apart because these
rules need all documents at once (exactly one Site, unique names, ids and tokens, declared
distributions, function code files inside the desired directory), while everything before them
works one file at a time and is cached per file. A problem's line is found by re-composing its
file only when the problem occurs.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from reconciler.cfjs import EVENT_TYPES
from reconciler.core.model import Desired, Function, FunctionTest, Job, JobsTarget, Release, Site, Source
from reconciler.loading import functests
from reconciler.loading.desiredfiles import inside, read_bounded
from reconciler.loading.documentrules import code_problem, shared_parameters
from reconciler.loading.problems import FieldPath, Problem, short, with_path
from reconciler.loading.schemachecking import KINDS
from reconciler.loading.yamlreading import compose, node_line

MAX_CODE_BYTES = 10_240
"""The CloudFront Functions code size limit."""


@dataclass(slots=True, eq=False)
class Doc:
    """One valid-by-schema document, JSON-ready (without its `kind` key), with where it came from.

    The `Loader` keeps one per document of every unchanged file, so it is lean: slots, the path
    as a string, and for a Job the `Job` built from it (sharing `data` as its document), so a
    reload reuses that Job, its cached canonical JSON included, instead of a second copy."""

    kind: str
    data: dict[str, Any]
    shown: str
    path: str
    index: int
    line: int
    job: Job | None = None

    @property
    def source(self) -> Source:
        return Source(self.shown, self.line)



# --- across documents ------------------------------------------------------------------------


@dataclass
class _Located:
    """A cross-document problem: its line is found by re-composing the file, only if it occurs."""

    doc: Doc
    problem: Problem


@dataclass
class _Assembly:
    problems: list[_Located] = field(default_factory=list)
    plain: list[str] = field(default_factory=list)

    def add(self, doc: Doc, message: str, path: FieldPath = ()) -> None:
        self.problems.append(_Located(doc, Problem(message, path)))


def assemble(
    root: Path, docs: list[Doc], rejected: set[str], job_of: Callable[[Doc], Job] | None = None
) -> tuple[Desired | None, list[_Located | str], tuple[Function, ...]]:
    """The cross-document rules (one Site, unique names, declared distributions, code files).
    The functions that could be built come back even when other problems exist, so their tests
    still run and every error is reported in one go."""
    out = _Assembly()
    by_kind: dict[str, list[Doc]] = {kind: [] for kind in KINDS}
    for doc in docs:
        by_kind[doc.kind].append(doc)
    sites = by_kind["Site"]
    for extra in sites[1:]:
        out.add(extra, f"a second Site document (the first is {sites[0].source}); exactly one is allowed")
    if not sites and "Site" not in rejected:
        out.plain.append(f"{root}: no Site document (exactly one is required)")
    _unique(out, by_kind["Release"], ("name",), "Release name")
    for doc, first in shared_parameters((d, d.data["parameter"]) for d in by_kind["Release"]):
        out.add(doc, f"parameter is already the pointer of Release {short(first.data['name'])} ({first.source}); "
                     "two Releases on one parameter would move it back and forth", ("parameter",))
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
        except Problem as problem:
            out.problems.append(_Located(doc, problem))
    problems: list[_Located | str] = [*out.problems, *out.plain]
    if problems or site is None:
        return None, problems, tuple(functions)
    desired = Desired(
        root=root,
        site=site,
        releases=tuple(_release(d) for d in by_kind["Release"]),
        functions=tuple(functions),
        jobs=tuple((job_of or build_job)(d) for d in by_kind["Job"]),
    )
    return desired, [], desired.functions


def _unique(out: _Assembly, docs: list[Doc], path: FieldPath, what: str, show_value: bool = True) -> None:
    first: dict[Any, Doc] = {}
    for doc in docs:
        value = doc.data[path[0]]
        if value in first:
            shown = f" {short(value)}" if show_value else ""
            out.add(doc, f"duplicate {what}{shown} (first in {first[value].source})", path)
        else:
            first[value] = doc


def _declared(out: _Assembly, doc: Doc, path: FieldPath, declared: Any) -> None:
    mapping: Any = doc.data
    for step in path:
        mapping = mapping.get(step) if isinstance(mapping, dict) else None
    for name in mapping or ():
        if name not in declared:
            names = ", ".join(sorted(declared)) or "none"
            out.add(doc, f"invalidate names distribution {short(name)}, which the Site does not declare "
                         f"(declared: {names})", (*path, name))


def located(problems: list[_Located | str]) -> list[str]:
    """`FILE:LINE: message` for each problem, composing each affected file once for its lines."""
    nodes: dict[str, list[yaml.Node]] = {}
    lines = []
    for item in problems:
        if isinstance(item, str):
            lines.append(item)
            continue
        doc, problem = item.doc, item.problem
        if doc.path not in nodes:
            nodes[doc.path] = compose(doc.path)
        roots = nodes[doc.path]
        line = node_line(roots[doc.index], problem.path) if doc.index < len(roots) else doc.line
        lines.append(f"{doc.shown}:{line}: {with_path(problem)}")
    return lines


# --- building the model ----------------------------------------------------------------------


def _invalidate(mapping: dict[str, list[str]] | None) -> dict[str, tuple[str, ...]]:
    return {name: tuple(paths) for name, paths in (mapping or {}).items()}


def _site(doc: Doc) -> Site:
    d = doc.data
    jobs = d.get("jobs")
    target = JobsTarget(jobs["bucket"], jobs["key"], _invalidate(jobs.get("invalidate"))) if jobs else None
    return Site(d["name"], d["region"], dict(d["distributions"]), target, doc.source)


def _release(doc: Doc) -> Release:
    d = doc.data
    return Release(
        name=d["name"], parameter=d["parameter"], version=d["version"], bucket=d["bucket"],
        prefix=d.get("prefix", ""), require=tuple(d.get("require", ("index.html",))),
        invalidate=_invalidate(d.get("invalidate")), source=doc.source,
    )


def build_job(doc: Doc) -> Job:
    """The document's Job, built once per document: `data` (no `kind`) is its published object."""
    if doc.job is None:
        data = doc.data
        doc.job = Job(data["id"], data["token"], data, doc.source)
    return doc.job


def _function(doc: Doc, real_root: Path) -> Function:
    d = doc.data
    code, code_path = _code(doc, real_root)
    tests = d.get("tests") or []
    test_lines = _test_lines(doc, len(tests))
    event = d.get("event", "viewer-request")
    return Function(
        name=d["name"], runtime=d["runtime"], code=code, code_path=code_path,
        comment=d.get("comment", ""), invalidate=_invalidate(d.get("invalidate")),
        tests=tuple(_test(t, Source(doc.shown, line), event) for t, line in zip(tests, test_lines, strict=True)),
        source=doc.source, event=event, key_value_stores=tuple(d.get("keyValueStores") or ()),
    )


def _test(test: dict[str, Any], source: Source, default_event: str) -> FunctionTest:
    given = (test["event"].get("context") or {}).get("eventType")  # a full event written out says its type
    event_type = test.get("eventType") or (given if given in EVENT_TYPES else default_event)
    return FunctionTest(
        test["name"], functests.complete_event(test["event"], event_type), test["expect"], source,
        event_type=event_type, kvs=test.get("kvs"),
    )


def _test_lines(doc: Doc, count: int) -> list[int]:
    if not count:
        return []
    roots = compose(doc.path)
    node = roots[doc.index] if doc.index < len(roots) else None
    return [node_line(node, ("tests", i)) if node else doc.line for i in range(count)]


def _code(doc: Doc, real_root: Path) -> tuple[bytes, str]:
    """The function code file's bytes: relative, inside the desired directory, regular, <= 10 KB."""
    code = doc.data["code"]
    where = ("code",)
    if os.path.isabs(code) or code.startswith("~"):
        raise Problem("must be a path relative to this YAML file, not absolute", where)
    target = Path(doc.path).parent / code
    shown = os.path.normpath(os.path.join(os.path.dirname(doc.shown), code))
    try:
        real = target.resolve(strict=True)
    except FileNotFoundError:
        if not inside(os.path.abspath(target), real_root):
            raise Problem("escapes the desired directory", where) from None
        raise Problem(f"code file {shown} not found", where) from None
    except (OSError, RuntimeError):
        raise Problem(f"code file {shown} cannot be resolved (symbolic link loop?)", where) from None
    if not inside(real, real_root):
        raise Problem("escapes the desired directory (via '..' or a symbolic link)", where)
    try:
        too_large = "too large ({size} bytes; CloudFront Functions allow at most {cap})"
        code_bytes = read_bounded(real, MAX_CODE_BYTES, too_large)
    except Problem as problem:
        raise Problem(f"code file {shown}: {problem.message}", where) from None
    except OSError as exc:
        raise Problem(f"code file {shown} cannot be read: {exc.strerror or exc}", where) from None
    not_js = code_problem(code)
    if not_js is not None:
        raise not_js
    return code_bytes, shown


def tests_digest(function: Function) -> str:
    """What a function's test results depend on: code, runtime, the tests and their lines."""
    parts = [function.runtime, function.code.hex(), function.code_path,
             [(t.name, t.event, t.expect, str(t.source), t.kvs) for t in function.tests]]
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=repr).encode()).hexdigest()
