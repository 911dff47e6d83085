"""Fault injection: fail before, fail after applying, throttle, count calls."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError


class TestFaults:
    def test_fail_next_refuses_without_applying(self, sandbox: Any, s3: Any) -> None:
        """fail_next answers the next call with the error and the call is not applied."""
        sandbox.faults.fail_next("PutObject", status=500)
        with pytest.raises(ClientError) as info:
            s3.put_object(Bucket="qdn-data", Key="fault-before", Body=b"x")
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
        assert info.value.response["Error"]["Code"] == "InternalError"
        with pytest.raises(ClientError):
            s3.head_object(Bucket="qdn-data", Key="fault-before")
        s3.put_object(Bucket="qdn-data", Key="fault-before", Body=b"x")

    def test_fail_after_applies_then_loses_the_answer(self, sandbox: Any, ssm: Any, cloudfront: Any) -> None:
        """after=True applies the call (moto or our own routes) and then answers with the error."""
        sandbox.faults.fail_next("PutParameter", status=503, after=True)
        with pytest.raises(ClientError):
            ssm.put_parameter(Name="/fault/after", Value="1", Type="String")
        assert ssm.get_parameter(Name="/fault/after")["Parameter"]["Value"] == "1"
        sandbox.faults.fail_next("CreateFunction", status=500, after=True)
        with pytest.raises(ClientError):
            cloudfront.create_function(
                Name="fault-after",
                FunctionConfig={"Comment": "", "Runtime": "cloudfront-js-2.0"},
                FunctionCode=b"function handler(e){return e.request;}",
            )
        assert cloudfront.describe_function(Name="fault-after")["FunctionSummary"]["Name"] == "fault-after"

    def test_throttle_uses_the_service_error(self, sandbox: Any, ssm: Any, cloudfront: Any) -> None:
        """throttle_next answers with each service's throttling code, `times` times."""
        sandbox.faults.throttle_next("GetParameters", times=2)
        for _ in range(2):
            with pytest.raises(ClientError) as info:
                ssm.get_parameters(Names=["/x"])
            assert info.value.response["Error"]["Code"] == "ThrottlingException"
        ssm.get_parameters(Names=["/x"])
        sandbox.faults.throttle_next("UpdateFunction")
        with pytest.raises(ClientError) as cf:
            cloudfront.update_function(
                Name="x",
                IfMatch="E1",
                FunctionConfig={"Comment": "", "Runtime": "cloudfront-js-2.0"},
                FunctionCode=b"x",
            )
        assert cf.value.response["Error"]["Code"] == "Throttling"

    def test_calls_are_counted_by_operation(self, sandbox: Any, s3: Any, cloudfront: Any) -> None:
        """faults.calls counts every operation that reached the sandbox; clear() resets it."""
        sandbox.faults.clear()
        s3.list_objects_v2(Bucket="qdn-data")
        cloudfront.list_functions()
        cloudfront.list_functions()
        assert sandbox.faults.calls["ListObjectsV2"] == 1
        assert sandbox.faults.calls["ListFunctions"] == 2
        assert "PutObject" not in sandbox.faults.calls
