"""The error hierarchy. The type says how the loop reacts: retry later, re-plan, or give up."""

from __future__ import annotations


class ReconcilerError(Exception):
    """Base of every error the reconciler reports on purpose."""


class InvalidDesired(ReconcilerError):
    """The desired directory is invalid; carries every `FILE:LINE: message` at once."""

    def __init__(self, errors: list[str]):
        self.errors = sorted(errors, key=_position)
        super().__init__("\n".join(self.errors))


class PermanentError(ReconcilerError):
    """Retrying the same request will not help (bad request, access denied, failed test)."""


class TransientError(ReconcilerError):
    """Worth retrying after `delay` seconds (throttling, 5xx, network)."""

    def __init__(self, message: str, delay: float = 1.0):
        self.delay = delay
        super().__init__(message)


class PreconditionFailed(ReconcilerError):
    """The live object changed underneath (stale ETag): re-read and re-plan, never overwrite."""


class AccessError(PermanentError):
    """Credentials, region or endpoint are wrong, so nothing can be read; the message names which."""


class RequirementMissing(PermanentError):
    """A release's required object is missing from its version folder."""


def _position(error: str) -> tuple[str, int, str]:
    """Sort `FILE:LINE: message` by file, then line as a number, then message."""
    file, _, rest = error.partition(":")
    line, _, message = rest.partition(":")
    return (file, int(line), message) if line.isdigit() else (file, 0, rest)
