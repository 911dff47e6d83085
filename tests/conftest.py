"""Session-wide pytest hooks."""

from __future__ import annotations

import pytest

from tests import workflowlint


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say which workflow linters ran, and how to add actionlint when it is missing (never installed for you)."""
    terminalreporter.write_line(workflowlint.report_line())
