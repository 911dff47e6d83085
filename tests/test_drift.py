"""Drift versus change from the per-resource baseline. Pure; no AWS."""

from __future__ import annotations

import pytest

from reconciler.core.drift import Verdict, baselines_after, classify, detected, resolved, should_log
from reconciler.core.planning import Observation
from reconciler.core.staterecords import Baseline, DriftRecord, now_iso


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
        assert not should_log(DriftRecord("t0", "x", logged_at=100.0), "x", 200.0, 3600)

    def test_same_state_after_repeat_logs_again(self) -> None:
        """Lasting drift is re-logged after the repeat period."""
        assert should_log(DriftRecord("t0", "x", logged_at=100.0), "x", 3800.0, 3600)

    def test_new_drifted_state_logs(self) -> None:
        """A different drifted live state is a new event."""
        assert should_log(DriftRecord("t0", "x", logged_at=100.0), "y", 101.0, 3600)


SEEN = {"release/x": Observation("d1", "x"), "release/y": Observation("d1", "y")}


class TestDetected:
    def test_new_drift_is_a_new_record_since_now(self) -> None:
        """First sighting: a record since now, with the live digest and the fields that differ."""
        logged = detected({}, ["release/x"], SEEN, {"release/x": ["version"]}, 100.0, 3600)
        assert logged == {"release/x": DriftRecord(now_iso(100.0), "x", ("version",), 100.0)}

    def test_same_drift_within_repeat_is_not_logged(self) -> None:
        """Within the repeat period the old record stands (nothing to log)."""
        old = {"release/x": DriftRecord("t0", "x", ("version",), 90.0)}
        assert detected(old, ["release/x"], SEEN, {"release/x": ["version"]}, 100.0, 3600) == {}

    def test_lasting_drift_keeps_its_since(self) -> None:
        """Re-logged after the repeat period, the same drifted state keeps its `since`."""
        old = {"release/x": DriftRecord("t0", "x", ("version",), 90.0)}
        logged = detected(old, ["release/x"], SEEN, {"release/x": ["version"]}, 4000.0, 3600)
        assert logged == {"release/x": DriftRecord("t0", "x", ("version",), 4000.0)}

    def test_another_drifted_state_starts_again(self) -> None:
        """Live moved to yet another state: a new drift, since now."""
        old = {"release/y": DriftRecord("t0", "earlier", ("version",), 90.0)}
        logged = detected(old, ["release/y"], SEEN, {"release/y": ["version"]}, 100.0, 3600)
        assert logged["release/y"].since == now_iso(100.0)


class TestResolved:
    def test_recorded_drift_not_open_any_more_is_resolved(self) -> None:
        """Healed or put back: resolved, in the order recorded; still open drift stays."""
        records = {r: DriftRecord("t0", "x") for r in ("release/b", "release/a", "jobs")}
        assert resolved(records, ("release/a",)) == ["release/b", "jobs"]


class TestBaselinesAfter:
    def test_applied_in_sync_drifted_and_gone(self) -> None:
        """Applied: live is desired now; in sync: as seen; drift keeps its old one; gone: dropped."""
        before = {"release/drift": Baseline("d0", "d0"), "release/gone": Baseline("g", "g")}
        seen = {
            "release/applied": Observation("d1", "old"),
            "release/in-sync": Observation("d2", "d2"),
            "release/drift": Observation("d0", "x"),
            "release/change": Observation("d3", "y"),
        }
        verdicts = classify(before, seen)
        assert baselines_after(before, seen, verdicts, {"release/applied"}) == {
            "release/applied": Baseline("d1", "d1"),
            "release/in-sync": Baseline("d2", "d2"),
            "release/drift": Baseline("d0", "d0"),
        }
