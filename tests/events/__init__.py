"""Shared Lambda events: API Gateway REST proxy requests and REQUEST authorizer calls.

``api_event`` fills ``apigw_proxy.json`` for one request; ``authorizer_event`` fills
``authorizer_request.json``. Binary bodies are base64-encoded as API Gateway does for the REST API's
binary media types.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import re
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


@functools.cache
def _template(name: str) -> dict[str, Any]:
    return json.loads((HERE / name).read_text())


def api_event(method: str, path: str, *, body: bytes | str | dict | None = None,
              headers: dict[str, str] | None = None, caller: str | None = None,
              resource: str | None = None) -> dict[str, Any]:
    """A REST API proxy event. ``dict`` bodies are sent as JSON, ``bytes`` base64-encoded;
    ``caller`` is what the authorizer put in ``requestContext.authorizer.address``."""
    event = copy.deepcopy(_template("apigw_proxy.json"))
    hdrs = dict(event["headers"])
    if isinstance(body, dict):
        body = json.dumps(body)
        hdrs.setdefault("Content-Type", "application/json")
    hdrs.update(headers or {})
    event["headers"] = hdrs
    event["multiValueHeaders"] = {k: [v] for k, v in hdrs.items()}
    event["httpMethod"] = event["requestContext"]["httpMethod"] = method
    event["path"] = path
    event["requestContext"]["path"] = "/local" + path
    if resource:
        event["resource"] = event["requestContext"]["resourcePath"] = resource
        names = re.findall(r"{(\w+)}", resource)
        pattern = "^" + re.sub(r"{\w+}", "([^/]+)", resource) + "$"
        match = re.match(pattern, path)
        event["pathParameters"] = dict(zip(names, match.groups())) if match and names else None
    if isinstance(body, bytes):
        event["body"] = base64.b64encode(body).decode()
        event["isBase64Encoded"] = True
    else:
        event["body"] = body
    if caller:
        event["requestContext"]["authorizer"] = {"principalId": caller, "address": caller}
    return event


def authorizer_event(authorization: str | None, method: str = "POST", path: str = "/content/register"):
    event = copy.deepcopy(_template("authorizer_request.json"))
    if authorization is not None:
        event["headers"]["Authorization"] = authorization
        event["multiValueHeaders"]["Authorization"] = [authorization]
    event["httpMethod"] = method
    event["path"] = path
    event["methodArn"] = f"arn:aws:execute-api:us-east-1:123456789012:local/local/{method}{path}"
    return event
