"""A reconcile from a checkout with uncommitted desired changes names `<sha>-dirty`, and so does `status`."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from reconciler.commands import operations
from reconciler.cycle.reconciling import Reconciler
from tests.aws.conftest import Stack, run
from tests.test_gitinfo import git, repo

__all__ = ["repo"]  # the fixture, used below


def test_reconcile_and_status_carry_the_dirty_commit(
    stack: Stack, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Edited, uncommitted: the cycle's commit and `status --json` say `<sha>-dirty`; committed: the sha."""
    settings = replace(stack.settings(), desired=repo / "desired")
    sha = git(repo, "rev-parse", "HEAD")
    (repo / "desired" / "site.yaml").write_text("kind: Site\nname: edited\n")
    result, _ = run(Reconciler(settings, self_heal=True, loader=stack.holder))
    assert result.commit == f"{sha}-dirty"
    capsys.readouterr()
    operations.status(settings, as_json=True)
    assert json.loads(capsys.readouterr().out)["last"]["commit"] == f"{sha}-dirty"

    git(repo, "commit", "-qam", "edit")
    again, _ = run(Reconciler(settings, self_heal=True, loader=stack.holder))
    assert again.commit == git(repo, "rev-parse", "HEAD")
