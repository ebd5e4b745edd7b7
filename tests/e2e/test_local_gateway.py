"""The local stack's API Gateway emulation, over HTTP, with small stand-in functions.

Given routes declared like ``resources.FUNCTIONS`` and an authorizer, when a client calls the
server, then the function receives the proxy event API Gateway would send and the client receives
what API Gateway would answer (including its limits and its authorizer behaviour).
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import threading
import time

import pytest
import requests
from marketplace.resources import FunctionSpec, Route

from local.api import MAX_BODY, MAX_URL, ApiGateway, ApiServer, RouteTable
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
    FunctionSpec("raw", "raw", routes=(Route("GET", "/binary"), Route("GET", "/bare"))),
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


def raw(event, context):
    if event["path"] == "/binary":
        return {"statusCode": 201, "headers": {"Content-Type": "application/octet-stream", "X-Kept": "yes"},
                "body": base64.b64encode(bytes(range(256))).decode(), "isBase64Encoded": True}
    return {"statusCode": 204}


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

    gateway = ApiGateway({"echo": echo, "broken": broken, "keyed": echo, "raw": raw,
                          "authorizer": counted_authorizer},
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




# -- methods and paths API Gateway has no route for: its MISSING_AUTHENTICATION_TOKEN response, as
# -- the deployed API configures it (infra/api.py: 404, NOT_FOUND, "no such route"), never 501/5xx.


def _raw(url: str, method: str, target: str, headers: dict | None = None, body: bytes | None = None):
    """One request with the method token and request target exactly as given (http.client)."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.putrequest(method, target, skip_host=False, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def _socket(url: str, data: bytes) -> bytes:
    """Raw bytes to the server, its whole answer back (for requests http.client will not send)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _assert_no_route(status: int, headers: dict, body: bytes) -> None:
    assert status == 404
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"error": "NOT_FOUND", "message": "no such route",
                                "details": {"requestId": headers["x-amzn-RequestId"]}}


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "MKCOL", "X-ANY_token", "OPTIONS", "PATCH",
                                    "DELETE", "PUT"])
@pytest.mark.parametrize("target", ["/things/special", "/nope", "/"])
def test_a_method_no_resource_declares_is_the_no_route_gateway_response(api, method, target):
    url, _ = api
    _assert_no_route(*_raw(url, method, target))


def test_unknown_route_body_is_exactly_the_configured_gateway_response(api):
    url, _ = api
    r = requests.get(f"{url}/nope/deeper")
    assert r.status_code == 404
    assert r.json() == {"error": "NOT_FOUND", "message": "no such route",
                        "details": {"requestId": r.headers["x-amzn-RequestId"]}}


def test_head_is_a_method_of_its_own_answered_without_a_body(api):
    """API Gateway does not serve HEAD from a GET method: no HEAD method, no route."""
    url, _ = api
    for target in ("/things/special", "/nope"):
        status, headers, body = _raw(url, "HEAD", target)
        assert status == 404 and body == b""
        assert headers["Content-Type"] == "application/json" and int(headers["Content-Length"]) > 0


def test_options_preflight_has_no_route_like_the_deployed_api(api):
    """The CDK app adds no CORS preflight methods, so a browser's OPTIONS gets the no-route answer."""
    url, _ = api
    status, headers, body = _raw(url, "OPTIONS", "/things/abc", {"Origin": "https://example.com",
                                                                 "Access-Control-Request-Method": "GET"})
    _assert_no_route(status, headers, body)


@pytest.mark.parametrize("target, resource, params", [
    ("/things/a%2Fb", "/things/{thingId}", {"thingId": "a/b"}),  # an encoded slash stays in its segment
    ("/things/%E2%9C%93", "/things/{thingId}", {"thingId": "\u2713"}),
    ("/things/100%25", "/things/{thingId}", {"thingId": "100%"}),
    ("/things/%zz", "/things/{thingId}", {"thingId": "%zz"}),  # not an escape: kept as sent
    ("/things/speci%61l", "/things/special", None),  # %61 is "a": the same URI as the literal
    ("/files/a%20b/c%2Fd.txt", "/files/{path+}", {"path": "a b/c/d.txt"}),
])
def test_percent_encoded_paths(api, target, resource, params):
    url, _ = api
    status, _, body = _raw(url, "GET", target)
    assert status == 200
    event = json.loads(body)
    assert event["resource"] == resource and event["pathParameters"] == params
    assert event["path"] == target  # as sent


