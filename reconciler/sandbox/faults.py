"""Fault injection for tests: make the next call(s) of one AWS operation fail.

    sandbox.faults.fail_next("UpdateFunction", status=500)            # 500 InternalError, not applied
    sandbox.faults.fail_next("PutParameter", status=500, after=True)  # applied, then the answer is lost
    sandbox.faults.throttle_next("CreateInvalidation", times=3)       # the service's throttling error
    sandbox.faults.calls["PutObject"]                                  # how many calls reached the sandbox

Operation names are botocore's (`PutParameter`, `CreateInvalidation`, `PutObject`, ...).
`"*"` matches every operation. Consulted by `middleware.py` on every request; thread-safe.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

THROTTLING = {"s3": (503, "SlowDown"), "ssm": (400, "ThrottlingException"), "cloudfront": (400, "Throttling")}


@dataclass
class Fault:
    operation: str
    status: int
    code: str | None
    message: str
    remaining: int
    after: bool
    """True: let the call reach the backend, then answer with the error instead of its result."""


class Faults:
    """Pending faults and a count of the operations seen, for one sandbox."""

    def __init__(self) -> None:
        self._pending: list[Fault] = []
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()

    def fail_next(
        self,
        operation: str,
        status: int = 500,
        code: str | None = None,
        message: str = "injected fault",
        times: int = 1,
        after: bool = False,
    ) -> None:
        """Answer the next `times` calls of `operation` with `status`/`code` (default InternalError)."""
        with self._lock:
            self._pending.append(Fault(operation, status, code, message, times, after))

    def throttle_next(self, operation: str, times: int = 1) -> None:
        """Answer the next `times` calls of `operation` with the service's throttling error."""
        self.fail_next(operation, status=0, code=None, message="Rate exceeded", times=times)

    def clear(self) -> None:
        """Drop every pending fault and reset the call counts."""
        with self._lock:
            self._pending.clear()
            self.calls.clear()

    def take(self, operation: str | None) -> Fault | None:
        """Count `operation` and return (consuming one use of) the first fault that matches it."""
        with self._lock:
            if operation:
                self.calls[operation] += 1
            for fault in self._pending:
                if fault.operation in ("*", operation):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._pending.remove(fault)
                    return fault
            return None


def resolve(fault: Fault, service: str | None) -> tuple[int, str]:
    """The HTTP status and error code a fault answers with for `service`."""
    if fault.status == 0:
        return THROTTLING.get(service or "", (400, "Throttling"))
    if fault.code:
        return fault.status, fault.code
    if fault.status >= 500:
        return fault.status, "ServiceUnavailable" if fault.status == 503 else "InternalError"
    return fault.status, "InvalidRequest"
