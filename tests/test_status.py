"""`reconciler status`: the pure status from state documents, the command, and a real reconcile.

Each state is a `core.staterecords` value, written with the reconciler's own `dump_state` (only
torn and foreign files are written by hand); one end-to-end class runs the real `Reconciler`
against a plain moto server (release and jobs only) and reads the status it leaves behind.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reconciler.commands import operations
from reconciler.core.settings import AwsSettings, Settings
from reconciler.core.staterecords import Created, DriftRecord, Intent, Last, State
from reconciler.cycle import statefile
from reconciler.cycle.stateschema import dump_intents, dump_state
from reconciler.reports import status as report

NOW = datetime(2026, 11, 26, 7, 0, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]


def last(result: str, *errors: str) -> Last:
    changes = 2 if result == "applied" else 0
    return Last("2026-11-26T06:55:00.000Z", result, "4c058dd03c451781374ce7575ba95d59f79920c0", changes, 812, errors)


DRIFT_RECORD = DriftRecord("2026-11-26T06:40:00.000Z", "ab12", ("version",), 1.0)
CREATED = Created("I2J0KH1EXAMPLE", "site", "E1QDNSITE0001", ("/*",), "2026-11-26T06:55:01.000Z")
OWED = Intent("reconciler-0b6f", "dashboard", "E1QDNDASH0001", ("/jobs.json",), "2026-11-26T06:54:59.000Z")

APPLIED = State(last=last("applied"))
IN_SYNC = replace(APPLIED, last=last("in_sync"))
DRIFTED = State(last=last("drift"), drift={"release/site": DRIFT_RECORD})
FAILED = State(last=last("failed", "release/site: AccessDenied: not authorized"))
INVALID = State(last=last("invalid", "desired/site.yaml:3: unknown field 'regoin'"))


def settings(tmp_path: Path, **aws: Any) -> Settings:
    return Settings(desired=tmp_path / "desired", state_dir=tmp_path / "state", aws=AwsSettings(**aws))


def write_state(tmp_path: Path, state: State | None, intents: Sequence[Intent] | None = None) -> Settings:
    """The state directory as the reconciler writes it (its own `dump_*`), for these values."""
    s = settings(tmp_path)
    if state is not None:
        statefile.write_json(s.state_dir / statefile.STATE, dump_state(state))
    if intents is not None:
        statefile.write_json(s.state_dir / statefile.INTENTS, dump_intents(intents))
    return s


def status_of(state: State, intents: Sequence[Intent] = (), now: datetime | None = None) -> report.Status:
    current = report.status_of(state, intents, now)
    assert current is not None
    return current


class TestExitCode:
    @pytest.mark.parametrize(
        ("state", "code"),
        [
            (IN_SYNC, 0),
            (APPLIED, 0),
            (DRIFTED, 3),
            (replace(APPLIED, drift={"release/site": DRIFT_RECORD}), 3),
            (FAILED, 1),
            (INVALID, 1),
            (replace(FAILED, drift={"release/site": DRIFT_RECORD}), 1),
            (replace(APPLIED, last=last("something-new")), 1),
        ],
        ids=[
            "in_sync",
            "applied",
            "drift",
            "applied-with-open-drift",
            "failed",
            "invalid",
            "failed-outranks-drift",
            "unknown-result",
        ],
    )
    def test_exit_code_follows_last_result_and_open_drift(self, state: State, code: int) -> None:
        """0 in sync or applied, 3 while drift is open, 1 failed, invalid or unknown."""
        assert status_of(state).exit_code == code


class TestStatusOf:
    def test_pending_lists_owed_and_created_oldest_first(self) -> None:
        """Invalidations owed (intent only) and created-but-unconfirmed both count as pending."""
        current = status_of(replace(APPLIED, invalidations=(CREATED,)), (OWED,), NOW)
        assert [(p.state, p.distribution, p.paths) for p in current.invalidations] == [
            ("owed", "dashboard", ("/jobs.json",)),
            ("created", "site", ("/*",)),
        ]

    def test_age_is_measured_from_last_time(self) -> None:
        """The age lets a monitor see a daemon that stopped reconciling."""
        assert status_of(APPLIED, (), NOW).age_seconds == 300.0

    @pytest.mark.parametrize("state", [State(), replace(DRIFTED, last=None)], ids=["empty", "drift-without-last"])
    def test_no_status_before_a_last_record(self, state: State) -> None:
        """Only a recorded `last` means a reconcile has run: before it, there is no status."""
        assert report.status_of(state, (OWED,), NOW) is None


class TestCommand:
    @pytest.mark.parametrize(
        ("state", "code", "expected"),
        [
            (APPLIED, 0, ["result:         applied (2 changes, 812 ms)", "drift:          none"]),
            (
                DRIFTED,
                3,
                ["drift:          1 resource", "  release/site  since 2026-11-26T06:40:00.000Z  fields: version"],
            ),
            (FAILED, 1, ["result:         failed", "error:          release/site: AccessDenied: not authorized"]),
            (INVALID, 1, ["result:         invalid", "error:          desired/site.yaml:3: unknown field 'regoin'"]),
        ],
        ids=["applied", "drifted", "failed", "invalid"],
    )
    def test_text_after_each_result(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], state: State, code: int, expected: list[str]
    ) -> None:
        """Text on stdout says result, commit and drift; the exit code says health; stderr stays empty."""
        s = write_state(tmp_path, state)
        assert operations.status(s, as_json=False) == code
        out, err = capsys.readouterr()
        assert err == ""
        assert out.startswith("last reconcile: 2026-11-26T06:55:00.000Z (")
        assert "commit:         4c058dd03c451781374ce7575ba95d59f79920c0" in out
        for line in expected:
            assert line in out

    def test_pending_invalidations_in_text(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """Owed and unconfirmed invalidations are both listed."""
        s = write_state(tmp_path, replace(APPLIED, invalidations=(replace(CREATED, status="InProgress"),)), [OWED])
        assert operations.status(s, as_json=False) == 0
        out = capsys.readouterr().out
        assert "invalidations not yet confirmed: 2" in out
        assert "  dashboard (E1QDNDASH0001)  /jobs.json  owed since 2026-11-26T06:54:59.000Z (not yet created)" in out
        assert (
            "  site (E1QDNSITE0001)  /*  created 2026-11-26T06:55:01.000Z, id I2J0KH1EXAMPLE, status InProgress" in out
        )

    def test_json_document(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """`--json` prints one document with last, drift, invalidations and the exit code."""
        s = write_state(tmp_path, replace(DRIFTED, invalidations=(CREATED,)), [OWED])
        assert operations.status(s, as_json=True) == 3
        document = json.loads(capsys.readouterr().out)
        assert document["last"]["result"] == "drift"
        assert document["last"]["commit"] == "4c058dd03c451781374ce7575ba95d59f79920c0"
        assert document["drift"] == [
            {"resource": "release/site", "since": "2026-11-26T06:40:00.000Z", "fields": ["version"]}
        ]
        assert [(i["state"], i["distribution"]) for i in document["invalidations"]] == [
            ("owed", "dashboard"),
            ("created", "site"),
        ]
        assert document["exit_code"] == 3

    @pytest.mark.parametrize(
        ("state", "intents"),
        [(None, None), (State(), None), (None, [OWED])],
        ids=["no-state-dir", "state-without-last", "intents-only"],
    )
    def test_no_reconcile_yet(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], state: State | None, intents: list[Intent] | None
    ) -> None:
        """Before any reconcile: exit 1 and one clear line on stderr, nothing on stdout."""
        s = write_state(tmp_path, state, intents)
        assert operations.status(s, as_json=False) == 1
        out, err = capsys.readouterr()
        assert out == ""
        assert err == f"reconciler: no reconcile has run yet for {s.desired} (no state in {s.state_dir})\n"

    @pytest.mark.parametrize(
        ("name", "content"),
        [
            (statefile.STATE, b'{"last": {"time": "2026-11-26T06:5'),
            (statefile.STATE, b"[1, 2]"),
            (statefile.STATE, b'{"last": {"time": "x"}}'),
            (statefile.INTENTS, b'{"intents": [{"refer'),
        ],
        ids=["torn-state", "state-not-object", "state-bad-shape", "torn-intents"],
    )
    def test_torn_file_is_one_line_not_a_traceback(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes
    ) -> None:
        """A torn or foreign state file: exit 1 and a one-line message naming it."""
        s = write_state(tmp_path, APPLIED)
        (s.state_dir / name).write_bytes(content)
        assert operations.status(s, as_json=False) == 1
        out, err = capsys.readouterr()
        assert out == ""
        assert err.startswith("reconciler: state file is unreadable")
        assert err.count("\n") == 1 and "Traceback" not in err


class TestCli:
    def test_status_with_aws_unreachable_never_imports_boto3(self, tmp_path: Path) -> None:
        """The contract check: status after an apply exits 0 with AWS unreachable, boto3 never loaded."""
        s = write_state(tmp_path, APPLIED)
        s.desired.mkdir()
        script = (
            "import sys\n"
            "from reconciler.cli import main\n"
            f"code = main(['status', '--desired', {str(s.desired)!r}, '--state-dir', {str(s.state_dir)!r}])\n"
            "assert 'boto3' not in sys.modules and 'botocore' not in sys.modules, 'status imported boto3'\n"
            "sys.exit(code)\n"
        )
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
            "AWS_ACCESS_KEY_ID": "",
            "AWS_SECRET_ACCESS_KEY": "",
        }
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "result:         applied" in done.stdout
        assert done.stderr == ""

    def test_default_state_dir_beside_desired(self, tmp_path: Path) -> None:
        """`--desired D` alone finds the state in `.reconciler/` beside D."""
        desired = tmp_path / "desired"
        desired.mkdir()
        statefile.write_json(tmp_path / ".reconciler" / statefile.STATE, dump_state(DRIFTED))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-m", "reconciler", "status", "--desired", str(desired), "--json"],
            capture_output=True, text=True, env=env, timeout=60,
        )
        assert done.returncode == 3, done.stderr
        assert json.loads(done.stdout)["drift"][0]["resource"] == "release/site"


# -- end to end: the real Reconciler against plain moto -----------------------------------------


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


class Holder:
    """A loader stand-in: the Reconciler only calls `.load()`."""

    def __init__(self, desired: Any) -> None:
        self.desired = desired

    def load(self) -> Any:
        return self.desired


def boto(url: str, service: str) -> Any:
    import boto3

    return boto3.client(
        service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def release_and_jobs_stack(url: str, tag: str) -> Any:
    """Buckets, a release folder and a distribution in moto; the Desired that references them."""
    from reconciler.core.model import Desired, Job, JobsTarget, Release, Site

    s3 = boto(url, "s3")
    for bucket in (f"rel-{tag}", f"data-{tag}"):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=f"rel-{tag}", Key="site/v1/index.html", Body=b"<!doctype html>")
    origin = {
        "Id": "o",
        "DomainName": "origin.example.com",
        "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"},
    }
    dist = boto(url, "cloudfront").create_distribution(
        DistributionConfig={
            "CallerReference": f"status-{tag}",
            "Comment": "",
            "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [origin]},
            "DefaultCacheBehavior": {
                "TargetOriginId": "o",
                "ViewerProtocolPolicy": "allow-all",
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
                "MinTTL": 0,
            },
        }
    )["Distribution"]["Id"]
    return Desired(
        root=Path("unused"),
        site=Site(
            f"s-{tag}", "us-east-1", {"site": dist}, JobsTarget(f"data-{tag}", "jobs.json", {"site": ("/jobs.json",)})
        ),
        releases=(
            Release("site", f"/{tag}/site/version", "v1", f"rel-{tag}", "site/", ("index.html",), {"site": ("/*",)}),
        ),
        jobs=(Job("job_1", "tok-status-0123456789ab", {"id": "job_1", "status": "requested", "customer": "Cust"}),),
    )


class TestAfterRealReconcile:
    def test_status_after_apply_then_after_drift(
        self, tmp_path: Path, moto_url: str, aws_env: None, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """After a real apply status exits 0; after SSM is changed behind git's back, 3 with the resource."""
        from reconciler.core.results import Result
        from reconciler.cycle.reconciling import Reconciler

        desired = release_and_jobs_stack(moto_url, "st1")
        s = settings(tmp_path, endpoint_url=moto_url)
        reconciler = Reconciler(s, loader=Holder(desired), self_heal=False)

        assert reconciler.reconcile("startup").result == Result.APPLIED
        capsys.readouterr()
        assert operations.status(s, as_json=True) == 0
        document = json.loads(capsys.readouterr().out)
        assert document["last"]["result"] == "applied"
        assert document["last"]["changes"] == 2
        assert document["drift"] == []

        boto(moto_url, "ssm").put_parameter(Name="/st1/site/version", Value="v0-hotfix", Type="String", Overwrite=True)
        assert reconciler.reconcile("interval").result == Result.DRIFT
        capsys.readouterr()
        assert operations.status(s, as_json=False) == 3
        out, err = capsys.readouterr()
        assert err == ""
        assert "result:         drift" in out
        assert "  release/site  since " in out and "fields: version" in out

    def test_status_after_real_failure(
        self, tmp_path: Path, moto_url: str, aws_env: None, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A release whose required file is missing fails the reconcile: status exits 1 with the error."""
        from dataclasses import replace

        from reconciler.core.results import Result
        from reconciler.cycle.reconciling import Reconciler

        desired = release_and_jobs_stack(moto_url, "st2")
        broken = replace(desired, releases=(replace(desired.releases[0], version="v9-missing"),))
        s = settings(tmp_path, endpoint_url=moto_url)
        assert Reconciler(s, loader=Holder(broken)).reconcile("startup").result == Result.FAILED
        capsys.readouterr()
        assert operations.status(s, as_json=False) == 1
        out = capsys.readouterr().out
        assert "result:         failed" in out
        assert "error:          " in out


class TestRedaction:
    def test_recorded_errors_quoting_job_data_are_redacted(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An error recorded with an AWS message that echoed a customer is printed redacted."""
        from reconciler import events

        desired = tmp_path / "desired"
        (desired / "jobs").mkdir(parents=True)
        (desired / "site.yaml").write_text(
            "kind: Site\nname: qdn\nregion: us-east-1\ndistributions: {site: E1}\n"
            "jobs: {bucket: qdn-data, key: jobs.json, invalidate: {site: [/jobs.json]}}\n"
        )
        (desired / "jobs" / "job_1.yaml").write_text(
            "kind: Job\nid: job_1\ntoken: TOKENMARKERstatus0123456\ncustomer: CustomerMarkerStatus\n"
            "address: AddressMarkerStatus\nprice: {amount: 1, currency: USD, all_inclusive: true}\nstatus: requested\n"
        )
        error = (
            "jobs/qdn-data/jobs.json: InvalidRequest: "
            "body of CustomerMarkerStatus at AddressMarkerStatus TOKENMARKERstatus0123456"
        )
        s = write_state(tmp_path, replace(FAILED, last=last("failed", error)))
        saved = events._registry
        try:
            for as_json in (False, True):
                assert operations.status(s, as_json=as_json) == 1
                out = capsys.readouterr().out
                assert "[redacted]" in out
                for marker in ("CustomerMarkerStatus", "AddressMarkerStatus", "TOKENMARKERstatus0123456"):
                    assert marker not in out
        finally:
            events._registry = saved  # process-wide registry: leave it as found


class TestStateDirectoryHealth:
    """SPEC section 4: exit 1 when the state directory cannot be written, whatever it last said."""

    @pytest.mark.parametrize("errno_", [errno.EROFS, errno.ENOSPC, errno.EACCES])
    def test_unwritable_state_directory_exits_1(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, errno_: int
    ) -> None:
        """A read-only, full or forbidden directory: the document, then one stderr line, exit 1."""
        s = write_state(tmp_path, APPLIED)

        def refuse(*_: Any, **__: Any) -> Any:
            raise OSError(errno_, os.strerror(errno_))

        monkeypatch.setattr(tempfile, "mkstemp", refuse)
        assert operations.status(s, as_json=True) == 1
        out, err = capsys.readouterr()
        assert json.loads(out)["last"]["result"] == "applied"
        assert err.count("\n") == 1 and "cannot be written" in err and os.strerror(errno_) in err

    def test_full_disk_on_write_is_caught_too(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Creating the probe succeeds but writing it does not (a full disk): still unwritable."""
        s = write_state(tmp_path, APPLIED)
        real_write = os.write

        def full(fd: int, data: bytes) -> int:
            if data == b"probe\n":
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real_write(fd, data)

        monkeypatch.setattr(os, "write", full)
        assert statefile.unwritable(s.state_dir) == os.strerror(errno.ENOSPC)
        assert list(s.state_dir.glob(".probe.*")) == []

    def test_writable_directory_leaves_no_probe(self, tmp_path: Path) -> None:
        s = write_state(tmp_path, APPLIED)
        assert statefile.unwritable(s.state_dir) is None
        assert sorted(p.name for p in s.state_dir.iterdir()) == [statefile.STATE]

    @pytest.mark.parametrize(
        "state",
        [
            [],
            {"last": []},
            {"last": {}},
            {"last": {"result": 3}},
            {**dump_state(APPLIED), "baselines": []},
            {**dump_state(APPLIED), "drift": ["release/site"]},
            {**dump_state(APPLIED), "invalidations": [{"id": "x"}]},
            {"version": 9},
        ],
        ids=["list", "last-list", "no-result", "result-number", "baselines-list", "drift-not-a-map",
             "invalidation-without-distribution", "newer-version"],
    )
    def test_wrong_shapes_are_one_line_and_exit_1(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], state: Any
    ) -> None:
        s = settings(tmp_path)
        s.state_dir.mkdir(parents=True)
        (s.state_dir / statefile.STATE).write_text(json.dumps(state))
        assert operations.status(s, as_json=False) == 1
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and "unreadable" in err
        assert (s.state_dir / statefile.STATE).exists()  # status never moves files
