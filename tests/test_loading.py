"""The loader: every SPEC section 2 rule with a broken input, the `FILE:LINE:` format, all errors
at once, hostile YAML, and the daemon's incremental `Loader`."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.core.errors import InvalidDesired
from reconciler.loading import MAX_CODE_BYTES, Loader, load

SITE = """\
kind: Site
name: acme-shop
region: eu-west-2
distributions:
  web: E2ACMEWEB0001
  admin: E2ACMEADM0001
jobs:
  bucket: acme-data
  key: data/jobs.json
  invalidate: {web: [/data/jobs.json]}
"""
RELEASE = """\
kind: Release
name: web
parameter: /acme/web/version
version: "v42"
bucket: acme-releases
invalidate: {web: ["/*"]}
"""
FUNCTION = """\
kind: Function
name: acme-rewrite
runtime: cloudfront-js-1.0
code: rewrite.js
invalidate: {web: ["/order/*"]}
tests:
  - name: orders open the app
    event: {request: {uri: /order/7}}
    expect: {request: {uri: /index.html}}
"""
CODE = """\
function handler(event) {
  var r = event.request;
  if (r.uri.indexOf('/order/') === 0) { r.uri = '/index.html'; }
  return r;
}
"""
JOB = """\
kind: Job
id: job_0000000001
token: AAAAbbbbCCCCdxyz0001
customer: Ada
address: 1 Analytical Row
price: {amount: 12.5, currency: EUR}
status: scheduled
scheduled: {date: 2027-01-02, window: morning}
history:
  - {status: requested, at: 2027-01-01T08:00:00Z}
"""


def tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write `files` (relative path -> content) under root/desired and return that directory."""
    desired = root / "desired"
    for rel, content in files.items():
        path = desired / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    desired.mkdir(exist_ok=True)
    return desired


def valid_files(**overrides: str | bytes) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {
        "site.yaml": SITE,
        "releases/web.yaml": RELEASE,
        "fn/rewrite.yaml": FUNCTION,
        "fn/rewrite.js": CODE,
        "jobs/one.yml": JOB,
    }
    files.update(overrides)
    return files


def errors_of(desired: Path, run_tests: bool = True) -> list[str]:
    with pytest.raises(InvalidDesired) as caught:
        load(desired, run_tests=run_tests)
    return caught.value.errors


def only_error(desired: Path, run_tests: bool = True) -> str:
    errors = errors_of(desired, run_tests)
    assert len(errors) == 1, errors
    return errors[0]


