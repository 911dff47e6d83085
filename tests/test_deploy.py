"""deploy/: one set of placeholders across every file, `deploy/fill`, the trust policies, and the guide.

The guide (deploy/README.md) sets each placeholder once as a shell variable in its step 0;
`deploy/fill` fills a file from them. So every `${NAME}` of a deploy/ file must be exported
there, no file may carry the sample stack's own names, and a filled file must be valid.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
GUIDE = DEPLOY / "README.md"
FILL = DEPLOY / "fill"
PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
POLICIES = sorted(DEPLOY.glob("*.json"))
TEMPLATES = [*POLICIES, DEPLOY / "systemd" / "reconciler.env.example"]
"""The files `deploy/fill` fills (the unit's own `${...}` are systemd's, filled at start)."""
GENERIC = [*TEMPLATES, DEPLOY / "systemd" / "reconciler@.service", DEPLOY / "ci" / "plan-comment.yml"]
SAMPLE_NAMES = ("qdn", "quickdumpnow", "E1QDN", "123456789012", "us-east-1")
"""The sample stack's names and the example account: a template holding one was not generalised."""
COMMAND_ONLY = {"INSTANCE_ID", "SITE_PARAMETER", "DASHBOARD_PARAMETER", "FUNCTION_NAME"}


def exported() -> dict[str, str]:
    """The guide's step 0: `export NAME=value` lines of its first shell block."""
    block = GUIDE.read_text().split("## 0. Your values", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return dict(re.findall(r"^export ([A-Z][A-Z0-9_]*)=(\S+)", block, re.M))


def used() -> set[str]:
    return {name for path in TEMPLATES for name in PLACEHOLDER.findall(path.read_text())}


def fill(path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(FILL), str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": os.environ.get("PATH", ""), **env},
    )


class TestPlaceholders:
    def test_every_placeholder_is_set_in_the_guides_step_0(self) -> None:
        """A `${NAME}` nobody is told to set would be left in a policy or a unit."""
        assert used() - set(exported()) == set()

    def test_every_value_of_step_0_is_used_by_a_file_or_a_command(self) -> None:
        """No stale variable in the guide; command-only ones are said to be so."""
        guide = GUIDE.read_text()
        for name in set(exported()) - used():
            assert re.search(rf"\${name}\b|\${{{name}}}", guide.split("## 1.", 1)[1]), name
        for name in COMMAND_ONLY:
            assert f"`{name}`" in guide.split("## 1.", 1)[0], name

    @pytest.mark.parametrize("path", GENERIC, ids=lambda p: p.name)
    def test_no_file_carries_the_sample_stacks_names(self, path: Path) -> None:
        """Templates name resources only through placeholders (no bare ACCOUNT_ID either)."""
        text = path.read_text()
        for sample in SAMPLE_NAMES:
            assert sample not in text, f"{path.name}: {sample}"
        assert not re.search(r"(?<!\{)\bACCOUNT_ID\b(?!\})", text), f"{path.name}: bare ACCOUNT_ID"

    @pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.name)
    def test_filled_json_is_an_iam_policy_naming_only_given_values(self, path: Path) -> None:
        """With step 0's example values, each JSON file is a policy document with no `${` left."""
        done = fill(path, exported())
        assert done.returncode == 0, done.stderr
        policy: dict[str, Any] = json.loads(done.stdout)
        assert policy["Version"] == "2012-10-17"
        assert policy["Statement"] and all(s["Effect"] == "Allow" for s in policy["Statement"])
        assert "${" not in done.stdout


class TestFill:
    def test_refuses_naming_every_unset_placeholder(self) -> None:
        """Nothing on stdout, exit 1, the missing names in one line."""
        values = exported()
        del values["ACCOUNT_ID"], values["JOBS_KEY"]
        done = fill(DEPLOY / "iam-policy.json", values)
        assert done.returncode == 1 and done.stdout == ""
        assert "ACCOUNT_ID" in done.stderr and "JOBS_KEY" in done.stderr and "REGION" not in done.stderr

    def test_an_empty_prefix_is_refused(self) -> None:
        """An empty prefix would widen `bucket/${PREFIX}*` to the whole bucket."""
        done = fill(DEPLOY / "iam-upload-policy.json", {**exported(), "SITE_RELEASE_PREFIX": ""})
        assert done.returncode == 1 and "SITE_RELEASE_PREFIX" in done.stderr

    def test_fills_the_service_settings(self) -> None:
        """The env file gets the stack's paths and region."""
        values = {**exported(), "STACK": "shop", "REGION": "eu-north-1"}
        done = fill(DEPLOY / "systemd" / "reconciler.env.example", values)
        assert done.returncode == 0, done.stderr
        assert "DESIRED=/var/lib/reconciler/shop/checkout/desired\n" in done.stdout
        assert "AWS_REGION=eu-north-1\n" in done.stdout


