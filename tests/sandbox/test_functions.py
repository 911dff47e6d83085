"""CloudFront Functions over real HTTP: stages, ETags, IfMatch, publish, TestFunction, delete."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.sandbox.conftest import REWRITE, THROWING, viewer_request

CONFIG = {"Comment": "SPA rewrites", "Runtime": "cloudfront-js-2.0"}


def error_code(info: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    err = info.value.response
    return err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"]


def create(cloudfront: Any, name: str, code: bytes = REWRITE, config: dict[str, Any] = CONFIG) -> str:
    return str(cloudfront.create_function(Name=name, FunctionConfig=config, FunctionCode=code)["ETag"])


def dev_etag(cloudfront: Any, name: str) -> str:
    return str(cloudfront.describe_function(Name=name, Stage="DEVELOPMENT")["ETag"])


class TestCreateDescribeGet:
    def test_create_returns_development_summary(self, cloudfront: Any, function_name: str) -> None:
        """CreateFunction answers 201 with an UNPUBLISHED DEVELOPMENT summary and an ETag."""
        out = cloudfront.create_function(Name=function_name, FunctionConfig=CONFIG, FunctionCode=REWRITE)
        assert out["ResponseMetadata"]["HTTPStatusCode"] == 201
        summary = out["FunctionSummary"]
        assert summary["Name"] == function_name
        assert summary["Status"] == "UNPUBLISHED"
        assert summary["FunctionConfig"] == CONFIG
        assert summary["FunctionMetadata"]["Stage"] == "DEVELOPMENT"
        assert summary["FunctionMetadata"]["FunctionARN"].endswith(f":function/{function_name}")
        assert out["ETag"] and out["Location"]

    def test_describe_and_get_development(self, cloudfront: Any, function_name: str) -> None:
        """Describe and Get of DEVELOPMENT return the created config, code bytes and the same ETag."""
        etag = create(cloudfront, function_name)
        described = cloudfront.describe_function(Name=function_name)
        assert described["ETag"] == etag
        assert described["FunctionSummary"]["FunctionConfig"] == CONFIG
        got = cloudfront.get_function(Name=function_name, Stage="DEVELOPMENT")
        assert got["FunctionCode"].read() == REWRITE
        assert got["ETag"] == etag
        assert got["ContentType"] == "application/octet-stream"

    def test_live_of_unpublished_function_is_missing(self, cloudfront: Any, function_name: str) -> None:
        """Describe/GetFunction with Stage=LIVE before any publish is 404 NoSuchFunctionExists."""
        create(cloudfront, function_name)
        with pytest.raises(ClientError) as described:
            cloudfront.describe_function(Name=function_name, Stage="LIVE")
        assert error_code(described) == (404, "NoSuchFunctionExists")
        with pytest.raises(ClientError) as got:
            cloudfront.get_function(Name=function_name, Stage="LIVE")
        assert error_code(got) == (404, "NoSuchFunctionExists")

    def test_unknown_function_is_missing(self, cloudfront: Any) -> None:
        """DescribeFunction of a name never created is 404 NoSuchFunctionExists."""
        with pytest.raises(ClientError) as info:
            cloudfront.describe_function(Name="never-created")
        assert error_code(info) == (404, "NoSuchFunctionExists")

    def test_duplicate_create_conflicts(self, cloudfront: Any, function_name: str) -> None:
        """A second CreateFunction with the same name is 409 FunctionAlreadyExists."""
        create(cloudfront, function_name)
        with pytest.raises(ClientError) as info:
            create(cloudfront, function_name)
        assert error_code(info) == (409, "FunctionAlreadyExists")

    def test_code_over_10_kb_is_refused(self, cloudfront: Any, function_name: str) -> None:
        """Code over 10 KB is 413 FunctionSizeLimitExceeded."""
        with pytest.raises(ClientError) as info:
            create(cloudfront, function_name, code=REWRITE + b" " * 10240)
        assert error_code(info) == (413, "FunctionSizeLimitExceeded")


class TestUpdate:
    def test_update_changes_code_config_and_etag(self, cloudfront: Any, function_name: str) -> None:
        """UpdateFunction with the current ETag replaces DEVELOPMENT and gives a new ETag in ETag and ETtag."""
        etag = create(cloudfront, function_name)
        config = {"Comment": "v2", "Runtime": "cloudfront-js-1.0"}
        out = cloudfront.update_function(Name=function_name, IfMatch=etag, FunctionConfig=config, FunctionCode=THROWING)
        headers = out["ResponseMetadata"]["HTTPHeaders"]
        assert headers["etag"] == headers["ettag"] != etag
        assert out["FunctionSummary"]["FunctionConfig"] == config
        assert dev_etag(cloudfront, function_name) == headers["etag"]
        assert cloudfront.get_function(Name=function_name)["FunctionCode"].read() == THROWING

    def test_stale_if_match_is_precondition_failed(self, cloudfront: Any, function_name: str) -> None:
        """An update with an ETag that was current before another update is 412 PreconditionFailed."""
        stale = create(cloudfront, function_name)
        cloudfront.update_function(Name=function_name, IfMatch=stale, FunctionConfig=CONFIG, FunctionCode=THROWING)
        with pytest.raises(ClientError) as info:
            cloudfront.update_function(Name=function_name, IfMatch=stale, FunctionConfig=CONFIG, FunctionCode=REWRITE)
        assert error_code(info) == (412, "PreconditionFailed")
        assert cloudfront.get_function(Name=function_name)["FunctionCode"].read() == THROWING

    def test_malformed_if_match_is_invalid(self, cloudfront: Any, function_name: str) -> None:
        """A malformed IfMatch is 400 InvalidIfMatchVersion."""
        create(cloudfront, function_name)
        with pytest.raises(ClientError) as info:
            cloudfront.update_function(
                Name=function_name, IfMatch="not an etag", FunctionConfig=CONFIG, FunctionCode=REWRITE
            )
        assert error_code(info) == (400, "InvalidIfMatchVersion")

    def test_missing_if_match_is_invalid(self, sandbox: Any, cloudfront: Any, function_name: str) -> None:
        """An UpdateFunction without If-Match (raw HTTP; botocore refuses to send it) is 400 InvalidIfMatchVersion."""
        create(cloudfront, function_name)
        body = (
            b'<UpdateFunctionRequest xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">'
            b"<FunctionConfig><Comment>x</Comment><Runtime>cloudfront-js-2.0</Runtime></FunctionConfig>"
            b"<FunctionCode>ZnVuY3Rpb24gaGFuZGxlcihlKXtyZXR1cm4gZS5yZXF1ZXN0O30=</FunctionCode>"
            b"</UpdateFunctionRequest>"
        )
        url = f"{sandbox.endpoint}/2020-05-31/function/{function_name}"
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(urllib.request.Request(url, data=body, method="PUT"), timeout=5)
        assert info.value.code == 400
        assert b"<Code>InvalidIfMatchVersion</Code>" in info.value.read()

    def test_live_etag_does_not_update_development(self, cloudfront: Any, function_name: str) -> None:
        """The LIVE stage's ETag is not valid for UpdateFunction (DEVELOPMENT): 412."""
        etag = create(cloudfront, function_name)
        cloudfront.publish_function(Name=function_name, IfMatch=etag)
        live = cloudfront.describe_function(Name=function_name, Stage="LIVE")["ETag"]
        with pytest.raises(ClientError) as info:
            cloudfront.update_function(Name=function_name, IfMatch=live, FunctionConfig=CONFIG, FunctionCode=THROWING)
        assert error_code(info) == (412, "PreconditionFailed")