class TestValid:
    """A valid tree becomes the model."""

    def test_builds_every_kind(self, tmp_path: Path) -> None:
        """Site, Release, Function and Job come out typed, with defaults filled in."""
        desired = load(tree(tmp_path, valid_files()))
        assert desired.site.name == "acme-shop"
        assert desired.site.distributions == {"web": "E2ACMEWEB0001", "admin": "E2ACMEADM0001"}
        assert desired.site.jobs is not None and desired.site.jobs.invalidate == {"web": ("/data/jobs.json",)}
        (release,) = desired.releases
        assert (release.prefix, release.require, release.invalidate) == ("", ("index.html",), {"web": ("/*",)})
        (function,) = desired.functions
        assert function.code == CODE.encode()
        assert function.code_path.endswith("fn/rewrite.js")
        assert function.tests[0].event["request"]["querystring"] == {}
        (job,) = desired.jobs
        assert (job.id, job.token) == ("job_0000000001", "AAAAbbbbCCCCdxyz0001")

    def test_job_document_is_json_ready(self, tmp_path: Path) -> None:
        """Dates become ISO strings (UTC as Z) and `kind` is dropped."""
        (job,) = load(tree(tmp_path, valid_files())).jobs
        assert "kind" not in job.document
        assert job.document["scheduled"] == {"date": "2027-01-02", "window": "morning"}
        assert job.document["history"][0]["at"] == "2027-01-01T08:00:00Z"

    def test_sources_carry_file_and_line(self, tmp_path: Path) -> None:
        """Each model value knows the file (as given joined with its path) and document line."""
        desired = load(tree(tmp_path, valid_files(**{"releases/web.yaml": "# c\n---\n" + RELEASE})))
        assert str(desired.releases[0].source) == f"{tmp_path}/desired/releases/web.yaml:3"
        assert desired.functions[0].tests[0].source.line == 7

    def test_dot_names_are_skipped(self, tmp_path: Path) -> None:
        """Hidden files and directories are never read."""
        files = valid_files(**{".hidden.yaml": "kind: Nope\n", ".git/x.yaml": "[", "jobs/.draft.yaml": "{"})
        assert load(tree(tmp_path, files)).site.name == "acme-shop"

    def test_multi_document_files(self, tmp_path: Path) -> None:
        """Several documents in one file; an empty trailing document is ignored."""
        second = JOB.replace("0001", "0002")
        desired = load(tree(tmp_path, valid_files(**{"jobs/one.yml": JOB + "---\n" + second + "---\n"})))
        assert [j.id for j in desired.jobs] == ["job_0000000001", "job_0000000002"]

    def test_jobs_without_jobs_section_need_no_jobs(self, tmp_path: Path) -> None:
        """The jobs section is optional when no Job exists."""
        site = SITE.split("jobs:")[0]
        files = valid_files(**{"site.yaml": site})
        del files["jobs/one.yml"]
        assert load(tree(tmp_path, files)).site.jobs is None

    def test_code_may_use_dotdot_inside_the_directory(self, tmp_path: Path) -> None:
        """`..` is fine while the path stays inside the desired directory."""
        files = valid_files(**{"fn/rewrite.yaml": FUNCTION.replace("code: rewrite.js", "code: ../shared/r.js"),
                               "shared/r.js": CODE})
        assert load(tree(tmp_path, files)).functions[0].code == CODE.encode()

    def test_amounts_with_two_decimals_pass(self, tmp_path: Path) -> None:
        """0.1, 599.99 and integers are all fine (no float multipleOf fragility)."""
        for amount in ("0.1", "599.99", "600", "0"):
            job = JOB.replace("amount: 12.5", f"amount: {amount}")
            loaded = load(tree(tmp_path / amount, valid_files(**{"jobs/one.yml": job})))
            assert loaded.jobs[0].document["price"]["amount"] == float(amount)


