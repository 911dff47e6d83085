"""One seeded sandbox per test module, and boto3 clients for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.core.model import Desired, JobsTarget, Release, Site
from reconciler.loading.functests import complete_event
from reconciler.sandbox.seeding import client
from reconciler.sandbox.server import Sandbox, start

DESIRED = Desired(
    root=Path("desired"),
    site=Site(
        name="quickdumpnow",
        region="us-east-1",
        distributions={"site": "E1QDNSITE0001", "dashboard": "E1QDNDASH0001"},
        jobs=JobsTarget("qdn-data", "jobs.json", {"site": ("/jobs.json",)}),
    ),
    releases=(
        Release(
            name="site",
            parameter="/qdn/site/version",
            version="20261122-1530",
            bucket="qdn-releases",
            prefix="site/",
            require=("index.html", "assets/app.js"),
            invalidate={"site": ("/*",)},
        ),
        Release(name="dashboard", parameter="/qdn/dashboard/version", version="7", bucket="qdn-dash"),
    ),
)

REWRITE = b"""function handler(event) {
  var request = event.request;
  if (request.uri.indexOf('/track/') === 0 || request.uri.indexOf('/book/') === 0) {
    request.uri = '/index.html';
  }
  console.log('uri ' + request.uri);
  return request;
}
"""

THROWING = b"function handler(event) { throw new Error('boom'); }\n"


def viewer_request(uri: str) -> dict[str, Any]:
    """A full viewer-request event for `uri`, completed as `validate` completes a test's shorthand."""
    return complete_event({"request": {"method": "GET", "uri": uri}, "viewer": {"ip": "198.51.100.7"}})


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with start(desired=DESIRED) as running:
        yield running


@pytest.fixture(autouse=True)
def _no_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "sandbox" in request.fixturenames:
        request.getfixturevalue("sandbox").faults.clear()


@pytest.fixture(scope="module")
def cloudfront(sandbox: Sandbox) -> Any:
    return client(sandbox.endpoint, "cloudfront")


@pytest.fixture(scope="module")
def s3(sandbox: Sandbox) -> Any:
    return client(sandbox.endpoint, "s3")


@pytest.fixture(scope="module")
def ssm(sandbox: Sandbox) -> Any:
    return client(sandbox.endpoint, "ssm")


@pytest.fixture
def function_name(request: pytest.FixtureRequest) -> str:
    """A function name unique to the test."""
    name: str = request.node.name
    return "t-" + name.replace("test_", "").replace("_", "-")[:50]
