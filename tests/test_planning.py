"""The planner: pure tables of (desired, live) -> actions. No AWS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.core.actions import FunctionAction, JobChanges, JobsAction, drift_fields
from reconciler.core.invalidating import collapse_paths
from reconciler.core.jsonvalue import JSON
from reconciler.core.model import (
    Desired,
    Function,
    FunctionStage,
    Job,
    JobsTarget,
    Live,
    LiveFunction,
    LiveObject,
    Release,
    Site,
)
from reconciler.core.planning import job_changes, observe, plan

SITE = Site(
    "stack",
    "us-east-1",
    {"web": "EWEB", "admin": "EADMIN"},
    JobsTarget("data-bucket", "data/jobs.json", {"web": ("/data/jobs.json",)}),
)
CODE = b"function handler(e) { return e.request; }\n"
FUNC = Function("rewrite", "cloudfront-js-2.0", CODE, "rewrite.js", "a comment", {"web": ("/t/*", "/b/*")})
REL_WEB = Release("web", "/s/web", "v2", "rel", "web/", ("index.html",), {"web": ("/*",)})
REL_ADMIN = Release("admin", "/s/admin", "a2", "rel", "admin/", ("index.html",), {"admin": ("/*",)})
JOB = Job("job_1", "t" * 20, {"id": "job_1", "status": "requested", "customer": "C"})
DESIRED = Desired(Path("d"), SITE, (REL_ADMIN, REL_WEB), (FUNC,), (JOB,))


def stage(
    code: bytes = CODE, runtime: str = "cloudfront-js-2.0", comment: str = "a comment", etag: str = "E1"
) -> FunctionStage:
    return FunctionStage(etag, code, runtime, comment)


IN_SYNC = Live(
    functions={"rewrite": LiveFunction("rewrite", stage(etag="D1"), stage(etag="L1"))},
    parameters={"/s/web": "v2", "/s/admin": "a2"},
    jobs=LiveObject("data-bucket", "data/jobs.json", True, '"etag1"', DESIRED.jobs_document()),
)


def with_(live: Live, **changes: Any) -> Live:
    from dataclasses import replace

    return replace(live, **changes)


def pairs(live: Live) -> list[tuple[str, str]]:
    return [(a.action, a.resource) for a in plan(DESIRED, live).actions]


class TestMinimalPlan:
    def test_in_sync_plans_nothing(self) -> None:
        """Equal live state produces an empty plan."""
        assert pairs(IN_SYNC) == []

    def test_fresh_stack_plans_everything_in_order(self) -> None:
        """Functions first, then releases, then jobs, invalidations last."""
        assert pairs(Live()) == [
            ("create", "function/rewrite"),
            ("create", "release/admin"),
            ("create", "release/web"),
            ("create", "jobs/data-bucket/data/jobs.json"),
            ("invalidate", "invalidation/admin"),
            ("invalidate", "invalidation/web"),
        ]

    @pytest.mark.parametrize(
        "live, expected",
        [
            (
                with_(IN_SYNC, parameters={"/s/web": "v1", "/s/admin": "a2"}),
                [("update", "release/web"), ("invalidate", "invalidation/web")],
            ),
            (
                with_(IN_SYNC, parameters={"/s/web": "v2", "/s/admin": "a1"}),
                [("update", "release/admin"), ("invalidate", "invalidation/admin")],
            ),
            (
                with_(IN_SYNC, functions={"rewrite": LiveFunction("rewrite", stage(b"old", etag="D"), stage(b"old"))}),
                [("update", "function/rewrite"), ("invalidate", "invalidation/web")],
            ),
            (
                with_(IN_SYNC, functions={"rewrite": LiveFunction("rewrite", stage(etag="D"), stage(b"old"))}),
                [("publish", "function/rewrite"), ("invalidate", "invalidation/web")],
            ),
            (
                with_(IN_SYNC, jobs=LiveObject("data-bucket", "data/jobs.json", True, '"e"', {"jobs": []})),
                [("update", "jobs/data-bucket/data/jobs.json"), ("invalidate", "invalidation/web")],
            ),
        ],
    )
    def test_single_change_plans_one_action_and_its_invalidation(
        self, live: Live, expected: list[tuple[str, str]]
    ) -> None:
        """One changed resource: exactly one action plus its own distribution's invalidation."""
        assert pairs(live) == expected

    def test_runtime_or_comment_change_is_a_change(self) -> None:
        """Function identity is code bytes plus runtime and comment."""
        live = with_(IN_SYNC, functions={"rewrite": LiveFunction("rewrite", stage(etag="D"), stage(comment="other"))})
        action = plan(DESIRED, live).changes[0]
        assert isinstance(action, FunctionAction)
        assert action.action == "publish" and action.fields == ("comment",)

    def test_jobs_compared_as_parsed_json_not_bytes(self) -> None:
        """Key order inside live jobs does not matter."""
        reordered = {"jobs": [{"customer": "C", "status": "requested", "id": "job_1"}]}
        live = with_(IN_SYNC, jobs=LiveObject("data-bucket", "data/jobs.json", True, '"e"', reordered))
        assert pairs(live) == []

    def test_skip_leaves_drifted_resource_alone(self) -> None:
        """Resources passed in skip are not planned."""
        live = with_(IN_SYNC, parameters={"/s/web": "v0", "/s/admin": "a2"})
        assert plan(DESIRED, live, skip=["release/web"]).actions == ()

    def test_update_carries_development_etag(self) -> None:
        """The applier's IfMatch comes from the DEVELOPMENT stage read."""
        live = with_(IN_SYNC, functions={"rewrite": LiveFunction("rewrite", stage(b"x", etag="DEV-ETAG"), stage(b"x"))})
        (action,) = plan(DESIRED, live).changes
        assert isinstance(action, FunctionAction) and action.development_etag == "DEV-ETAG"

    def test_jobs_update_carries_read_etag(self) -> None:
        """The jobs write is guarded by the ETag read at plan time."""
        live = with_(IN_SYNC, jobs=LiveObject("data-bucket", "data/jobs.json", True, '"abc"', {"jobs": []}))
        (action,) = plan(DESIRED, live).changes
        assert isinstance(action, JobsAction) and action.etag == '"abc"'


