"""`JSON`: the type of a parsed JSON value, for the contracts between packages.

Job documents, function test events and state files are JSON; typing them as `JSON` instead of
`Any` keeps mypy checking what a caller passes across a package boundary (a dataclass, a set or
a path where JSON is expected is an error) while staying honest that the shape inside is data.
(`Sequence` lets bytes through, as a sequence of ints: the price of accepting lists of any JSON.)
`JSONObject` is the common case: a document that must be an object.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeAlias

JSON: TypeAlias = Mapping[str, "JSON"] | Sequence["JSON"] | str | int | float | bool | None
"""A JSON value as parsed (read-only view: Mapping and Sequence accept dicts, lists and tuples)."""

JSONObject: TypeAlias = Mapping[str, JSON]
"""A JSON object, such as one job's document or a state file."""
