"""botocore errors -> ours, in one place: the type tells the caller whether to re-plan or retry."""

from __future__ import annotations

from typing import Any

from reconciler.core.errors import PermanentError, PreconditionFailed, ReconcilerError, TransientError

PRECONDITION_CODES = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}
NOT_FOUND_CODES = {"NoSuchFunctionExists", "NoSuchKey", "404", "NotFound", "ParameterNotFound", "NoSuchBucket"}
TRANSIENT_CODES = {
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "ServiceUnavailable",
    "InternalError",
    "InternalFailure",
    "RequestTimeout",
}


def error_code(exc: BaseException) -> str:
    response: Any = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def http_status(exc: BaseException) -> int:
    response: Any = getattr(exc, "response", None) or {}
    return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def is_not_found(exc: BaseException) -> bool:
    return error_code(exc) in NOT_FOUND_CODES or http_status(exc) == 404


def is_not_modified(exc: BaseException) -> bool:
    return error_code(exc) == "304" or http_status(exc) == 304


def translate(exc: BaseException, what: str) -> ReconcilerError:
    """Our error for a failed call on `what` (a resource id)."""
    if isinstance(exc, ReconcilerError):
        return exc
    from reconciler.aws.preflight import environment_error

    environmental = environment_error(exc)
    if environmental is not None:
        return environmental  # credentials or endpoint: not this resource's failure
    code, status = error_code(exc), http_status(exc)
    message = f"{what}: {code or type(exc).__name__}: {_message(exc)}"
    if code in PRECONDITION_CODES or status == 412:
        return PreconditionFailed(message)
    if code in TRANSIENT_CODES or status >= 500 or status == 429 or not code:
        return TransientError(message)
    return PermanentError(message)


def _message(exc: BaseException) -> str:
    response: Any = getattr(exc, "response", None) or {}
    text = response.get("Error", {}).get("Message") or str(exc)
    return " ".join(str(text).split())[:300]
