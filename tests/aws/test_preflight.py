"""The preflight: a missing or wrong credential, region or endpoint is one line naming which."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from reconciler.aws import preflight
from reconciler.core.errors import AccessError
from reconciler.core.settings import AwsSettings
from reconciler.sandbox.server import Sandbox
from tests.test_loading import tree, valid_files

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bare(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A machine that has never seen AWS: no AWS_* variables, an empty home, no instance metadata."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return tmp_path


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def refused(aws: AwsSettings, region: str = "us-east-1") -> str:
    with pytest.raises(AccessError) as caught:
        preflight.check(aws, region)
    message = str(caught.value)
    assert "\n" not in message
    return message


REJECTED = b"""<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>
<Message>The security token included in the request is invalid.</Message></Error>
<RequestId>1</RequestId></ErrorResponse>"""


@pytest.fixture
def refusing_sts() -> Iterator[str]:
    """An endpoint answering every request as STS does for an unknown access key (403)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(403)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(REJECTED)))
            self.end_headers()
            self.wfile.write(REJECTED)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class TestPreflight:
    """Each wrong setting is named; nothing about any resource."""

    def test_no_credentials(self, bare: Path) -> None:
        """Nothing in the chain: says so and how to set them."""
        assert refused(AwsSettings()).startswith("no AWS credentials found (set AWS_PROFILE")

    def test_unknown_profile(self, bare: Path) -> None:
        """--profile naming a profile that does not exist."""
        assert refused(AwsSettings(profile="ghost")) == (
            "AWS profile 'ghost' not found in ~/.aws/config or ~/.aws/credentials"
        )

    @pytest.mark.parametrize("region", ["us-east-9", "mars", ""])
    def test_invalid_region(self, bare: Path, monkeypatch: pytest.MonkeyPatch, region: str) -> None:
        """A region AWS does not have is named before any request."""
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
        assert refused(AwsSettings(), region).startswith(f"region {region!r} invalid")

    def test_unreachable_endpoint_without_its_password(self, bare: Path) -> None:
        """Nothing listening: `endpoint URL unreachable`, the URL shown without user:password."""
        port = closed_port()
        message = refused(AwsSettings(endpoint_url=f"http://user:hunter2@127.0.0.1:{port}"))
        assert message.startswith(f"endpoint http://127.0.0.1:{port} unreachable")
        assert "hunter2" not in message

    def test_rejected_credentials(self, bare: Path, monkeypatch: pytest.MonkeyPatch, refusing_sts: str) -> None:
        """Credentials the endpoint refuses: named as rejected, with AWS's code."""
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDWRONG")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong")
        assert refused(AwsSettings(endpoint_url=refusing_sts)) == (
            "AWS credentials rejected (InvalidClientTokenId): check the access key, profile or role"
        )

    def test_sandbox_passes_without_any_credentials(self, bare: Path, sandbox: Sandbox) -> None:
        """A loopback endpoint (the sandbox checks no signature) needs no credentials set up."""
        preflight.check(AwsSettings(endpoint_url=sandbox.endpoint), "eu-west-2")


class TestCommandsCheckFirst:
    """plan and apply print the one line and exit 1 before reading any resource."""

    @pytest.mark.parametrize("command", ["plan", "apply"])
    def test_missing_credentials(self, bare: Path, command: str) -> None:
        """The line names the credentials, not `function/...`; nothing on stdout, no state written."""
        desired = tree(bare, valid_files())
        env = dict(os.environ, PYTHONPATH=str(PROJECT))
        result = subprocess.run(
            [sys.executable, "-m", "reconciler", command, "--desired", str(desired), "--log-format", "json"],
            capture_output=True, text=True, env=env, timeout=60,
        )
        assert result.returncode == 1
        assert result.stderr.startswith("reconciler: error: no AWS credentials found")
        assert len(result.stderr.splitlines()) == 1 and "function/" not in result.stderr
        assert result.stdout == ""
        assert not (bare / ".reconciler").exists()

    def test_unreachable_endpoint(self, bare: Path) -> None:
        """`plan` against a closed port: the endpoint is named, exit 1, quickly (no long retries)."""
        desired = tree(bare, valid_files())
        port = closed_port()
        env = dict(os.environ, PYTHONPATH=str(PROJECT))
        result = subprocess.run(
            [sys.executable, "-m", "reconciler", "plan", "--desired", str(desired),
             "--endpoint-url", f"http://127.0.0.1:{port}"],
            capture_output=True, text=True, env=env, timeout=60,
        )
        assert result.returncode == 1
        assert result.stderr.startswith(f"reconciler: error: endpoint http://127.0.0.1:{port} unreachable")


class TestDaemonsFirstFailure:
    """The daemon makes no probe request; its first failing call is named the same way."""

    def test_unreachable_endpoint_is_not_blamed_on_a_resource(self, bare: Path, tmp_path: Path) -> None:
        """Every error of the cycle names the endpoint, none a `function/...` or `release/...`."""
        from reconciler.core.results import Result
        from reconciler.core.settings import Settings
        from reconciler.cycle.reconciling import Reconciler
        from tests.aws.conftest import Holder, make_desired

        port = closed_port()
        settings = Settings(desired=tmp_path, state_dir=tmp_path / "state",
                            aws=AwsSettings(endpoint_url=f"http://127.0.0.1:{port}", max_attempts=1))
        result = Reconciler(settings, loader=Holder(make_desired("ep"))).reconcile("startup")
        assert result.result == Result.FAILED and result.errors
        assert all(e.startswith(f"endpoint http://127.0.0.1:{port} unreachable") for e in result.errors)

    def test_refused_and_missing_credentials_are_named(self) -> None:
        """botocore's own errors for a refused key or no credentials map to one line each."""
        from botocore.exceptions import ClientError, NoCredentialsError

        refused_key = ClientError({"Error": {"Code": "UnrecognizedClientException", "Message": "bad"}}, "GetParameters")
        assert str(preflight.environment_error(refused_key)).startswith("AWS credentials rejected")
        assert str(preflight.environment_error(NoCredentialsError())).startswith("no AWS credentials found")
        denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetObject")
        assert preflight.environment_error(denied) is None  # a permission on one resource is that resource's
