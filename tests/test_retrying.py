"""The retry policy: each error type carries its path, one policy says how long (pure, no AWS)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from reconciler.aws.errors import translate
from reconciler.core.errors import (
    InvalidDesired,
    PermanentError,
    PreconditionFailed,
    ReconcilerError,
    RequirementMissing,
    TransientError,
)
from reconciler.core.retrying import Retry, RetryPolicy, combined


def client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op"
    )


class TestErrorTypesCarryTheirPath:
    @pytest.mark.parametrize(
        ("error", "retry"),
        [
            (TransientError("x"), Retry.BACKOFF),
            (PermanentError("x"), Retry.SLOW),
            (RequirementMissing("x"), Retry.BACKOFF),
            (PreconditionFailed("x"), Retry.REPLAN),
            (ReconcilerError("x"), Retry.BACKOFF),
        ],
    )
    def test_each_error_type_says_how_it_is_retried(self, error: ReconcilerError, retry: Retry) -> None:
        """The type, not the caller, decides the path."""
        assert error.retry is retry

    @pytest.mark.parametrize(
        ("code", "status", "retry"),
        [
            ("AccessDenied", 403, Retry.SLOW),
            ("NoSuchBucket", 404, Retry.SLOW),
            ("ValidationException", 400, Retry.SLOW),
            ("InvalidArgument", 400, Retry.SLOW),
            ("ThrottlingException", 400, Retry.BACKOFF),
            ("SlowDown", 503, Retry.BACKOFF),
            ("InternalError", 500, Retry.BACKOFF),
            ("PreconditionFailed", 412, Retry.REPLAN),
        ],
    )
    def test_aws_errors_translate_to_their_path(self, code: str, status: int, retry: Retry) -> None:
        """Permanent AWS errors (denied, missing bucket, invalid request) go slow; throttling backs off."""
        assert translate(client_error(code, status), "release/x").retry is retry

    def test_invalid_desired_state_is_not_an_aws_retry(self) -> None:
        """Invalid files are waited out by file changes; the type still says BACKOFF only as a default."""
        assert InvalidDesired(["a.yaml:1: bad"]).retry is Retry.BACKOFF


class TestPolicy:
    def test_backoff_steps_then_repeats_its_last(self) -> None:
        """Transient failures in a row wait along `backoff`, the last step repeating."""
        policy = RetryPolicy(backoff=(1, 5), slow=(300,))
        assert [policy.delay(Retry.BACKOFF, n, fallback=60) for n in (1, 2, 3)] == [1, 5, 5]

    def test_slow_path_is_its_own_table(self) -> None:
        """Permanent failures wait along `slow`, never at the throttling pace."""
        policy = RetryPolicy(backoff=(1, 5), slow=(300, 900))
        assert [policy.delay(Retry.SLOW, n, fallback=60) for n in (1, 2, 3)] == [300, 900, 900]

    def test_a_conflict_left_after_the_replan_backs_off(self) -> None:
        """REPLAN is the cycle's at once; what is left of it retries like a transient failure."""
        policy = RetryPolicy(backoff=(2,), slow=(300,))
        assert policy.delay(Retry.REPLAN, 1, fallback=60) == 2

    def test_empty_table_falls_back(self) -> None:
        """No steps configured: the interval (the fallback) applies."""
        assert RetryPolicy(backoff=(), slow=()).delay(Retry.SLOW, 3, fallback=60) == 60

    @pytest.mark.parametrize(
        ("retries", "expected"),
        [
            ([Retry.SLOW, Retry.SLOW], Retry.SLOW),
            ([Retry.SLOW, Retry.BACKOFF], Retry.BACKOFF),
            ([Retry.SLOW, Retry.REPLAN], Retry.BACKOFF),
            ([], Retry.BACKOFF),
        ],
    )
    def test_a_reconcile_goes_slow_only_when_every_failure_is_permanent(
        self, retries: list[Retry], expected: Retry
    ) -> None:
        """One transient failure among permanent ones earns the quick retry."""
        assert combined(retries) is expected
