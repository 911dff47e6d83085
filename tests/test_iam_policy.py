"""deploy/iam-policy.json grants exactly what the reconciler uses, on exactly its resources.

Every AWS call of representative runs (fresh apply; a change of every kind; drift seen, then
healed; a 412 conflict re-planned; a failed invalidation re-issued and confirmed; `plan`'s
read) is recorded with its parameters. The test fails when a call's action is not granted on
that call's resource ARN, or when the policy grants an action no call used (s3:ListBucket
excepted: see `SEMANTIC`).
"""

from __future__ import annotations

import fnmatch
import json
import secrets
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import structlog

from reconciler.aws.reading import ReadCache, read
from reconciler.aws.session import make_clients
from reconciler.cycle.reconciling import Reconciler
from reconciler.sandbox.seeding import seed
from tests.aws.conftest import CODE, Stack, make_desired, sandbox  # noqa: F401 - fixture

POLICY = Path(__file__).resolve().parents[1] / "deploy" / "iam-policy.json"
READONLY = Path(__file__).resolve().parents[1] / "deploy" / "iam-readonly-policy.json"
UPLOAD = Path(__file__).resolve().parents[1] / "deploy" / "iam-upload-policy.json"
ACCOUNT = "123456789012"

ACTIONS = {
    "GetParameters": "ssm:GetParameters",
    "PutParameter": "ssm:PutParameter",
    "DescribeFunction": "cloudfront:DescribeFunction",
    "GetFunction": "cloudfront:GetFunction",
    "CreateFunction": "cloudfront:CreateFunction",
    "UpdateFunction": "cloudfront:UpdateFunction",
    "TestFunction": "cloudfront:TestFunction",
    "PublishFunction": "cloudfront:PublishFunction",
    "CreateInvalidation": "cloudfront:CreateInvalidation",
    "GetInvalidation": "cloudfront:GetInvalidation",
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",  # HEAD is authorised as s3:GetObject
    "PutObject": "s3:PutObject",
}
SEMANTIC = {"s3:ListBucket"}
"""Granted though never called: without it S3 answers 403 instead of 404 for a missing key, and
the reconciler could not tell "jobs.json not created yet" or "require file missing" from denial."""


def arns(operation: str, params: dict[str, Any], region: str) -> list[str]:
    """The resource ARNs IAM checks for one call."""
    if operation == "GetParameters":
        return [f"arn:aws:ssm:{region}:{ACCOUNT}:parameter{n}" for n in params["Names"]]
    if operation == "PutParameter":
        return [f"arn:aws:ssm:{region}:{ACCOUNT}:parameter{params['Name']}"]
    if operation.endswith("Invalidation"):
        return [f"arn:aws:cloudfront::{ACCOUNT}:distribution/{params['DistributionId']}"]
    if operation.endswith("Function"):
        return [f"arn:aws:cloudfront::{ACCOUNT}:function/{params['Name']}"]
    return [f"arn:aws:s3:::{params['Bucket']}/{params['Key']}"]


def stack_values(stack: Stack) -> dict[str, str]:
    """The deploy/ placeholders (deploy/README.md, step 0) for the test stack."""
    d = stack.desired
    assert d.site.jobs is not None
    return {
        "REGION": d.site.region,
        "ACCOUNT_ID": ACCOUNT,
        "RELEASE_PARAMETER_PREFIX": "/" + d.releases[0].parameter.split("/")[1] + "/",
        "FUNCTION_NAME_PREFIX": d.functions[0].name,
        "SITE_DISTRIBUTION_ID": d.site.distributions["web"],
        "DASHBOARD_DISTRIBUTION_ID": d.site.distributions["admin"],
        "RELEASES_BUCKET": d.releases[0].bucket,
        "SITE_RELEASE_PREFIX": d.releases[0].prefix,
        "DASHBOARD_RELEASE_PREFIX": d.releases[1].prefix,
        "JOBS_BUCKET": d.site.jobs.bucket,
        "JOBS_KEY": d.site.jobs.key,
    }


