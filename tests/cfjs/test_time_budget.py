"""The local time budget (docs/function-runtime.md, "Limits, locally"): a run is charged its wall
time or the process's CPU time, whichever is less, so waiting for a core on a busy machine does
not fail a legit function, while computing past the budget does. The clocks are replaced by
ones that jump, so nothing here depends on how fast or busy the machine is."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import pytest

from tests.cfjs.helpers import V2, run

CODE = "function handler(event) { return event.request; }"


def jumping(step: float) -> Callable[[], float]:
    """A clock that moves `step` seconds between any two readings."""
    ticks = itertools.count()
    return lambda: next(ticks) * step


def test_a_run_the_machine_made_wait_is_not_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten seconds of wall clock per reading (the process starved of a core), no CPU to speak of:
    the run passes, and its ComputeUtilization is not the wall clock's 100."""
    monkeypatch.setattr(time, "perf_counter", jumping(10.0))
    monkeypatch.setattr(time, "process_time", jumping(0.0))
    result = run(V2, CODE, {"request": {"uri": "/x"}})
    assert result.error is None and result.output is not None
    assert result.compute_utilization == 1


def test_a_run_charged_past_the_budget_fails_although_it_finished(monkeypatch: pytest.MonkeyPatch) -> None:
    """Wall and CPU both past 100 ms (a function that computes too long, and ends before V8's
    runaway stop): the test fails with the time-limit message, at 100% utilization."""
    monkeypatch.setattr(time, "perf_counter", jumping(0.5))
    monkeypatch.setattr(time, "process_time", jumping(0.5))
    result = run(V2, CODE, {"request": {"uri": "/x"}})
    assert result.output is None
    assert result.error == "The function exceeded the time limit (local budget 100 ms)"
    assert result.compute_utilization == 100

