"""A sandbox over real HTTP and a fresh, uniquely named stack per test (moto's backends are shared)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import structlog

from reconciler.core.model import Desired, Function, FunctionTest, Job, JobsTarget, Release, Site
from reconciler.core.results import CycleResult
from reconciler.core.settings import AwsSettings, Settings
from reconciler.cycle.reconciling import Reconciler
from reconciler.loading.functests import complete_event
from reconciler.sandbox.seeding import client, seed
from reconciler.sandbox.server import Sandbox, start

CODE = b"""function handler(event) {
  var request = event.request;
  if (request.uri.indexOf('/track/') === 0) { request.uri = '/index.html'; }
  return request;
}
"""


def viewer_request(uri: str) -> dict[str, Any]:
    """A full viewer-request event for `uri`, completed as `validate` completes a test's shorthand."""
    return complete_event({"request": {"method": "GET", "uri": uri}, "viewer": {"ip": "198.51.100.7"}})


def make_desired(tag: str) -> Desired:
    """A stack whose every name, id and path is unique to one test."""
    up = tag.upper()
    return Desired(
        root=Path("unused"),
        site=Site(
            name=f"s-{tag}",
            region="us-east-1",
            distributions={"web": f"EWEB{up}", "admin": f"EADM{up}"},
            jobs=JobsTarget(f"data-{tag}", "feeds/jobs.json", {"web": ("/feeds/jobs.json",)}),
        ),
        releases=(
            Release(
                "web", f"/{tag}/web/version", "v1", f"rel-{tag}", "web/", ("index.html", "app.js"), {"web": ("/*",)}
            ),
            Release(
                "admin", f"/{tag}/admin/version", "a1", f"rel-{tag}", "admin/", ("index.html",), {"admin": ("/*",)}
            ),
        ),
        functions=(
            Function(
                f"fn-{tag}",
                "cloudfront-js-2.0",
                CODE,
                "fn.js",
                "rewrites",
                {"web": ("/track/*",)},
                (FunctionTest("track opens app", viewer_request("/track/abc"), {"request": {"uri": "/index.html"}}),),
            ),
        ),
        jobs=(
            Job("job_1", f"tok{tag}xxxxxxxxxxxxxxxx", {"id": "job_1", "status": "requested", "customer": f"Cust{tag}"}),
        ),
    )


@dataclass
class Holder:
    """A loader stand-in whose desired state a test can swap."""

    desired: Desired

    def load(self) -> Desired:
        return self.desired


@dataclass
class Stack:
    sandbox: Sandbox
    desired: Desired
    state_dir: Path
    holder: Holder = field(init=False)

    def __post_init__(self) -> None:
        self.holder = Holder(self.desired)
        self.ssm = client(self.sandbox.endpoint, "ssm")
        self.cf = client(self.sandbox.endpoint, "cloudfront")
        self.s3 = client(self.sandbox.endpoint, "s3")

    def settings(self) -> Settings:
        return Settings(
            desired=Path("."),
            state_dir=self.state_dir,
            aws=AwsSettings(endpoint_url=self.sandbox.endpoint, max_attempts=6),
        )

    def reconciler(self, self_heal: bool = True) -> Reconciler:
        return Reconciler(self.settings(), self_heal=self_heal, loader=self.holder)

    def change(self, **kwargs: Any) -> Desired:
        self.holder.desired = replace(self.holder.desired, **kwargs)
        return self.holder.desired

    def invalidations(self, logical: str) -> list[list[str]]:
        dist = self.desired.site.distributions[logical]
        items = self.cf.list_invalidations(DistributionId=dist)["InvalidationList"].get("Items", [])
        out = []
        for item in items:
            inv = self.cf.get_invalidation(DistributionId=dist, Id=item["Id"])["Invalidation"]
            out.append(sorted(inv["InvalidationBatch"]["Paths"].get("Items", [])))
        return out

    def parameter(self, name: str) -> str | None:
        got = self.ssm.get_parameters(Names=[name])["Parameters"]
        return got[0]["Value"] if got else None


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep botocore's retry decisions but not its waits (exponential backoff, adaptive rate
    limiter), so retry tests take milliseconds instead of real seconds."""
    from botocore.retries import adaptive, standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
    monkeypatch.setattr(adaptive.ClientRateLimiter, "on_sending_request", lambda self, request, **kw: None)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    with start() as running:
        yield running


@pytest.fixture
def stack(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    tag = secrets.token_hex(4)
    desired = make_desired(tag)
    seed(sandbox.endpoint, desired)
    yield Stack(sandbox, desired, tmp_path / "state")
    sandbox.faults.clear()


def run(reconciler: Reconciler, trigger: str = "startup") -> tuple[CycleResult, list[MutableMapping[str, Any]]]:
    """One reconcile, with the events it logged."""
    with structlog.testing.capture_logs() as logs:
        result = reconciler.reconcile(trigger)
    return result, logs
