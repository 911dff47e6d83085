"""Redaction and escaping of printed values: pure, no AWS."""

from __future__ import annotations

import io
import json

import pytest

from reconciler import events
from reconciler.events.escaping import markdown_text, printable
from reconciler.events.redaction import MARKER, Registry, job_secrets


class TestRegistry:
    def test_a_secret_containing_another_never_leaks_in_part(self) -> None:
        """Longest cover first: 'Mark' inside 'Mark Smithson' does not leave ' Smithson' behind."""
        r = Registry()
        r.add(["Mark", "Mark Smithson"])
        assert r.redact("customer Mark Smithson here") == f"customer {MARKER} here"

    def test_overlapping_secrets_are_one_marker(self) -> None:
        """Two secrets overlapping in the text ('abcd', 'cdef') leave nothing of either."""
        r = Registry()
        r.add(["abcdXY", "XYefgh"])
        assert r.redact("_abcdXYefgh_") == f"_{MARKER}_"

    @pytest.mark.parametrize("word", ["done", "failed", "applied", "status", "in_sync", "customer"])
    def test_the_reconcilers_own_words_are_never_secrets(self, word: str) -> None:
        """A job field whose value is `done` does not turn structure into [redacted]."""
        r = Registry()
        r.add([word])
        assert r.redact(f"reconcile.{word} result={word}") == f"reconcile.{word} result={word}"

    def test_part_of_a_vocabulary_word_is_redacted_as_a_word_only(self) -> None:
        """A note 'complete' is redacted alone but does not shred 'completed'."""
        r = Registry()
        r.add(["complete"])
        assert r.redact("completed; complete") == f"completed; {MARKER}"

    @pytest.mark.parametrize("secret", ["A", "Al", "Bo "])
    def test_short_secrets_are_redacted_as_whole_words(self, secret: str) -> None:
        """Customer data of any length is redacted, without shredding longer words."""
        r = Registry()
        r.add([secret])
        assert r.redact(f"job for {secret.strip()}, Alert Body") == f"job for {MARKER}, Alert Body"

    def test_short_secret_with_punctuation_is_redacted_as_a_whole(self) -> None:
        """`A.B` is not one `\\w+` word: still found, still only where it stands alone."""
        r = Registry()
        r.add(["A.B"])
        assert r.redact("by A.B, not XA.BY") == f"by {MARKER}, not XA.BY"

    def test_registry_only_grows(self) -> None:
        """A value a job used to have stays secret after the job was edited."""
        r = Registry()
        r.add(["Old Street 1"])
        r.add(["New Street 2"])
        assert MARKER in r.redact("Old Street 1") and MARKER in r.redact("New Street 2")

    def test_vocabulary_added_later_unregisters_a_clashing_secret(self) -> None:
        """A customer named like a distribution: the distribution name stays printable."""
        r = Registry()
        r.add(["dashboard"])
        r.add_vocabulary(["dashboard"])
        assert r.redact("invalidation/dashboard") == "invalidation/dashboard"

    def test_many_secrets_short_text(self) -> None:
        """The substring path (many secrets, a short text) finds the same as the scan."""
        r = Registry()
        r.add([f"secret{i:05d}" for i in range(5000)])
        assert r.redact("x secret04999 y") == f"x {MARKER} y"
        assert r.redact("nothing here") == "nothing here"

    def test_job_secrets_are_the_customer_fields(self) -> None:
        doc = {"id": "job_1", "token": "t" * 16, "customer": "C", "address": "A", "notes": "N", "status": "done"}
        assert sorted(job_secrets([doc, "not a job", {"customer": 5}])) == ["A", "C", "N", "t" * 16]


