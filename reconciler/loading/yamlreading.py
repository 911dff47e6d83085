"""Safe, bounded YAML parsing with line numbers, for the desired state's files.

Used by the loader (`reconciler.loading.loader`) and the assembling step (`reconciler.loading.assembling`).
Kept apart because it is the part that faces hostile input: PyYAML's C safe loader refusing
duplicate keys, impossible dates left as strings for the schema to report, alias-expansion
bombs and deep nesting refused while making the JSON-ready copy, and any failure turned into
one `FILE:LINE: message` instead of an exception. Line numbers of fields are found in the YAML
nodes (`node_line`), and `compose` re-reads a file for them only when a problem needs one.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from reconciler.loading.desiredfiles import MAX_FILE_BYTES, read_bounded
from reconciler.loading.problems import FieldPath, Problem, short

MAX_DEPTH = 64
MAX_VALUES = 100_000
"""Values per document after alias expansion: stops "billion laughs" before it costs anything."""
MAX_NODES = 100_000
"""Nodes per document after alias and merge-key (`<<`) expansion, counted on the composed nodes
before anything is constructed: PyYAML < 6.0.4 expands duplicate merges exponentially (issue
https://github.com/yaml/pyyaml/issues/897, fixed by pull 937 in 6.0.4, the minimum we require),
and even 6.0.4 copies a chain of merges quadratically. A desired document is a few hundred nodes."""

_MERGE_TAG = "tag:yaml.org,2002:merge"


class SafeYamlLoader(yaml.CSafeLoader):
    """The C safe loader, refusing duplicate keys in one mapping instead of keeping the last."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue
                key = (key_node.tag, key_node.value) if isinstance(key_node, yaml.ScalarNode) else id(key_node)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {short(key_node.value)}", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        """An impossible date (2026-02-30) stays a string, for the schema to report with the rest."""
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            return node.value


SafeYamlLoader.add_constructor("tag:yaml.org,2002:timestamp", SafeYamlLoader.construct_yaml_timestamp)

def documents(raw: bytes, shown: str, errors: list[str]) -> Iterator[tuple[int, yaml.Node, Any]]:
    """(index, root node, constructed value) per document; syntax errors end the file, errors in
    constructing one document (duplicate key, unknown tag, bad date) skip only that document."""
    loader = SafeYamlLoader(raw)
    index = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            assert node is not None  # check_node() said there is one
            try:
                expanded_size(node)
                value = loader.construct_document(node)
            except (yaml.YAMLError, ValueError, TypeError, OverflowError, Problem) as exc:
                line = _error_line(exc) or node.start_mark.line + 1
                errors.append(f"{shown}:{line}: {exc.message if isinstance(exc, Problem) else _yaml_message(exc)}")
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


def expanded_size(root: yaml.Node, budget: int = MAX_NODES) -> int:
    """How many nodes `root` stands for once aliases and merge keys are expanded; raises
    `Problem` past `budget` or `MAX_DEPTH`. Linear in the distinct nodes (sizes are memoized by
    identity, and an alias is the same node object), so a bomb costs nothing to measure."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node, depth: int) -> int:
        if type(node) is yaml.ScalarNode:
            return 1  # the common case, without the bookkeeping
        known = sizes.get(id(node))
        if known is not None and known >= 0:
            return known
        if depth > MAX_DEPTH or known is not None:  # known < 0: a node inside itself (a recursive alias)
            raise Problem(f"nested deeper than {MAX_DEPTH} levels", show_path=False)
        sizes[id(node)] = -1
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(item, depth + 1) for item in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k, depth + 1) + size(v, depth + 1) for k, v in node.value)
        if total > budget:
            raise Problem(f"more than {budget} values after alias and merge-key expansion: refusing a YAML bomb",
                          show_path=False)
        sizes[id(node)] = total
        return total

    return size(root, 0)


def compose(path: str | Path) -> list[yaml.Node]:
    """The root nodes of a file again, for line numbers of problems found after parsing."""
    try:
        loader = SafeYamlLoader(read_bounded(path, MAX_FILE_BYTES, "too large"))
    except (OSError, Problem):
        return []
    nodes: list[yaml.Node] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                nodes.append(node)
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
            return f"YAML: tag {short(exc.problem.split('tag ', 1)[-1].strip(chr(39)))} is not allowed"
        return "YAML: " + ": ".join(parts).replace("\n", " ")
    if isinstance(exc, (ValueError, OverflowError)):
        return f"YAML: invalid value ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
    return f"YAML: {type(exc).__name__}"


def node_line(node: yaml.Node, path: FieldPath) -> int:
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




def plain(root: Any) -> Any:
    """A JSON-ready copy: dates as ISO 8601 strings, string keys only; bounded in depth and in
    values after alias expansion (aliases share objects, so a bomb is cheap until walked)."""
    budget = [MAX_VALUES]

    def walk(value: Any, depth: int) -> Any:
        budget[0] -= 1
        if budget[0] < 0:
            raise Problem(f"more than {MAX_VALUES} values after alias expansion: refusing a YAML alias bomb",
                           show_path=False)
        kind = type(value)
        if kind is dict:
            if depth >= MAX_DEPTH:
                raise Problem(f"nested deeper than {MAX_DEPTH} levels", show_path=False)
            out = {}
            for key, item in value.items():
                if type(key) is not str:
                    raise Problem(f"key {short(key)} must be a string (quote it)")
                try:
                    out[sys.intern(key)] = walk(item, depth + 1)
                except Problem as problem:
                    problem.path = (key, *problem.path)
                    raise
            return out
        if kind is list:
            if depth >= MAX_DEPTH:
                raise Problem(f"nested deeper than {MAX_DEPTH} levels", show_path=False)
            items = []
            for index, item in enumerate(value):
                try:
                    items.append(walk(item, depth + 1))
                except Problem as problem:
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
        raise Problem("unsupported YAML value (binary, set or pairs are not allowed here)")

    return walk(root, 0)


