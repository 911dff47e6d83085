"""The sandbox's CloudFront XML checked against botocore's service model, element by element.

boto3 parsing a response proves little (it ignores unknown elements and tolerates missing
required ones), so each raw body is walked against the operation's output shape.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

import botocore.session
import pytest
from botocore.model import OperationModel, Shape

from tests.sandbox.conftest import REWRITE, THROWING, viewer_request

NS = "{http://cloudfront.amazonaws.com/doc/2020-05-31/}"
MODEL = botocore.session.get_session().get_service_model("cloudfront")


def violations(element: ET.Element, shape: Shape, path: str) -> list[str]:
    """Every way `element` departs from `shape`: unknown or missing members, bad scalars, enums."""
    out: list[str] = []
    kind = shape.type_name
    if kind == "structure":
        by_name = {m.serialization.get("name", n): n for n, m in shape.members.items()}
        seen = set()
        for child in element:
            tag = child.tag.removeprefix(NS)
            if tag not in by_name:
                out.append(f"{path}/{tag}: not a member of {shape.name}")
                continue
            name = by_name[tag]
            if name in seen:
                out.append(f"{path}/{tag}: repeated")
            seen.add(name)
            out += violations(child, shape.members[name], f"{path}/{tag}")
        for name in shape.required_members:
            member = shape.members[name]
            if "location" not in member.serialization and name not in seen:
                out.append(f"{path}: required {name} missing")
    elif kind == "list":
        expected = shape.member.serialization.get("name", "member")
        for i, child in enumerate(element):
            tag = child.tag.removeprefix(NS)
            if tag != expected:
                out.append(f"{path}[{i}]: list item named {tag}, model says {expected}")
            out += violations(child, shape.member, f"{path}[{i}]")
    else:
        text = element.text or ""
        if len(element):
            out.append(f"{path}: scalar {shape.name} has children")
        elif kind == "integer":
            if not text.lstrip("-").isdigit():
                out.append(f"{path}: {text!r} is not an integer")
        elif kind == "timestamp":
            try:
                datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                out.append(f"{path}: {text!r} is not an ISO 8601 timestamp")
        elif kind == "boolean" and text not in ("true", "false"):
            out.append(f"{path}: {text!r} is not a boolean")
        elif kind == "string" and shape.enum and text not in shape.enum:
            out.append(f"{path}: {text!r} not in {shape.enum}")
    return out


def check_response(operation: str, status: int, headers: dict[str, str], body: bytes) -> list[str]:
    """Violations of one raw response against `operation`'s model (status, headers, payload)."""
    op: OperationModel = MODEL.operation_model(operation)
    problems = []
    if status != op.http.get("responseCode", 200):
        problems.append(f"{operation}: status {status}, model says {op.http.get('responseCode', 200)}")
    shape = op.output_shape
    if shape is None:
        return problems + ([f"{operation}: body on a bodiless output"] if body.strip() else [])
    lower = {k.lower(): v for k, v in headers.items()}
    for name, member in shape.members.items():
        if member.serialization.get("location") == "header":
            wire_name = member.serialization["name"].lower()
            if wire_name not in lower:
                problems.append(f"{operation}: header {member.serialization['name']} ({name}) missing")
    payload = shape.serialization.get("payload")
    if payload is None:
        return problems
    member = shape.members[payload]
    if member.type_name == "blob":
        return problems + ([] if body else [f"{operation}: empty blob payload"])
    root = ET.fromstring(body)
    expected = member.serialization.get("name", member.name)
    if root.tag != NS + expected:
        problems.append(f"{operation}: root {root.tag}, model says {NS}{expected}")
    return problems + violations(root, member, f"{operation}:{expected}")


