"""API Gateway (REST API, Lambda proxy integration) emulated on 127.0.0.1 for the local stack.

Each HTTP request becomes the v1 proxy event API Gateway would send (``resource``, ``path``,
``httpMethod``, ``headers``/``multiValueHeaders``, query parameters, ``pathParameters``, ``body``,
``isBase64Encoded``, ``requestContext``), for the function that ``resources.FUNCTIONS`` attaches to
the route. Routes with ``auth="jwt"`` first run the Lambda REQUEST authorizer (identity source: the
``Authorization`` header) and pass its ``context`` on in ``requestContext.authorizer``.

What API Gateway does and this does too:
- resource matching by specificity (a literal segment beats ``{param}``), no fallback to a less
  specific resource when the method does not match (an unknown path or method is a 404, as the
  deployed API maps API Gateway's MISSING_AUTHENTICATION_TOKEN);
- 10 MB request body cap (413), and Lambda's 6 MB synchronous payload cap on the whole event
  (413: after base64, multipart bodies above ~4.5 MB cannot reach a Lambda function);
- the 29 s integration timeout (504); a malformed proxy response or a crashed function (502);
- an authorizer that raises ``Unauthorized`` → 401, a Deny policy → 403, a missing identity
  source → 401 without calling it; any other authorizer failure → 500.
Error bodies are the project's ``{"error", "message", "details"}`` (the CDK app maps API Gateway's
gateway responses to the same shape). Authorizer results are not cached (stricter than the default
300 s cache).
"""

from __future__ import annotations

import base64
import fnmatch
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from marketplace import errors
from marketplace.resources import BINARY_MEDIA_TYPES, FUNCTIONS, HANDLER_CHECKED_AUTH, FunctionSpec, Route

log = logging.getLogger("local.api")

MAX_BODY = 10 * 1024 * 1024  # API Gateway REST API request payload limit
MAX_EVENT = 6 * 1024 * 1024  # Lambda synchronous invocation request payload limit (6,291,456 bytes)
MAX_DRAIN = 128 * 1024 * 1024  # bytes of a refused body read and discarded before answering 413
INTEGRATION_TIMEOUT = 29.0  # seconds, API Gateway's default maximum
ACCOUNT_ID = "123456789012"
API_ID = "local"
REGION = "us-east-1"

Function = Callable[[Any, Any], Any]


# API Gateway's own 5XX answers; the deployed API's DEFAULT_5XX gateway response keeps their status
# and gives them the generic code (infra/api.py), so these do too.
class BadGatewayError(errors.MarketplaceError):
    status = 502


class GatewayTimeoutError(errors.MarketplaceError):
    status = 504


# --------------------------------------------------------------------------------------------
# Routes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteTarget:
    route: Route
    function: FunctionSpec


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def _match(template: str, path: str) -> dict[str, str] | None:
    """Path parameters if ``path`` matches ``template`` (``{name}`` one segment, ``{name+}`` the rest)."""
    t, p = _segments(template), _segments(path)
    params: dict[str, str] = {}
    for i, seg in enumerate(t):
        if seg.startswith("{") and seg.endswith("+}"):
            if i >= len(p):
                return None
            params[seg[1:-2]] = "/".join(p[i:])
            return params
        if i >= len(p):
            return None
        if seg.startswith("{") and seg.endswith("}"):
            params[seg[1:-1]] = unquote(p[i])
        elif seg != p[i]:
            return None
    return params if len(t) == len(p) else None


def _specificity(template: str) -> tuple:
    """Sort key: literal segments before ``{param}`` before ``{param+}``, left to right."""
    rank = []
    for seg in _segments(template):
        rank.append(2 if seg.endswith("+}") else 1 if seg.startswith("{") else 0)
    return tuple(rank) + (3,)  # a shorter template loses to a longer literal one at a tie


