"""The error hierarchy. The type carries its retry path (`retry`); `core.retrying` says how long."""

from __future__ import annotations

from typing import ClassVar

from reconciler.core.retrying import Retry


class ReconcilerError(Exception):
    """Base of every error the reconciler reports on purpose."""

    retry: ClassVar[Retry] = Retry.BACKOFF
    """How the daemon retries a reconcile that failed with this error (see `core.retrying`)."""


class InvalidDesired(ReconcilerError):
    """The desired directory is invalid; carries every `FILE:LINE: message` at once."""

    def __init__(self, errors: list[str]):
        self.errors = sorted(errors, key=_position)
        super().__init__("\n".join(self.errors))


class PermanentError(ReconcilerError):
    """Retrying the same request will not help (bad request, access denied, failed test): slow path."""

    retry = Retry.SLOW


class TransientError(ReconcilerError):
    """Worth retrying soon (throttling, 5xx, network), along the policy's backoff."""

    retry = Retry.BACKOFF


class PreconditionFailed(ReconcilerError):
    """The live object changed underneath (stale ETag): re-read and re-plan, never overwrite."""

    retry = Retry.REPLAN


class AccessError(PermanentError):
    """Credentials, region or endpoint are wrong, so nothing can be read; the message names which."""


class RequirementMissing(PermanentError):
    """A release's required object is missing from its version folder.

    Quick backoff, not the slow path: the file is usually on its way (an upload racing the commit
    that names the version), and an S3 upload triggers no reconcile of its own."""

    retry = Retry.BACKOFF


def _position(error: str) -> tuple[str, int, str]:
    """Sort `FILE:LINE: message` by file, then line as a number, then message."""
    file, _, rest = error.partition(":")
    line, _, message = rest.partition(":")
    return (file, int(line), message) if line.isdigit() else (file, 0, rest)
