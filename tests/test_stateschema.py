"""The state directory's schema: parse rejects wrong shapes, dump/parse round-trips, salvage
never drops an owed invalidation. Pure, no AWS."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.core.staterecords import VERSION, Baseline, Created, DriftRecord, Intent, Last, State
from reconciler.cycle.stateschema import (
    SchemaError,
    dump_intents,
    dump_state,
    parse_intents,
    parse_state,
    salvage_intents,
)

DISTRIBUTIONS = {"site": "E1", "dash": "E2"}


def refs() -> Any:
    counter = iter(range(1000))
    return lambda: f"ref-{next(counter)}"


class TestParse:
    def test_round_trip(self) -> None:
        state = State(
            baselines={"release/x": Baseline("d", None)},
            drift={"release/x": DriftRecord("2026-01-01T00:00:00Z", "l", ("version",), 5.0)},
            invalidations=(Created("I1", "site", "E1", ("/*",), "t", "InProgress"),),
            last=Last("t", "applied", "abc", 1, 2, ("e",)),
        )
        assert parse_state(dump_state(state)) == state
        intents = (Intent("r", "site", "E1", ("/a", "/b"), "t"),)
        assert parse_intents(dump_intents(intents)).intents == intents

    def test_files_without_version_are_version_1(self) -> None:
        """Files written before `version` existed still read."""
        assert parse_intents({"intents": []}).version == VERSION
        assert parse_state({"baselines": {}}).last is None

    @pytest.mark.parametrize(
        "raw",
        [
            [],
            "text",
            {"baselines": []},
            {"baselines": {"r": {"live": "x"}}},
            {"baselines": {"r": {"desired": 1}}},
            {"drift": {"r": {"since": None}}},
            {"invalidations": {}},
            {"invalidations": [{"id": "I", "distribution": "s", "distribution_id": "E", "paths": []}]},
            {"invalidations": [{"id": "I", "distribution": "s", "distribution_id": "E", "paths": ["no-slash"]}]},
            {"last": []},
            {"last": {"result": 7}},
            {"last": {"result": "applied", "errors": "one"}},
            {"last": {"result": "applied", "changes": "1"}},
            {"version": 2},
            {"version": "1"},
        ],
    )
    def test_wrong_shapes_are_refused(self, raw: Any) -> None:
        with pytest.raises(SchemaError):
            parse_state(raw)

    @pytest.mark.parametrize(
        "raw",
        [[1], {"intents": {}}, {"intents": [1]}, {"intents": [{"reference": "r", "distribution": "s"}]},
         {"intents": [{"reference": "r", "distribution": "s", "distribution_id": "E", "paths": "/x"}]}],
    )
    def test_wrong_intents_are_refused(self, raw: Any) -> None:
        with pytest.raises(SchemaError):
            parse_intents(raw)


class TestSalvage:
    def test_unreadable_document_owes_everything(self) -> None:
        owed = salvage_intents(None, DISTRIBUTIONS, refs(), "t")
        assert sorted((i.distribution, i.paths) for i in owed) == [("dash", ("/*",)), ("site", ("/*",))]
        assert len({i.reference for i in owed}) == 2

    def test_good_entries_kept_bad_ones_become_slash_star_on_their_distribution(self) -> None:
        good = {"reference": "r", "distribution": "dash", "distribution_id": "E2", "paths": ["/a"]}
        owed = salvage_intents({"intents": [good, {"distribution": "site", "paths": 3}]}, DISTRIBUTIONS, refs(), "t")
        assert [(i.distribution, i.paths, i.reference) for i in owed] == [
            ("dash", ("/a",), "r"),
            ("site", ("/*",), "ref-0"),
        ]

    @pytest.mark.parametrize("bad", [{"distribution": "elsewhere"}, {"paths": ["/a"]}, 7])
    def test_an_entry_of_unknown_distribution_owes_everything(self, bad: Any) -> None:
        owed = salvage_intents({"intents": [bad]}, DISTRIBUTIONS, refs(), "t")
        assert sorted(i.distribution for i in owed) == ["dash", "site"]
        assert all(i.paths == ("/*",) for i in owed)
