"""Hostile desired directories: every one is refused quickly with `FILE[:LINE]: message` lines,
never a traceback, and nothing is applied (no AWS client is even created)."""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler import cli
from reconciler.core.errors import InvalidDesired
from reconciler.core.settings import AwsSettings, Settings
from reconciler.cycle.reconciling import Reconciler
from reconciler.loading import load
from tests.reliability.ondisk import write_desired

LINE = re.compile(r"^(?P<file>[^\n:]+)(?::(?P<line>\d+))?: (?P<message>[^\n]+)$")
QUICK = 3.0
"""CPU seconds any hostile directory may take to be refused (CPU, not wall-clock: on a shared
machine another process's load must not fail the test, and a bomb still shows as CPU)."""
QUICK_WALL = 15.0
"""Wall-clock seconds: a refusal that blocks (reading a FIFO) uses no CPU but must still fail."""


def desired_dir(tmp_path: Path) -> Path:
    return write_desired(tmp_path, secrets.token_hex(4)).desired


def refuse(root: Path, culprit: str) -> list[str]:
    """Load `root`: InvalidDesired, quickly, one `FILE[:LINE]: message` per error, naming `culprit`."""
    started, wall = time.process_time(), time.monotonic()  # CPU: helpers sharing the machine do not count
    with pytest.raises(InvalidDesired) as caught:
        load(root)
    elapsed = time.process_time() - started
    assert elapsed < QUICK, f"took {elapsed:.1f} s of CPU"
    assert time.monotonic() - wall < QUICK_WALL, "blocked (a FIFO or a device read?)"
    errors = caught.value.errors
    assert errors
    for error in errors:
        assert LINE.match(error), repr(error)
        assert "Traceback" not in error
    assert any(culprit in LINE.match(e)["file"] for e in errors), errors  # type: ignore[index]
    return errors


def nothing_applied(root: Path, tmp_path: Path) -> None:
    settings = Settings(desired=root, state_dir=tmp_path / "state", aws=AwsSettings(endpoint_url="http://127.0.0.1:9"))
    reconciler = Reconciler(settings, self_heal=True)
    result = reconciler.reconcile("startup")
    assert result.result == "invalid"
    assert reconciler.clients is None  # no AWS client was made: nothing read, nothing written


