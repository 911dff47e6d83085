"""WSGI middleware in front of moto's server: owns the CloudFront Functions routes, makes
CreateInvalidation idempotent by CallerReference, and applies injected faults.

    /2020-05-31/function...                      -> FunctionStore (moto never sees these)
    POST /2020-05-31/distribution/{Id}/invalidation
        same CallerReference, same paths        -> the existing invalidation (201, same Id)
        same CallerReference, other paths       -> 409 InvalidationBatchAlreadyExists
        otherwise                               -> moto (so Get/ListInvalidations see it)
    everything else                             -> moto

Built by `server.py`.
"""

from __future__ import annotations

import io
import os
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, unquote

from werkzeug.wrappers import Request

from reconciler.sandbox import wire
from reconciler.sandbox.errors import ApiError
from reconciler.sandbox.faults import Faults, resolve
from reconciler.sandbox.functions import FunctionStore, TestOutcome, summary_dict

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_FUNCTION = re.compile(r"^/2020-05-31/function(?:/(?P<name>[^/]+)(?:/(?P<verb>describe|publish|test))?)?/?$")
_INVALIDATION = re.compile(r"^/2020-05-31/distribution/(?P<id>[^/]+)/invalidation/?$")
_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/(?P<region>[^/]+)/(?P<service>[^/]+)/")
_LOCATION = "https://cloudfront.amazonaws.com/2020-05-31"

Response = tuple[int, list[tuple[str, str]], bytes]


class SandboxMiddleware:
    """The sandbox's WSGI app: our routes first, then moto (`app`)."""

    def __init__(self, app: WsgiApp, functions: FunctionStore | None = None, faults: Faults | None = None) -> None:
        self.app = app
        self.functions = functions or FunctionStore()
        self.faults = faults or Faults()
        self._invalidation_lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        service = _service(environ)
        operation = _operation(environ, service, path)
        fault = self.faults.take(operation)
        if fault is not None and not fault.after:
            return self._fault(fault, service, start_response)
        ours = service in (None, "cloudfront") and path.startswith("/2020-05-31/")
        response: Response | None
        try:
            if ours and _FUNCTION.match(path):
                response = self._function(environ, path)
            elif ours and environ["REQUEST_METHOD"] == "POST" and _INVALIDATION.match(path):
                response = self._invalidation(environ, path)
            else:
                response = None
        except ApiError as err:
            body, headers = wire.error_body("rest-xml", err.code, err.message, err.status)
            response = (err.status, headers, body)
        if fault is not None:  # after=True: the call happened; its answer is lost
            if response is None:
                self._through_moto(environ)
            return self._fault(fault, service, start_response)
        if response is None:
            return self.app(environ, start_response)
        status, headers, body = response
        start_response(f"{status} {_REASONS.get(status, 'OK')}", [*headers, ("Content-Length", str(len(body)))])
        return [body]

    # -- faults ----------------------------------------------------------------------------------

    @staticmethod
    def _fault(fault: Any, service: str | None, start_response: StartResponse) -> Iterable[bytes]:
        status, code = resolve(fault, service)
        protocol = {"s3": "s3", "cloudfront": "rest-xml", "ssm": "json"}.get(service or "", "query")
        body, headers = wire.error_body(protocol, code, fault.message, status)
        start_response(f"{status} {_REASONS.get(status, 'Error')}", [*headers, ("Content-Length", str(len(body)))])
        return [body]

    # -- CloudFront Functions --------------------------------------------------------------------

    def _function(self, environ: dict[str, Any], path: str) -> Response:
        match = _FUNCTION.match(path)
        assert match is not None
        name = unquote(match["name"]) if match["name"] else None
        verb = match["verb"]
        method = environ["REQUEST_METHOD"]
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if_match = environ.get("HTTP_IF_MATCH")
        store = self.functions

        if name is None and method == "POST":
            req = wire.parse("CreateFunctionRequest", _body(environ))
            summary = store.create(req.get("Name", ""), _config(req), req.get("FunctionCode", b""))
            return _summary_response(summary, 201, [("Location", f"{_LOCATION}/function/{summary.arn}")])
        if name is None and method == "GET":
            return self._list(query)
        if name is not None and verb is None and method == "GET":
            code, etag = store.get(name, query.get("Stage"))
            return 200, [("ETag", etag), ("Content-Type", "application/octet-stream")], code
        if verb == "describe" and method == "GET":
            return _summary_response(store.describe(name or "", query.get("Stage")), 200)
        if name is not None and verb is None and method == "PUT":
            req = wire.parse("UpdateFunctionRequest", _body(environ))
            summary = store.update(name, if_match, _config(req), req.get("FunctionCode", b""))
            return _summary_response(summary, 200, [("ETtag", summary.etag)])
        if verb == "publish" and method == "POST":
            return _summary_response(store.publish(name or "", if_match), 200)
        if verb == "test" and method == "POST":
            req = wire.parse("TestFunctionRequest", _body(environ))
            outcome = store.test(name or "", if_match, req.get("Stage"), req.get("EventObject", b""))
            return 200, [("Content-Type", "text/xml")], wire.render("TestResult", "TestResult", _test_result(outcome))
        if name is not None and verb is None and method == "DELETE":
            store.delete(name, if_match)
            return 204, [], b""
        raise ApiError(405, "MethodNotAllowed", f"{method} is not allowed on {path}")

    def _list(self, query: dict[str, str]) -> Response:
        try:
            max_items = int(query.get("MaxItems", "100"))
        except ValueError:
            raise ApiError(400, "InvalidArgument", "MaxItems must be an integer") from None
        items = self.functions.list(query.get("Stage"))
        marker = query.get("Marker")
        start = 0
        if marker:
            keys = [f"{s.name}:{s.stage}" for s in items]
            start = keys.index(marker) if marker in keys else len(keys)
        page = items[start : start + max_items]
        rest = items[start + max_items :]
        doc: dict[str, Any] = {"MaxItems": max_items, "Quantity": len(page)}
        if rest:
            doc["NextMarker"] = f"{rest[0].name}:{rest[0].stage}"
        if page:
            doc["Items"] = [summary_dict(s) for s in page]
        return 200, [("Content-Type", "text/xml")], wire.render("FunctionList", "FunctionList", doc)

    # -- invalidations -----------------------------------------------------------------------------

    def _invalidation(self, environ: dict[str, Any], path: str) -> Response | None:
        """The existing invalidation for a repeated CallerReference, or None to let moto create one."""
        match = _INVALIDATION.match(path)
        assert match is not None
        dist_id = unquote(match["id"])
        body = _body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        batch = wire.parse("InvalidationBatch", body)
        ref = batch.get("CallerReference")
        paths = batch.get("Paths", {}).get("Items") or []
        backend = _cloudfront_backend(environ)
        with self._invalidation_lock:
            if dist_id not in backend.distributions or not ref:
                return None
            for inv in backend.invalidations.get(dist_id, []):
                if inv.caller_ref != ref:
                    continue
                if sorted(inv.paths) != sorted(paths):
                    raise ApiError(
                        409,
                        "InvalidationBatchAlreadyExists",
                        f"An invalidation batch with CallerReference {ref} already exists with other paths",
                    )
                doc = {
                    "Id": inv.id,
                    "Status": inv.status,
                    "CreateTime": inv.create_time,
                    "InvalidationBatch": {
                        "Paths": {"Quantity": len(inv.paths), "Items": list(inv.paths) or None},
                        "CallerReference": inv.caller_ref,
                    },
                }
                headers = [("Location", inv.location), ("Content-Type", "text/xml")]
                return 201, headers, wire.render("Invalidation", "Invalidation", doc)
            # Not seen: create it through moto while holding the lock, so a racing twin waits.
            return self._through_moto(environ)

    def _through_moto(self, environ: dict[str, Any]) -> Response:
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured["status"], captured["headers"] = int(status.split()[0]), list(headers)

        chunks = self.app(environ, start_response)
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close:
                close()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        return captured["status"], headers, body