BROKEN = [
    # (name, overrides, expected file, expected line, fragment)
    ("syntax error", {"jobs/one.yml": "kind: Job\nid: [oops\n"}, "jobs/one.yml", None, "YAML"),
    ("unknown kind", {"jobs/x.yaml": "kind: Widget\nname: x\n"}, "jobs/x.yaml", 1, "unknown kind 'Widget'"),
    ("missing kind", {"jobs/x.yaml": "name: x\n"}, "jobs/x.yaml", 1, "missing `kind`"),
    ("not a mapping", {"jobs/x.yaml": "- kind: Job\n"}, "jobs/x.yaml", 1, "mapping"),
    ("extra field", {"jobs/one.yml": JOB + "colour: red\n"}, "jobs/one.yml", 11, "colour: unknown field"),
    (
        "missing field",
        {"jobs/one.yml": JOB.replace("status: scheduled\n", "")},
        "jobs/one.yml",
        1,
        "missing required field 'status'",
    ),
    (
        "bad status",
        {"jobs/one.yml": JOB.replace("status: scheduled", "status: lost")},
        "jobs/one.yml",
        7,
        "status: must be one of",
    ),
    (
        "bad window",
        {"jobs/one.yml": JOB.replace("window: morning", "window: noon")},
        "jobs/one.yml",
        8,
        "scheduled.window",
    ),
    (
        "bad job id",
        {"jobs/one.yml": JOB.replace("id: job_0000000001", "id: Job 1")},
        "jobs/one.yml",
        2,
        "id: must match",
    ),
    ("short token", {"jobs/one.yml": JOB.replace("AAAAbbbbCCCCdxyz0001", "short")}, "jobs/one.yml", 3, "token"),
    (
        "token charset",
        {"jobs/one.yml": JOB.replace("AAAAbbbbCCCCdxyz0001", "AAAAbbbbCCCCdddd/001")},
        "jobs/one.yml",
        3,
        "token",
    ),
    ("negative price", {"jobs/one.yml": JOB.replace("12.5", "-1")}, "jobs/one.yml", 6, "price.amount: must be >= 0"),
    ("three decimals", {"jobs/one.yml": JOB.replace("12.5", "12.505")}, "jobs/one.yml", 6, "at most 2 decimals"),
    ("infinite price", {"jobs/one.yml": JOB.replace("12.5", ".inf")}, "jobs/one.yml", 6, "at most 2 decimals"),
    ("price as text", {"jobs/one.yml": JOB.replace("12.5", '"12.5"')}, "jobs/one.yml", 6, "must be a number"),
    ("impossible date", {"jobs/one.yml": JOB.replace("2027-01-02", "2027-02-30")}, "jobs/one.yml", 8, "real date"),
    (
        "bad time",
        {"jobs/one.yml": JOB.replace("2027-01-01T08:00:00Z", "yesterday")},
        "jobs/one.yml",
        10,
        "history[0].at",
    ),
    ("bad site name", {"site.yaml": SITE.replace("acme-shop", "Acme_Shop")}, "site.yaml", 2, "name: must match"),
    (
        "number version",
        {"releases/web.yaml": RELEASE.replace('"v42"', "20261122")},
        "releases/web.yaml",
        4,
        "version: must be a string (quote it)",
    ),
    ("bad version", {"releases/web.yaml": RELEASE.replace('"v42"', '"v 42"')}, "releases/web.yaml", 4, "version"),
    (
        "relative invalidate path",
        {"releases/web.yaml": RELEASE.replace('"/*"', '"*"')},
        "releases/web.yaml",
        6,
        "invalidate.web[0]: must match",
    ),
    (
        "jobs invalidate path",
        {"site.yaml": SITE.replace("[/data/jobs.json]", "[data/jobs.json]")},
        "site.yaml",
        10,
        "jobs.invalidate.web[0]",
    ),
    (
        "bad runtime",
        {"fn/rewrite.yaml": FUNCTION.replace("cloudfront-js-1.0", "nodejs20.x")},
        "fn/rewrite.yaml",
        3,
        "runtime: must be one of cloudfront-js-1.0, cloudfront-js-2.0",
    ),
    (
        "test without expect",
        {"fn/rewrite.yaml": FUNCTION.replace("    expect: {request: {uri: /index.html}}\n", "")},
        "fn/rewrite.yaml",
        7,
        "tests[0]: missing required field 'expect'",
    ),
    ("duplicate key", {"jobs/one.yml": JOB + "status: completed\n"}, "jobs/one.yml", 11, "duplicate key 'status'"),
    ("python tag", {"jobs/x.yaml": "kind: !!python/object/apply:os.system [ls]\n"}, "jobs/x.yaml", 1, "not allowed"),
    ("non-string key", {"jobs/one.yml": JOB + "1: one\n"}, "jobs/one.yml", 1, "must be a string"),
    ("local tag", {"jobs/x.yaml": "kind: !shout Job\n"}, "jobs/x.yaml", 1, "tag '!shout' is not allowed"),
    ("set value", {"jobs/one.yml": JOB + "notes: !!set {a, b}\n"}, "jobs/one.yml", 11, "unsupported YAML value"),
    (
        "binary value",
        {"jobs/one.yml": JOB.replace("customer: Ada", "customer: !!binary aGk=")},
        "jobs/one.yml",
        4,
        "customer",
    ),
]


class TestBroken:
    """Every rule rejects its broken input with one `FILE:LINE: message`."""

    @pytest.mark.parametrize(("name", "overrides", "file", "line", "fragment"), BROKEN, ids=[b[0] for b in BROKEN])
    def test_rule(self, tmp_path: Path, name: str, overrides: dict[str, str], file: str, line: int | None,
                  fragment: str) -> None:
        """The error names the file, the line of the offending field and the rule."""
        desired = tree(tmp_path, valid_files(**overrides))
        error = only_error(desired, run_tests=False)
        prefix = f"{desired}/{file}:"
        assert error.startswith(prefix), error
        if line is not None:
            assert error.startswith(f"{prefix}{line}: "), error
        assert fragment in error

    def test_messages_never_echo_job_values(self, tmp_path: Path) -> None:
        """Errors may be logged: they name fields, not customer data or tokens."""
        job = JOB.replace("customer: Ada", "customer: [Ada Lovelace]").replace("AAAAbbbbCCCCdxyz0001", "tok!secret")
        errors = errors_of(tree(tmp_path, valid_files(**{"jobs/one.yml": job})), run_tests=False)
        assert len(errors) == 2
        assert not any("Lovelace" in e or "secret" in e for e in errors)


