"""Hostile desired input: the `table` fixture of the reliability table (rows land in it too)."""

from tests.reliability.table import table  # noqa: F401 - fixture
