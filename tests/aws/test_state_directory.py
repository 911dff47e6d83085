"""The state directory under stress, against a real moto server: unwritable (read-only or full)
and holding invalidation ids CloudFront does not know."""

from __future__ import annotations

import errno
import os
from dataclasses import replace
from typing import Any

import pytest

from reconciler.core.staterecords import Created, Intent, Intents, State
from reconciler.cycle import statefile, stateschema
from tests.aws.conftest import Stack, run


def state_of(stack: Stack) -> State:
    return stateschema.parse_state(statefile.read_json(stack.state_dir / statefile.STATE))


def intents_of(stack: Stack) -> Intents:
    return stateschema.parse_intents(statefile.read_json(stack.state_dir / statefile.INTENTS))


def test_unwritable_state_directory_is_logged_once_and_the_daemon_keeps_working(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk: `state.write_failed` once, changes still applied, owed invalidations still
    issued from memory; `state.write_recovered` when the disk has room again."""
    reconciler = stack.reconciler()
    assert run(reconciler)[0].result == "applied"
    real = statefile.write_json

    def full(*_: Any, **__: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(statefile, "write_json", full)
    before = len(stack.invalidations("web"))
    logs: list[Any] = []
    d = stack.desired
    for version in ("v2", "v3"):
        for key in (f"web/{version}/index.html", f"web/{version}/app.js"):
            stack.s3.put_object(Bucket=d.releases[0].bucket, Key=key, Body=version.encode())
        stack.change(releases=(replace(d.releases[0], version=version), d.releases[1]))
        result, logged = run(reconciler)
        assert result.result == "applied", result
        logs += logged
    assert run(reconciler)[0].result == "in_sync"
    assert stack.parameter(d.releases[0].parameter) == "v3"
    assert len(stack.invalidations("web")) == before + 2  # each owed invalidation issued
    failed = [e for e in logs if e["event"] == "state.write_failed"]
    assert len(failed) == 1 and failed[0]["error"] == os.strerror(errno.ENOSPC)
    monkeypatch.setattr(statefile, "write_json", real)
    result, logged = run(reconciler)
    assert result.result == "in_sync"
    assert [e["event"] for e in logged].count("state.write_recovered") == 1
    last = state_of(stack).last
    assert last is not None and last.result == "in_sync"


def test_unknown_invalidation_ids_are_pruned(stack: Stack) -> None:
    """An id CloudFront does not know (NoSuchInvalidation) and one on a distribution the Site no
    longer declares are dropped when confirming, each logged once; real ones are kept until done."""
    reconciler = stack.reconciler()
    assert run(reconciler)[0].result == "applied"
    dist = stack.desired.site.distributions["web"]
    state = replace(state_of(stack), invalidations=(
        Created("INOSUCHINVALIDATION", "web", dist, ("/*",)), Created("IGONE", "old", "EGONE0000", ("/x",)),
    ))
    statefile.write_json(stack.state_dir / statefile.STATE, stateschema.dump_state(state))
    result, logs = run(reconciler)
    assert result.result == "in_sync"
    forgotten = sorted(e["id"] for e in logs if e["event"] == "invalidation.forgotten")
    assert forgotten == ["IGONE", "INOSUCHINVALIDATION"]
    assert state_of(stack).invalidations == ()
    assert not [e for e in run(reconciler)[1] if e["event"] == "invalidation.forgotten"]


def test_owed_invalidations_follow_the_site(stack: Stack) -> None:
    """An owed intent on a distribution the Site no longer declares is dropped (logged); one
    whose distribution id changed in git is issued on the current id, never retried forever."""
    reconciler = stack.reconciler()
    assert run(reconciler)[0].result == "applied"
    dist = stack.desired.site.distributions["web"]
    statefile.write_json(stack.state_dir / statefile.INTENTS, stateschema.dump_intents((
        Intent("r-gone", "old", "EGONE0000", ("/x",)), Intent("r-moved", "web", "EOLDID000", ("/moved",)),
    )))
    result, logs = run(reconciler)
    assert result.result == "in_sync", result
    assert [e["distribution"] for e in logs if e["event"] == "invalidation.forgotten"] == ["old"]
    created = [e for e in logs if e["event"] == "invalidation.created"]
    assert [(e["distribution"], e["paths"]) for e in created] == [("web", ["/moved"])]
    assert ["/moved"] in stack.invalidations("web") and dist == stack.desired.site.distributions["web"]
    assert intents_of(stack).intents == ()