class TestInvalidationPaths:
    @pytest.mark.parametrize(
        "paths, expected",
        [
            (["/b", "/a", "/a"], ("/a", "/b")),
            (["/track/*", "/track/x", "/book/y"], ("/book/y", "/track/*")),
            (["/*", "/x", "/track/*"], ("/*",)),
            (["/a*", "/ab", "/b"], ("/a*", "/b")),
        ],
    )
    def test_collapse(self, paths: list[str], expected: tuple[str, ...]) -> None:
        """Union, `/*` alone, wildcard-covered paths dropped, sorted."""
        assert collapse_paths(paths) == expected

    def test_one_invalidation_per_distribution_with_union_of_paths(self) -> None:
        """Function and jobs both on one distribution: one invalidation, union of paths."""
        live = with_(
            IN_SYNC,
            functions={"rewrite": LiveFunction("rewrite", stage(b"x", etag="D"), stage(b"x"))},
            jobs=LiveObject("data-bucket", "data/jobs.json", True, '"e"', {"jobs": []}),
        )
        invalidations = plan(DESIRED, live).invalidations
        assert [(a.resource, a.paths, a.causes) for a in invalidations] == [
            (
                "invalidation/web",
                ("/b/*", "/data/jobs.json", "/t/*"),
                ("function/rewrite", "jobs/data-bucket/data/jobs.json"),
            )
        ]


def live_jobs(document: JSON) -> LiveObject:
    return LiveObject("data-bucket", "data/jobs.json", True, '"e"', document)


class TestDriftFields:
    """What a drifted resource differs in (logged by `drift.detected` and `conflict.detected`)."""

    @pytest.mark.parametrize(
        "live, expected",
        [
            (
                with_(IN_SYNC, functions={"rewrite": LiveFunction("rewrite", stage(b"x"), stage(b"x", comment="c"))}),
                {"function/rewrite": ["code", "comment"]},
            ),
            (with_(IN_SYNC, parameters={"/s/web": "v1", "/s/admin": "a2"}), {"release/web": ["version"]}),
            (
                with_(IN_SYNC, jobs=live_jobs({"jobs": [{"id": "job_0"}, {**JOB.document, "status": "done"}]})),
                {"jobs/data-bucket/data/jobs.json": ["job_0", "job_1.status"]},
            ),
            (
                with_(IN_SYNC, jobs=live_jobs({**DESIRED.jobs_document(), "extra": 1})),
                {"jobs/data-bucket/data/jobs.json": ["document"]},
            ),
            (with_(IN_SYNC, jobs=live_jobs(None)), {"jobs/data-bucket/data/jobs.json": ["job_1"]}),
        ],
    )
    def test_fields_per_kind(self, live: Live, expected: dict[str, list[str]]) -> None:
        """Function fields, `version`, job ids and `id.field` names; `document` when no job differs."""
        assert {a.resource: drift_fields(a) for a in plan(DESIRED, live).changes} == expected

    def test_nothing_planned_names_nothing(self) -> None:
        """A resource the re-plan finds in sync (another writer made it equal) differs in nothing."""
        assert drift_fields(None) == []