class RouteTable:
    """The API's resources and methods, from ``resources.FUNCTIONS``."""

    def __init__(self, functions: tuple[FunctionSpec, ...] = FUNCTIONS) -> None:
        self.resources: dict[str, dict[str, RouteTarget]] = {}
        for fn in functions:
            for route in fn.routes:
                methods = self.resources.setdefault(route.path, {})
                if route.method in methods:
                    raise ValueError(f"route {route.method} {route.path} declared twice")
                methods[route.method] = RouteTarget(route, fn)
        self._ordered = sorted(self.resources, key=_specificity)

    def resolve(self, method: str, path: str) -> tuple[RouteTarget, dict[str, str]]:
        for template in self._ordered:
            params = _match(template, path)
            if params is None:
                continue
            target = self.resources[template].get(method) or self.resources[template].get("ANY")
            if target is None:
                break  # API Gateway does not fall back to a less specific resource
            return target, params
        # API Gateway's MISSING_AUTHENTICATION_TOKEN, which the deployed API maps to a 404
        raise errors.NotFoundError(f"No route for {method} {path}", {"method": method, "path": path})


# --------------------------------------------------------------------------------------------
# The gateway (transport-independent)
# --------------------------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    target: str  # path and query as received
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str = "127.0.0.1"


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def error_response(err: errors.MarketplaceError, request_id: str) -> Response:
    headers = [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)]
    headers += list(err.headers.items())
    return Response(err.status, headers, json.dumps(err.body()).encode())


def _is_binary(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";")[0].strip().lower()
    return any(fnmatch.fnmatch(media, pattern) for pattern in BINARY_MEDIA_TYPES)


