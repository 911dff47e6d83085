"""The commit events and `status` name: HEAD, `<sha>-dirty` while tracked desired files differ."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from reconciler.loading import gitinfo


def git(root: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A checkout with desired/site.yaml and README.md committed."""
    git(tmp_path, "init", "-q")
    (tmp_path / "desired").mkdir()
    (tmp_path / "desired" / "site.yaml").write_text("kind: Site\n")
    (tmp_path / "README.md").write_text("readme\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "first")
    return tmp_path


class TestCommit:
    """`gitinfo.commit` of the desired directory."""

    def test_clean_checkout_is_the_sha(self, repo: Path) -> None:
        """Nothing changed: HEAD's sha, no mark."""
        assert gitinfo.commit(repo / "desired") == git(repo, "rev-parse", "HEAD")

    def test_edited_tracked_file_is_dirty(self, repo: Path) -> None:
        """An unstaged edit, then the same staged: `<sha>-dirty` both times; committed: clean."""
        sha = git(repo, "rev-parse", "HEAD")
        (repo / "desired" / "site.yaml").write_text("kind: Site\nname: x\n")
        assert gitinfo.commit(repo / "desired") == f"{sha}-dirty"
        git(repo, "add", "-A")
        assert gitinfo.commit(repo / "desired") == f"{sha}-dirty"
        git(repo, "commit", "-qm", "second")
        assert gitinfo.commit(repo / "desired") == git(repo, "rev-parse", "HEAD")

    def test_deleted_tracked_file_is_dirty(self, repo: Path) -> None:
        """A tracked file removed from the desired directory is an uncommitted change."""
        (repo / "desired" / "site.yaml").unlink()
        assert str(gitinfo.commit(repo / "desired")).endswith("-dirty")

    def test_untracked_files_and_changes_elsewhere_do_not_count(self, repo: Path) -> None:
        """A new untracked file, or an edit outside the desired directory, leaves it clean."""
        (repo / "desired" / "new.yaml").write_text("kind: Job\n")
        (repo / "README.md").write_text("changed\n")
        assert gitinfo.commit(repo / "desired") == git(repo, "rev-parse", "HEAD")

    def test_touched_but_unchanged_is_clean(self, repo: Path) -> None:
        """Only the content counts: a file whose mtime moved is not dirty."""
        os.utime(repo / "desired" / "site.yaml", (1, 1))
        assert gitinfo.commit(repo / "desired") == git(repo, "rev-parse", "HEAD")

    def test_no_index_lock_taken(self, repo: Path) -> None:
        """Checking never leaves or needs `.git/index.lock` (a user's git command may hold it)."""
        (repo / ".git" / "index.lock").write_text("")
        (repo / "desired" / "site.yaml").write_text("kind: Site\nname: y\n")
        assert str(gitinfo.commit(repo / "desired")).endswith("-dirty")

    def test_outside_git_is_none(self, tmp_path: Path) -> None:
        """Not a checkout: no commit at all."""
        (tmp_path / "desired").mkdir()
        assert gitinfo.commit(tmp_path / "desired") is None

    def test_sha_of_strips_the_mark(self) -> None:
        """The daemon compares HEAD with the reconciled commit by sha."""
        assert gitinfo.sha_of("abc-dirty") == "abc" and gitinfo.sha_of("abc") == "abc"
        assert gitinfo.sha_of(None) is None