CROSS = [
    ("second site", {"z/site2.yaml": SITE}, "z/site2.yaml", 1, "a second Site document (the first is "),
    ("duplicate release", {"releases/again.yaml": RELEASE.replace("/acme/web/", "/acme/again/")}, "releases/web.yaml",
     2, "duplicate Release name 'web'"),
    ("shared parameter", {"releases/again.yaml": RELEASE.replace("name: web", "name: again")}, "releases/web.yaml",
     3, "parameter: parameter is already the pointer of Release 'again'"),
    ("duplicate function", {"fn/again.yaml": FUNCTION}, "fn/rewrite.yaml", 2, "duplicate Function name"),
    ("duplicate job id", {"jobs/two.yml": JOB.replace("AAAAbbbbCCCCdxyz0001", "AAAAbbbbCCCCdxyz0002")},
     "jobs/two.yml", 2, "duplicate job id 'job_0000000001'"),
    ("duplicate token", {"jobs/two.yml": JOB.replace("job_0000000001", "job_0000000002")},
     "jobs/two.yml", 3, "duplicate tracking token (first in"),
    ("release invalidates undeclared", {"releases/web.yaml": RELEASE.replace("{web:", "{mobile:")},
     "releases/web.yaml", 6, "distribution 'mobile'"),
    ("function invalidates undeclared", {"fn/rewrite.yaml": FUNCTION.replace("{web:", "{api:")},
     "fn/rewrite.yaml", 5, "distribution 'api'"),
    ("jobs invalidates undeclared", {"site.yaml": SITE.replace("invalidate: {web:", "invalidate: {cdn:")},
     "site.yaml", 10, "distribution 'cdn'"),
    ("jobs section missing", {"site.yaml": SITE.split("jobs:")[0]}, "site.yaml", 1, "no `jobs` section"),
    ("absolute code", {"fn/rewrite.yaml": FUNCTION.replace("code: rewrite.js", "code: /etc/hostname")},
     "fn/rewrite.yaml", 4, "not absolute"),
    ("code escapes", {"fn/rewrite.yaml": FUNCTION.replace("code: rewrite.js", "code: ../../outside.js")},
     "fn/rewrite.yaml", 4, "escapes the desired directory"),
    ("code missing", {"fn/rewrite.yaml": FUNCTION.replace("code: rewrite.js", "code: gone.js")},
     "fn/rewrite.yaml", 4, "not found"),
    ("code is a directory", {"fn/rewrite.yaml": FUNCTION.replace("code: rewrite.js", "code: ../jobs")},
     "fn/rewrite.yaml", 4, "not a regular file"),
    ("code too large", {"fn/rewrite.js": CODE + "//" + "x" * MAX_CODE_BYTES}, "fn/rewrite.yaml", 4,
     f"at most {MAX_CODE_BYTES}"),
]


