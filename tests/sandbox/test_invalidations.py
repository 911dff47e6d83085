"""CreateInvalidation idempotency by CallerReference, seen by Get/ListInvalidations."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

SITE = "E1QDNSITE0001"


def batch(ref: str, *paths: str) -> dict[str, Any]:
    return {"CallerReference": ref, "Paths": {"Quantity": len(paths), "Items": list(paths)}}


def count(cloudfront: Any, dist: str = SITE) -> int:
    return int(cloudfront.list_invalidations(DistributionId=dist)["InvalidationList"]["Quantity"])


class TestCreateInvalidation:
    def test_same_reference_same_paths_returns_existing(self, cloudfront: Any) -> None:
        """Repeating a CallerReference with the same paths returns the first invalidation, creating none."""
        first = cloudfront.create_invalidation(DistributionId=SITE, InvalidationBatch=batch("same-1", "/a", "/b/*"))
        before = count(cloudfront)
        again = cloudfront.create_invalidation(DistributionId=SITE, InvalidationBatch=batch("same-1", "/b/*", "/a"))
        assert again["ResponseMetadata"]["HTTPStatusCode"] == 201
        assert again["Invalidation"]["Id"] == first["Invalidation"]["Id"]
        assert again["Location"] == first["Location"]
        assert again["Invalidation"]["InvalidationBatch"] == first["Invalidation"]["InvalidationBatch"]
        assert count(cloudfront) == before

    def test_same_reference_other_paths_conflicts(self, cloudfront: Any) -> None:
        """Repeating a CallerReference with other paths is 409 InvalidationBatchAlreadyExists."""
        cloudfront.create_invalidation(DistributionId=SITE, InvalidationBatch=batch("other-1", "/a"))
        before = count(cloudfront)
        with pytest.raises(ClientError) as info:
            cloudfront.create_invalidation(DistributionId=SITE, InvalidationBatch=batch("other-1", "/a", "/c"))
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
        assert info.value.response["Error"]["Code"] == "InvalidationBatchAlreadyExists"
        assert count(cloudfront) == before

    def test_new_reference_creates_new_invalidation(self, cloudfront: Any) -> None:
        """A new CallerReference with the same paths is a new invalidation, visible to Get and List."""
        a = cloudfront.create_invalidation(DistributionId=SITE, InvalidationBatch=batch("new-1", "/*"))
        b = cloudfront.create_invalidation(DistributionId=SITE, InvalidationBatch=batch("new-2", "/*"))
        assert a["Invalidation"]["Id"] != b["Invalidation"]["Id"]
        got = cloudfront.get_invalidation(DistributionId=SITE, Id=b["Invalidation"]["Id"])["Invalidation"]
        assert got["InvalidationBatch"]["CallerReference"] == "new-2"
        assert got["Status"].lower() == "completed"
        ids = {i["Id"] for i in cloudfront.list_invalidations(DistributionId=SITE)["InvalidationList"]["Items"]}
        assert {a["Invalidation"]["Id"], b["Invalidation"]["Id"]} <= ids

    def test_reference_is_per_distribution(self, cloudfront: Any) -> None:
        """The same CallerReference on another distribution is a separate invalidation."""
        a = cloudfront.create_invalidation(DistributionId=SITE, InvalidationBatch=batch("per-dist", "/x"))
        b = cloudfront.create_invalidation(DistributionId="E1QDNDASH0001", InvalidationBatch=batch("per-dist", "/y"))
        assert a["Invalidation"]["Id"] != b["Invalidation"]["Id"]

    def test_unknown_distribution_is_missing(self, cloudfront: Any) -> None:
        """An invalidation of an undeclared distribution is 404 NoSuchDistribution (moto's answer)."""
        with pytest.raises(ClientError) as info:
            cloudfront.create_invalidation(DistributionId="ENOSUCHDIST", InvalidationBatch=batch("x", "/*"))
        assert info.value.response["Error"]["Code"] == "NoSuchDistribution"