class TestJobChanges:
    def test_added_removed_changed_by_id_and_field_name(self) -> None:
        """Job changes name ids and fields, never values."""
        old: JSON = {"jobs": [{"id": "a", "status": "x", "price": 1}, {"id": "b"}]}
        new = {"jobs": [{"id": "a", "status": "y", "price": 1}, {"id": "c"}]}
        assert job_changes(old, new) == JobChanges(added=("c",), removed=("b",), changed={"a": ("status",)})

    def test_unreadable_live_document_is_replaced(self) -> None:
        """A live object that is not a jobs document is replaced, and says so."""
        assert job_changes("garbage", {"jobs": [{"id": "a"}]}).replaced is True


class TestObserve:
    def test_in_sync_observations(self) -> None:
        """Every declared resource is observed; in sync when digests agree."""
        seen = observe(DESIRED, IN_SYNC)
        assert set(seen) == {"function/rewrite", "release/web", "release/admin", "jobs/data-bucket/data/jobs.json"}
        assert all(o.in_sync for o in seen.values())

    def test_absent_resource_has_no_live_digest(self) -> None:
        """Absent live resources observe as None."""
        assert observe(DESIRED, Live())["release/web"].live is None


class TestUnreadableLiveJobs:
    def test_unparsable_live_object_is_planned_as_a_replacement(self) -> None:
        """A jobs object that exists but is not JSON: update, and the plan says it replaces it."""
        live = with_(IN_SYNC, jobs=LiveObject("data-bucket", "data/jobs.json", True, '"e"', None))
        action = plan(DESIRED, live).changes[0]
        assert isinstance(action, JobsAction)
        assert action.action == "update" and action.jobs == JobChanges(added=("job_1",), replaced=True)


class TestFunctionSettings:
    """SPEC 2: a Function's runtime, comment and keyValueStores are compared and updated with its code."""

    STORE = "arn:aws:cloudfront::123456789012:key-value-store/5e3f1c2a-0000-4000-8000-000000000001"

    def test_key_value_store_association_is_a_change(self) -> None:
        """A store associated in git but not live updates the function, and the plan says from what to what."""
        from dataclasses import replace

        desired = replace(DESIRED, functions=(replace(FUNC, key_value_stores=(self.STORE,)),))
        (action, _) = plan(desired, IN_SYNC).actions  # the update, then its invalidation
        assert isinstance(action, FunctionAction)
        assert (action.action, action.resource) == ("update", "function/rewrite")
        assert action.fields == ("keyValueStores",)
        assert action.settings == {"keyValueStores": ("(none)", self.STORE)}

    def test_associated_store_in_sync(self) -> None:
        """The same store live and desired: nothing to do."""
        from dataclasses import replace

        desired = replace(DESIRED, functions=(replace(FUNC, key_value_stores=(self.STORE,)),))
        live_stage = replace(stage(etag="L1"), key_value_stores=(self.STORE,))
        live = with_(IN_SYNC, functions={"rewrite": LiveFunction("rewrite", live_stage, live_stage)})
        assert plan(desired, live).actions == ()

    @pytest.mark.parametrize(("field", "live_stage", "shown"), [
        ("runtime", stage(runtime="cloudfront-js-1.0", etag="L1"), ("cloudfront-js-1.0", "cloudfront-js-2.0")),
        ("comment", stage(comment="old words", etag="L1"), ("old words", "a comment")),
    ])
    def test_runtime_and_comment_changes_are_shown(self, field: str, live_stage: FunctionStage,
                                                    shown: tuple[str, str]) -> None:
        """The plan carries the old and new value of what changed."""
        live = with_(IN_SYNC, functions={"rewrite": LiveFunction("rewrite", stage(etag="D1"), live_stage)})
        action = plan(DESIRED, live).actions[0]
        assert isinstance(action, FunctionAction)
        assert action.fields == (field,) and action.settings == {field: shown}

    def test_digest_without_store_is_unchanged(self) -> None:
        """Drift baselines recorded before keyValueStores existed keep matching."""
        assert observe(DESIRED, IN_SYNC)["function/rewrite"].in_sync