SAMPLE = {
    "REGION": "us-east-1",
    "ACCOUNT_ID": ACCOUNT,
    "RELEASE_PARAMETER_PREFIX": "/qdn/",
    "FUNCTION_NAME_PREFIX": "qdn-",
    "SITE_DISTRIBUTION_ID": "E1QDNSITE0001",
    "DASHBOARD_DISTRIBUTION_ID": "E1QDNDASH0001",
    "RELEASES_BUCKET": "qdn-releases",
    "SITE_RELEASE_PREFIX": "site/",
    "DASHBOARD_RELEASE_PREFIX": "dashboard/",
    "JOBS_BUCKET": "qdn-data",
    "JOBS_KEY": "jobs.json",
}
"""The placeholders for the sample stack of desired/."""


def filled(path: Path, values: dict[str, str]) -> dict[str, Any]:
    """A deploy/ policy with its placeholders replaced, as `deploy/fill` does."""
    assert all(values.values()), "an empty placeholder would widen a grant to the whole bucket"
    text = path.read_text()
    for key, value in values.items():
        text = text.replace("${" + key + "}", value)
    assert "${" not in text, "a placeholder is not documented in the test"
    policy: dict[str, Any] = json.loads(text)
    return policy


def filled_policy(stack: Stack) -> dict[str, Any]:
    return filled(POLICY, stack_values(stack))


def granted_actions(policy: dict[str, Any]) -> set[str]:
    return {a for s in policy["Statement"] for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}


def allowed(policy: dict[str, Any], action: str, arn: str) -> bool:
    for statement in policy["Statement"]:
        acts = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        res = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if statement["Effect"] == "Allow" and action in acts and any(fnmatch.fnmatchcase(arn, r) for r in res):
            return True
    return False


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def attach(self, reconciler: Reconciler) -> Reconciler:
        reconciler.clients = make_clients(reconciler.settings.aws, "us-east-1")
        reconciler.cache = ReadCache()
        for name in ("ssm", "cloudfront", "s3"):
            getattr(reconciler.clients, name).meta.events.register("provide-client-params", self._hook)
        return reconciler

    def _hook(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, dict(params)))


