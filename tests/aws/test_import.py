"""`import` against a stack built by hand with boto3 in the sandbox: then `plan` exits 0."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.sandbox.seeding import client
from reconciler.sandbox.server import Sandbox

PROJECT = Path(__file__).resolve().parents[2]

CODE = b"""// hand-written, deployed from a laptop
function handler(event) {
  var request = event.request;
  if (request.uri.indexOf('/order/') === 0) { request.uri = '/index.html'; }
  return request;
}
"""


@dataclass
class HandBuilt:
    """A stack someone runs by hand: names unique to the test."""

    tag: str
    endpoint: str
    desired: Path

    @property
    def function(self) -> str:
        return f"rewrite-{self.tag}"

    @property
    def parameter(self) -> str:
        return f"/shop-{self.tag}/web/version"

    @property
    def bucket(self) -> str:
        return f"releases-{self.tag}"

    @property
    def data(self) -> str:
        return f"data-{self.tag}"

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(PYTHONPATH=str(PROJECT), HOME=str(self.desired.parent))
        argv = [sys.executable, "-m", "reconciler", *args, "--desired", str(self.desired),
                "--endpoint-url", self.endpoint, "--log-format", "json"]
        return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)


JOBS = {
    "jobs": [
        {"id": "job_aa01", "token": "Zz9yXw8vUt7sRq6p", "customer": "Grace H", "address": "7 Harbour Way",
         "price": {"amount": 59.9, "currency": "EUR", "all_inclusive": True}, "status": "scheduled",
         "scheduled": {"date": "2027-03-04", "window": "evening"},
         "history": [{"status": "requested", "at": "2027-03-01T09:30:00Z"}], "notes": "ring twice"},
        {"id": "job_aa02", "token": "Mm4nNb5vVc6xXz7a", "customer": "Alan T", "address": "1 Bletchley Rd",
         "price": {"amount": 600, "currency": "USD"}, "status": "requested"},
    ]
}


@pytest.fixture
def stack(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HandBuilt:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    built = HandBuilt(secrets.token_hex(4), sandbox.endpoint, tmp_path / "desired")
    cf, ssm, s3 = (client(sandbox.endpoint, name) for name in ("cloudfront", "ssm", "s3"))
    etag = cf.create_function(
        Name=built.function,
        FunctionConfig={"Comment": "orders open the app", "Runtime": "cloudfront-js-1.0"},
        FunctionCode=CODE,
    )["ETag"]
    cf.publish_function(Name=built.function, IfMatch=etag)
    ssm.put_parameter(Name=built.parameter, Value="20270301-0800", Type="String")
    s3.create_bucket(Bucket=built.bucket)
    s3.create_bucket(Bucket=built.data)
    s3.put_object(Bucket=built.data, Key="api/jobs.json", Body=json.dumps(JOBS, indent=2).encode())
    built.desired.mkdir()
    (built.desired / "site.yaml").write_text(
        f"kind: Site\nname: shop-{built.tag}\nregion: us-east-1\n"
        f"distributions: {{web: EWEB{built.tag.upper()}, admin: EADM{built.tag.upper()}}}\n"
        f"jobs: {{bucket: {built.data}, key: api/jobs.json, invalidate: {{web: [/api/jobs.json]}}}}\n"
    )
    return built


class TestImport:
    """Adopting a hand-run stack."""

    def test_import_then_plan_is_in_sync(self, stack: HandBuilt) -> None:
        """Function, release and jobs imported: the files say what is live, and plan exits 0."""
        result = stack.cli("import", "--function", stack.function,
                           "--release", "web", "--parameter", stack.parameter, "--bucket", stack.bucket,
                           "--prefix", "web/", "--jobs")
        assert result.returncode == 0, result.stderr
        desired = stack.desired
        assert (desired / "functions" / f"{stack.function}.js").read_bytes() == CODE
        function_yaml = (desired / "functions" / f"{stack.function}.yaml").read_text()
        assert "runtime: cloudfront-js-1.0" in function_yaml and "comment: orders open the app" in function_yaml
        assert "web:\n  - /*" in function_yaml or "web:\n  - /*" in function_yaml.replace("'", "")
        release_yaml = (desired / "releases" / "web.yaml").read_text()
        assert "version: 20270301-0800" in release_yaml and "prefix: web/" in release_yaml
        assert sorted(p.name for p in (desired / "jobs").iterdir()) == ["job_aa01.yaml", "job_aa02.yaml"]
        written = [json.loads(line) for line in result.stdout.splitlines()]
        assert {e["resource"] for e in written if e["event"] == "import.written"} == {
            f"function/{stack.function}", "release/web", "job/job_aa01", "job/job_aa02"
        }
        assert "Grace" not in result.stdout and "Zz9yXw8vUt7sRq6p" not in result.stdout

        plan = stack.cli("plan", "--json")
        assert plan.returncode == 0, plan.stdout + plan.stderr
        assert json.loads(plan.stdout)["actions"] == []

    def test_function_with_a_key_value_store(self, stack: HandBuilt) -> None:
        """A 2.0 function associated with a key value store: the association is imported too."""
        cf = client(stack.endpoint, "cloudfront")
        arn = "arn:aws:cloudfront::123456789012:key-value-store/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
        name = f"kvs-{stack.tag}"
        etag = cf.create_function(
            Name=name,
            FunctionConfig={"Comment": "", "Runtime": "cloudfront-js-2.0",
                            "KeyValueStoreAssociations": {"Quantity": 1, "Items": [{"KeyValueStoreARN": arn}]}},
            FunctionCode=b"async function handler(event) { return event.request; }\n",
        )["ETag"]
        cf.publish_function(Name=name, IfMatch=etag)
        result = stack.cli("import", "--function", name, "--jobs")
        assert result.returncode == 0, result.stderr
        text = (stack.desired / "functions" / f"{name}.yaml").read_text()
        assert f"keyValueStores:\n- {arn}\n" in text
        assert "\ncomment:" not in text  # an empty comment is left out, as the schema's default
        plan = stack.cli("plan")
        assert plan.returncode == 0, plan.stdout + plan.stderr

    def test_never_overwrites_and_writes_nothing_when_refused(self, stack: HandBuilt) -> None:
        """An existing file refuses the whole import, named; nothing else is written."""
        (stack.desired / "releases").mkdir()
        (stack.desired / "releases" / "web.yaml").write_text("# mine\n")
        result = stack.cli("import", "--function", stack.function,
                           "--release", "web", "--parameter", stack.parameter, "--bucket", stack.bucket)
        assert result.returncode == 1
        assert result.stderr.strip().endswith("import never overwrites a file (move it away first)")
        assert str(stack.desired / "releases" / "web.yaml") in result.stderr
        assert (stack.desired / "releases" / "web.yaml").read_text() == "# mine\n"
        assert not (stack.desired / "functions").exists()

    def test_a_resource_already_declared_is_refused(self, stack: HandBuilt) -> None:
        """Importing a function a second time (its files elsewhere now) is refused."""
        assert stack.cli("import", "--function", stack.function).returncode == 0
        (stack.desired / "functions").rename(stack.desired / "edge")
        again = stack.cli("import", "--function", stack.function)
        assert again.returncode == 1 and f"function {stack.function} is already declared in" in again.stderr
        assert not (stack.desired / "functions").exists()

    def test_needs_a_site(self, stack: HandBuilt) -> None:
        """Without a Site document nothing is imported (region and distributions come from it)."""
        (stack.desired / "site.yaml").unlink()
        result = stack.cli("import", "--function", stack.function)
        assert result.returncode == 1 and "Site" in result.stderr
        assert not (stack.desired / "functions").exists()

    def test_missing_live_resources_are_named(self, stack: HandBuilt) -> None:
        """A function or parameter that does not exist live: one line naming it, nothing written."""
        gone = stack.cli("import", "--function", "nope-" + stack.tag)
        assert gone.returncode == 1 and f"function/nope-{stack.tag}: no such CloudFront function" in gone.stderr
        absent = stack.cli("import", "--release", "web", "--parameter", "/nope/" + stack.tag, "--bucket", "b")
        assert absent.returncode == 1 and f"SSM parameter /nope/{stack.tag} does not exist" in absent.stderr
        assert list(stack.desired.iterdir()) == [stack.desired / "site.yaml"]


class TestPlanAfterImport:
    """From an adopted stack: plan checks `require` before anything moves, and labels drift."""

    def adopt(self, stack: HandBuilt) -> None:
        result = stack.cli("import", "--release", "web", "--parameter", stack.parameter, "--bucket", stack.bucket,
                           "--prefix", "web/", "--jobs")
        assert result.returncode == 0, result.stderr

    def test_missing_require_is_an_error_not_a_pending_change(self, stack: HandBuilt, tmp_path: Path) -> None:
        """A version whose index.html is not uploaded: exit 1, in `errors`, not in `actions`;
        once uploaded, the same plan is a pending change (exit 2)."""
        self.adopt(stack)
        release_yaml = stack.desired / "releases" / "web.yaml"
        release_yaml.write_text(release_yaml.read_text().replace("20270301-0800", "20270302-0900"))
        plan = stack.cli("plan", "--json")
        assert plan.returncode == 1, plan.stderr
        document = json.loads(plan.stdout)
        assert document["actions"] == []
        assert document["errors"] == [
            f"release/web: s3://{stack.bucket}/web/20270302-0900/index.html does not exist, so the pointer cannot "
            "move to 20270302-0900 (upload the version first: reconciler upload web 20270302-0900 DIR)"
        ]
        text = stack.cli("plan")
        assert text.returncode == 1 and f"error: {document['errors'][0]}" in text.stdout

        (tmp_path / "dist").mkdir()
        (tmp_path / "dist" / "index.html").write_text("<h1>new</h1>")
        assert stack.cli("upload", "web", "20270302-0900", str(tmp_path / "dist")).returncode == 0
        ready = stack.cli("plan", "--json")
        assert ready.returncode == 2, ready.stderr
        action, *invalidations = json.loads(ready.stdout)["actions"]
        assert action == {"action": "update", "resource": "release/web", "drift": False,
                          "changes": [{"field": "version", "before": "20270301-0800", "after": "20270302-0900"}]}
        assert [i["action"] for i in invalidations] == ["invalidate", "invalidate"]

    def test_drift_is_labelled(self, stack: HandBuilt) -> None:
        """After an apply, a pointer moved by hand (desired unchanged) is planned as drift."""
        self.adopt(stack)
        assert stack.cli("apply").returncode == 0
        client(stack.endpoint, "ssm").put_parameter(
            Name=stack.parameter, Value="20260101-0000", Type="String", Overwrite=True
        )
        s3 = client(stack.endpoint, "s3")
        s3.put_object(Bucket=stack.bucket, Key="web/20270301-0800/index.html", Body=b"x")
        plan = stack.cli("plan", "--json")
        assert plan.returncode == 2, plan.stderr
        action = json.loads(plan.stdout)["actions"][0]
        assert (action["resource"], action["drift"]) == ("release/web", True)
        assert "update (drift) release/web" in stack.cli("plan").stdout
