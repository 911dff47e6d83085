"""The committed reliability table is well-formed, and the test run never rewrites it.

The table is refreshed on purpose with `python -m tests.reliability.table --write`; these tests
read the committed copies (docs/reliability-table.md and the README's block) and check them.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.reliability import table as t

ROW = re.compile(r"^\| (?P<scenario>(?:[^|\\]|\\.)+) \| (?P<result>(?:[^|\\]|\\.)+) \|$")
RUN = re.compile(r"^Run: \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC, Python [\d.]+(, [\d.]+ s)?, (?P<n>\d+) scenarios\.$")


def sections(text: str) -> dict[str, list[str]]:
    """Each `## title` of the table with the lines under it."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = found.setdefault(line[3:], [])
        elif current is not None and line:
            current.append(line)
    return found


class TestCommittedTable:
    def test_starts_with_the_generated_header_and_a_run_line(self) -> None:
        """The page says how it is made, then when and how many scenarios ran."""
        lines = t.TABLE.read_text().splitlines()
        assert lines[: len(t.HEADER)] == t.HEADER
        assert RUN.match(lines[len(t.HEADER)]), lines[len(t.HEADER)]

    def test_every_category_has_a_table_of_rows_in_order(self) -> None:
        """One section per category, in the fixed order, each a two-column table with rows."""
        found = sections(t.TABLE.read_text())
        assert list(found) == list(t.CATEGORIES.values())
        for title, lines in found.items():
            assert lines[:2] == ["| scenario | result |", "|---|---|"], title
            assert len(lines) > 2, f"{title}: no scenario"
            bad = [line for line in lines[2:] if not ROW.match(line)]
            assert bad == [], f"{title}: malformed rows {bad}"

    def test_scenario_count_matches_the_rows(self) -> None:
        """The run line's count is the number of rows below it."""
        text = t.TABLE.read_text()
        match = RUN.match(text.splitlines()[len(t.HEADER)])
        assert match is not None
        rows = sum(len(lines) - 2 for lines in sections(text).values())
        assert int(match["n"]) == rows

    def test_readme_carries_the_same_table(self) -> None:
        """The README's block between its markers is the committed table, headings one level down."""
        readme = t.README.read_text()
        block = readme.split(t.START, 1)[1].split(t.END, 1)[0]
        assert block.strip() == t.readme_block(t.TABLE.read_text())


class TestGeneration:
    def test_a_test_run_writes_only_an_ignored_file(self) -> None:
        """The session hook's target is under build/, which git ignores: the run leaves the tree as it was."""
        assert t.BUILT.parent.name == "build"
        done = subprocess.run(["git", "check-ignore", "-q", str(t.BUILT)], cwd=t.ROOT, capture_output=True, timeout=30)
        assert done.returncode == 0, "build/reliability-table.md is not ignored by git"
        assert t.write.__defaults__ == (t.BUILT, None)

    def test_publish_copies_a_rendered_table_into_page_and_readme(self, tmp_path: Path) -> None:
        """`--write`'s copy step: the page gets the table, the README's block its body; the rest stays."""
        rows = [("fault", "PutObject: 500 | once", "converged"), ("secrets", "token in a log", "redacted")]
        source = tmp_path / "built.md"
        source.write_text(t.render(rows, seconds=1.5))
        page, readme = tmp_path / "table.md", tmp_path / "README.md"
        page.write_text("old\n")
        readme.write_text(f"before\n{t.START}\nold\n{t.END}\nafter\n")
        t.publish(source, page, readme)
        assert page.read_text() == source.read_text()
        text = readme.read_text()
        assert text.startswith(f"before\n{t.START}\n") and text.endswith(f"{t.END}\nafter\n")
        assert "#### Faults injected" in text and "PutObject: 500 \\| once" in text
        assert "old" not in text and "# Reliability table" not in text

    def test_command_refuses_without_a_mode(self) -> None:
        """The refresh command does nothing unless asked to write."""
        done = subprocess.run(
            [sys.executable, "-m", "tests.reliability.table"],
            cwd=t.ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2 and "--write" in done.stderr
