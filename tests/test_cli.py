"""The command line itself: `--help` everywhere, and usage errors exit 64 (never 2, which `plan` owns)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler import cli

PROJECT = Path(__file__).resolve().parent.parent


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    found = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(found[0].choices)


def exit_of(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    out, err = capsys.readouterr()
    return int(stop.value.code or 0), out, err


class TestHelp:
    """Every command says what it does and what each option means."""

    def test_top_level_lists_every_command_with_a_summary(self, capsys: pytest.CaptureFixture[str]) -> None:
        """`reconciler --help` names each command and its one-line summary, exit 0."""
        code, out, _ = exit_of(["--help"], capsys)
        assert code == 0
        for name, command in _subcommands(cli.build_parser()).items():
            summary = (command.description or "").splitlines()[0]
            assert f"    {name} " in out and summary.split()[0] in out

    def test_version(self, capsys: pytest.CaptureFixture[str]) -> None:
        """`reconciler --version` prints the installed version, exit 0."""
        code, out, _ = exit_of(["--version"], capsys)
        assert code == 0 and out.startswith("reconciler ") and len(out.splitlines()) == 1

    @pytest.mark.parametrize("name", sorted(cli.HANDLERS))
    def test_each_command_describes_itself_and_its_exit_status(
        self, name: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`reconciler CMD --help` shows a description, the exit status and the common options."""
        code, out, err = exit_of([name, "--help"], capsys)
        assert code == 0 and err == ""
        assert f"usage: reconciler {name}" in out
        assert "exit status: " in out and "--endpoint-url URL" in out

    @pytest.mark.parametrize("name", sorted(cli.HANDLERS))
    def test_every_option_has_help(self, name: str) -> None:
        """No option is left without a sentence (argparse's own --help aside)."""
        command = _subcommands(cli.build_parser())[name]
        undocumented = [a.option_strings or [a.dest] for a in command._actions if not a.help]
        assert undocumented == []


class TestUsageErrors:
    """A usage error is one line saying what is wrong, then the usage, on stderr; exit 64."""

    @pytest.mark.parametrize(
        ("argv", "message"),
        [
            ([], "reconciler: error: the following arguments are required: COMMAND"),
            (["plna"], "reconciler: error: argument COMMAND: invalid choice: 'plna'"),
            (["plan", "--jsn"], "reconciler plan: error: unrecognized arguments: --jsn"),
            (["--jsn", "plan"], "reconciler plan: error: unrecognized arguments: --jsn"),
            (["plan", "--json", "--markdown"], "reconciler plan: error: argument --markdown: not allowed with"),
            (["new-job", "--customer", "A"], "reconciler new-job: error: the following arguments are required: "
                                             "--address, --price"),
            (["new-job", "--customer", "A", "--address", "B", "--price", "1.234"],
             "reconciler new-job: error: argument --price: must be a number >= 0 with at most 2 decimals"),
            (["new-job", "--customer", "A", "--address", "B", "--price", "1", "--status", "lost"],
             "reconciler new-job: error: argument --status: must be one of requested,"),
            (["run", "--interval", "soon"], "reconciler run: error: argument --interval: not a number of seconds"),
            (["run", "--interval", "0"], "reconciler run: error: argument --interval: must be a number of seconds"),
            (["sandbox", "--port", "70000"], "reconciler sandbox: error: argument --port: not a TCP port"),
            (["--log-format", "xml", "plan"], "reconciler: error: argument --log-format: invalid choice: 'xml'"),
        ],
    )
    def test_exit_64_with_one_line_and_the_usage(
        self, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The first stderr line says what is wrong; the usage of the command at fault follows."""
        code, out, err = exit_of(argv, capsys)
        assert code == cli.USAGE_ERROR == 64
        assert out == ""
        first, *rest = err.splitlines()
        assert first.startswith(message), first
        assert rest[0].startswith("usage: reconciler") and "Traceback" not in err
        assert err.splitlines()[-1].endswith("--help' for help.")

    def test_a_real_process_exits_64(self, tmp_path: Path) -> None:
        """`python -m reconciler` with an unknown option: the process's status is 64, not argparse's 2."""
        env = dict(os.environ, PYTHONPATH=str(PROJECT))
        result = subprocess.run([sys.executable, "-m", "reconciler", "status", "--bogus"], capture_output=True,
                                text=True, env=env, cwd=tmp_path, timeout=60)
        assert result.returncode == 64, result.stderr
        assert result.stderr.startswith("reconciler status: error: unrecognized arguments: --bogus\n")