@pytest.fixture
def stack(sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:  # noqa: F811
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    desired = make_desired(secrets.token_hex(4))
    seed(sandbox.endpoint, desired)
    yield Stack(sandbox, desired, tmp_path / "state")
    sandbox.faults.clear()


def representative_runs(stack: Stack) -> Recorder:
    rec = Recorder()

    def reconcile(self_heal: bool = True, before: Any = None) -> Any:
        r = rec.attach(stack.reconciler(self_heal=self_heal))
        if before:
            before(r)
        with structlog.testing.capture_logs():
            return r.reconcile("startup")

    # fresh apply, with one invalidation failing so the next run re-issues it
    stack.sandbox.faults.fail_next("CreateInvalidation", status=400, code="AccessDenied")
    assert reconcile().result == "failed"
    assert reconcile().result == "in_sync"  # re-issues the intent, confirms invalidations
    # a change of every kind
    d = stack.desired
    for key in ("web/v2/index.html", "web/v2/app.js"):
        stack.s3.put_object(Bucket=d.releases[0].bucket, Key=key, Body=b"v2")
    job = d.jobs[0]
    stack.change(
        functions=(replace(d.functions[0], code=CODE + b"// v2\n"),),
        releases=(replace(d.releases[0], version="v2"), d.releases[1]),
        jobs=(replace(job, document={**job.document, "status": "scheduled"}),),
    )
    assert reconcile().result == "applied"
    # drift: the pointer moved behind git's back; seen without self-heal, then healed
    stack.ssm.put_parameter(Name=d.releases[1].parameter, Value="a0", Type="String", Overwrite=True)
    assert reconcile(self_heal=False).result == "drift"
    assert reconcile().result == "applied"
    # conflict: the jobs object changes between plan and write; re-read, re-planned
    target = d.site.jobs
    assert target is not None
    stack.change(jobs=(replace(job, document={**job.document, "status": "delivered"}),))
    done: list[bool] = []

    def someone_else(**_: Any) -> None:
        if not done:
            done.append(True)
            stack.s3.put_object(Bucket=target.bucket, Key=target.key, Body=b'{"jobs": []}')

    assert (
        reconcile(before=lambda r: r.clients.s3.meta.events.register("before-call.s3.PutObject", someone_else)).result
        == "applied"
    )
    # a function whose DEVELOPMENT already has the code: publish only; then a brand-new function
    # is covered by the fresh apply above. `plan` reads through the same reader:
    clients = make_clients(stack.settings().aws, "us-east-1")
    clients.s3.meta.events.register("provide-client-params", rec._hook)
    clients.ssm.meta.events.register("provide-client-params", rec._hook)
    clients.cloudfront.meta.events.register("provide-client-params", rec._hook)
    read(clients, stack.holder.desired, ReadCache())
    return rec


def test_policy_covers_every_call_and_grants_nothing_unused(stack: Stack) -> None:
    """Each recorded call is allowed on its ARN; each granted action was used (or is SEMANTIC)."""
    rec = representative_runs(stack)
    policy = filled_policy(stack)
    used = set()
    for operation, params in rec.calls:
        assert operation in ACTIONS, f"{operation} is called but unknown to the policy test: add it to the policy"
        action = ACTIONS[operation]
        used.add(action)
        for arn in arns(operation, params, stack.desired.site.region):
            assert allowed(policy, action, arn), f"{action} on {arn} is not granted by deploy/iam-policy.json"
    granted = granted_actions(policy)
    assert granted - used - SEMANTIC == set(), f"granted but never used: {sorted(granted - used - SEMANTIC)}"
    assert used - granted == set()
    assert not any("*" in a for a in granted), "no wildcard actions"


def test_policy_scopes_every_statement_to_resources() -> None:
    """No statement applies to every resource."""
    policy = json.loads(POLICY.read_text())
    for statement in policy["Statement"]:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert "*" not in resources and all(r.startswith("arn:aws:") for r in resources), statement["Sid"]


@pytest.mark.parametrize("path", [POLICY, READONLY])
def test_s3_grants_are_scoped_to_declared_prefixes(path: Path) -> None:
    """No s3:GetObject on a whole bucket (`bucket/*`), no ListBucket without a prefix condition,
    and no prefix condition that is empty or `*` (which means every key)."""
    policy = json.loads(path.read_text())
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if "s3:GetObject" in actions:
            for arn in resources:
                key = arn.split(":::", 1)[1].split("/", 1)[1]
                assert key not in ("*", "${RELEASES_PREFIX}*") and not key.startswith("*"), (statement["Sid"], arn)
        if "s3:ListBucket" in actions:
            condition = statement.get("Condition", {})
            values = [test.get("s3:prefix") for test in condition.values()]
            prefixes = [p for v in values if v is not None for p in ([v] if isinstance(v, str) else v)]
            assert prefixes, f"{statement['Sid']}: ListBucket without an s3:prefix condition lists everything"
            assert all(p.strip("*") for p in prefixes), f"{statement['Sid']}: an empty prefix means every key"


def test_readonly_policy_covers_what_plan_reads() -> None:
    """`plan` reads the jobs object and HEADs the require files of the release prefixes."""
    policy = filled(READONLY, SAMPLE)
    assert allowed(policy, "s3:GetObject", "arn:aws:s3:::qdn-data/jobs.json")
    assert allowed(policy, "s3:GetObject", "arn:aws:s3:::qdn-releases/site/20261122-1530/index.html")
    assert not allowed(policy, "s3:GetObject", "arn:aws:s3:::qdn-releases/private/secret.txt")
    assert not allowed(policy, "s3:GetObject", "arn:aws:s3:::qdn-data/other.json")


def test_readonly_policy_grants_every_read_of_plan_and_no_write(stack: Stack) -> None:
    """Every call of `plan`'s reader is granted by the read-only policy on its ARN: before anything
    exists, after a full apply, and with LIVE differing from desired (so DEVELOPMENT is read too),
    cold and warm cache. Calls are recorded where botocore makes them, so a call passed around as a
    callable counts (a regex over the source could not see those). The policy grants no write."""
    rec = Recorder()
    clients = make_clients(stack.settings().aws, "us-east-1")
    for client in (clients.ssm, clients.cloudfront, clients.s3):
        client.meta.events.register("provide-client-params", rec._hook)
    read(clients, stack.holder.desired, ReadCache())
    with structlog.testing.capture_logs():
        assert stack.reconciler().reconcile("startup").result == "applied"
    read(clients, stack.holder.desired, ReadCache())
    stack.change(functions=(replace(stack.desired.functions[0], code=CODE + b"// v2\n"),))
    cache = ReadCache()
    read(clients, stack.holder.desired, cache)
    read(clients, stack.holder.desired, cache)
    assert {"GetParameters", "DescribeFunction", "GetFunction", "GetObject"} <= {op for op, _ in rec.calls}
    policy = filled(READONLY, stack_values(stack))
    for operation, params in rec.calls:
        action = ACTIONS[operation]
        for arn in arns(operation, params, stack.desired.site.region):
            assert allowed(policy, action, arn), f"{action} on {arn} is not granted by deploy/iam-readonly-policy.json"
    granted = granted_actions(policy)
    assert not {a for a in granted if a.split(":")[1].startswith(("Put", "Create", "Update", "Publish", "Delete"))}


UPLOAD_ACTIONS = {"ListObjectsV2": "s3:ListBucket", "HeadObject": "s3:GetObject", "PutObject": "s3:PutObject"}


def test_upload_policy_grants_every_call_of_upload_and_only_creates(stack: Stack, tmp_path: Path) -> None:
    """`upload` of a new version, the same again (a no-op), then other content (refused): every call
    is granted by the upload policy (ListBucket within the Release prefixes), and every PutObject is a
    conditional create (`IfNoneMatch: *`), which the policy's `s3:if-none-match` condition demands."""
    import io

    from reconciler.commands.uploading import UploadError, upload

    site = tmp_path / "dist"
    site.mkdir()
    (site / "index.html").write_text("<html>v9</html>")
    (site / "app.js").write_text("var v = 9;")
    rec = Recorder()
    clients = make_clients(stack.settings().aws, "us-east-1")
    clients.s3.meta.events.register("provide-client-params", rec._hook)
    release = stack.desired.releases[0]
    upload(clients, release, "v9", site, stream=io.StringIO())
    upload(clients, release, "v9", site, stream=io.StringIO())
    (site / "app.js").write_text("var v = 10;")
    with pytest.raises(UploadError):
        upload(clients, release, "v9", site, stream=io.StringIO())
    policy = filled(UPLOAD, stack_values(stack))
    listing = next(s for s in policy["Statement"] if s["Action"] == ["s3:ListBucket"])
    assert {op for op, _ in rec.calls} >= {"ListObjectsV2", "PutObject"}
    for operation, params in rec.calls:
        action = UPLOAD_ACTIONS[operation]
        if operation == "ListObjectsV2":
            assert allowed(policy, action, f"arn:aws:s3:::{params['Bucket']}")
            patterns = listing["Condition"]["StringLike"]["s3:prefix"]
            assert any(fnmatch.fnmatchcase(params["Prefix"], p) for p in patterns), params["Prefix"]
            continue
        assert allowed(policy, action, f"arn:aws:s3:::{params['Bucket']}/{params['Key']}"), (action, params["Key"])
        if operation == "PutObject":
            assert params.get("IfNoneMatch") == "*", params["Key"]
