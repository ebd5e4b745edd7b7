"""The local stack's API Gateway emulation, over HTTP, with small stand-in functions.

Given routes declared like ``resources.FUNCTIONS`` and an authorizer, when a client calls the
server, then the function receives the proxy event API Gateway would send and the client receives
what API Gateway would answer (including its limits and its authorizer behaviour).
"""

from __future__ import annotations

import base64
import json
import threading
import time

import pytest
import requests
from marketplace.resources import FunctionSpec, Route

from local.api import MAX_BODY, ApiGateway, ApiServer, RouteTable
from local.processes import free_port

pytestmark = pytest.mark.e2e

ROUTES = RouteTable((
    FunctionSpec("echo", "echo", routes=(
        Route("GET", "/things/{thingId}"),
        Route("GET", "/things/special"),
        Route("POST", "/things", "jwt"),
        Route("GET", "/files/{path+}"),
    )),
    FunctionSpec("broken", "broken", routes=(Route("GET", "/broken"), Route("GET", "/crash"),
                                            Route("GET", "/slow"))),
    FunctionSpec("keyed", "keyed", routes=(Route("GET", "/keyed", "apikey"),)),
))


def echo(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]}, "body": json.dumps(event)}


def broken(event, context):
    if event["path"] == "/crash":
        raise RuntimeError("boom")
    if event["path"] == "/slow":
        time.sleep(3)
        return {"statusCode": 200, "body": "late"}
    return {"body": "no status code"}


def authorizer(event, context):
    token = event["headers"].get("Authorization") or event["headers"].get("authorization")
    if token == "Bearer good":
        return {"principalId": "0xCreator", "context": {"address": "0xCreator", "role": "creator", "n": 7,
                                                        "ok": True},
                "policyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}]}}
    if token == "Bearer denied":
        return {"principalId": "x", "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": "*"}]}}
    if token == "Bearer crash":
        raise KeyError("bug")
    raise Exception("Unauthorized")  # noqa: TRY002 - API Gateway's contract for a 401


@pytest.fixture(scope="module")
def api():
    calls = {"authorizer": 0}

    def counted_authorizer(event, context):
        calls["authorizer"] += 1
        calls["auth_event"] = event
        return authorizer(event, context)

    gateway = ApiGateway({"echo": echo, "broken": broken, "keyed": echo, "authorizer": counted_authorizer},
                         routes=ROUTES, timeout=1.0)
    server = ApiServer(gateway, free_port()).start()
    yield server.url, calls
    server.stop()


def test_get_with_path_and_query_parameters_gives_a_v1_proxy_event(api):
    url, _ = api
    r = requests.get(f"{url}/things/abc%20d?x=1&x=2&y=", headers={"X-Custom": "v"})
    assert r.status_code == 200
    assert r.headers["Set-Cookie"] == "a=1, b=2"  # multiValueHeaders: both sent
    assert r.headers["x-amzn-RequestId"]
    event = r.json()
    assert event["resource"] == "/things/{thingId}"
    assert event["path"] == "/things/abc%20d"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"thingId": "abc d"}
    assert event["queryStringParameters"] == {"x": "2", "y": ""}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "y": [""]}
    assert event["headers"]["X-Custom"] == "v"
    assert event["multiValueHeaders"]["X-Custom"] == ["v"]
    assert event["body"] is None and event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["requestId"] == r.headers["x-amzn-RequestId"]
    assert ctx["stage"] == "local" and ctx["resourcePath"] == "/things/{thingId}"
    assert ctx["identity"]["sourceIp"] == "127.0.0.1"
    assert "authorizer" not in ctx


def test_literal_resource_wins_over_a_parameter(api):
    url, _ = api
    assert requests.get(f"{url}/things/special").json()["resource"] == "/things/special"


def test_greedy_path_parameter(api):
    url, _ = api
    assert requests.get(f"{url}/files/a/b/c.txt").json()["pathParameters"] == {"path": "a/b/c.txt"}


def test_unknown_route_is_a_json_404(api):
    url, _ = api
    r = requests.get(f"{url}/nope")
    assert r.status_code == 404
    assert r.json()["error"] == "NOT_FOUND"


def test_known_resource_with_another_method_is_404_without_fallback(api):
    """DELETE /things/special must not fall back to /things/{thingId} (which has no DELETE either)."""
    url, _ = api
    r = requests.delete(f"{url}/things/special")
    assert r.status_code == 404
    assert r.json()["error"] == "NOT_FOUND"
    r = requests.post(f"{url}/things/special")  # GET exists on the literal resource only
    assert r.status_code == 404


def test_jwt_route_without_authorization_header_is_401_and_skips_the_authorizer(api):
    url, calls = api
    before = calls["authorizer"]
    r = requests.post(f"{url}/things", json={"a": 1})
    assert r.status_code == 401
    assert r.json()["error"] == "UNAUTHORIZED"
    assert calls["authorizer"] == before


