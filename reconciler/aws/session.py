"""boto3 clients for one stack, with adaptive retries and a counter of every HTTP request."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from reconciler.settings import AwsSettings


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
    """Clients for SSM, CloudFront and S3 in `region`, sharing one request counter."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(profile_name=aws.profile) if aws.profile else boto3.session.Session()
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
    made = {name: session.client(name, **kwargs) for name in ("ssm", "cloudfront", "s3")}
    for client in made.values():
        client.meta.events.register("before-send", _counting(counter))
    return Clients(made["ssm"], made["cloudfront"], made["s3"], counter)


def _counting(counter: CallCounter) -> Any:
    def hook(event_name: str = "", **_: Any) -> None:
        counter.record(event_name.rsplit(".", 1)[-1])  # before-send.<service>.<Operation>
        return None

    return hook