class TestCrossDocument:
    """Rules across documents report the later document and the offending field."""

    @pytest.mark.parametrize(("name", "overrides", "file", "line", "fragment"), CROSS, ids=[c[0] for c in CROSS])
    def test_rule(self, tmp_path: Path, name: str, overrides: dict[str, str], file: str, line: int,
                  fragment: str) -> None:
        """One error at the right `FILE:LINE:`."""
        (tmp_path / "outside.js").write_text(CODE)
        desired = tree(tmp_path, valid_files(**overrides))
        error = only_error(desired, run_tests=False)
        assert error.startswith(f"{desired}/{file}:{line}: "), error
        assert fragment in error

    def test_code_exactly_10_kb_is_fine(self, tmp_path: Path) -> None:
        """The limit is inclusive: 10240 bytes pass."""
        code = CODE + "/" * (MAX_CODE_BYTES - len(CODE))
        assert len(load(tree(tmp_path, valid_files(**{"fn/rewrite.js": code})), run_tests=False).functions[0].code) \
            == MAX_CODE_BYTES

    def test_code_symlink_out_of_the_directory(self, tmp_path: Path) -> None:
        """A symlink inside the directory pointing outside is an escape."""
        (tmp_path / "outside.js").write_text(CODE)
        desired = tree(tmp_path, valid_files())
        (desired / "fn/rewrite.js").unlink()
        (desired / "fn/rewrite.js").symlink_to(tmp_path / "outside.js")
        assert "escapes the desired directory" in only_error(desired, run_tests=False)

    def test_code_fifo_is_refused_without_hanging(self, tmp_path: Path) -> None:
        """A FIFO as code is not opened for a blocking read."""
        desired = tree(tmp_path, valid_files())
        (desired / "fn/rewrite.js").unlink()
        os.mkfifo(desired / "fn/rewrite.js")
        assert "not a regular file" in only_error(desired, run_tests=False)

    def test_missing_site(self, tmp_path: Path) -> None:
        """No Site at all is an error naming the directory."""
        files = valid_files()
        del files["site.yaml"]
        assert only_error(tree(tmp_path, files), run_tests=False) == f"{tmp_path}/desired: no Site document " \
            "(exactly one is required)"

    def test_missing_directory(self, tmp_path: Path) -> None:
        """A desired directory that does not exist is one clean error."""
        assert "not found" in only_error(tmp_path / "nope")

    def test_failing_function_test(self, tmp_path: Path) -> None:
        """A failing test is a validation error at the test's line."""
        desired = tree(tmp_path, valid_files(**{"fn/rewrite.js": "function handler(e) { return e.request; }"}))
        assert only_error(desired) == (f"{desired}/fn/rewrite.yaml:7: test 'orders open the app': "
                                       "expected request.uri '/index.html', got '/order/7'")

    def test_tests_skipped_when_asked(self, tmp_path: Path) -> None:
        """`run_tests=False` loads without V8."""
        desired = tree(tmp_path, valid_files(**{"fn/rewrite.js": "function handler(e) { return e.request; }"}))
        assert load(desired, run_tests=False).functions[0].name == "acme-rewrite"


class TestAllAtOnce:
    """Every error is reported in one go, sorted."""

    def test_errors_from_many_files(self, tmp_path: Path) -> None:
        """Schema, YAML and cross-document errors all appear together, sorted."""
        files = valid_files(**{
            "a.yaml": "kind: Widget\n",
            "jobs/one.yml": JOB.replace("status: scheduled", "status: lost") + "extra: 1\n",
            "releases/web.yaml": RELEASE.replace("{web:", "{nope:"),
            "z/broken.yaml": "key: [\n",
        })
        errors = errors_of(tree(tmp_path, files))
        assert len(errors) == 5, errors
        positions = [(e.split(":")[0], int(e.split(":")[1])) for e in errors]
        assert positions == sorted(positions)  # by file, then line as a number
        assert [e.split(f"{tmp_path}/desired/")[1].split(":")[0] for e in errors] == \
            ["a.yaml", "jobs/one.yml", "jobs/one.yml", "releases/web.yaml", "z/broken.yaml"]

    def test_function_tests_run_despite_other_errors(self, tmp_path: Path) -> None:
        """A failing function test is reported alongside unrelated schema errors."""
        files = valid_files(**{"fn/rewrite.js": "function handler(e) { return e.request; }",
                               "jobs/one.yml": JOB + "extra: 1\n"})
        errors = errors_of(tree(tmp_path, files))
        assert len(errors) == 2 and "test 'orders open the app'" in errors[0] and "extra" in errors[1]

    def test_relative_root_is_shown_as_given(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """FILE is the root as given joined with the file's relative path."""
        tree(tmp_path, valid_files(**{"jobs/x.yaml": "kind: Widget\n"}))
        monkeypatch.chdir(tmp_path)
        assert only_error(Path("desired"), run_tests=False).startswith("desired/jobs/x.yaml:1: ")


BOMB = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *[f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(8)],
        "kind: Job",
    ]
)