@pytest.mark.parametrize("target, path", [
    ("/things//special", "/things//special"),
    ("/things/special/", "/things/special/"),
    ("//things/special", "/things/special"),  # http.server collapses leading slashes (open redirects)
])
def test_empty_path_segments_are_ignored_when_matching(api, target, path):
    url, _ = api
    status, _, body = _raw(url, "GET", target)
    assert status == 200
    event = json.loads(body)
    assert event["resource"] == "/things/special" and event["path"] == path


@pytest.mark.parametrize("target", ["//", "///nope", "//things", "/things/special//extra"])
def test_odd_paths_without_a_resource_are_the_no_route_response(api, target):
    url, _ = api
    _assert_no_route(*_raw(url, "GET", target))


def test_absolute_form_request_target_is_routed_by_its_path(api):
    url, _ = api
    status, _, body = _raw(url, "GET", "http://example.com/things/special?x=1")
    assert status == 200
    event = json.loads(body)
    assert event["path"] == "/things/special" and event["queryStringParameters"] == {"x": "1"}


def test_a_long_path_within_the_url_limit_is_routed(api):
    url, _ = api
    long_id = "x" * 10_000
    status, _, body = _raw(url, "GET", f"/things/{long_id}")
    assert status == 200 and json.loads(body)["pathParameters"] == {"thingId": long_id}
    _assert_no_route(*_raw(url, "GET", "/nope/" + "y" * 10_000))


def test_a_url_over_the_regional_limit_is_414_in_the_error_shape(api):
    url, _ = api
    status, headers, body = _raw(url, "GET", "/things/" + "x" * MAX_URL)
    assert status == 414
    assert json.loads(body) == {"error": "VALIDATION_ERROR", "message": "Request-URI Too Long",
                                "details": {"requestId": headers["x-amzn-RequestId"]}}


def test_a_request_line_the_http_server_refuses_is_answered_in_the_error_shape(api):
    """Over 64 KB the request line is refused before any routing (http.server's limit): a 414 in
    the API's error body, not an HTML page."""
    url, _ = api
    answer = _socket(url, b"GET /" + b"x" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 414")
    assert json.loads(body)["error"] == "VALIDATION_ERROR"


@pytest.mark.parametrize("request_bytes", [
    b"GARBAGE\r\n\r\n",
    b"GET /things/special HTTP/9.9\r\n\r\n",
    b"GET /things/special HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(120)) + b"\r\n",
])
def test_malformed_requests_are_4xx_in_the_error_shape(api, request_bytes):
    url, _ = api
    head, _, body = _socket(url, request_bytes).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 4"), head
    assert set(json.loads(body)) == {"error", "message", "details"}


def test_utf8_bytes_in_the_request_line_reach_the_function_as_text(api):
    url, _ = api
    answer = _socket(url, "GET /things/caf\u00e9 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert json.loads(body)["pathParameters"] == {"thingId": "caf\u00e9"}


def test_chunked_request_body_arrives_whole(api):
    url, _ = api
    payload = [b'{"a": ', b'"' + b"z" * 100_000 + b'"', b"}"]
    r = requests.post(f"{url}/things", data=iter(payload),
                      headers={"Authorization": "Bearer good", "Content-Type": "application/json"})
    assert r.status_code == 200
    assert json.loads(r.json()["body"]) == {"a": "z" * 100_000}


def test_chunked_body_over_ten_megabytes_is_413(api):
    url, _ = api
    chunks = (b"\0" * (1 << 20) for _ in range(11))
    r = requests.post(f"{url}/things", data=chunks,
                      headers={"Authorization": "Bearer good", "Content-Type": "application/octet-stream"})
    assert r.status_code == 413 and r.json()["error"] == "PAYLOAD_TOO_LARGE"


def test_binary_response_body_is_decoded_and_headers_keep_their_case(api):
    url, _ = api
    r = requests.get(f"{url}/binary")
    assert r.status_code == 201 and r.content == bytes(range(256))
    assert r.headers["Content-Type"] == "application/octet-stream" and r.raw.headers.get("X-Kept") == "yes"


def test_a_response_without_content_type_gets_none_added(api):
    url, _ = api
    status, headers, body = _raw(url, "GET", "/bare")
    assert status == 204 and "Content-Type" not in headers and body == b""


def test_gateway_errors_are_never_5xx_for_unknown_methods_even_on_jwt_routes(api):
    """An authorizer-guarded resource with an undeclared method: no route, the authorizer is not run."""
    url, calls = api
    before = calls["authorizer"]
    _assert_no_route(*_raw(url, "TRACE", "/things", {"Authorization": "Bearer good"}))
    assert calls["authorizer"] == before