class TestProcessor:
    def test_event_names_levels_and_keys_are_never_redacted(self) -> None:
        """status --json and the log stay parseable whatever a job's values are."""
        saved = events._registry
        events._registry = Registry()
        try:
            events.register_secrets(["reconcile", "error", "result", "Zed Customer"])
            out = io.StringIO()
            events.configure("json", out)
            events.log().error("reconcile.done", result="failed", note="by Zed Customer")
            line = json.loads(out.getvalue())
            assert line["event"] == "reconcile.done" and line["level"] == "error"
            assert line["result"] == "failed" and line["note"] == f"by {MARKER}"
        finally:
            events._registry = saved


    def test_console_lines_escape_live_values(self) -> None:
        """--log-format console: an ANSI escape or newline in a value is shown, not obeyed."""
        out = io.StringIO()
        events.configure("console", out)
        events.log().warning("drift.detected", resource="release/web", live="v9\x1b[2J\nforged line")
        text = out.getvalue()
        assert "\x1b[2J" not in text and "\\x1b[2J" in text and text.count("\n") == 1


class TestEscaping:
    @pytest.mark.parametrize(
        ("raw", "shown"),
        [
            ("v1\x1b[31mred", "v1\\x1b[31mred"),
            ("v1\nupdate release/x: forged", "v1\\nupdate release/x: forged"),
            ("a\rb\tc\x00", "a\\rb\\tc\\x00"),
            ("rtl\u202eevil", "rtl\\u202eevil"),
            ("plain 20261122-1530", "plain 20261122-1530"),
        ],
    )
    def test_printable_is_one_inert_line(self, raw: str, shown: str) -> None:
        assert printable(raw) == shown

    def test_markdown_text_has_no_mention_link_or_html(self) -> None:
        text = markdown_text("@org/team [x](https://evil) <img src=x>")
        for live in ("@", "[", "](", "<img", "https://"):
            assert live not in text


class TestShownPlan:
    def test_every_field_of_every_action_is_redacted_and_escaped(self) -> None:
        """Live values (an SSM value, live code, live job keys) reach the renderers cleaned."""
        from reconciler.core.actions import FieldChange, FunctionAction, JobChanges, JobsAction, Plan, ReleaseAction
        from reconciler.reports.sanitizing import shown_plan

        saved = events._registry
        events._registry = Registry()
        try:
            events.register_secrets(["Zed Customer"])
            release = ReleaseAction(
                "update", "release/web", {"web": ("/*",)},
                name="web", parameter="/s/web", old="v1\x1b[31m\nforged", new="v2", bucket="b", require=("index.html",),
            )
            code = "var who = 'Zed Customer';\x1b[2J\n"
            function = FunctionAction(
                "update", "function/f", {},
                name="f", fields=("code", "comment"), settings={"comment": ("Zed Customer", "")},
                changes=(FieldChange("code", code, "var who = '';\n"), FieldChange("comment", "Zed\nCustomer", "")),
                diff="-var who = 'Zed Customer';\n+var who = '';\n", development_etag="E", tests=(),
            )
            jobs = JobsAction(
                "update", "jobs/d/jobs.json", {}, bucket="d", key="jobs.json", etag=None,
                jobs=JobChanges(added=("Zed Customer",), changed={"job_1\x1b[2J": ("customer",)}),
            )
            shown = shown_plan(Plan((release, function, jobs))).actions
            assert isinstance(shown[0], ReleaseAction)
            assert shown[0].old == "v1\\x1b[31m\\nforged"
            assert shown[0].changes[0].before == "v1\\x1b[31m\\nforged"
            assert (shown[0].action, shown[0].resource, shown[0].kind) == ("update", "release/web", "release")
            assert shown[0].invalidate == {"web": ("/*",)}
            assert isinstance(shown[1], FunctionAction)
            assert shown[1].diff == f"-var who = '{MARKER}';\n+var who = '';\n"
            assert shown[1].changes[0].before == f"var who = '{MARKER}';\\x1b[2J\n"  # code keeps its lines
            assert shown[1].changes[1].before == "Zed\\nCustomer"  # any other field is one line
            assert shown[1].settings == {"comment": (MARKER, "")}
            assert isinstance(shown[2], JobsAction)
            assert list(shown[2].jobs.changed) == ["job_1\\x1b[2J"]
            assert shown[2].jobs.added == (MARKER,)
        finally:
            events._registry = saved