def test_authorizer_unauthorized_is_401(api):
    url, _ = api
    r = requests.post(f"{url}/things", json={}, headers={"Authorization": "Bearer bad"})
    assert r.status_code == 401
    assert r.json()["error"] == "UNAUTHORIZED"


def test_authorizer_deny_is_403(api):
    url, _ = api
    r = requests.post(f"{url}/things", json={}, headers={"Authorization": "Bearer denied"})
    assert r.status_code == 403
    assert r.json()["error"] == "FORBIDDEN"


def test_authorizer_crash_is_500(api):
    url, _ = api
    r = requests.post(f"{url}/things", json={}, headers={"Authorization": "Bearer crash"})
    assert r.status_code == 500
    assert r.json()["error"] == "INTERNAL_ERROR"


def test_authorizer_context_reaches_the_function_as_strings(api):
    url, calls = api
    r = requests.post(f"{url}/things", json={"a": 1}, headers={"Authorization": "Bearer good"})
    assert r.status_code == 200
    event = r.json()
    assert event["requestContext"]["authorizer"] == {
        "address": "0xCreator", "role": "creator", "n": "7", "ok": "true", "principalId": "0xCreator"}
    assert json.loads(event["body"]) == {"a": 1} and event["isBase64Encoded"] is False
    auth_event = calls["auth_event"]
    assert auth_event["type"] == "REQUEST"
    assert auth_event["methodArn"].endswith("/local/POST/things")
    assert auth_event["headers"]["Authorization"] == "Bearer good"


def test_multipart_body_arrives_base64_encoded(api):
    url, _ = api
    payload = bytes(range(256)) * 10
    r = requests.post(f"{url}/things", files={"file": ("x.bin", payload)}, data={"metadata": "{}"},
                      headers={"Authorization": "Bearer good"})
    event = r.json()
    assert event["isBase64Encoded"] is True
    raw = base64.b64decode(event["body"])
    assert payload in raw and b'name="metadata"' in raw


def test_body_over_the_lambda_payload_limit_is_413(api):
    url, _ = api
    r = requests.post(f"{url}/things", files={"file": ("x.bin", b"\0" * (5 * 1024 * 1024))},
                      headers={"Authorization": "Bearer good"})
    assert r.status_code == 413
    assert r.json()["error"] == "PAYLOAD_TOO_LARGE"
    assert "/content/uploads" in r.json()["message"]


def test_body_over_ten_megabytes_is_413(api):
    url, calls = api
    before = calls["authorizer"]
    r = requests.post(f"{url}/things", data=b"\0" * (MAX_BODY + 1),
                      headers={"Authorization": "Bearer good", "Content-Type": "application/octet-stream"})
    assert r.status_code == 413
    assert r.json()["error"] == "PAYLOAD_TOO_LARGE"
    assert calls["authorizer"] == before


def test_malformed_proxy_response_is_502(api):
    url, _ = api
    r = requests.get(f"{url}/broken")
    assert r.status_code == 502
    assert r.json()["error"] == "INTERNAL_ERROR"


def test_function_exception_is_502(api):
    url, _ = api
    assert requests.get(f"{url}/crash").status_code == 502


def test_integration_timeout_is_504(api):
    url, _ = api
    r = requests.get(f"{url}/slow")
    assert r.status_code == 504
    assert r.json()["error"] == "INTERNAL_ERROR"


def test_apikey_route_reaches_its_function_which_checks_the_key_itself(api):
    """Like the CDK app: no API Gateway authorizer on "apikey" routes; the handler gets the header."""
    url, calls = api
    before = calls["authorizer"]
    r = requests.get(f"{url}/keyed", headers={"Authorization": "Bearer sk_live_x"})
    assert r.status_code == 200
    assert r.json()["headers"]["Authorization"] == "Bearer sk_live_x"
    assert calls["authorizer"] == before


def test_requests_are_served_in_parallel():
    """A request waiting inside a function does not hold up the next one (a thread per connection)."""
    gate = threading.Event()

    def gated(event, context):
        if event["path"] == "/open":
            gate.set()
            return {"statusCode": 200, "body": "opened"}
        return {"statusCode": 200, "body": "released" if gate.wait(20) else "never released"}

    routes = RouteTable((FunctionSpec("gated", "gated", routes=(Route("GET", "/wait"), Route("GET", "/open"))),))
    server = ApiServer(ApiGateway({"gated": gated}, routes=routes), free_port()).start()
    try:
        results = []
        waiter = threading.Thread(target=lambda: results.append(requests.get(f"{server.url}/wait").text))
        waiter.start()
        assert requests.get(f"{server.url}/open").text == "opened"
        waiter.join()
        assert results == ["released"]
    finally:
        server.stop()


def test_duplicate_route_declaration_is_rejected():
    with pytest.raises(ValueError):
        RouteTable((FunctionSpec("a", "a", routes=(Route("GET", "/x"),)),
                    FunctionSpec("b", "b", routes=(Route("GET", "/x"),))))


