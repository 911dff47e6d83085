"""Seeding: buckets, distributions under declared ids, release folders; nothing else."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from reconciler.sandbox.seeding import seed
from tests.sandbox.conftest import DESIRED


class TestSeed:
    def test_buckets_exist(self, s3: Any) -> None:
        """Every release's bucket and the jobs bucket exist."""
        names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
        assert {"qdn-releases", "qdn-dash", "qdn-data"} <= names

    def test_distributions_have_declared_ids(self, cloudfront: Any) -> None:
        """GetDistribution answers under each declared id, with an ARN that carries it."""
        for dist_id in DESIRED.site.distributions.values():
            dist = cloudfront.get_distribution(Id=dist_id)["Distribution"]
            assert dist["Id"] == dist_id
            assert dist["ARN"].endswith(f"distribution/{dist_id}")
        pages = cloudfront.get_paginator("list_distributions").paginate()
        listed = {d["Id"] for page in pages for d in page["DistributionList"].get("Items", [])}
        assert set(DESIRED.site.distributions.values()) <= listed

    def test_release_folders_hold_index_and_required_files(self, s3: Any) -> None:
        """Each release's version folder holds index.html and every `require` file."""
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket="qdn-releases")["Contents"]}
        assert keys == {"site/20261122-1530/index.html", "site/20261122-1530/assets/app.js"}
        dash = {o["Key"] for o in s3.list_objects_v2(Bucket="qdn-dash")["Contents"]}
        assert dash == {"7/index.html"}
        head = s3.head_object(Bucket="qdn-releases", Key="site/20261122-1530/index.html")
        assert head["ContentType"] == "text/html"

    def test_parameters_functions_and_jobs_object_are_absent(self, s3: Any, ssm: Any, cloudfront: Any) -> None:
        """SSM parameters, functions and the jobs object are left for the first apply."""
        with pytest.raises(ClientError):
            s3.head_object(Bucket="qdn-data", Key="jobs.json")
        names = [r.parameter for r in DESIRED.releases]
        assert set(ssm.get_parameters(Names=names)["InvalidParameters"]) == set(names)
        assert not [
            f for f in cloudfront.list_functions()["FunctionList"].get("Items", []) if not f["Name"].startswith("t-")
        ]

    def test_seed_is_idempotent(self, sandbox: Any, cloudfront: Any) -> None:
        """Seeding again changes nothing and keeps the declared distributions."""
        before = cloudfront.list_distributions()["DistributionList"]["Quantity"]
        seed(sandbox.endpoint, DESIRED)
        assert cloudfront.list_distributions()["DistributionList"]["Quantity"] == before
        assert cloudfront.get_distribution(Id="E1QDNSITE0001")["Distribution"]["Id"] == "E1QDNSITE0001"