class TestHostile:
    """Hostile input fails fast with a clean message: no hang, no traceback."""

    @pytest.mark.timeout(10)
    def test_billion_laughs(self, tmp_path: Path) -> None:
        """An alias-expansion bomb is refused well under a second."""
        desired = tree(tmp_path, valid_files(**{"bomb.yaml": BOMB}))
        started = time.perf_counter()
        error = only_error(desired, run_tests=False)
        assert time.perf_counter() - started < 1.0
        assert "alias" in error and error.startswith(f"{desired}/bomb.yaml:")

    def test_self_referencing_alias(self, tmp_path: Path) -> None:
        """A recursive structure is refused, not walked forever."""
        desired = tree(tmp_path, valid_files(**{"jobs/one.yml": JOB + "notes: &n [*n]\n"}))
        assert "nested deeper" in only_error(desired, run_tests=False)

    def test_modest_aliases_are_fine(self, tmp_path: Path) -> None:
        """Ordinary anchors and merge keys still work."""
        job = JOB.replace("price: {amount: 12.5, currency: EUR}", "price: &p {amount: 12.5, currency: EUR}")
        second = JOB.replace("0001", "0002").replace("price: {amount: 12.5, currency: EUR}", "price: *p")
        desired = load(tree(tmp_path, valid_files(**{"jobs/one.yml": job + second.replace("kind: Job", "---\nkind: Job")
                                                     .replace("price: *p", "price: {amount: 1, currency: EUR}")})))
        assert len(desired.jobs) == 2

    def test_not_utf8(self, tmp_path: Path) -> None:
        """Non-UTF-8 bytes give the line and the byte."""
        desired = tree(tmp_path, valid_files(**{"jobs/one.yml": JOB.encode().replace(b"Ada", b"Ad\xe9")}))
        assert only_error(desired) == f"{desired}/jobs/one.yml:4: not valid UTF-8 (byte 0xe9)"

    def test_control_character(self, tmp_path: Path) -> None:
        """A NUL byte is a YAML error with a line."""
        desired = tree(tmp_path, valid_files(**{"jobs/one.yml": JOB.replace("Ada", "A\x00da")}))
        assert only_error(desired).startswith(f"{desired}/jobs/one.yml:4: YAML")

    def test_file_too_large(self, tmp_path: Path) -> None:
        """A file over 1 MB is refused unread."""
        desired = tree(tmp_path, valid_files(**{"huge.yaml": "# " + "x" * 1_100_000 + "\n"}))
        assert "file too large" in only_error(desired)

    @pytest.mark.parametrize("nesting", ["[" * 5000 + "]" * 5000, "a: " + "[" * 600 + "]" * 600,
                                         "".join(" " * i + "k:\n" for i in range(400)) + " " * 400 + "k: v\n"])
    def test_deep_nesting(self, tmp_path: Path, nesting: str) -> None:
        """Deeply nested flow or block YAML is one clean error."""
        desired = tree(tmp_path, valid_files(**{"deep.yaml": nesting}))
        error = only_error(desired)
        assert error.startswith(f"{desired}/deep.yaml:")

    @pytest.mark.timeout(10)
    def test_fifo_named_yaml(self, tmp_path: Path) -> None:
        """A FIFO is reported, never opened."""
        desired = tree(tmp_path, valid_files())
        os.mkfifo(desired / "pipe.yaml")
        assert only_error(desired) == f"{desired}/pipe.yaml: not a regular file"

    def test_device_named_yaml(self, tmp_path: Path) -> None:
        """A symlink to a device outside the directory is not read."""
        desired = tree(tmp_path, valid_files())
        (desired / "zero.yaml").symlink_to("/dev/zero")
        assert "outside the desired directory" in only_error(desired)

    @pytest.mark.timeout(10)
    def test_symlink_loops(self, tmp_path: Path) -> None:
        """Looping file and directory symlinks neither hang nor crash."""
        desired = tree(tmp_path, valid_files())
        (desired / "loop.yaml").symlink_to("loop.yaml")
        (desired / "again").symlink_to(".")
        assert only_error(desired) == f"{desired}/loop.yaml: broken symbolic link"

    def test_symlinked_directory_inside_is_read_once(self, tmp_path: Path) -> None:
        """A directory symlink inside the tree is followed once, not duplicated."""
        desired = tree(tmp_path, valid_files())
        (desired / "alias").symlink_to("jobs")
        assert len(load(desired).jobs) == 1

    def test_symlinked_file_outside(self, tmp_path: Path) -> None:
        """A YAML symlink pointing out of the directory is an error."""
        (tmp_path / "other.yaml").write_text(JOB)
        desired = tree(tmp_path, valid_files())
        (desired / "other.yaml").symlink_to(tmp_path / "other.yaml")
        assert only_error(desired) == f"{desired}/other.yaml: symbolic link points outside the desired directory"


