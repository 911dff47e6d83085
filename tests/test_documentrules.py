"""Rules on well-formed but wrong desired values (SPEC section 2) and the job id warning; pure."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import cli
from reconciler.loading.documentrules import (
    MAX_REQUIRE,
    code_problem,
    id_bits,
    job_problems,
    release_problems,
    require_problem,
    shared_parameters,
    weak_id,
)
from reconciler.loading.newjob import job_document


class TestRequire:
    @pytest.mark.parametrize(
        "key",
        ["/index.html", "\\\\x", "../x", "a/../b", "./a", "a/.", "https://x/y", "s3://b/k", "//cdn/x", " ", "a\x00b"],
    )
    def test_not_a_plain_relative_key_is_refused(self, key: str) -> None:
        assert require_problem(key)

    @pytest.mark.parametrize("key", ["index.html", "assets/app.js", "a..b/c.html", "v1.2/x"])
    def test_plain_relative_keys_pass(self, key: str) -> None:
        assert require_problem(key) is None

    def test_too_many_entries_is_one_problem(self) -> None:
        problems = release_problems({"require": [f"f{i}" for i in range(MAX_REQUIRE + 1)]})
        assert [p.path for p in problems] == [("require",)]

    @pytest.mark.parametrize("version", [".", ".."])
    def test_dot_versions_are_refused(self, version: str) -> None:
        assert [p.path for p in release_problems({"version": version})] == [("version",)]


class TestTokensCodeParameters:
    @pytest.mark.parametrize("token", ["0000000000000000", "abababababababab", "abcdefgabcdefgab"])
    def test_low_entropy_tokens_are_refused(self, token: str) -> None:
        assert [p.path for p in job_problems({"token": token})] == [("token",)]

    def test_token_of_eight_distinct_characters_passes(self) -> None:
        assert job_problems({"token": "abcdefghabcdefgh"}) == []

    @pytest.mark.parametrize("code", ["x.yaml", "x.yml", "x.JS", "x.js.txt", "x"])
    def test_code_must_be_a_js_file(self, code: str) -> None:
        assert code_problem(code) is not None

    def test_shared_parameters_name_the_first_owner(self) -> None:
        assert shared_parameters([("a", "/p"), ("b", "/q"), ("c", "/p")]) == [("c", "a")]

    def test_a_leading_slash_does_not_make_another_parameter(self) -> None:
        """`/version` and `version` may be one SSM parameter: refused; case still differs."""
        assert shared_parameters([("a", "/version"), ("b", "version")]) == [("b", "a")]
        assert shared_parameters([("a", "/Site/version"), ("b", "/site/version")]) == []


class TestJobIds:
    @pytest.mark.parametrize(
        ("job_id", "weak"),
        [("job_4f1c2b9e7d", True), ("job_4f1c2b9e7d30a5c1", False), ("job_1", True), ("x" * 14, False)],
    )
    def test_ids_that_cannot_hold_64_bits_are_weak(self, job_id: str, weak: bool) -> None:
        assert weak_id(job_id) is weak

    def test_new_job_ids_hold_64_bits(self) -> None:
        ids = {str(job_document("C", "A", "1", "requested")["id"]) for _ in range(50)}
        assert len(ids) == 50
        assert all(id_bits(i) >= 64 and not weak_id(i) for i in ids)

    def test_validate_warns_about_a_weak_id_and_still_passes(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A hand-written 40-bit id: exit 0 and one warning line naming the file."""
        import shutil

        desired = tmp_path / "desired"
        shutil.copytree(Path(__file__).resolve().parents[1] / "desired", desired)
        job = next((desired / "jobs").iterdir())
        job.write_text(job.read_text().replace("id: job_4f1c2b9e7d30a5c1", "id: job_4f1c2b9e7d"))
        assert cli.main(["validate", "--desired", str(desired)]) == 0
        err = capsys.readouterr().err
        assert f"{job.name}:" in err and "warning: job id 'job_4f1c2b9e7d' holds at most 40 random bits" in err
