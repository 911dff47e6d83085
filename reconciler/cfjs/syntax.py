"""The language level of each CloudFront Functions runtime, checked on the parse tree.

`scan(code, runtime)` walks a tree-sitter parse of the code and returns every construct the
runtime lacks, with its line, plus the code with its `import x from 'module'` statements turned
into `var x = require('module')` on the same lines (V8 runs the code as a script). V8 itself
reports plain syntax errors (`engine.compile`); this module refuses what V8 would accept but
CloudFront would not: what AWS's pages list as unsupported or restricted, and every construct
they do not list ("nothing they do not list", SPEC section 2).

Sources (the runtime 1.0 and 2.0 feature pages, "Core features" and "Restricted features"):
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-javascript-runtime-10.html
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-javascript-runtime-20.html
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from reconciler.cfjs.features import MODULES, RUNTIME_1, RUNTIME_2

TIMERS = frozenset({"setTimeout", "setImmediate", "clearTimeout", "setInterval", "clearInterval", "clearImmediate"})
ABSENT_GLOBALS = {
    "process": "there is no process access (no `process` object)",
    "fetch": "there is no network access",
    "XMLHttpRequest": "there is no network access",
    "WebSocket": "there is no network access",
}
_FUNCTIONS = frozenset({"function_declaration", "function_expression", "arrow_function", "method_definition",
                        "generator_function_declaration", "generator_function"})

# node type -> what it is, for constructs neither runtime's page lists.
_UNLISTED = {
    "class_declaration": "classes",
    "class": "classes",
    "generator_function_declaration": "generator functions",
    "generator_function": "generator functions",
    "yield_expression": "generator functions (`yield`)",
    "object_pattern": "destructuring",
    "array_pattern": "destructuring",
    "spread_element": "spread syntax (`...` outside a rest parameter)",
    "assignment_pattern": "default parameter values",
    "optional_chain": "optional chaining (`?.`)",
    "shorthand_property_identifier": "shorthand properties (`{a}`; write `{a: a}`)",
    "computed_property_name": "computed property names (`{[k]: v}`)",
    "export_statement": "`export` (CloudFront calls the function named `handler`)",
    "meta_property": "`new.target` / `import.meta`",
    "debugger_statement": "`debugger`",
    "with_statement": "`with` (functions run in strict mode)",
}
_NO_FUNCTION = "the Function constructor is not supported (dynamic code evaluation throws at the edge)"
_UNLISTED_OPERATORS = {"??": "nullish coalescing (`??`)", "??=": "logical assignment (`??=`)",
                       "||=": "logical assignment (`||=`)", "&&=": "logical assignment (`&&=`)"}


@dataclass(frozen=True)
class Finding:
    """One refused construct: the 1-based line in the `.js` file and what is wrong."""

    line: int
    message: str


_PARSING = threading.Lock()


@lru_cache(maxsize=1)
def _parser() -> Any:
    """The tree-sitter JavaScript parser, built once (the import costs ~20 ms, so only when needed)."""
    import tree_sitter
    import tree_sitter_javascript

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_javascript.language()))


def _walk(node: Any) -> Iterator[Any]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def _text(node: Any) -> str:
    return bytes(node.text).decode("utf-8", errors="replace")


def _line(node: Any) -> int:
    return int(node.start_point[0]) + 1


def _declared(nodes: list[Any]) -> set[str]:
    """Names the code declares itself (variables, functions, parameters): those shadow globals."""
    names = set()
    for node in nodes:
        if node.type in ("variable_declarator", "function_declaration", "function_expression"):
            name = node.child_by_field_name("name")
            if name is not None and name.type == "identifier":
                names.add(_text(name))
        elif node.type == "formal_parameters" or node.type == "catch_clause":
            names.update(_text(c) for c in node.children if c.type == "identifier")
        elif node.type == "arrow_function":
            param = node.child_by_field_name("parameter")
            if param is not None:
                names.add(_text(param))
    return names


def _inside_function(node: Any) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in _FUNCTIONS:
            return True
        parent = parent.parent
    return False


def _string_value(node: Any) -> str | None:
    if node is not None and node.type == "string":
        return "".join(_text(c) for c in node.children if c.type == "string_fragment")
    return None


class _Scan:
    def __init__(self, runtime: str) -> None:
        self.runtime = runtime
        self.v2 = runtime == RUNTIME_2
        self.findings: list[Finding] = []
        self.imports: list[tuple[int, int, str]] = []

    def refuse(self, node: Any, message: str) -> None:
        self.findings.append(Finding(_line(node), message))

    def lacks(self, node: Any, what: str, hint: str = "") -> None:
        self.refuse(node, f"{self.runtime} does not support {what}{hint}")

    def module(self, node: Any, name: str, how: str) -> None:
        available = MODULES[self.runtime]
        if name not in available:
            self.refuse(node, f"{how} of unknown module '{name}': {self.runtime} has only "
                              + ", ".join(f"'{m}'" for m in available))

    def node(self, node: Any, declared: set[str]) -> None:
        kind = node.type
        if kind in _UNLISTED:
            self.lacks(node, _UNLISTED[kind])
        elif kind in ("binary_expression", "augmented_assignment_expression"):
            operator = node.child_by_field_name("operator")
            op = _text(operator) if operator is not None else ""
            if op in _UNLISTED_OPERATORS:
                self.lacks(node, _UNLISTED_OPERATORS[op])
            elif op == "**=":
                self.lacks(node, "`**=` (the pages list the `**` operator only)")
        elif kind == "method_definition" and node.parent is not None and node.parent.type == "object":
            if not any(c.type in ("get", "set") for c in node.children):
                self.lacks(node, "method shorthand in object literals (`{m() {}}`; write `{m: function () {}}`)")
        elif kind == "call_expression":
            self.call(node)
        elif kind == "new_expression":
            constructor = node.child_by_field_name("constructor")
            if constructor is not None and _text(constructor) == "Function":
                self.refuse(node, _NO_FUNCTION)
        elif kind == "identifier":
            self.identifier(node, declared)
        elif kind == "number":
            text = _text(node)
            if text.endswith("n"):
                self.lacks(node, "BigInt literals")
            elif "_" in text and not self.v2:
                self.lacks(node, "numeric separators", " (runtime 2.0 does)")
        elif kind in ("lexical_declaration", "for_in_statement"):
            self.declaration(node)
        elif kind in ("function_declaration", "function_expression", "arrow_function"):
            self.function(node)
        elif kind == "await_expression" and not self.v2:
            self.lacks(node, "`await`", " (runtime 2.0 does)")
        elif kind == "import_statement":
            self.import_(node)

    def call(self, node: Any) -> None:
        callee = node.child_by_field_name("function")
        arguments = node.child_by_field_name("arguments")
        name = _text(callee) if callee is not None and callee.type == "identifier" else ""
        if name == "eval":
            self.refuse(node, "eval() is not supported (dynamic code evaluation throws at the edge)")
        elif name == "Function":
            self.refuse(node, _NO_FUNCTION)
        elif name == "require" and arguments is not None and arguments.type == "arguments":
            values = [c for c in arguments.children if c.is_named]
            module = _string_value(values[0]) if values else None
            if module is not None:
                self.module(node, module, "require()")
        if arguments is not None and arguments.type == "template_string":
            self.lacks(node, "tagged templates")

    def identifier(self, node: Any, declared: set[str]) -> None:
        name = _text(node)
        if name in declared:
            return
        if name in TIMERS:
            self.refuse(node, f"{name}() is not supported: timers are restricted, a function must run to completion "
                              "synchronously")
        elif name in ABSENT_GLOBALS:
            self.refuse(node, f"`{name}` is not available: {ABSENT_GLOBALS[name]}")

    def declaration(self, node: Any) -> None:
        if node.type == "for_in_statement" and any(c.type == "of" for c in node.children):
            self.lacks(node, "`for...of` loops", " (use for, for-in or forEach)")
        if self.v2:
            return
        keyword = next((c for c in node.children if c.type in ("const", "let")), None)
        if keyword is not None:
            self.lacks(node, f"`{keyword.type}`", " (use var, or runtime cloudfront-js-2.0)")

    def function(self, node: Any) -> None:
        if not any(c.type == "async" for c in node.children):
            return
        if not self.v2:
            self.lacks(node, "`async` functions", " (runtime 2.0 does)")
        elif node.type != "function_declaration":
            self.lacks(node, "async function expressions or arrow functions (\"async arguments and closures are "
                             "not supported\")")
        elif _inside_function(node):
            self.lacks(node, "async functions declared inside other functions (\"async closures are not supported\")")

    def import_(self, node: Any) -> None:
        if not self.v2:
            self.lacks(node, "`import`", " (use require(), or runtime cloudfront-js-2.0)")
            return
        clause = next((c for c in node.children if c.type == "import_clause"), None)
        module = _string_value(node.child_by_field_name("source"))
        names = [c for c in clause.children if c.is_named] if clause is not None else []
        if module is None or len(names) != 1 or names[0].type != "identifier":
            self.refuse(node, "only `import name from 'module'` is supported")
            return
        self.module(node, module, "import")
        self.imports.append((node.start_byte, node.end_byte, f"var {_text(names[0])} = require({json.dumps(module)});"))


def scan(code: str, runtime: str) -> tuple[list[Finding], str]:
    """Every construct `runtime` lacks in `code`, and the code runnable as a V8 script."""
    if runtime not in (RUNTIME_1, RUNTIME_2):
        raise ValueError(f"unknown runtime {runtime!r}")
    source = code.encode("utf-8")
    with _PARSING:  # a tree-sitter parser is not thread-safe; the sandbox serves requests in threads
        tree = _parser().parse(source)
    nodes = list(_walk(tree.root_node))
    declared = _declared(nodes)
    state = _Scan(runtime)
    for node in nodes:
        state.node(node, declared)
    script = source
    for start, end, replacement in reversed(state.imports):
        newlines = script[start:end].count(b"\n")
        script = script[:start] + replacement.encode() + b"\n" * newlines + script[end:]
    findings = sorted(set(state.findings), key=lambda f: (f.line, f.message))
    return findings, script.decode("utf-8")