def trust(name: str) -> dict[str, Any]:
    statements: list[dict[str, Any]] = json.loads(fill(DEPLOY / name, exported()).stdout)["Statement"]
    assert len(statements) == 1
    return statements[0]


class TestTrustPolicies:
    def test_the_host_role_is_for_ec2_instance_profiles(self) -> None:
        """Only EC2 (the instance profile of the reconciler's host) assumes the apply role."""
        statement = trust("iam-trust-ec2.json")
        assert statement["Principal"] == {"Service": "ec2.amazonaws.com"}
        assert statement["Action"] == "sts:AssumeRole"

    @pytest.mark.parametrize(
        ("name", "subject"),
        [
            ("iam-trust-github-plan.json", "repo:acme/mysite-edge:pull_request"),
            ("iam-trust-github-upload.json", "repo:acme/mysite:ref:refs/heads/main"),
        ],
    )
    def test_ci_roles_trust_one_repository_through_github_oidc(self, name: str, subject: str) -> None:
        """GitHub's OIDC provider of this account, audience sts.amazonaws.com, one exact subject."""
        statement = trust(name)
        provider = f"arn:aws:iam::{exported()['ACCOUNT_ID']}:oidc-provider/token.actions.githubusercontent.com"
        assert statement["Principal"] == {"Federated": provider}
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Condition"] == {
            "StringEquals": {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": subject,
            }
        }


class TestUploadPolicy:
    def test_adds_files_only_with_if_none_match_and_never_deletes(self) -> None:
        """PutObject only as a conditional create; no Delete; reads and lists only the version folders."""
        policy = json.loads(fill(DEPLOY / "iam-upload-policy.json", exported()).stdout)
        actions = {a for s in policy["Statement"] for a in s["Action"]}
        assert actions == {"s3:ListBucket", "s3:GetObject", "s3:PutObject"}
        put = next(s for s in policy["Statement"] if "s3:PutObject" in s["Action"])
        assert put["Condition"] == {"Null": {"s3:if-none-match": "false"}}
        for statement in policy["Statement"]:
            for arn in statement["Resource"]:
                assert arn.startswith("arn:aws:s3:::mysite-releases"), arn
                assert arn.endswith(("mysite-releases", "site/*", "dashboard/*")), arn


class TestGuide:
    def test_files_it_names_exist(self) -> None:
        """Every deploy/, docs/ or repository file the guide points to is there."""
        guide = GUIDE.read_text()
        named = set(re.findall(r"`(deploy/[\w@./-]+)`", guide)) | set(re.findall(r"\]\((\.\./docs/[\w.-]+)\)", guide))
        loop = re.search(r"for f in ([\w -]+); do", guide)
        assert loop is not None
        named |= {f"deploy/{f}.json" for f in loop.group(1).split()}
        assert named
        for name in named:
            path = (DEPLOY / name).resolve() if name.startswith("..") else ROOT / name
            assert path.exists(), name

    def test_installs_where_the_unit_runs_and_documents_from(self) -> None:
        """Step 1 puts the venv at /opt/reconciler and the release's source at /opt/reconciler/src:
        the unit's ExecStart and each `Documentation=` file are there."""
        guide = GUIDE.read_text()
        assert '"$RECONCILER_REPOSITORY" /opt/reconciler/src' in guide
        assert "python3 -m venv /opt/reconciler\n" in guide
        assert "--require-hashes -r /opt/reconciler/src/requirements.lock" in guide
        unit = (DEPLOY / "systemd" / "reconciler@.service").read_text()
        assert "ExecStart=/opt/reconciler/bin/reconciler run" in unit
        documentation = re.search(r"^Documentation=(.+)$", unit, re.M)
        assert documentation is not None
        for url in documentation.group(1).split():
            assert url.startswith("file:///opt/reconciler/src/"), url
            assert (ROOT / url.removeprefix("file:///opt/reconciler/src/")).is_file(), url
