"""`--git-pull` against real git repositories in tmp_path: fast-forward, force-push, failures."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from reconciler.daemon.gitsync import GitSync, scrub_url


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True).stdout.strip()


def commit(repo: Path, name: str, text: str, message: str) -> str:
    (repo / name).write_text(text)
    git(repo, "add", name)
    git(repo, "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repos(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(bare remote, author's clone, the daemon's checkout), all on branch main."""
    remote, author, checkout = tmp_path / "remote.git", tmp_path / "author", tmp_path / "checkout"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    subprocess.run(["git", "clone", "-q", str(remote), str(author)], check=True, capture_output=True)
    for key, value in (("user.email", "a@example.com"), ("user.name", "A"), ("commit.gpgsign", "false")):
        git(author, "config", key, value)
    git(author, "checkout", "-q", "-b", "main")
    commit(author, "site.yaml", "v: 1\n", "first")
    git(author, "push", "-q", "origin", "main")
    subprocess.run(["git", "clone", "-q", str(remote), str(checkout)], check=True)
    return remote, author, checkout


class TestGitSync:
    def test_nothing_to_do_when_upstream_is_head(self, repos: tuple[Path, Path, Path]) -> None:
        """No new commit: fetch says so and update does not move HEAD."""
        _, _, checkout = repos
        sync = GitSync(checkout)
        assert sync.fetch() is False
        assert not sync.update().moved

    def test_a_pushed_commit_is_fast_forwarded(self, repos: tuple[Path, Path, Path]) -> None:
        """fetch sees the pushed commit; update fast-forwards the files and HEAD."""
        _, author, checkout = repos
        old = git(checkout, "rev-parse", "HEAD")
        new = commit(author, "site.yaml", "v: 2\n", "second")
        git(author, "push", "-q", "origin", "main")
        sync = GitSync(checkout)
        assert sync.fetch() is True
        with capture_logs() as logs:
            update = sync.update()
        assert (update.old, update.new, update.reset) == (old, new, False)
        assert git(checkout, "rev-parse", "HEAD") == new
        assert (checkout / "site.yaml").read_text() == "v: 2\n"
        assert [e["event"] for e in logs] == ["git.fast_forward"]

    def test_a_force_push_resets_hard_and_logs_both_commits(self, repos: tuple[Path, Path, Path]) -> None:
        """Upstream rewritten (not a fast-forward): reset --hard to it, `git.reset` with old/new."""
        _, author, checkout = repos
        commit(author, "site.yaml", "v: 2\n", "second")
        git(author, "push", "-q", "origin", "main")
        sync = GitSync(checkout)
        sync.fetch()
        old = sync.update().new
        git(author, "reset", "-q", "--hard", "HEAD~1")
        rewritten = commit(author, "site.yaml", "v: 3\n", "rewritten")
        git(author, "push", "-q", "--force", "origin", "main")
        assert sync.fetch() is True
        with capture_logs() as logs:
            update = sync.update()
        assert update.reset and (update.old, update.new) == (old, rewritten)
        assert (checkout / "site.yaml").read_text() == "v: 3\n"
        reset = [e for e in logs if e["event"] == "git.reset"]
        assert len(reset) == 1 and reset[0]["old"] == old and reset[0]["new"] == rewritten

    def test_a_failed_fetch_is_logged_not_raised(self, repos: tuple[Path, Path, Path]) -> None:
        """An unreachable remote logs git.fetch_failed (credentials stripped) and returns False."""
        _, _, checkout = repos
        git(checkout, "remote", "set-url", "origin", "https://deploy:s3cr3t-t0ken@127.0.0.1:9/nowhere.git")
        with capture_logs() as logs:
            assert GitSync(checkout).fetch() is False
        failed = [e for e in logs if e["event"] == "git.fetch_failed"]
        assert len(failed) == 1
        assert "s3cr3t" not in repr(logs) and "deploy:" not in repr(logs)
        assert failed[0]["remote"] == "https://127.0.0.1:9/nowhere.git"

    def test_local_commits_ahead_of_upstream_are_left_alone(self, repos: tuple[Path, Path, Path]) -> None:
        """HEAD ahead of upstream (nothing new upstream) is not a reason to reset."""
        _, _, checkout = repos
        git(checkout, "config", "user.email", "b@example.com")
        git(checkout, "config", "user.name", "B")
        ahead = commit(checkout, "local.yaml", "x: 1\n", "local")
        sync = GitSync(checkout)
        assert sync.fetch() is False
        assert not sync.update().moved
        assert git(checkout, "rev-parse", "HEAD") == ahead

    def test_no_upstream_is_logged_once(self, tmp_path: Path) -> None:
        """A checkout without an upstream branch warns once and never fails."""
        subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
        sync = GitSync(tmp_path)
        with capture_logs() as logs:
            assert sync.fetch() is False
            assert sync.fetch() is False
        assert [e["event"] for e in logs] == ["git.no_upstream"]

    def test_a_subdirectory_of_the_checkout_works(self, repos: tuple[Path, Path, Path]) -> None:
        """The desired directory may be a folder inside the repository."""
        _, author, checkout = repos
        (checkout / "desired").mkdir()
        commit(author, "other.yaml", "y: 1\n", "second")
        git(author, "push", "-q", "origin", "main")
        sync = GitSync(checkout / "desired")
        assert sync.fetch() is True
        assert sync.update().moved


class TestScrubUrl:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("https://user:pass@github.com/o/r.git", "https://github.com/o/r.git"),
            ("fatal: unable to access 'https://x-access-token:ghp_abc@github.com/o/r/'", "fatal: unable to access 'https://github.com/o/r/'"),
            ("ssh://git@example.com/r.git", "ssh://example.com/r.git"),
            ("/srv/git/site.git", "/srv/git/site.git"),
        ],
    )
    def test_credentials_are_stripped_from_urls(self, text: str, expected: str) -> None:
        """user:password@ never survives into a log line."""
        assert scrub_url(text) == expected
