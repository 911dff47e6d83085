"""Before a command reads or writes anything: are the credentials, the region and the endpoint right?

One line naming which is wrong, instead of the first resource's failure ("function/x: ...")
after botocore's retries. Local checks first (profile, credential chain, region name), then
one STS GetCallerIdentity with a single retry: it needs no IAM permission ("No permissions
are required to perform this operation",
https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html), so a
read-only role passes, and it proves the endpoint answers and accepts the credentials.
Called by plan, apply, run, upload and import; the sandbox answers it too (moto's STS).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from reconciler.aws.session import new_session
from reconciler.core.errors import AccessError, ReconcilerError, TransientError
from reconciler.core.settings import AwsSettings

REJECTED_CODES = {
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
    "AuthFailure",
    "AccessDenied",
}
"""STS answers that mean the credentials themselves are refused (GetCallerIdentity needs no permission)."""

_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")

NO_CREDENTIALS = (
    "no AWS credentials found (set AWS_PROFILE or --profile, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
    "or run where an instance role or web identity provides them)"
)


def check(aws: AwsSettings, region: str, probe: bool = True) -> None:
    """Raise `AccessError` (one line) when the profile, credentials, region or endpoint are wrong.

    `probe=False` (the daemon, which retries anyway) skips the STS request: a wrong endpoint or
    refused credentials are then named by `environment_error` at the first call that fails."""
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

    region = aws.region or region
    try:
        session = new_session(aws)
        if session.get_credentials() is None:
            raise AccessError(NO_CREDENTIALS)
    except ProfileNotFound:
        raise AccessError(f"AWS profile {aws.profile!r} not found in ~/.aws/config or ~/.aws/credentials") from None
    except BotoCoreError as exc:
        raise AccessError(f"AWS credentials could not be loaded: {exc}") from None
    _check_region(session, region, aws.endpoint_url)
    if not probe:
        return
    config = Config(retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=5, read_timeout=15)
    kwargs: dict[str, Any] = {"region_name": region, "config": config}
    if aws.endpoint_url:
        kwargs["endpoint_url"] = aws.endpoint_url
    sts = session.create_client("sts", **kwargs)
    try:
        sts.get_caller_identity()
    except NoCredentialsError:
        raise AccessError(NO_CREDENTIALS) from None
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in REJECTED_CODES:
            raise _rejected(code) from None
        # Any other answer (a stand-in endpoint without STS, say): the endpoint is up; go on.
    except BotoCoreError as exc:
        raise AccessError(f"endpoint {shown(sts.meta.endpoint_url)} unreachable ({_reason(exc)})") from None


def environment_error(exc: BaseException) -> ReconcilerError | None:
    """The one-line error for a failed call whose cause is the environment, not the resource:
    no credentials, refused credentials, an endpoint that does not answer. None otherwise.
    (`aws.errors.translate` asks this first, so the daemon never blames `function/...`.)"""
    name = type(exc).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return AccessError(NO_CREDENTIALS)
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError"):
        url = str(getattr(exc, "kwargs", {}).get("endpoint_url") or "")
        parts = urlsplit(shown(url))  # the request's URL: keep scheme and host, not the resource's path
        where = urlunsplit((parts.scheme, parts.netloc, "", "", "")) if parts.netloc else "the AWS endpoint"
        return TransientError(f"endpoint {where} unreachable ({_reason(exc)})")
    code = str((getattr(exc, "response", None) or {}).get("Error", {}).get("Code", ""))
    if code in REJECTED_CODES - {"AccessDenied"}:  # AccessDenied on a resource is that resource's
        return _rejected(code)
    return None


def _rejected(code: str) -> AccessError:
    return AccessError(f"AWS credentials rejected ({code}): check the access key, profile or role")


def _check_region(session: Any, region: str, endpoint_url: str | None) -> None:
    if not _REGION.fullmatch(region or ""):
        raise AccessError(f"region {region!r} invalid: not an AWS region name such as us-east-1 (the Site's region)")
    if endpoint_url:
        return  # a local or custom endpoint serves whatever region it is told
    known = {r for p in session.get_available_partitions() for r in session.get_available_regions("ssm", p)}
    if known and region not in known:
        raise AccessError(f"region {region!r} invalid: no such AWS region (the Site's region)")


def shown(url: str) -> str:
    """An endpoint URL without any user:password part."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    return urlunsplit((parts.scheme, f"{host}:{parts.port}" if parts.port else host, parts.path, parts.query, ""))


def _reason(exc: BaseException) -> str:
    return {
        "EndpointConnectionError": "could not connect",
        "ConnectTimeoutError": "connection timed out",
        "ReadTimeoutError": "no answer in time",
        "ConnectionClosedError": "connection closed",
        "SSLError": "TLS failed",
    }.get(type(exc).__name__, type(exc).__name__)
