"""Measure a production install: a fresh venv, the project without extras, its size and packages.

    python3 bench/install.py            # pip install .  (the resolver picks the versions)
    python3 bench/install.py --lock     # pip install --require-hashes -r requirements.lock && pip install --no-deps .

Standard library only, so it runs from any Python >= 3.11 (also through `bench/run install`).
Prints the venv's size (`du -sh`), the size of an empty venv made the same way (pip and
setuptools: the part the install does not add), the number of packages `pip list` shows, the
largest packages, and whether anything of the `sandbox` extra slipped in. Nothing is asserted;
docs/install.md records the figures of the last run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXTRA = ("moto", "flask", "werkzeug", "boto3")
GOAL_MB, GOAL_PACKAGES = 150, 30


def du_mb(path: Path) -> float:
    """Disk usage as `du -s` counts it (blocks, not file lengths), in MB (MiB, like `du -h`)."""
    done = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=True)
    return int(done.stdout.split()[0]) / 1024


def make_venv(path: Path, python: str) -> Path:
    subprocess.run([python, "-m", "venv", str(path)], check=True)
    return path / "bin" / "python"


def pip(venv_python: Path, *args: str) -> None:
    subprocess.run([str(venv_python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args], check=True)


def packages(venv_python: Path) -> list[dict[str, str]]:
    done = subprocess.run(
        [str(venv_python), "-m", "pip", "list", "--format", "json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    )
    found: list[dict[str, str]] = json.loads(done.stdout)
    return found


def largest(venv: Path, count: int = 6) -> list[tuple[float, str]]:
    site = next((venv / "lib").glob("python3*/site-packages"))
    skip = (".dist-info", "__pycache__")
    sizes = [(du_mb(p), p.name) for p in site.iterdir() if p.is_dir() and not p.name.endswith(skip)]
    return sorted(sizes, reverse=True)[:count]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", action="store_true", help="install from requirements.lock with --require-hashes")
    parser.add_argument("--python", default=getattr(sys, "_base_executable", sys.executable), help="interpreter")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="reconciler-install-"))
    try:
        empty = du_mb(make_venv(work / "empty", args.python).parents[1])
        python = make_venv(work / "v", args.python)
        if args.lock:
            pip(python, "--require-hashes", "-r", str(ROOT / "requirements.lock"))
            pip(python, "--no-deps", str(ROOT))
            how = "pip install --require-hashes -r requirements.lock && pip install --no-deps ."
        else:
            pip(python, str(ROOT))
            how = "pip install ."
        total = du_mb(work / "v")
        listed = packages(python)
        added = [p for p in listed if p["name"] not in ("pip", "setuptools")]
        extra = sorted(p["name"] for p in listed if p["name"].lower() in EXTRA)
        version = subprocess.run([str(python), "--version"], capture_output=True, text=True).stdout.strip()
        print(f"install: {how}  ({version})")
        met = "met" if total < GOAL_MB else "NOT met"
        print(f"venv size (du -sh):          {total:6.0f} MB   goal < {GOAL_MB} MB: {met}")
        print(f"empty venv (pip, setuptools): {empty:6.0f} MB")
        print(f"added by the install:        {total - empty:6.0f} MB")
        print(
            f"pip list: {len(listed)} packages ({len(added)} besides pip and setuptools)   "
            f"goal < {GOAL_PACKAGES}: {'met' if len(listed) < GOAL_PACKAGES else 'NOT met'}"
        )
        print("largest: " + ", ".join(f"{name} {mb:.0f} MB" for mb, name in largest(work / "v")))
        print(f"sandbox extra present: {', '.join(extra) if extra else 'no'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
