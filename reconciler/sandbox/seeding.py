"""Seeding: create in a running sandbox what the desired state's Site references (SPEC section 4).

Buckets (every release's bucket and the jobs bucket), the CloudFront distributions under their
declared ids, and each release's folder at the declared version (`index.html` and every
`require` file). SSM parameters, functions and the jobs object are left absent for the first
apply to create. Idempotent: seeding twice changes nothing. Called by `server.serve` and tests.

moto gives a new distribution a random id; `seed` creates it over HTTP and then re-keys moto's
in-process backend (`cloudfront_backends[account]["global"].distributions`) under the declared
id, so every later call (GetDistribution, CreateInvalidation, ...) works with the declared id.
This needs the server to run in this process, which `server.start` guarantees.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from reconciler.core.model import Desired

ACCOUNT_ID = "123456789012"
"""moto's default account, used for requests signed with the dummy credentials below."""
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def client(endpoint_url: str, service: str, region: str = "us-east-1") -> Any:
    """A boto3 client for the sandbox with dummy credentials and no retries."""
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
        **CREDENTIALS,
    )


def seed(endpoint_url: str, desired: Desired) -> None:
    """Create the buckets, distributions (declared ids) and release folders `desired` references."""
    region = desired.site.region
    s3 = client(endpoint_url, "s3", region)
    buckets = {r.bucket for r in desired.releases}
    if desired.site.jobs is not None:
        buckets.add(desired.site.jobs.bucket)
    for bucket in sorted(buckets):
        _create_bucket(s3, bucket, region)
    for release in desired.releases:
        keys = dict.fromkeys((release.folder + "index.html", *release.required_keys()))
        for key in keys:
            s3.put_object(Bucket=release.bucket, Key=key, Body=_placeholder(release.name, key), ContentType=_type(key))
    cloudfront = client(endpoint_url, "cloudfront", region)
    for logical, dist_id in sorted(desired.site.distributions.items()):
        create_distribution(cloudfront, dist_id, f"{desired.site.name}-{logical}")


def _create_bucket(s3: Any, bucket: str, region: str) -> None:
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**kwargs)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise


def create_distribution(cloudfront: Any, dist_id: str, comment: str = "") -> None:
    """A distribution with id `dist_id` (no-op when it exists): create in moto, then re-key."""
    try:
        cloudfront.get_distribution(Id=dist_id)
        return
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchDistribution":
            raise
    created = cloudfront.create_distribution(DistributionConfig=_distribution_config(dist_id, comment))
    rekey_distribution(created["Distribution"]["Id"], dist_id)


def rekey_distribution(moto_id: str, dist_id: str, account_id: str | None = None) -> None:
    """Move moto's distribution `moto_id` (and its invalidations) to `dist_id` in the backend."""
    from moto.cloudfront.models import cloudfront_backends

    backend = cloudfront_backends[account_id or os.environ.get("MOTO_ACCOUNT_ID", ACCOUNT_ID)]["global"]
    dist = backend.distributions.pop(moto_id)
    dist.distribution_id = dist.id = dist_id
    old_arn, dist.arn = dist.arn, dist.arn.rsplit("/", 1)[0] + "/" + dist_id
    backend.distributions[dist_id] = dist
    if moto_id in backend.invalidations:
        backend.invalidations[dist_id] = backend.invalidations.pop(moto_id)
    tags = backend.tagger.list_tags_for_resource(old_arn).get("Tags", [])
    if tags:
        backend.tagger.tag_resource(dist.arn, tags)
    backend.tagger.delete_all_tags_for_resource(old_arn)


def _distribution_config(dist_id: str, comment: str) -> dict[str, Any]:
    origin = "sandbox-origin"
    return {
        "CallerReference": f"sandbox-{dist_id}",
        "Comment": comment,
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": origin,
                    "DomainName": "sandbox-origin.s3.amazonaws.com",
                    "S3OriginConfig": {"OriginAccessIdentity": ""},
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": origin,
            "ViewerProtocolPolicy": "redirect-to-https",
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "TrustedSigners": {"Enabled": False, "Quantity": 0},
            "MinTTL": 0,
        },
    }


def _placeholder(release: str, key: str) -> bytes:
    if key.endswith(".html"):
        return f"<!doctype html><title>{release}</title><p>sandbox placeholder for {key}</p>\n".encode()
    return f"sandbox placeholder for {key}\n".encode()


def _type(key: str) -> str:
    import mimetypes

    return mimetypes.guess_type(key)[0] or "application/octet-stream"
