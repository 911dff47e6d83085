"""boto3 (botocore) clients for one stack, with adaptive retries and a counter of every HTTP request."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from reconciler.core.settings import AwsSettings


@dataclass
class CallCounter:
    """Counts every request sent (retries included) and remembers operation names."""

    total: int = 0
    writes: int = 0
    operations: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    WRITE_PREFIXES = ("Put", "Create", "Update", "Publish", "Delete", "Test")

    def record(self, operation: str) -> None:
        with self._lock:
            self.total += 1
            self.operations.append(operation)
            if operation.startswith(self.WRITE_PREFIXES) and operation != "TestFunction":
                self.writes += 1

    def snapshot(self) -> tuple[int, int]:
        with self._lock:
            return self.total, self.writes


@dataclass
class Clients:
    ssm: Any
    cloudfront: Any
    s3: Any
    counter: CallCounter


def make_clients(aws: AwsSettings, region: str) -> Clients:
    """Clients for SSM, CloudFront and S3 in `region`, sharing one request counter.

    Made by botocore directly: boto3's own layer (resources, s3transfer) is not used here and
    costs a cold process tens of milliseconds to import. One session, so the three clients share
    one loader, endpoint resolver and credential chain."""
    from botocore.config import Config

    session = new_session(aws)
    config = Config(
        retries={"mode": "adaptive", "max_attempts": aws.max_attempts},
        connect_timeout=5,
        read_timeout=30,
        max_pool_connections=20,
        s3={"addressing_style": "path"} if aws.endpoint_url else None,
    )
    counter = CallCounter()
    kwargs: dict[str, Any] = {"region_name": aws.region or region, "config": config}
    if aws.endpoint_url:
        kwargs["endpoint_url"] = aws.endpoint_url
    made = {name: session.create_client(name, **kwargs) for name in ("ssm", "cloudfront", "s3")}
    pause = _pausing(os.environ.get("RECONCILER_PAUSE_AT", ""))
    for client in made.values():
        client.meta.events.register("before-send", _counting(counter))
        if pause is not None:
            client.meta.events.register("before-send", pause)
    return Clients(made["ssm"], made["cloudfront"], made["s3"], counter)


def new_session(aws: AwsSettings) -> Any:
    """The botocore session of `aws`: its profile, else the usual credential chain.

    Against a loopback endpoint (the sandbox, which checks no signature) with no credentials
    configured at all, dummy ones are used, so `--endpoint-url http://127.0.0.1:PORT` works
    on a machine that has never seen AWS."""
    import botocore.session

    session = botocore.session.Session(profile=aws.profile) if aws.profile else botocore.session.Session()
    if aws.endpoint_url and _loopback(aws.endpoint_url) and not aws.profile and not _configured():
        session.set_credentials("sandbox", "sandbox")
    return session


def _loopback(url: str) -> bool:
    from urllib.parse import urlsplit

    return (urlsplit(url).hostname or "") in ("127.0.0.1", "localhost", "::1")


def _configured() -> bool:
    """Credentials named in the environment or a shared file (without resolving the chain: no IMDS wait)."""
    if os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_PROFILE"):
        return True
    home = os.path.expanduser("~/.aws")
    files = (os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or f"{home}/credentials",
             os.environ.get("AWS_CONFIG_FILE") or f"{home}/config")
    return any(os.path.exists(f) for f in files)


def _counting(counter: CallCounter) -> Any:
    def hook(event_name: str = "", **_: Any) -> None:
        counter.record(event_name.rsplit(".", 1)[-1])  # before-send.<service>.<Operation>
        return None

    return hook


def _pausing(spec: str) -> Any:
    """Crash-test hook, inert unless `RECONCILER_PAUSE_AT=<Operation>[:N]` is set.

    Before sending the Nth request (default 1st, retries count) of that botocore operation,
    write `paused <Operation>:<N>` to the file named by `RECONCILER_PAUSE_FILE` (if set) and
    sleep for an hour, so a test can `kill -9` the process at exactly that point.
    """
    if not spec:
        return None
    operation, _, nth = spec.partition(":")
    target = int(nth or 1)
    seen = [0]
    lock = threading.Lock()

    def hook(event_name: str = "", **_: Any) -> None:
        if event_name.rsplit(".", 1)[-1] != operation:
            return None
        with lock:
            seen[0] += 1
            hit = seen[0] == target
        if hit:
            marker = os.environ.get("RECONCILER_PAUSE_FILE")
            if marker:
                with open(marker, "w") as fh:
                    fh.write(f"paused {operation}:{target}\n")
            time.sleep(3600)
        return None

    return hook
