"""`reconciler new-job`: a valid file with a random id and a strong token; bad options refused."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.loading import load
from reconciler.loading.newjob import NewJobError, job_document, parse_price
from tests.test_loading import tree, valid_files

PROJECT = Path(__file__).resolve().parent.parent


def new_job(desired: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(PROJECT))
    return subprocess.run([sys.executable, "-m", "reconciler", "new-job", "--desired", str(desired), *args],
                          capture_output=True, text=True, env=env, timeout=60)


class TestNewJobCommand:
    """The command writes desired/jobs/<id>.yaml and prints only its path and the tracking path."""

    def test_writes_a_valid_job(self, tmp_path: Path) -> None:
        """The new file loads with the rest of the tree; stdout is the path and /track/<token>."""
        desired = tree(tmp_path, valid_files())
        result = new_job(desired, "--customer", "Zoë Q", "--address", "2 Rue X", "--price", "59.90",
                         "--status", "scheduled")
        assert result.returncode == 0, result.stderr
        path_line, track_line = result.stdout.splitlines()
        path = Path(path_line)
        assert path.parent == desired / "jobs" and re.fullmatch(r"job_[0-9a-f]{16}\.yaml", path.name)
        job = next(j for j in load(desired).jobs if j.id == path.stem)
        assert track_line == f"/track/{job.token}"
        assert job.document["customer"] == "Zoë Q"
        assert job.document["price"] == {"amount": 59.9, "currency": "USD"}
        assert job.document["status"] == "scheduled"
        assert result.stderr == ""

    def test_default_status(self, tmp_path: Path) -> None:
        """Without --status the job is requested."""
        desired = tree(tmp_path, valid_files())
        result = new_job(desired, "--customer", "A", "--address", "B", "--price", "600")
        assert result.returncode == 0
        assert "status: requested" in Path(result.stdout.splitlines()[0]).read_text()

    @pytest.mark.parametrize(("option", "value"), [("--price", "-1"), ("--price", "1.234"), ("--price", "abc"),
                                                   ("--price", "nan"), ("--status", "lost")])
    def test_refuses_bad_options(self, tmp_path: Path, option: str, value: str) -> None:
        """A usage error: one line naming the option, then the usage, on stderr; exit 64; nothing written."""
        desired = tree(tmp_path, valid_files())
        args = {"--customer": "A", "--address": "B", "--price": "1", "--status": "requested", option: value}
        result = new_job(desired, *[x for kv in args.items() for x in kv])
        assert result.returncode == 64
        assert result.stdout == ""
        first, second, *_ = result.stderr.splitlines()
        assert first.startswith(f"reconciler new-job: error: argument {option}: ") and value in first
        assert second.startswith("usage: reconciler new-job")
        assert sorted(p.name for p in (desired / "jobs").iterdir()) == ["one.yml"]

    def test_creates_the_jobs_directory(self, tmp_path: Path) -> None:
        """A desired directory without jobs/ gets one."""
        desired = tmp_path / "desired"
        desired.mkdir()
        result = new_job(desired, "--customer", "A", "--address", "B", "--price", "1")
        assert result.returncode == 0 and (desired / "jobs").is_dir()


class TestJobDocument:
    """Ids and tokens are random and strong."""

    def test_token_strength(self) -> None:
        """At least 128 bits, URL-safe, and different every time."""
        tokens = {str(job_document("A", "B", "1", "requested")["token"]) for _ in range(50)}
        assert len(tokens) == 50
        assert all(re.fullmatch(r"[A-Za-z0-9_-]{32,}", t) and not t.startswith("-") for t in tokens)

    @pytest.mark.parametrize(("text", "amount"), [("600", 600), ("59.9", 59.9), ("0.05", 0.05), (" 7.00 ", 7)])
    def test_prices(self, text: str, amount: float) -> None:
        """Whole amounts are ints; up to 2 decimals allowed."""
        assert parse_price(text) == amount and type(parse_price(text)) is type(amount)

    @pytest.mark.parametrize("text", ["1e-3", "inf", "-0.01", "1.001", ""])
    def test_bad_prices(self, text: str) -> None:
        """Refused with a one-line message."""
        with pytest.raises(NewJobError):
            parse_price(text)
