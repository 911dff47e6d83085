"""`reconciler validate` as a process: exit codes, errors on stderr, GitHub annotations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_loading import JOB, tree, valid_files

PROJECT = Path(__file__).resolve().parent.parent


def validate(desired: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    environment.update(env, PYTHONPATH=str(PROJECT))
    return subprocess.run([sys.executable, "-m", "reconciler", "validate", "--desired", str(desired)],
                          capture_output=True, text=True, env=environment, timeout=60, cwd=PROJECT)


class TestValidateCommand:
    """Exit 0 valid, 1 invalid; errors one per line on stderr, stdout empty."""

    def test_sample_is_valid(self) -> None:
        """The checked-in sample validates."""
        result = validate(PROJECT / "desired")
        assert result.returncode == 0, result.stderr
        assert result.stdout == ""
        assert "Traceback" not in result.stderr

    def test_valid_tree(self, tmp_path: Path) -> None:
        """Another valid tree (no sample names) validates."""
        assert validate(tree(tmp_path, valid_files())).returncode == 0

    def test_invalid_tree(self, tmp_path: Path) -> None:
        """Every error on its own stderr line, exit 1."""
        desired = tree(tmp_path, valid_files(**{"jobs/one.yml": JOB + "extra: 1\n", "x.yaml": "kind: Nope\n"}))
        result = validate(desired)
        assert result.returncode == 1
        assert result.stdout == ""
        assert result.stderr.splitlines() == [
            f"{desired}/jobs/one.yml:11: extra: unknown field",
            f"{desired}/x.yaml:1: kind: unknown kind 'Nope' (expected one of Site, Release, Function, Job)",
        ]

    def test_github_annotations(self, tmp_path: Path) -> None:
        """In GitHub Actions each error becomes an `::error file=,line=::` command."""
        desired = tree(tmp_path, valid_files(**{"jobs/one.yml": JOB + "extra: 1\n"}))
        result = validate(desired, GITHUB_ACTIONS="true")
        assert result.returncode == 1
        assert result.stderr.strip() == f"::error file={desired}/jobs/one.yml,line=11::extra: unknown field"

    def test_missing_directory(self, tmp_path: Path) -> None:
        """A missing directory is exit 1 with one line, no traceback."""
        result = validate(tmp_path / "absent")
        assert result.returncode == 1
        assert result.stderr.strip() == f"{tmp_path}/absent: desired directory not found"

    @pytest.mark.timeout(30)
    def test_hostile_tree_exits_cleanly(self, tmp_path: Path) -> None:
        """FIFOs, loops and bombs: exit 1 and no traceback."""
        from tests.test_loading import BOMB

        hostile: dict[str, str | bytes] = {"bomb.yaml": BOMB, "bad.yaml": b"\xff\xfe"}
        desired = tree(tmp_path, valid_files(**hostile))
        os.mkfifo(desired / "pipe.yaml")
        (desired / "loop.yaml").symlink_to("loop.yaml")
        result = validate(desired)
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        assert len(result.stderr.splitlines()) == 4
