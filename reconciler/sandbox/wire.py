"""XML on the wire for the sandbox's own CloudFront routes, driven by botocore's service model.

`render(shape_name, value)` writes a dict as the XML of that shape (member order, list member
names, timestamps, blobs as the model says); `parse(shape, body)` reads a request body into a
dict. `error_body` renders an error in the protocol of the service that was called. Used by
`middleware.py`; the model is loaded once.
"""

from __future__ import annotations

import base64
import functools
import json
import uuid
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

import botocore.session
from botocore.model import ServiceModel, Shape

NAMESPACE = "http://cloudfront.amazonaws.com/doc/2020-05-31/"


@functools.cache
def cloudfront_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("cloudfront")


def timestamp(value: datetime) -> str:
    """ISO 8601 UTC with milliseconds, as CloudFront writes times."""
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def render(root: str, shape_name: str, value: dict[str, Any]) -> bytes:
    """`value` as the XML element `root` of shape `shape_name` (members not in the shape are an error)."""
    element = ET.Element(root, {"xmlns": NAMESPACE})
    _fill(element, cloudfront_model().shape_for(shape_name), value)
    body: bytes = ET.tostring(element, encoding="utf-8")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def _fill(element: ET.Element, shape: Shape, value: Any) -> None:
    kind = shape.type_name
    if kind == "structure":
        unknown = set(value) - set(shape.members)
        if unknown:
            raise KeyError(f"{shape.name} has no members {sorted(unknown)}")
        for name, member in shape.members.items():
            if value.get(name) is None:
                continue
            child = ET.SubElement(element, member.serialization.get("name", name))
            _fill(child, member, value[name])
    elif kind == "list":
        member = shape.member
        for item in value:
            child = ET.SubElement(element, member.serialization.get("name", "member"))
            _fill(child, member, item)
    elif kind == "timestamp":
        element.text = timestamp(value) if isinstance(value, datetime) else str(value)
    elif kind == "blob":
        element.text = base64.b64encode(value).decode("ascii")
    elif kind == "boolean":
        element.text = "true" if value else "false"
    else:
        element.text = str(value)


def parse(shape_name: str, body: bytes) -> dict[str, Any]:
    """A request body of input shape `shape_name` as a dict of its body members (blobs as bytes)."""
    try:
        element = ET.fromstring(body)
    except ET.ParseError as exc:
        from reconciler.sandbox.errors import ApiError

        raise ApiError(400, "MalformedXML", f"The XML you provided was not well-formed: {exc}") from None
    shape = cloudfront_model().shape_for(shape_name)
    result = _read(element, shape)
    return result if isinstance(result, dict) else {}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _read(element: ET.Element, shape: Shape) -> Any:
    kind = shape.type_name
    if kind == "structure":
        out: dict[str, Any] = {}
        by_name = {m.serialization.get("name", n): (n, m) for n, m in shape.members.items()}
        for child in element:
            found = by_name.get(_local(child.tag))
            if found and "location" not in found[1].serialization:
                out[found[0]] = _read(child, found[1])
        return out
    if kind == "list":
        return [_read(child, shape.member) for child in element]
    text = element.text or ""
    if kind == "blob":
        from reconciler.sandbox.errors import ApiError

        try:
            return base64.b64decode(text, validate=True)
        except ValueError:
            raise ApiError(400, "InvalidArgument", f"{shape.name} is not valid base64") from None
    if kind in ("integer", "long"):
        return int(text)
    if kind == "boolean":
        return text == "true"
    return text


def error_body(protocol: str, code: str, message: str, status: int) -> tuple[bytes, list[tuple[str, str]]]:
    """An error document and its headers in `protocol` ("rest-xml", "s3", "json", "query")."""
    request_id = str(uuid.uuid4())
    headers = [("x-amzn-RequestId", request_id)]
    if protocol == "json":
        headers += [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code)]
        return json.dumps({"__type": code, "message": message}).encode(), headers
    headers.append(("Content-Type", "text/xml"))
    error = ET.Element("Error")
    if protocol in ("rest-xml", "query"):
        ET.SubElement(error, "Type").text = "Sender" if status < 500 else "Receiver"
    ET.SubElement(error, "Code").text = code
    ET.SubElement(error, "Message").text = message
    if protocol == "s3":
        ET.SubElement(error, "RequestId").text = request_id
        root = error
    else:
        root = ET.Element("ErrorResponse", {"xmlns": NAMESPACE} if protocol == "rest-xml" else {})
        root.append(error)
        ET.SubElement(root, "RequestId").text = request_id
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8"), headers
