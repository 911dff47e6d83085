"""Session-wide pytest hooks and fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests import workflowlint


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say which workflow linters ran, and how to add actionlint when it is missing (never installed for you)."""
    terminalreporter.write_line(workflowlint.report_line())


@pytest.fixture(scope="session", autouse=True)
def _one_botocore_loader() -> Iterator[None]:
    """Every botocore session of this test process shares one data loader.

    A reconcile run by a fresh `Reconciler` (a restart, in most AWS tests) makes a new botocore
    session, whose new loader parses endpoints.json and three service models again: about half
    a second of CPU each time, most of the suite's in-process AWS time. The three clients of one
    session already share one loader (botocore's own design; parsed models are read-only), so
    sharing it across sessions changes no request, retry or answer. Processes the tests spawn
    load their own, as a real start does."""
    import botocore.session
    from botocore.loaders import create_loader

    loaders: dict[str | None, Any] = {}

    def shared(search_path_string: str | None = None) -> Any:
        if search_path_string not in loaders:
            loaders[search_path_string] = create_loader(search_path_string)
        return loaders[search_path_string]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", shared)
        yield
