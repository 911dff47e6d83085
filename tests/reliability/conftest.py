"""Reliability fixtures: the sandbox behind a fault proxy, fast retries, the write-order log,
and the session hook that writes `build/reliability-table.md` (untracked) when everything passed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from reconciler.core.settings import AwsSettings, Settings
from reconciler.cycle.reconciling import Reconciler
from tests.aws.conftest import Stack, fast_retries, make_desired, run, sandbox  # noqa: F401 - fixtures
from tests.reliability import table as table_module
from tests.reliability.faultproxy import FaultProxy
from tests.reliability.table import table  # noqa: F401 - fixture

MAX_ATTEMPTS = 4
"""botocore attempts per call in these tests: 3 retries, so one or two injected faults heal."""

_started = time.monotonic()

WRITES = {
    "CreateFunction",
    "UpdateFunction",
    "TestFunction",
    "PublishFunction",
    "HeadObject",
    "PutParameter",
    "PutObject",
    "CreateInvalidation",
}


@pytest.fixture(autouse=True)
def _fast_retries(fast_retries: None) -> None:  # noqa: F811 - the fixture imported above
    """Every reliability test: botocore's retry decisions without its waits."""


@dataclass
class ProxiedStack(Stack):
    """A `Stack` whose reconcilers talk to the sandbox through a `FaultProxy`."""

    proxy: FaultProxy | None = None
    order: list[str] = field(default_factory=list)
    """Operations in the order they reached the sandbox (faulted ones included)."""

    def settings(self) -> Settings:
        assert self.proxy is not None
        return Settings(
            desired=Path("."),
            state_dir=self.state_dir,
            aws=AwsSettings(endpoint_url=self.proxy.endpoint, max_attempts=MAX_ATTEMPTS),
        )

    def reconciler(self, self_heal: bool = True) -> Reconciler:
        return Reconciler(self.settings(), self_heal=self_heal, loader=self.holder)

    def writes(self) -> list[str]:
        return [op for op in self.order if op in WRITES]


@pytest.fixture
def rstack(sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ProxiedStack]:  # noqa: F811
    import secrets

    from reconciler.sandbox.seeding import seed

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    desired = make_desired(secrets.token_hex(4))
    seed(sandbox.endpoint, desired)
    sandbox.faults.clear()
    proxy = FaultProxy(sandbox.port)
    stack = ProxiedStack(sandbox, desired, tmp_path / "state", proxy=proxy)
    faults = sandbox.faults
    original = faults.take

    def take(operation: str | None) -> Any:
        if operation:
            stack.order.append(operation)
        return original(operation)

    faults.take = take
    try:
        yield stack
    finally:
        faults.take = original
        faults.clear()
        proxy.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write the reliability table to build/ when every test passed and every category ran.

    The committed copies change only with `python -m tests.reliability.table --write`."""
    if session.testsfailed == 0 and table_module.ROWS and table_module.complete():
        table_module.write(seconds=time.monotonic() - _started)