class TestPublish:
    def test_publish_copies_development_to_live(self, cloudfront: Any, function_name: str) -> None:
        """PublishFunction makes LIVE equal to DEVELOPMENT (code and config) and answers the LIVE summary."""
        etag = create(cloudfront, function_name)
        out = cloudfront.publish_function(Name=function_name, IfMatch=etag)
        assert out["FunctionSummary"]["FunctionMetadata"]["Stage"] == "LIVE"
        assert out["FunctionSummary"]["Status"] == "UNASSOCIATED"
        live = cloudfront.describe_function(Name=function_name, Stage="LIVE")
        assert live["FunctionSummary"]["FunctionConfig"] == CONFIG
        assert cloudfront.get_function(Name=function_name, Stage="LIVE")["FunctionCode"].read() == REWRITE

    def test_live_keeps_old_code_until_publish(self, cloudfront: Any, function_name: str) -> None:
        """After an update LIVE still serves the published code; the next publish moves it."""
        etag = create(cloudfront, function_name)
        cloudfront.publish_function(Name=function_name, IfMatch=etag)
        etag = dev_etag(cloudfront, function_name)
        cloudfront.update_function(Name=function_name, IfMatch=etag, FunctionConfig=CONFIG, FunctionCode=THROWING)
        assert cloudfront.get_function(Name=function_name, Stage="LIVE")["FunctionCode"].read() == REWRITE
        assert cloudfront.get_function(Name=function_name, Stage="DEVELOPMENT")["FunctionCode"].read() == THROWING
        cloudfront.publish_function(Name=function_name, IfMatch=dev_etag(cloudfront, function_name))
        assert cloudfront.get_function(Name=function_name, Stage="LIVE")["FunctionCode"].read() == THROWING

    def test_etags_differ_per_stage_and_change_on_publish(self, cloudfront: Any, function_name: str) -> None:
        """DEVELOPMENT and LIVE have different ETags; a publish gives both new ones."""
        etag = create(cloudfront, function_name)
        cloudfront.publish_function(Name=function_name, IfMatch=etag)
        dev = dev_etag(cloudfront, function_name)
        live = cloudfront.describe_function(Name=function_name, Stage="LIVE")["ETag"]
        assert len({etag, dev, live}) == 3
        assert cloudfront.get_function(Name=function_name, Stage="LIVE")["ETag"] == live
        cloudfront.publish_function(Name=function_name, IfMatch=dev)
        assert cloudfront.describe_function(Name=function_name, Stage="LIVE")["ETag"] != live

    def test_stale_publish_is_precondition_failed(self, cloudfront: Any, function_name: str) -> None:
        """PublishFunction with a stale DEVELOPMENT ETag is 412 and LIVE stays absent."""
        stale = create(cloudfront, function_name)
        cloudfront.update_function(Name=function_name, IfMatch=stale, FunctionConfig=CONFIG, FunctionCode=THROWING)
        with pytest.raises(ClientError) as info:
            cloudfront.publish_function(Name=function_name, IfMatch=stale)
        assert error_code(info) == (412, "PreconditionFailed")
        with pytest.raises(ClientError):
            cloudfront.describe_function(Name=function_name, Stage="LIVE")


