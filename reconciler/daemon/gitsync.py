"""`run --git-pull`: fetch the checkout's upstream branch and move the checkout to it.

Split in two on purpose: `fetch()` talks to the network (slow, may hang until its timeout) and
runs on the daemon's poller thread; `update()` only moves the local checkout (fast) and runs
on the loop thread, between reconciles, so a reconcile never loads a half-checked-out tree.

The upstream is the truth: a fast-forward is taken as is; a force-push (upstream no longer
contains HEAD) is followed with `reset --hard` and logged as `git.reset` with both commits.
A failed fetch is logged (`git.fetch_failed`) and retried at the next interval, never fatal.
Remote URLs and git's messages are stripped of `user:password@` before they are logged.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler import events

FETCH_TIMEOUT = 60.0
LOCAL_TIMEOUT = 30.0

_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


def scrub_url(text: str) -> str:
    """`https://user:token@host/x` -> `https://host/x`, anywhere in `text`."""
    return _CREDENTIALS.sub(r"\g<scheme>", text)


class GitError(Exception):
    """A git command failed or timed out; the message is already free of credentials."""


@dataclass(frozen=True)
class Update:
    """What `update()` did to HEAD: `moved` false when it already was the upstream commit."""

    old: str | None
    new: str | None
    reset: bool = False

    @property
    def moved(self) -> bool:
        return self.old != self.new


class GitSync:
    """The checkout holding the desired directory, and its upstream branch."""

    def __init__(self, directory: Path, log: Any = None) -> None:
        self.directory = Path(directory)
        self.log = log or events.log()
        self._warned_no_upstream = False

    # -- the network half (poller thread) ------------------------------------------------

    def fetch(self) -> bool:
        """`git fetch` the upstream's remote; True when upstream differs from HEAD afterwards."""
        try:
            upstream = self._upstream()
            if upstream is None:
                return False
            remote, _branch = upstream
            self._git("fetch", "--quiet", "--no-tags", remote, timeout=FETCH_TIMEOUT)
            head, upstream_commit = self._rev("HEAD"), self._rev("@{upstream}")
            if upstream_commit is None or head == upstream_commit:
                return False
            return head is None or not self._is_ancestor(upstream_commit, head)
        except GitError as exc:
            self.log.warning("git.fetch_failed", error=str(exc), remote=self._remote_url())
            return False

    # -- the local half (loop thread) ------------------------------------------------------

    def update(self) -> Update:
        """Move HEAD to the fetched upstream: fast-forward, or `reset --hard` after a force-push."""
        old = self._rev("HEAD")
        new = self._rev("@{upstream}")
        if new is None or old == new:
            return Update(old, old)
        if old is not None and self._is_ancestor(new, old):
            return Update(old, old)  # local commits ahead of upstream; nothing to take
        if old is None or self._is_ancestor(old, new):
            self._git("merge", "--ff-only", "--quiet", new, timeout=LOCAL_TIMEOUT)
            self.log.info("git.fast_forward", old=old, new=new)
            return Update(old, new)
        self._git("reset", "--hard", "--quiet", new, timeout=LOCAL_TIMEOUT)
        self.log.warning("git.reset", old=old, new=new, reason="upstream is not a fast-forward (force-push)")
        return Update(old, new, reset=True)

    # -- plumbing ----------------------------------------------------------------------------

    def _upstream(self) -> tuple[str, str] | None:
        """(remote, branch) of the current branch's upstream, or None (logged once)."""
        try:
            ref = self._git("rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}", timeout=LOCAL_TIMEOUT)
            branch = self._git("symbolic-ref", "--quiet", "--short", "HEAD", timeout=LOCAL_TIMEOUT)
            remote = self._git("config", f"branch.{branch}.remote", timeout=LOCAL_TIMEOUT)
        except GitError as exc:
            if not self._warned_no_upstream:
                self.log.warning("git.no_upstream", error=str(exc))
                self._warned_no_upstream = True
            return None
        return remote, ref

    def _remote_url(self) -> str | None:
        try:
            upstream = self._upstream()
            if upstream is None:
                return None
            return scrub_url(self._git("remote", "get-url", upstream[0], timeout=LOCAL_TIMEOUT))
        except GitError:
            return None

    def _rev(self, name: str) -> str | None:
        try:
            return self._git("rev-parse", "--verify", "--quiet", f"{name}^{{commit}}", timeout=LOCAL_TIMEOUT) or None
        except GitError:
            return None

    def _is_ancestor(self, ancestor: str, descendant: str) -> bool:
        done = self._run("merge-base", "--is-ancestor", ancestor, descendant, timeout=LOCAL_TIMEOUT)
        return done.returncode == 0

    def _git(self, *args: str, timeout: float) -> str:
        done = self._run(*args, timeout=timeout)
        if done.returncode != 0:
            output = (done.stderr or done.stdout).strip()
            message = output.splitlines()[-1] if output else f"exit {done.returncode}"
            raise GitError(f"git {args[0]}: {scrub_url(message)}")
        return done.stdout.strip()

    def _run(self, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, GIT_TERMINAL_PROMPT="0", LC_ALL="C")
        env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
        try:
            return subprocess.run(
                ["git", "-C", str(self.directory), *args],
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise GitError(f"git {args[0]}: timed out after {timeout:g}s") from None
        except OSError as exc:
            raise GitError(f"git {args[0]}: {exc}") from None
