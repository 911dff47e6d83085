"""A release's version folder in S3: list what is there, which required objects are missing, read
a stored checksum, put one file.

Used by `upload`, by `plan` (the `require` check) and by the writer before a pointer moves.
Every file `upload` puts is one single-part PutObject (so no multipart ETag) carrying its
SHA-256 as user metadata (`x-amz-meta-sha256`): with SSE-KMS an ETag is not the MD5 of the
content, and the stored checksum is what proves "the same content" then. A put is
conditional (`If-None-Match: *`): a version folder is immutable, so an object that appeared
meanwhile is never overwritten.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.aws.errors import http_status, is_not_found, translate
from reconciler.aws.session import Clients

SHA256_METADATA = "sha256"
SINGLE_PUT_LIMIT = 5 * 1024**3
"""Largest object one PutObject may carry (5 GiB); larger files would need a multipart upload.
https://docs.aws.amazon.com/AmazonS3/latest/userguide/upload-objects.html"""


@dataclass(frozen=True)
class StoredObject:
    """One object of a version folder as listed: its key relative to the folder, size and ETag."""

    name: str
    size: int
    etag: str


def list_folder(clients: Clients, bucket: str, folder: str) -> dict[str, StoredObject]:
    """Every object under `s3://bucket/folder`, by name relative to the folder."""
    found: dict[str, StoredObject] = {}
    kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": folder}
    while True:
        try:
            page = clients.s3.list_objects_v2(**kwargs)
        except Exception as exc:
            raise translate(exc, f"s3://{bucket}/{folder}") from exc
        for item in page.get("Contents", []):
            name = item["Key"][len(folder) :]
            found[name] = StoredObject(name, int(item["Size"]), str(item.get("ETag", "")).strip('"'))
        if not page.get("IsTruncated"):
            return found
        kwargs["ContinuationToken"] = page["NextContinuationToken"]


def missing_objects(clients: Clients, bucket: str, keys: Iterable[str]) -> list[str]:
    """The keys of `keys` that do not exist in `bucket` (HeadObject each, in order)."""
    missing = []
    for key in keys:
        try:
            clients.s3.head_object(Bucket=bucket, Key=key)
        except Exception as exc:
            if not is_not_found(exc):
                raise translate(exc, f"s3://{bucket}/{key}") from exc
            missing.append(key)
    return missing


def stored_sha256(clients: Clients, bucket: str, key: str) -> str | None:
    """The SHA-256 an earlier upload stored with the object, or None (absent, or put by hand)."""
    try:
        head = clients.s3.head_object(Bucket=bucket, Key=key)
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise translate(exc, f"s3://{bucket}/{key}") from exc
    value = head.get("Metadata", {}).get(SHA256_METADATA)
    return str(value) if value else None


def put_new_file(
    clients: Clients, bucket: str, key: str, path: Path, content_type: str, md5_hex: str, sha256_hex: str
) -> bool:
    """PutObject unless the key exists; False when it appeared meanwhile (412), True when written."""
    with path.open("rb") as body:
        try:
            clients.s3.put_object(
                Bucket=bucket,
                Key=key,
                Body=body,
                ContentType=content_type,
                ContentMD5=base64.b64encode(bytes.fromhex(md5_hex)).decode(),
                Metadata={SHA256_METADATA: sha256_hex},
                IfNoneMatch="*",
            )
        except Exception as exc:
            if http_status(exc) == 412:
                return False
            raise translate(exc, f"s3://{bucket}/{key}") from exc
    return True