class ApiGateway:
    """Turns requests into proxy events for in-process functions and their results into responses.

    ``functions`` maps a ``FunctionSpec.name`` (logical name, e.g. ``content-api``) to a callable
    ``(event, context) -> result`` (``local.lambdas.LocalFunction``). ``authorizers`` maps an auth
    kind (``"jwt"``) to the logical name of its authorizer function.
    """

    def __init__(
        self,
        functions: Mapping[str, Function],
        *,
        routes: RouteTable | None = None,
        authorizers: Mapping[str, str] | None = None,
        stage: str = "local",
        timeout: float = INTEGRATION_TIMEOUT,
    ) -> None:
        self.functions = functions
        self.routes = routes or RouteTable()
        self.authorizers = dict(authorizers if authorizers is not None else {"jwt": "authorizer"})
        self.stage = stage
        self.timeout = timeout

    # -- entry point --------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        started = time.monotonic()
        try:
            response = self._handle(request, request_id)
        except errors.MarketplaceError as err:
            response = error_response(err, request_id)
        except Exception:  # a bug in the gateway itself: never leave the client without an answer
            log.exception("gateway failure on %s %s", request.method, request.target)
            response = error_response(errors.MarketplaceError("Internal server error"), request_id)
        log.info("%s %s -> %d (%.0f ms)", request.method, request.target, response.status,
                 (time.monotonic() - started) * 1000)
        return response

    def _handle(self, request: Request, request_id: str) -> Response:
        if len(request.body) > MAX_BODY:
            raise errors.PayloadTooLargeError(
                "Request body exceeds API Gateway's 10 MB limit; use POST /content/uploads for large files",
                {"limit": MAX_BODY, "size": len(request.body)},
            )
        url = urlsplit(request.target)
        path = url.path or "/"
        target, path_params = self.routes.resolve(request.method, path)
        event = self._event(request, url.query, target, path_params, request_id)

        if target.route.auth not in HANDLER_CHECKED_AUTH:
            event["requestContext"]["authorizer"] = self._authorize(target, event)

        size = len(json.dumps(event))
        if size > MAX_EVENT:
            raise errors.PayloadTooLargeError(
                "Request exceeds Lambda's 6 MB payload limit (binary bodies are base64-encoded); "
                "use POST /content/uploads for large files",
                {"limit": MAX_EVENT, "eventSize": size},
            )
        result = self._invoke(target.function.name, event, min(self.timeout, target.function.timeout))
        return self._proxy_response(result, request_id)

    # -- events -------------------------------------------------------------------------------

    def _event(self, request: Request, query: str, target: RouteTarget, path_params: dict[str, str],
               request_id: str) -> dict[str, Any]:
        headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        for name, value in request.headers:
            headers[name] = value
            multi_headers.setdefault(name, []).append(value)
        multi_query: dict[str, list[str]] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            multi_query.setdefault(name, []).append(value)
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)

        body: str | None
        if not request.body:
            body, is_b64 = None, False
        elif _is_binary(content_type):
            body, is_b64 = base64.b64encode(request.body).decode(), True
        else:
            try:
                body, is_b64 = request.body.decode("utf-8"), False
            except UnicodeDecodeError:  # API Gateway would garble it; base64 keeps the bytes
                body, is_b64 = base64.b64encode(request.body).decode(), True

        now = time.time()
        url_path = urlsplit(request.target).path or "/"
        user_agent = next((v for k, v in headers.items() if k.lower() == "user-agent"), None)
        host = next((v for k, v in headers.items() if k.lower() == "host"), "127.0.0.1")
        return {
            "resource": target.route.path,
            "path": url_path,
            "httpMethod": request.method,
            "headers": headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": path_params or None,
            "stageVariables": None,
            "requestContext": {
                "accountId": ACCOUNT_ID,
                "apiId": API_ID,
                "resourceId": target.route.path,
                "resourcePath": target.route.path,
                "httpMethod": request.method,
                "path": f"/{self.stage}{url_path}",
                "stage": self.stage,
                "requestId": request_id,
                "extendedRequestId": request_id,
                "requestTime": formatdate(now, usegmt=True),
                "requestTimeEpoch": int(now * 1000),
                "protocol": "HTTP/1.1",
                "domainName": host,
                "identity": {"sourceIp": request.source_ip, "userAgent": user_agent, "accessKey": None,
                             "accountId": None, "caller": None, "user": None, "userArn": None,
                             "cognitoIdentityId": None, "cognitoIdentityPoolId": None},
            },
            "body": body,
            "isBase64Encoded": is_b64,
        }

    def method_arn(self, event: dict[str, Any]) -> str:
        return (f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{API_ID}/{self.stage}/"
                f"{event['httpMethod']}{event['path']}")

    # -- authorizer ---------------------------------------------------------------------------

    def _authorize(self, target: RouteTarget, event: dict[str, Any]) -> dict[str, Any]:
        auth = target.route.auth
        name = self.authorizers.get(auth)
        if name is None:
            log.error("no authorizer configured for auth %r (%s %s)", auth, event["httpMethod"],
                      target.route.path)
            raise errors.MarketplaceError(f"No authorizer configured for auth type {auth!r}")
        if not any(k.lower() == "authorization" and v for k, v in (event["headers"] or {}).items()):
            # the identity source is missing: API Gateway answers 401 without calling the authorizer
            raise errors.UnauthorizedError("Missing Authorization header", {"header": "Authorization"})

        auth_event = {
            "type": "REQUEST",
            "methodArn": self.method_arn(event),
            **{k: event[k] for k in ("resource", "path", "httpMethod", "headers", "multiValueHeaders",
                                     "queryStringParameters", "multiValueQueryStringParameters",
                                     "pathParameters", "stageVariables", "requestContext")},
        }
        try:
            result = self._invoke(name, auth_event, self.timeout, raise_errors=True)
        except _FunctionError as err:
            if str(err.exc) == "Unauthorized":  # the documented way for an authorizer to say 401
                raise errors.UnauthorizedError("Invalid or expired token") from None
            log.error("authorizer %s failed: %r", name, err.exc)
            raise errors.MarketplaceError("Authorizer failed") from None

        try:
            statements = result["policyDocument"]["Statement"]
            principal = result["principalId"]
        except (KeyError, TypeError):
            log.error("authorizer %s returned no policy: %r", name, result)
            raise errors.MarketplaceError("Authorizer returned an invalid response") from None
        if not _policy_allows(statements, auth_event["methodArn"]):
            raise errors.ForbiddenError("User is not authorized to access this resource")
        # API Gateway passes context values to the integration as strings
        context = {k: _stringify(v) for k, v in (result.get("context") or {}).items()}
        return {**context, "principalId": principal}

    # -- invocation ---------------------------------------------------------------------------

    def _invoke(self, name: str, event: dict[str, Any], timeout: float, *, raise_errors: bool = False) -> Any:
        function = self.functions.get(name)
        if function is None:
            raise errors.MarketplaceError(f"Function {name!r} is not deployed")
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["result"] = function(event, None)
            except BaseException as exc:  # noqa: BLE001 - reported below like Lambda would
                outcome["error"] = exc

        worker = threading.Thread(target=run, name=f"fn-{name}", daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            log.error("function %s still running after %.0f s", name, timeout)
            raise GatewayTimeoutError("Endpoint request timed out", {"timeoutSeconds": timeout})
        if "error" in outcome:
            exc = outcome["error"]
            if raise_errors:
                raise _FunctionError(exc)
            log.error("function %s raised", name, exc_info=exc)
            raise BadGatewayError("Internal server error", {"function": name})
        return outcome["result"]

    def _proxy_response(self, result: Any, request_id: str) -> Response:
        if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
            log.error("malformed Lambda proxy response: %r", result if not isinstance(result, dict)
                      else {k: result[k] for k in result if k != "body"})
            raise BadGatewayError("Malformed Lambda proxy response")
        headers: list[tuple[str, str]] = []
        single = result.get("headers") or {}
        multi = result.get("multiValueHeaders") or {}
        for name, values in multi.items():
            headers += [(name, str(v)) for v in values]
        for name, value in single.items():
            if name not in multi:
                headers.append((name, str(value)))
        headers.append(("x-amzn-RequestId", request_id))
        body = result.get("body") or ""
        raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
        return Response(result["statusCode"], headers, raw)


class _FunctionError(Exception):
    def __init__(self, exc: BaseException) -> None:
        super().__init__(str(exc))
        self.exc = exc


def _stringify(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _policy_allows(statements: Any, method_arn: str) -> bool:
    """IAM evaluation for execute-api:Invoke: an explicit Deny wins, else an Allow is needed."""
    if isinstance(statements, dict):
        statements = [statements]
    allowed = False
    for st in statements:
        actions = st.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if not any(fnmatch.fnmatchcase("execute-api:Invoke", a) for a in actions):
            continue
        resources = st.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        if not any(fnmatch.fnmatchcase(method_arn, r) for r in resources):
            continue
        if st.get("Effect") == "Deny":
            return False
        if st.get("Effect") == "Allow":
            allowed = True
    return allowed


# --------------------------------------------------------------------------------------------
# HTTP transport
# --------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: ApiServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.client_address[0], *args)

    def _read_body(self) -> bytes | None:
        """The request body, or None when it is larger than API Gateway accepts."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                total += size
                if total > MAX_BODY:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            # drain what was sent (up to a bound) so the client reads the 413 instead of a reset
            remaining = min(length, MAX_DRAIN)
            while remaining > 0:
                got = self.rfile.read(min(remaining, 1 << 20))
                if not got:
                    break
                remaining -= len(got)
            return None
        return self.rfile.read(length) if length else b""

    def _respond(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _dispatch(self) -> None:
        body = self._read_body()
        if body is None:
            # do not read a body we refuse; close the connection so the rest is not parsed as a request
            self.close_connection = True
            err = errors.PayloadTooLargeError(
                "Request body exceeds API Gateway's 10 MB limit; use POST /content/uploads for large files",
                {"limit": MAX_BODY},
            )
            self._respond(error_response(err, str(uuid.uuid4())))
            return
        request = Request(self.command, self.path, list(self.headers.items()), body, self.client_address[0])
        self._respond(self.server.gateway.handle(request))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch


class ApiServer(ThreadingHTTPServer):
    """The gateway on 127.0.0.1:port, one thread per connection, serving from a background thread."""

    daemon_threads = True

    def __init__(self, gateway: ApiGateway, port: int, host: str = "127.0.0.1") -> None:
        super().__init__((host, port), _Handler)
        self.gateway = gateway
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ApiServer:
        self._thread = threading.Thread(target=self.serve_forever, name="api-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread:  # shutdown() waits for serve_forever, so only when it runs
            self.shutdown()
            self._thread.join(5)
            self._thread = None
        self.server_close()
