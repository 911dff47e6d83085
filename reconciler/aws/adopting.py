"""Reads for `import`: what a hand-run stack holds live, in the shapes the desired files need.

A function's LIVE stage (code, runtime, comment, key value stores), a parameter's value, the
jobs object's parsed JSON. Each answers None when the thing does not exist.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from reconciler.aws.errors import is_not_found, translate
from reconciler.aws.reading import read_parameters
from reconciler.aws.session import Clients

LIVE = "LIVE"


@dataclass(frozen=True)
class AdoptedFunction:
    name: str
    code: bytes
    runtime: str
    comment: str
    key_value_stores: tuple[str, ...]


def live_function(clients: Clients, name: str) -> AdoptedFunction | None:
    """The LIVE stage of function `name`, or None when it has never been published."""
    try:
        described = clients.cloudfront.describe_function(Name=name, Stage=LIVE)
        code = clients.cloudfront.get_function(Name=name, Stage=LIVE)["FunctionCode"].read()
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise translate(exc, f"function/{name}") from exc
    config = described["FunctionSummary"]["FunctionConfig"]
    stores = config.get("KeyValueStoreAssociations", {}).get("Items", []) or []
    return AdoptedFunction(
        name,
        code,
        str(config.get("Runtime", "")),
        str(config.get("Comment", "") or ""),
        tuple(str(s["KeyValueStoreARN"]) for s in stores),
    )


def parameter_value(clients: Clients, name: str) -> str | None:
    """GetParameters, as the reader asks (so the read-only policy's `ssm:GetParameters` suffices)."""
    return read_parameters(clients, [name])[name]


def jobs_document(clients: Clients, bucket: str, key: str) -> tuple[bool, Any]:
    """(exists, parsed JSON or None when it is not JSON) of `s3://bucket/key`."""
    try:
        body = clients.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as exc:
        if is_not_found(exc):
            return False, None
        raise translate(exc, f"s3://{bucket}/{key}") from exc
    try:
        return True, json.loads(body)
    except ValueError:
        return True, None
