"""Drift versus change from the per-resource baseline. Pure; no AWS."""

from __future__ import annotations

import pytest

from reconciler.core.drift import Baseline, Verdict, classify, should_log
from reconciler.core.planning import Observation


class TestClassify:
    @pytest.mark.parametrize(
        "baseline, seen, verdict",
        [
            (None, Observation("d1", "d1"), Verdict.IN_SYNC),
            (None, Observation("d1", None), Verdict.CHANGE),
            (None, Observation("d1", "x"), Verdict.CHANGE),
            (Baseline("d1", "d1"), Observation("d1", "x"), Verdict.DRIFT),
            (Baseline("d1", "d1"), Observation("d1", None), Verdict.DRIFT),
            (Baseline("d0", "d0"), Observation("d1", "d0"), Verdict.CHANGE),
            (Baseline("d0", "d0"), Observation("d1", "x"), Verdict.CHANGE),
            (Baseline("d1", "d1"), Observation("d1", "d1"), Verdict.IN_SYNC),
        ],
    )
    def test_table(self, baseline: Baseline | None, seen: Observation, verdict: str) -> None:
        """Live moving while desired stayed is drift; a desired change is always a change."""
        baselines = {"release/x": baseline} if baseline else {}
        assert classify(baselines, {"release/x": seen}) == {"release/x": verdict}


class TestShouldLog:
    def test_first_sighting_logs(self) -> None:
        """A new drift is logged."""
        assert should_log(None, "x", 100.0, 3600)

    def test_same_state_within_repeat_is_quiet(self) -> None:
        """The same drifted state is not logged again before the repeat period."""
        assert not should_log({"live": "x", "logged_at": 100.0}, "x", 200.0, 3600)

    def test_same_state_after_repeat_logs_again(self) -> None:
        """Lasting drift is re-logged after the repeat period."""
        assert should_log({"live": "x", "logged_at": 100.0}, "x", 3800.0, 3600)

    def test_new_drifted_state_logs(self) -> None:
        """A different drifted live state is a new event."""
        assert should_log({"live": "x", "logged_at": 100.0}, "y", 101.0, 3600)