def validate_cli(root: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    code = cli.main(["validate", "--desired", str(root)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in err and out == ""
    lines = err.strip().splitlines()
    assert all(LINE.match(line) for line in lines), lines
    return lines


BILLION_LAUGHS = """kind: Job
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def _symlink_loop(d: Path) -> str:
    os.symlink("loop.yaml", d / "loop.yaml")
    return "loop.yaml"


def _dev_zero(d: Path) -> str:
    os.symlink("/dev/zero", d / "zero.yaml")
    return "zero.yaml"


def _dev_zero_code(d: Path) -> str:
    os.symlink("/dev/zero", d / "functions" / "zero.js")
    text = (d / "functions" / "rewrite.yaml").read_text().replace("code: rewrite.js", "code: zero.js")
    (d / "functions" / "rewrite.yaml").write_text(text)
    return "rewrite.yaml"


def _fifo(d: Path) -> str:
    os.mkfifo(d / "pipe.yaml")
    return "pipe.yaml"


def _fifo_code(d: Path) -> str:
    os.mkfifo(d / "functions" / "pipe.js")
    text = (d / "functions" / "rewrite.yaml").read_text().replace("code: rewrite.js", "code: pipe.js")
    (d / "functions" / "rewrite.yaml").write_text(text)
    return "rewrite.yaml"


def _big(d: Path) -> str:
    with open(d / "big.yaml", "wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    return "big.yaml"


def _big_code(d: Path) -> str:
    with open(d / "functions" / "rewrite.js", "ab") as fh:
        fh.truncate(50 * 1024 * 1024)
    return "rewrite.yaml"


def _deep_flow(d: Path) -> str:
    (d / "deep.yaml").write_text("kind: Job\nnotes: " + "[" * 100_000 + "]" * 100_000 + "\n")
    return "deep.yaml"


def _deep_block(d: Path) -> str:
    text = "kind: Job\n" + "".join("  " * i + "k:\n" for i in range(300)) + "  " * 300 + "v\n"
    (d / "deepblock.yaml").write_text(text)
    return "deepblock.yaml"


def _duplicate_keys(d: Path) -> str:
    path = next((d / "jobs").iterdir())
    path.write_text(path.read_text() + "status: cancelled\n")
    return path.name


def _python_tag(d: Path) -> str:
    (d / "evil.yaml").write_text(f"kind: Job\nid: !!python/object/apply:os.system ['touch {d}/pwned']\n")
    return "evil.yaml"


def _python_name(d: Path) -> str:
    (d / "evil2.yaml").write_text("kind: !!python/name:os.system Job\n")
    return "evil2.yaml"


def _billion_laughs(d: Path) -> str:
    (d / "laughs.yaml").write_text(BILLION_LAUGHS)
    return "laughs.yaml"


def _non_utf8(d: Path) -> str:
    path = next((d / "jobs").iterdir())
    path.write_bytes(path.read_bytes().replace(b"Mark Marker", "M\xfcller".encode("latin-1")))
    return path.name


def _utf16(d: Path) -> str:
    (d / "utf16.yaml").write_bytes("kind: Job\nid: job_x\n".encode("utf-16"))
    return "utf16.yaml"


def _nul_bytes(d: Path) -> str:
    (d / "nul.yaml").write_bytes(b"kind: Job\nid: job_\x00x\n")
    return "nul.yaml"


def _code_escape(d: Path) -> str:
    text = (d / "functions" / "rewrite.yaml").read_text().replace("code: rewrite.js", "code: ../../../../etc/passwd")
    (d / "functions" / "rewrite.yaml").write_text(text)
    return "rewrite.yaml"


def _code_symlink_out(d: Path) -> str:
    (d / "functions" / "rewrite.js").unlink()
    os.symlink("/etc/passwd", d / "functions" / "rewrite.js")
    return "rewrite.yaml"


def _yaml_symlink_out(d: Path) -> str:
    outside = d.parent / "outside.yaml"
    outside.write_text("kind: Job\n")
    os.symlink(outside, d / "inside.yaml")
    return "inside.yaml"


def _huge_key_count(d: Path) -> str:
    (d / "wide.yaml").write_text("kind: Job\n" + "".join(f"k{i}: {i}\n" for i in range(60_000)))
    return "wide.yaml"


def _merge_bomb(d: Path) -> str:
    """yaml/pyyaml#897: each level merges the previous one twice (2^19 pairs from ~20 KB)."""
    lines = ["kind: Job", "base0: &L0 {k0_0: v0}"]
    for level in range(1, 19):
        keys = ", ".join(f"k{level}_{i}: v" for i in range(4))
        lines.append(f"L{level}: &L{level} {{<<: [*L{level - 1}, *L{level - 1}], {keys}}}")
    lines.append("notes: {<<: [*L18, *L18]}")
    (d / "merge.yaml").write_text("\n".join(lines) + "\n")
    return "merge.yaml"


def _merge_chain(d: Path) -> str:
    """A chain of 3,000 mappings, each merging the one before: quadratic even in PyYAML 6.0.4."""
    lines = ["kind: Job", "a0: &a0 {k0: 0}"]
    lines += [f"a{i}: &a{i} {{<<: *a{i - 1}, k{i}: {i}}}" for i in range(1, 3000)]
    (d / "chain.yaml").write_text("\n".join(lines) + "\nnotes: *a2999\n")
    return "chain.yaml"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (old, text)
    path.write_text(text.replace(old, new, 1))


def _shared_parameter(d: Path) -> str:
    text = (d / "releases.yaml").read_text()
    first = text.split("parameter: ", 1)[1].split("\n", 1)[0]
    second = text.split("parameter: ")[2].split("\n", 1)[0]
    (d / "releases.yaml").write_text(text.replace(second, first))
    return "releases.yaml"


def _version_dots(version: str) -> Callable[[Path], str]:
    def make(d: Path) -> str:
        _edit(d / "releases.yaml", 'version: "v1"', f'version: "{version}"')
        return "releases.yaml"

    return make


def _require(entry: str) -> Callable[[Path], str]:
    def make(d: Path) -> str:
        _edit(d / "releases.yaml", "require: [index.html, app.js]", f"require: [index.html, {entry}]")
        return "releases.yaml"

    return make


def _require_thousands(d: Path) -> str:
    many = ", ".join(f"f{i}.html" for i in range(5000))
    _edit(d / "releases.yaml", "require: [index.html, app.js]", f"require: [{many}]")
    return "releases.yaml"


def _code_is_a_job_file(d: Path) -> str:
    job = next((d / "jobs").iterdir()).name
    _edit(d / "functions" / "rewrite.yaml", "code: rewrite.js", f"code: ../jobs/{job}")
    return "rewrite.yaml"


def _code_not_js(d: Path) -> str:
    (d / "functions" / "rewrite.txt").write_text("function handler(e) { return e.request; }\n")
    _edit(d / "functions" / "rewrite.yaml", "code: rewrite.js", "code: rewrite.txt")
    return "rewrite.yaml"


def _low_entropy_token(token: str) -> Callable[[Path], str]:
    def make(d: Path) -> str:
        path = next((d / "jobs").iterdir())
        text = path.read_text()
        old = text.split("token: ", 1)[1].split("\n", 1)[0]
        path.write_text(text.replace(old, f'"{token}"'))
        return path.name

    return make


CASES: dict[str, tuple[Callable[[Path], str], str]] = {
    "merge-key bomb (<<: [*L, *L] x 18 levels)": (_merge_bomb, "merge"),
    "merge-key chain (3,000 mappings)": (_merge_chain, "merge"),
    "two Releases sharing one SSM parameter": (_shared_parameter, "already the pointer"),
    "Release version '.'": (_version_dots("."), "version"),
    "Release version '..'": (_version_dots(".."), "version"),
    "require entry absolute (/etc/passwd)": (_require("/etc/passwd"), "absolute"),
    "require entry with .. (../other/index.html)": (_require("../other/index.html"), "'..'"),
    "require entry a URL (https://evil.example/x)": (_require("'https://evil.example/x'"), "URL"),
    "require entry empty ('')": (_require("''"), "require[1]"),
    "require with 5,000 entries": (_require_thousands, "at most 100"),
    "function code pointing at a job file": (_code_is_a_job_file, ".js"),
    "function code not a .js file": (_code_not_js, ".js"),
    "tracking token 0000000000000000": (_low_entropy_token("0000000000000000"), "distinct"),
    "tracking token of 7 distinct characters": (_low_entropy_token("abcdefgabcdefgabcdefg"), "distinct"),
    "symlink loop (x.yaml -> x.yaml)": (_symlink_loop, "loop"),
    "/dev/zero symlinked in as YAML": (_dev_zero, "zero"),
    "/dev/zero as function code": (_dev_zero_code, "code"),
    "FIFO named *.yaml": (_fifo, "fifo"),
    "FIFO as function code": (_fifo_code, "fifo"),
    "50 MB YAML file (sparse)": (_big, "big"),
    "50 MB function code": (_big_code, "big"),
    "100k-deep flow nesting": (_deep_flow, "deep"),
    "300-deep block nesting": (_deep_block, "deep"),
    "duplicate key in a job": (_duplicate_keys, "dup"),
    "!!python/object/apply tag": (_python_tag, "tag"),
    "!!python/name tag": (_python_name, "tag"),
    "billion laughs (9^9 aliases)": (_billion_laughs, "alias"),
    "non-UTF-8 (Latin-1) bytes": (_non_utf8, "encoding"),
    "UTF-16 file": (_utf16, "encoding"),
    "NUL byte": (_nul_bytes, "encoding"),
    "code path escaping with ..": (_code_escape, "escape"),
    "code symlinked to /etc/passwd": (_code_symlink_out, "escape"),
    "YAML symlinked from outside": (_yaml_symlink_out, "escape"),
    "60,000 keys in one document": (_huge_key_count, "wide"),
}


WHY = {
    "merge-key bomb (<<: [*L, *L] x 18 levels)": "values after alias and merge-key expansion",
    "merge-key chain (3,000 mappings)": "values after alias and merge-key expansion",
    'two Releases sharing one SSM parameter': 'parameter: parameter is already the pointer of Release',
    "Release version '.'": 'version: must be a version name',
    "Release version '..'": 'version: must be a version name',
    'require entry absolute (/etc/passwd)': 'require[1]: must be relative to the version folder, not absolute',
    'require entry with .. (../other/index.html)': "require[1]: must not contain '.' or '..' segments",
    'require entry a URL (https://evil.example/x)': 'require[1]: must be a key relative to the version folder, not a URL',  # noqa: E501
    "require entry empty ('')": 'require[1]:',
    'require with 5,000 entries': 'require: at most 100 entries',
    'function code pointing at a job file': 'code: must be a .js file',
    'function code not a .js file': 'code: must be a .js file',
    'tracking token 0000000000000000': 'token: must have at least 8 distinct characters',
    'tracking token of 7 distinct characters': 'token: must have at least 8 distinct characters',
}
"""What the one error line of each well-formed-but-wrong case says."""


@pytest.mark.timeout(20)
@pytest.mark.parametrize("name", list(CASES))
def test_hostile_input_is_refused(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], table: Any) -> None:
    """Refused with FILE[:LINE]: message, in seconds, no traceback, nothing applied."""
    root = desired_dir(tmp_path)
    make, _ = CASES[name]
    culprit = make(root)
    started = time.monotonic()
    errors = refuse(root, culprit)
    assert WHY.get(name, "") in "\n".join(errors), errors
    elapsed = time.monotonic() - started
    assert not (root / "pwned").exists()
    lines = validate_cli(root, capsys)
    assert lines == errors
    nothing_applied(root, tmp_path)
    first = errors[0].replace(str(root), "desired")
    table("hostile", name, f"refused in {elapsed * 1000:.0f} ms: `{first[:110]}`; nothing applied")


@pytest.mark.timeout(20)
def test_directory_symlink_loop_terminates(tmp_path: Path, table: Any) -> None:
    """A directory symlinked into itself is walked once: no hang, no duplicated documents."""
    root = desired_dir(tmp_path)
    os.symlink(".", root / "again")
    os.symlink("..", root / "jobs" / "up")
    started = time.monotonic()
    desired = load(root)
    elapsed = time.monotonic() - started
    assert elapsed < QUICK
    assert len(desired.jobs) == 1 and len(desired.releases) == 2
    table(
        "hostile",
        "directory symlink loops (again -> ., jobs/up -> ..)",
        f"walked once in {elapsed * 1000:.0f} ms; no duplicates",
    )


def test_apply_cli_refuses_hostile_input_without_traceback(tmp_path: Path, table: Any) -> None:
    """`python -m reconciler apply` on a hostile directory: exit 1, validation.failed, no traceback."""
    from tests.reliability.ondisk import DiskStack, reconciler

    root = desired_dir(tmp_path)
    _billion_laughs(root)
    _python_tag(root)
    stack = DiskStack(tmp_path, "x", root, tmp_path / "state")
    result = reconciler(stack, "http://127.0.0.1:9", "apply")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert '"validation.failed"' in result.stdout
    assert not (root / "pwned").exists()
    table(
        "hostile",
        "apply (CLI) on billion laughs + !!python tag",
        "exit 1, validation.failed, no AWS call, no traceback",
    )


YAML_ISH = st.text(
    alphabet=st.sampled_from(list("kind:JobSte Rl-[]{}&*!|>'\"#\n\t ,?%@`0123456789abcxyz\\\x00\xe9")), max_size=300
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=YAML_ISH)
def test_fuzzed_yaml_never_escapes_as_a_traceback(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    """Any text in one more file: the loader either loads or refuses with one-line errors."""
    root = desired_dir(tmp_path_factory.mktemp("fuzz"))
    (root / "fuzz.yaml").write_text(text, encoding="utf-8", errors="surrogateescape")
    try:
        load(root, run_tests=False)
    except InvalidDesired as exc:
        assert exc.errors and all(LINE.match(e) for e in exc.errors), exc.errors


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200))
def test_fuzzed_bytes_never_escape_as_a_traceback(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    """Arbitrary bytes in a job file: loads or one-line errors, never another exception."""
    root = desired_dir(tmp_path_factory.mktemp("fuzzb"))
    (root / "bytes.yaml").write_bytes(data)
    try:
        load(root, run_tests=False)
    except InvalidDesired as exc:
        assert exc.errors and all(LINE.match(e) for e in exc.errors), exc.errors