@pytest.fixture(scope="module")
def recorded(cloudfront: Any) -> dict[str, tuple[int, dict[str, str], bytes]]:
    """Raw responses of one exercise of every route, by operation name."""
    responses: dict[str, tuple[int, dict[str, str], bytes]] = {}

    def record(http_response: Any, model: OperationModel, **_: Any) -> None:
        responses[model.name] = (http_response.status_code, dict(http_response.headers), http_response.content)

    cloudfront.meta.events.register("after-call.cloudfront", record)
    try:
        name = "shape-check"
        config = {"Comment": "shapes", "Runtime": "cloudfront-js-2.0"}
        etag = cloudfront.create_function(Name=name, FunctionConfig=config, FunctionCode=REWRITE)["ETag"]
        cloudfront.describe_function(Name=name)
        cloudfront.get_function(Name=name)
        cloudfront.update_function(Name=name, IfMatch=etag, FunctionConfig=config, FunctionCode=THROWING)
        etag = cloudfront.describe_function(Name=name)["ETag"]
        event = json.dumps(viewer_request("/track/x")).encode()
        cloudfront.test_function(Name=name, IfMatch=etag, EventObject=event)
        cloudfront.publish_function(Name=name, IfMatch=etag)
        cloudfront.list_functions(Stage="LIVE")
        batch = {"CallerReference": "shape-check", "Paths": {"Quantity": 1, "Items": ["/*"]}}
        created = cloudfront.create_invalidation(DistributionId="E1QDNSITE0001", InvalidationBatch=batch)
        responses["CreateInvalidation (first)"] = responses.pop("CreateInvalidation")
        cloudfront.create_invalidation(DistributionId="E1QDNSITE0001", InvalidationBatch=batch)
        cloudfront.get_invalidation(DistributionId="E1QDNSITE0001", Id=created["Invalidation"]["Id"])
        cloudfront.delete_function(Name=name, IfMatch=cloudfront.describe_function(Name=name)["ETag"])
    finally:
        cloudfront.meta.events.unregister("after-call.cloudfront", record)
    return responses


OPERATIONS = [
    "CreateFunction",
    "DescribeFunction",
    "GetFunction",
    "UpdateFunction",
    "TestFunction",
    "PublishFunction",
    "ListFunctions",
    "CreateInvalidation (first)",
    "CreateInvalidation",
    "GetInvalidation",
    "DeleteFunction",
]


class TestShapes:
    @pytest.mark.parametrize("operation", OPERATIONS)
    def test_response_matches_model(self, recorded: dict[str, Any], operation: str) -> None:
        """Status, header members and every XML element match the operation's output shape."""
        status, headers, body = recorded[operation]
        assert check_response(operation.split(" ")[0], status, headers, body) == []

    def test_update_function_sends_both_etag_spellings(self, recorded: dict[str, Any]) -> None:
        """UpdateFunction answers ETag and the model's ETtag header with the same value."""
        headers = {k.lower(): v for k, v in recorded["UpdateFunction"][1].items()}
        assert headers["etag"] == headers["ettag"]

    def test_test_result_carries_error_members(self, recorded: dict[str, Any]) -> None:
        """TestResult of a throwing function has FunctionErrorMessage, FunctionExecutionLogs and ComputeUtilization."""
        root = ET.fromstring(recorded["TestFunction"][2])
        tags = {child.tag.removeprefix(NS) for child in root}
        assert {"FunctionSummary", "ComputeUtilization", "FunctionErrorMessage"} <= tags

    def test_error_documents_are_rest_xml(self, cloudfront: Any) -> None:
        """Our error bodies are ErrorResponse/Error with Type, Code and Message, parsed by botocore."""
        from botocore.exceptions import ClientError

        with pytest.raises(ClientError) as info:
            cloudfront.describe_function(Name="no-such-function-anywhere")
        error = info.value.response["Error"]
        assert error["Code"] == "NoSuchFunctionExists"
        assert error["Type"] == "Sender"
        assert error["Message"]

    def test_checker_catches_unknown_and_missing_members(self) -> None:
        """The walker itself flags an unknown element and a missing required member."""
        body = (
            f'<FunctionSummary xmlns="{NS[1:-1]}"><Name>x</Name><Bogus>1</Bogus>'
            "<FunctionConfig><Comment/><Runtime>cloudfront-js-3.0</Runtime></FunctionConfig></FunctionSummary>"
        ).encode()
        problems = check_response("DescribeFunction", 200, {"ETag": "E1"}, body)
        assert any("Bogus" in p for p in problems)
        assert any("FunctionMetadata missing" in p for p in problems)
        assert any("cloudfront-js-3.0" in p for p in problems)
