"""What a production install (`pip install .`, no extra) must run on: SPEC section 6.

- Every module outside `reconciler/sandbox/` and `reconciler/commands/devstack.py` imports (at the top or
  lazily inside a function) only the standard library, the project, and what
  `[project.dependencies]` brings: never moto, its web stack or boto3, which the `sandbox` extra adds.
- Importing the whole production code loads none of them.
- `sandbox` and `dev` without the extra say which install line to run and exit 1.
"""

from __future__ import annotations

import ast
import importlib.metadata
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "reconciler"
SANDBOX_ONLY = ("reconciler.sandbox", "reconciler.commands.devstack")
"""The modules that may use the sandbox extra (only `cli` imports them, for `sandbox` and `dev`)."""
EXTRA_ONLY = ("moto", "flask", "flask_cors", "werkzeug", "boto3", "s3transfer")


def pyproject() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)


def production_requirements() -> list[Requirement]:
    project = pyproject()["project"]
    assert isinstance(project, dict)
    return [Requirement(r) for r in project["dependencies"]]


def production_distributions() -> set[str]:
    """The declared dependencies and everything they require (extras left out), as installed."""
    seen: set[str] = set()
    todo = [r.name for r in production_requirements()]
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        for line in importlib.metadata.distribution(name).requires or []:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return seen


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def production_modules() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py")) if not module_name(p).startswith(SANDBOX_ONLY)]


def imported(path: Path) -> set[str]:
    """Absolute module names `path` imports anywhere in its body (lazy imports included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


class TestProductionImports:
    def test_production_code_imports_only_declared_dependencies(self) -> None:
        """A module outside the sandbox importing an undeclared package would break `pip install .`."""
        allowed = production_distributions()
        owners = importlib.metadata.packages_distributions()
        stdlib = sys.stdlib_module_names
        bad = []
        for path in production_modules():
            for name in sorted(imported(path)):
                top = name.split(".")[0]
                if top in stdlib or top == "reconciler" or top == "__future__":
                    continue
                dists = {canonicalize_name(d) for d in owners.get(top, [])}
                if not dists & allowed:
                    bad.append(f"{path.relative_to(ROOT)}: imports {name} (from {sorted(dists) or 'nothing'})")
        assert bad == [], "\n".join(bad)

    def test_production_code_never_imports_the_sandbox(self) -> None:
        """Only `sandbox`/`dev` (devstack, from the CLI) reach moto or `reconciler.sandbox`."""
        bad = [
            f"{path.relative_to(ROOT)}: {name}"
            for path in production_modules()
            for name in imported(path)
            if name.startswith(SANDBOX_ONLY[0]) or name.split(".")[0] in EXTRA_ONLY
        ]
        assert bad == [], bad
        importers = {module_name(p) for p in production_modules() if "reconciler.commands.devstack" in imported(p)}
        assert importers == {"reconciler.cli"}

    def test_the_sandbox_extra_is_not_a_production_dependency(self) -> None:
        """moto and boto3 are in the `sandbox` extra, not in `[project.dependencies]`."""
        production = {canonicalize_name(r.name) for r in production_requirements()}
        extras = pyproject()["project"]["optional-dependencies"]  # type: ignore[index]
        sandbox = {canonicalize_name(Requirement(r).name) for r in extras["sandbox"]}
        assert {"moto", "boto3"} <= sandbox
        assert not production & sandbox

    def test_importing_all_production_code_loads_no_sandbox_library(self) -> None:
        """In a fresh interpreter, import every production module: nothing of the extra is loaded."""
        names = [module_name(p) for p in production_modules() if p.name != "__main__.py"]
        script = (
            "import importlib, sys\n"
            f"for name in {names!r}:\n"
            "    importlib.import_module(name)\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({EXTRA_ONLY!r})))\n"
            "print('reconciler.sandbox' in sys.modules)\n"
        )
        done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stdout.split("\n")[:2] == ["[]", "False"]


BLOCK = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] == 'moto':
            raise ModuleNotFoundError(name)
        return None
sys.meta_path.insert(0, Block())
import importlib.util
_find = importlib.util.find_spec
importlib.util.find_spec = lambda name, *a: None if name.split('.')[0] == 'moto' else _find(name, *a)
from reconciler.cli import main
sys.exit(main(sys.argv[1:]))
"""


class TestWithoutTheExtra:
    @pytest.mark.parametrize("command", ["sandbox", "dev"])
    def test_names_the_install_line_and_exits_1(self, command: str, tmp_path: Path) -> None:
        """Without moto, `sandbox`/`dev` print one line naming the extra's install command."""
        done = subprocess.run(
            [sys.executable, "-c", BLOCK, command, "--desired", str(tmp_path / "desired")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1
        assert done.stdout == ""
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        assert "pip install 'edge-reconciler[sandbox]'" in lines[0] and "moto" in lines[0]
        assert not (tmp_path / ".reconciler").exists()


LOCK = ROOT / "requirements.lock"


def locked() -> dict[str, tuple[str, list[str]]]:
    """requirements.lock as {name: (version, hashes)}."""
    entries: dict[str, tuple[str, list[str]]] = {}
    text = LOCK.read_text().replace("\\\n", " ")
    for line in text.splitlines():
        if not line or line.startswith("#") or line.startswith(" "):
            continue
        spec, *options = line.split(" --hash=")
        requirement = Requirement(spec.strip())
        pins = [s.version for s in requirement.specifier if s.operator == "=="]
        assert len(pins) == 1, f"requirements.lock: {line[:60]} is not pinned with =="
        entries[canonicalize_name(requirement.name)] = (pins[0], [o.strip() for o in options])
    return entries


class TestLock:
    def test_every_declared_dependency_is_pinned_within_its_range(self) -> None:
        """Each `[project.dependencies]` entry is in the lock, at a version its specifier allows."""
        lock = locked()
        for requirement in production_requirements():
            name = canonicalize_name(requirement.name)
            assert name in lock, f"{name} is not in requirements.lock: run bin/lock"
            assert requirement.specifier.contains(lock[name][0]), f"{name}=={lock[name][0]} outside {requirement}"

    def test_covers_what_the_dependencies_require(self) -> None:
        """Every package the production install pulls in (as installed here) is pinned too."""
        assert production_distributions() - set(locked()) == set(), "run bin/lock"

    def test_every_pin_carries_sha256_hashes(self) -> None:
        """`pip install --require-hashes` refuses a line without one."""
        for name, (_, hashes) in locked().items():
            assert hashes and all(h.startswith("sha256:") and len(h) == 71 for h in hashes), name

    def test_holds_nothing_of_the_extras(self) -> None:
        """The lock is the production install: no moto, boto3 or test tools."""
        assert not set(locked()) & {"moto", "boto3", "flask", "werkzeug", "pytest"}
