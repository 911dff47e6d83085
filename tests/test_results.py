"""What a reconcile came to, decided from what it did (`core.results.result_of`). Pure; no AWS."""

from __future__ import annotations

import pytest

from reconciler.core.results import Result, result_of


class TestResultOf:
    @pytest.mark.parametrize(
        ("failed", "applied", "drift_open", "result"),
        [
            (False, False, False, Result.IN_SYNC),
            (False, True, False, Result.APPLIED),
            (False, False, True, Result.DRIFT),
            (False, True, True, Result.APPLIED),
            (True, False, False, Result.FAILED),
            (True, True, False, Result.FAILED),
            (True, False, True, Result.FAILED),
        ],
    )
    def test_failure_outranks_applied_outranks_open_drift(
        self, failed: bool, applied: bool, drift_open: bool, result: Result
    ) -> None:
        """A failure is never hidden by what did apply; drift left open shows only when nothing else did."""
        assert result_of(failed=failed, applied=applied, drift_open=drift_open) is result