_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def _body(environ: dict[str, Any]) -> bytes:
    return Request(environ).get_data(cache=False)


def _config(req: dict[str, Any]) -> Any:
    from reconciler.sandbox.functions import FunctionConfig

    cfg = req.get("FunctionConfig") or {}
    kvs = (cfg.get("KeyValueStoreAssociations") or {}).get("Items") or []
    return FunctionConfig(
        comment=cfg.get("Comment", ""),
        runtime=cfg.get("Runtime", ""),
        key_value_store_arns=tuple(a.get("KeyValueStoreARN", "") for a in kvs),
    )


def _summary_response(summary: Any, status: int, extra: list[tuple[str, str]] | None = None) -> Response:
    headers = [("ETag", summary.etag), ("Content-Type", "text/xml")] + (extra or [])
    return status, headers, wire.render("FunctionSummary", "FunctionSummary", summary_dict(summary))


def _test_result(outcome: TestOutcome) -> dict[str, Any]:
    return {
        "FunctionSummary": summary_dict(outcome.summary),
        "ComputeUtilization": str(outcome.compute_utilization),
        "FunctionExecutionLogs": list(outcome.logs),
        "FunctionErrorMessage": outcome.error or "",  # AWS answers "" when the function succeeded
        "FunctionOutput": outcome.output,
    }


def _service(environ: dict[str, Any]) -> str | None:
    """The signing service of the request (from its SigV4 credential scope), if signed."""
    match = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    return match["service"] if match else None


def _operation(environ: dict[str, Any], service: str | None, path: str) -> str | None:
    """The botocore operation name of a request, as far as cheaply known (for faults and counts)."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return str(target).rsplit(".", 1)[-1]
    query: dict[str, list[str]] = parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return query["Action"][-1]
    if service in ("cloudfront", "s3") or (service is None and path.startswith("/2020-05-31/")):
        try:
            from moto.core.request import Request as MotoRequest
            from moto.core.routing import get_service_router

            operation, _ = get_service_router(service or "cloudfront").match(MotoRequest(environ))
            return str(operation.name)
        except Exception:  # noqa: BLE001 - an unknown request is simply not faultable
            return None
    return None


def _account(environ: dict[str, Any]) -> str:
    """The account moto serves this request from (same rules as moto's BaseResponse)."""
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
        return str(environ["HTTP_X_MOTO_ACCOUNT_ID"])
    from moto.iam.models import get_account_id_from

    match = re.search(r"Credential=([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
    return get_account_id_from(match.group(1) if match else "AKIAEXAMPLE")


def _cloudfront_backend(environ: dict[str, Any]) -> Any:
    from moto.cloudfront.models import cloudfront_backends

    return cloudfront_backends[_account(environ)]["global"]
