"""The one error type of the sandbox's own handlers: an AWS error code with its HTTP status.

Raised by the function store and the invalidation guard; rendered to the wire by `wire.py`.
"""

from __future__ import annotations


class ApiError(Exception):
    """An AWS API error: `status` HTTP code, `code` as in botocore's error shapes, `message`."""

    def __init__(self, status: int, code: str, message: str = "") -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message or code