class TestTestFunction:
    def test_rewrite_returns_function_output(self, cloudfront: Any, function_name: str) -> None:
        """TestFunction runs the DEVELOPMENT code: FunctionOutput is the JSON of the returned request."""
        etag = create(cloudfront, function_name)
        event = json.dumps(viewer_request("/track/fcdc1c82cb284dbe")).encode()
        result = cloudfront.test_function(Name=function_name, IfMatch=etag, Stage="DEVELOPMENT", EventObject=event)
        test = result["TestResult"]
        assert json.loads(test["FunctionOutput"])["request"]["uri"] == "/index.html"
        assert not test.get("FunctionErrorMessage")
        assert test["FunctionExecutionLogs"] == ["uri /index.html"]
        assert 0 <= int(test["ComputeUtilization"]) <= 100
        assert test["FunctionSummary"]["Name"] == function_name

    def test_throwing_function_reports_error(self, cloudfront: Any, function_name: str) -> None:
        """A handler that throws answers 200 with FunctionErrorMessage and no FunctionOutput."""
        etag = create(cloudfront, function_name, code=THROWING)
        event = json.dumps(viewer_request("/")).encode()
        test = cloudfront.test_function(Name=function_name, IfMatch=etag, EventObject=event)["TestResult"]
        assert "boom" in test["FunctionErrorMessage"]
        assert not test.get("FunctionOutput")

    def test_live_stage_runs_live_code(self, cloudfront: Any, function_name: str) -> None:
        """Stage=LIVE with the LIVE ETag runs the published code, not DEVELOPMENT's."""
        etag = create(cloudfront, function_name)
        cloudfront.publish_function(Name=function_name, IfMatch=etag)
        dev = dev_etag(cloudfront, function_name)
        cloudfront.update_function(Name=function_name, IfMatch=dev, FunctionConfig=CONFIG, FunctionCode=THROWING)
        live = cloudfront.describe_function(Name=function_name, Stage="LIVE")["ETag"]
        event = json.dumps(viewer_request("/book/x")).encode()
        test = cloudfront.test_function(Name=function_name, IfMatch=live, Stage="LIVE", EventObject=event)["TestResult"]
        assert json.loads(test["FunctionOutput"])["request"]["uri"] == "/index.html"

    def test_wrong_stage_etag_is_invalid_if_match_version(self, cloudfront: Any, function_name: str) -> None:
        """TestFunction checks IfMatch against the tested stage's ETag; its errors in the API model have
        no PreconditionFailed, so a wrong one is 400 InvalidIfMatchVersion."""
        etag = create(cloudfront, function_name)
        cloudfront.publish_function(Name=function_name, IfMatch=etag)
        with pytest.raises(ClientError) as info:
            cloudfront.test_function(Name=function_name, IfMatch=etag, Stage="LIVE", EventObject=b"{}")
        assert error_code(info) == (400, "InvalidIfMatchVersion")
        assert "InvalidIfMatchVersion" in [s.name for s in cloudfront.meta.service_model.operation_model(
            "TestFunction").error_shapes]

    def test_success_has_an_empty_error_message(self, cloudfront: Any, function_name: str) -> None:
        """As AWS answers (the samples' READMEs show it): FunctionErrorMessage is "" when the function ran."""
        etag = create(cloudfront, function_name)
        event = json.dumps(viewer_request("/")).encode()
        test = cloudfront.test_function(Name=function_name, IfMatch=etag, EventObject=event)["TestResult"]
        assert test["FunctionErrorMessage"] == ""

    def test_error_keeps_logs_and_utilization(self, cloudfront: Any, function_name: str) -> None:
        """A function that logs then throws: the logs and the compute utilization come back with the error."""
        code = b"function handler(event) { console.log('before the fall'); throw new Error('boom'); }"
        etag = create(cloudfront, function_name, code=code)
        event = json.dumps(viewer_request("/")).encode()
        test = cloudfront.test_function(Name=function_name, IfMatch=etag, EventObject=event)["TestResult"]
        assert "boom" in test["FunctionErrorMessage"]
        assert test["FunctionExecutionLogs"] == ["before the fall"]
        assert 1 <= int(test["ComputeUtilization"]) <= 100

    def test_event_over_40_kb_is_invalid_argument(self, cloudfront: Any, function_name: str) -> None:
        """EventObject is at most 40,960 bytes (the API model's limit)."""
        etag = create(cloudfront, function_name)
        event = json.dumps({**viewer_request("/"), "pad": "x" * 41000}).encode()
        with pytest.raises(ClientError) as info:
            cloudfront.test_function(Name=function_name, IfMatch=etag, EventObject=event)
        assert error_code(info) == (400, "InvalidArgument")

    def test_runs_under_the_stage_runtime(self, cloudfront: Any, function_name: str) -> None:
        """The code runs under its function's Runtime: 2.0's async handler and `import` work, 1.0 refuses them."""
        code = (b"import cf from 'cloudfront';\nasync function handler(event) {\n"
                b"  event.request.uri = await Promise.resolve('/async'); return event.request;\n}\n")
        event = json.dumps(viewer_request("/")).encode()
        etag = create(cloudfront, function_name, code=code)
        test = cloudfront.test_function(Name=function_name, IfMatch=etag, EventObject=event)["TestResult"]
        assert json.loads(test["FunctionOutput"])["request"]["uri"] == "/async"
        older = function_name + "-1"
        old = create(cloudfront, older, code=code, config={"Comment": "", "Runtime": "cloudfront-js-1.0"})
        refused = cloudfront.test_function(Name=older, IfMatch=old, EventObject=event)["TestResult"]
        assert "cloudfront-js-1.0 does not support `import`" in refused["FunctionErrorMessage"]

    def test_key_value_store_association_is_stored_and_returned(self, cloudfront: Any, function_name: str) -> None:
        """FunctionConfig.KeyValueStoreAssociations comes back from Describe, as stored."""
        arn = "arn:aws:cloudfront::123456789012:key-value-store/0a1b2c3d-0000-4000-8000-000000000000"
        config = {**CONFIG, "KeyValueStoreAssociations": {"Quantity": 1, "Items": [{"KeyValueStoreARN": arn}]}}
        create(cloudfront, function_name, config=config)
        described = cloudfront.describe_function(Name=function_name)["FunctionSummary"]["FunctionConfig"]
        assert described["KeyValueStoreAssociations"] == {"Quantity": 1, "Items": [{"KeyValueStoreARN": arn}]}


