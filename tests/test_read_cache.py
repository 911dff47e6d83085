"""The jobs object as a value that carries its canonical JSON, and the read cache that keeps it:
pure, no AWS (the HTTP side is tests/aws/test_read_cache.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from reconciler.aws.applying import Outcome
from reconciler.aws.reading import ReadCache
from reconciler.core.errors import PermanentError
from reconciler.core.jsonvalue import JSON, JSONObject
from reconciler.core.model import Desired, Job, JobsTarget, Live, LiveObject, Site, canonical_json
from reconciler.core.planning import observe, plan

TARGET = JobsTarget("data", "jobs.json", {"web": ("/jobs.json",)})
DESIRED = Desired(
    root=Path("."),
    site=Site("s", "us-east-1", {"web": "EWEB"}, TARGET),
    jobs=(
        Job("b", "tok-b", {"id": "b", "status": "requested", "price": {"amount": 2.5}}),
        Job("a", "tok-a", {"id": "a", "status": "scheduled", "customer": "Zoë"}),
    ),
)


def jobs_action_of(live: LiveObject | None) -> str | None:
    actions = [a.action for a in plan(DESIRED, Live(jobs=live)).changes if a.resource == TARGET.resource]
    return actions[0] if actions else None


class TestLiveObject:
    def test_built_from_desired_is_what_parsing_the_upload_gives(self) -> None:
        """The same document, and canonical JSON equal to serializing it (whole and per job)."""
        own = LiveObject.built_from(DESIRED, "data", "jobs.json", '"e1"')
        copies = [dict(j) for j in DESIRED.jobs_document()["jobs"]]
        parsed = LiveObject("data", "jobs.json", True, '"e1"', {"jobs": copies})
        assert own == parsed
        assert own.canonical == parsed.canonical == canonical_json(DESIRED.jobs_document())
        for job in DESIRED.jobs_document()["jobs"]:
            assert own.job_canonical(job) == parsed.job_canonical(job) == canonical_json(job)

    def test_canonical_json_is_computed_once_per_object(self) -> None:
        """Asked twice, the very same bytes: the object is its own memo (no planner global)."""
        live = LiveObject("data", "jobs.json", True, '"e"', {"jobs": [{"id": "a", "x": 1}]})
        assert live.canonical is live.canonical
        job: JSONObject = {"id": "a", "x": 1}
        assert live.job_canonical(job) is live.job_canonical(job)

    def test_a_replaced_document_gets_its_own_canonical_json(self) -> None:
        """`dataclasses.replace` makes a new object with an empty memo, never the old one's bytes."""
        own = LiveObject.built_from(DESIRED, "data", "jobs.json", '"e1"')
        other: JSON = {"jobs": [{"id": "a", "status": "cancelled"}]}
        changed = replace(own, document=other)
        assert changed.canonical == canonical_json(other) != own.canonical
        job: JSONObject = {"id": "a", "status": "cancelled"}
        assert changed.job_canonical(job) == canonical_json(job) != own.job_canonical({"id": "a"})

    def test_absent_or_unparsable_has_no_canonical_json(self) -> None:
        assert LiveObject("data", "jobs.json", False).canonical is None
        assert LiveObject("data", "jobs.json", True, '"e"', None).canonical is None

    def test_plan_and_observe_depend_on_the_document_only(self) -> None:
        """Equal documents plan and observe alike whether their canonical JSON was given or computed."""
        own = LiveObject.built_from(DESIRED, "data", "jobs.json", '"e1"')
        parsed = LiveObject("data", "jobs.json", True, '"e1"', {"jobs": list(DESIRED.jobs_document()["jobs"])})
        assert jobs_action_of(own) is None and jobs_action_of(parsed) is None
        assert observe(DESIRED, Live(jobs=own)) == observe(DESIRED, Live(jobs=parsed))
        assert observe(DESIRED, Live(jobs=own))[TARGET.resource].in_sync
        other = LiveObject("data", "jobs.json", True, '"e2"', {"jobs": [{"id": "a", "status": "requested"}]})
        assert jobs_action_of(other) == "update"
        assert jobs_action_of(None) == "create"


class TestReadCache:
    def test_own_write_is_kept_with_its_etag(self) -> None:
        cache = ReadCache()
        cache.own_write("data", "jobs.json", '"e9"', DESIRED)
        kept = cache.objects[("data", "jobs.json")]
        assert (kept.exists, kept.etag, kept.document) == (True, '"e9"', DESIRED.jobs_document())
        assert kept.canonical == DESIRED.jobs_canonical

    def test_own_writes_takes_the_etag_from_the_writers_outcomes(self) -> None:
        """Only an outcome that wrote something (and carries its ETag) reaches the cache."""
        action = plan(DESIRED, Live()).changes[0]
        cache = ReadCache()
        cache.own_writes(DESIRED, [Outcome(action, PermanentError("denied")), Outcome(action, skipped=True)])
        assert cache.objects == {}
        cache.own_writes(DESIRED, [Outcome(action, written_etag='"e3"')])
        assert cache.objects[("data", "jobs.json")].etag == '"e3"'