YAML_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20))
YAML_VALUES = st.recursive(
    YAML_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
KINDISH = st.fixed_dictionaries(
    {"kind": st.sampled_from(["Site", "Release", "Function", "Job", "Other"])},
    optional={k: YAML_VALUES for k in ("name", "id", "token", "price", "invalidate", "code", "tests", "jobs",
                                        "distributions", "status", "scheduled", "history")},
)


class TestFuzz:
    """Whatever the input, `load` returns a Desired or raises InvalidDesired, nothing else."""

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
    @given(text=st.text(max_size=300))
    def test_random_text(self, tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
        """Random text as a YAML file."""
        desired = tree(tmp_path_factory.mktemp("fuzz"), valid_files(**{"jobs/fuzz.yaml": text}))
        try:
            load(desired, run_tests=False)
        except InvalidDesired as exc:
            assert exc.errors and all(e.startswith(str(desired)) for e in exc.errors)

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
    @given(docs=st.lists(KINDISH, min_size=1, max_size=3))
    def test_random_documents(self, tmp_path_factory: pytest.TempPathFactory, docs: list[dict[str, object]]) -> None:
        """Random documents with plausible kinds and fields."""
        import yaml

        text = yaml.safe_dump_all(docs, allow_unicode=True)
        desired = tree(tmp_path_factory.mktemp("fuzz"), valid_files(**{"jobs/fuzz.yaml": text}))
        try:
            load(desired, run_tests=False)
        except InvalidDesired as exc:
            assert exc.errors and all(e.startswith(str(desired)) for e in exc.errors)


class TestLoader:
    """The daemon's loader re-parses only what changed."""

    def test_unchanged_files_are_not_reparsed(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A second load with no change parses nothing; a touched file is parsed again."""
        from reconciler.loading import loader as loading

        desired = tree(tmp_path, valid_files())
        loader = Loader(desired)
        parsed: list[str] = []
        original = loading._parse_file
        def parse(path: Any, shown: str) -> Any:
            parsed.append(shown)
            return original(path, shown)

        monkeypatch.setattr(loading, "_parse_file", parse)
        loader.load()
        assert len(parsed) == 4
        parsed.clear()
        loader.load()
        assert parsed == []
        job = desired / "jobs/one.yml"
        job.write_text(JOB.replace("Ada", "Grace"))
        os.utime(job, ns=(time.time_ns(), time.time_ns() + 10_000_000))
        assert loader.load().jobs[0].document["customer"] == "Grace"
        assert parsed == [str(job)]

    def test_function_tests_are_cached(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Tests run again only when code, runtime or tests change."""
        from reconciler.loading import functests

        desired = tree(tmp_path, valid_files())
        loader = Loader(desired)
        runs: list[str] = []
        original = functests.check
        def check(f: Any) -> Any:
            runs.append(f.name)
            return original(f)

        monkeypatch.setattr(functests, "check", check)
        loader.load()
        loader.load()
        assert runs == ["acme-rewrite"]
        (desired / "fn/rewrite.js").write_text(CODE.replace("/index.html", "/app.html"))
        with pytest.raises(InvalidDesired):
            loader.load()
        assert runs == ["acme-rewrite", "acme-rewrite"]

    def test_errors_clear_after_a_fix(self, tmp_path: Path) -> None:
        """A fixed file makes the next load succeed."""
        desired = tree(tmp_path, valid_files(**{"jobs/one.yml": "kind: [\n"}))
        loader = Loader(desired)
        with pytest.raises(InvalidDesired):
            loader.load()
        (desired / "jobs/one.yml").write_text(JOB)
        assert loader.load().jobs[0].id == "job_0000000001"

    def test_deleted_files_disappear(self, tmp_path: Path) -> None:
        """A removed job is gone at the next load."""
        desired = tree(tmp_path, valid_files())
        loader = Loader(desired)
        assert len(loader.load().jobs) == 1
        (desired / "jobs/one.yml").unlink()
        assert loader.load().jobs == ()