class TestDeleteAndList:
    def test_delete_needs_current_etag(self, cloudfront: Any, function_name: str) -> None:
        """DeleteFunction with a stale ETag is 412; with the current one the function is gone."""
        stale = create(cloudfront, function_name)
        cloudfront.update_function(Name=function_name, IfMatch=stale, FunctionConfig=CONFIG, FunctionCode=THROWING)
        with pytest.raises(ClientError) as info:
            cloudfront.delete_function(Name=function_name, IfMatch=stale)
        assert error_code(info) == (412, "PreconditionFailed")
        cloudfront.delete_function(Name=function_name, IfMatch=dev_etag(cloudfront, function_name))
        with pytest.raises(ClientError) as gone:
            cloudfront.describe_function(Name=function_name)
        assert error_code(gone) == (404, "NoSuchFunctionExists")

    def test_list_filters_by_stage(self, cloudfront: Any, function_name: str) -> None:
        """ListFunctions(Stage=LIVE) lists only published functions; DEVELOPMENT lists every function."""
        unpublished = function_name + "-u"
        create(cloudfront, unpublished)
        cloudfront.publish_function(Name=function_name, IfMatch=create(cloudfront, function_name))
        live = {f["Name"] for f in cloudfront.list_functions(Stage="LIVE")["FunctionList"].get("Items", [])}
        dev = {f["Name"] for f in cloudfront.list_functions(Stage="DEVELOPMENT")["FunctionList"].get("Items", [])}
        assert function_name in live and unpublished not in live
        assert {function_name, unpublished} <= dev

    def test_list_paginates(self, cloudfront: Any, function_name: str) -> None:
        """MaxItems and NextMarker page through every function exactly once."""
        for i in range(3):
            create(cloudfront, f"{function_name}-{i}")
        seen: list[str] = []
        kwargs: dict[str, str] = {"Stage": "DEVELOPMENT", "MaxItems": "2"}
        while True:
            page = cloudfront.list_functions(**kwargs)["FunctionList"]
            seen += [f["Name"] for f in page.get("Items", [])]
            if "NextMarker" not in page:
                break
            kwargs["Marker"] = page["NextMarker"]
        assert len(seen) == len(set(seen))
        assert {f"{function_name}-{i}" for i in range(3)} <= set(seen)
