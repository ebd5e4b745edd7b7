"""API Gateway (REST API, Lambda proxy integration) emulated on 127.0.0.1 for the local stack.

The HTTP layer is werkzeug's threaded WSGI server (``werkzeug.serving.make_server``, one thread per
connection; every method token reaches the gateway, TRACE and PROPFIND included). Each request
becomes the v1 proxy event API Gateway would send (``resource``, ``path``, ``httpMethod``,
``headers``/``multiValueHeaders`` as the client sent them, query parameters, ``pathParameters``,
``body``, ``isBase64Encoded``, ``requestContext``) for the function that ``resources.FUNCTIONS``
attaches to the route. Routes with ``auth="jwt"`` first run the Lambda REQUEST authorizer
(identity source: the ``Authorization`` header) and pass its ``context`` on in
``requestContext.authorizer``.

What API Gateway does and this does too:
- resource matching by specificity (a literal segment beats ``{param}``), no fallback to a less
  specific resource when the method does not match. A path with no resource, or a method the
  resource does not declare (any token: TRACE, CONNECT, PROPFIND, HEAD and OPTIONS too, none is
  declared), is API Gateway's MISSING_AUTHENTICATION_TOKEN, which the deployed API maps to a 404;
- 10 MB request body cap (413), and Lambda's 6 MB synchronous payload cap on the whole event
  (413: after base64, multipart bodies above ~4.5 MB cannot reach a Lambda function); URLs longer
  than a regional API's 10,240 characters (414);
- the 29 s integration timeout (504); a malformed proxy response or a crashed function (502);
  nothing a client sends makes it answer a 5XX by itself (http.server's 505 for an unknown HTTP
  version becomes a 400);
- an authorizer that raises ``Unauthorized`` → 401, a Deny policy → 403, a missing identity
  source → 401 without calling it; any other authorizer failure → 500;
- ``multipart/form-data`` (``resources.BINARY_MEDIA_TYPES``) arrives base64-encoded, response
  bodies with ``isBase64Encoded`` are decoded, ``multiValueHeaders`` are all sent.

API Gateway's own answers (no route, 401, 403, 413, 5XX) go through ``GATEWAY_RESPONSES``, a copy
of the gateway responses ``infra/api.py`` configures (``tests/infra/test_gateway_parity.py`` keeps
the two equal): status, code and body ``{"error", "message", "details": {"requestId"}}`` are
what the deployed API answers. Where this differs from AWS: authorizer results are not cached
(stricter than the default 300 s cache); empty path segments (``//``) are ignored when matching
and http.server turns a leading ``//`` into ``/`` before anything else sees the path;
an ``Authorization`` header on an unknown route does not turn the 404 into API Gateway's
IncompleteSignatureException 403; requests that are not HTTP at all (a malformed request line,
headers over 64 KB) are refused by the HTTP server with the same error body.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from typing import IO, Any
from urllib.parse import parse_qsl, unquote

from marketplace import errors
from marketplace.resources import BINARY_MEDIA_TYPES, FUNCTIONS, HANDLER_CHECKED_AUTH, FunctionSpec, Route
from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

log = logging.getLogger("local.api")

MAX_BODY = 10 * 1024 * 1024  # API Gateway REST API request payload limit
MAX_EVENT = 6 * 1024 * 1024  # Lambda synchronous invocation request payload limit (6,291,456 bytes)
MAX_DRAIN = 128 * 1024 * 1024  # bytes of a refused body read and discarded before answering 413
MAX_URL = 10240  # characters of a regional REST API's URL
INTEGRATION_TIMEOUT = 29.0  # seconds, API Gateway's default maximum
ACCOUNT_ID = "123456789012"
API_ID = "local"
REGION = "us-east-1"

# werkzeug environ keys this module's request handler adds: the request target and the header
# lines exactly as received (WSGI's HTTP_* variables lose the names' case and merge repeats).
RAW_TARGET = "local.api.raw_target"
RAW_HEADERS = "local.api.raw_headers"

Function = Callable[[Any, Any], Any]
WSGIEnvironment = dict[str, Any]
StartResponse = Callable[..., Any]

# --------------------------------------------------------------------------------------------
# Gateway responses: what API Gateway answers by itself, as infra/api.py configures it
# --------------------------------------------------------------------------------------------

# response type -> (error class giving code and status, fixed message or None). None: API Gateway's
# own message ($context.error.messageString). DEFAULT_4XX/5XX keep the status of the error they
# stand for; every other configured type answers its class's status. Same as infra/api.py.
GATEWAY_RESPONSES: dict[str, tuple[type[errors.MarketplaceError], str | None]] = {
    "UNAUTHORIZED": (errors.UnauthorizedError, None),
    "ACCESS_DENIED": (errors.ForbiddenError, None),
    "MISSING_AUTHENTICATION_TOKEN": (errors.NotFoundError, "no such route"),
    "THROTTLED": (errors.RateLimitedError, None),
    "REQUEST_TOO_LARGE": (errors.PayloadTooLargeError,
                          "request body too large: upload with POST /content/uploads, then register by uploadId"),
    "BAD_REQUEST_PARAMETERS": (errors.ValidationError, None),
    "BAD_REQUEST_BODY": (errors.ValidationError, None),
    "DEFAULT_4XX": (errors.ValidationError, None),
    "DEFAULT_5XX": (errors.MarketplaceError, None),
}
KEEP_STATUS = ("DEFAULT_4XX", "DEFAULT_5XX")


class GatewayError(Exception):
    """An answer API Gateway gives by itself: ``kind`` is its gateway response type, ``status``
    and ``message`` are API Gateway's defaults for it (what a gateway response without a status
    or template would answer)."""

    def __init__(self, kind: str, status: int, message: str) -> None:
        super().__init__(message)
        self.kind, self.status, self.message = kind, status, message

    def response(self, request_id: str) -> Response:
        status, body = gateway_response(self.kind, self.status, self.message, request_id)
        return Response(json.dumps(body, separators=(",", ":")), status=status,
                        headers={"x-amzn-RequestId": request_id}, content_type="application/json")


def gateway_response(kind: str, status: int, message: str, request_id: str) -> tuple[int, dict[str, Any]]:
    """Status and body of gateway response ``kind`` (unconfigured types fall to DEFAULT_4XX/5XX)."""
    if kind not in GATEWAY_RESPONSES:
        kind = "DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX"
    error, fixed = GATEWAY_RESPONSES[kind]
    return (status if kind in KEEP_STATUS else error.status,
            {"error": error.code, "message": fixed or message, "details": {"requestId": request_id}})


def _no_route() -> GatewayError:
    return GatewayError("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token")


def _bad_gateway() -> GatewayError:
    return GatewayError("DEFAULT_5XX", 502, "Internal server error")


def _too_large() -> GatewayError:
    return GatewayError("REQUEST_TOO_LARGE", 413, "Request Too Long")


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
            params[seg[1:-2]] = "/".join(unquote(s) for s in p[i:])
            return params
        if i >= len(p):
            return None
        if seg.startswith("{") and seg.endswith("}"):
            params[seg[1:-1]] = unquote(p[i])
        elif seg != unquote(p[i]):  # percent-encoded unreserved characters are the same URI
            return None
    return params if len(t) == len(p) else None


def _specificity(template: str) -> tuple[int, ...]:
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
        raise _no_route()


# --------------------------------------------------------------------------------------------
# The gateway: a WSGI application
# --------------------------------------------------------------------------------------------


def _is_binary(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";")[0].strip().lower()
    return any(fnmatch.fnmatch(media, pattern) for pattern in BINARY_MEDIA_TYPES)


def _split_target(target: str) -> tuple[str, str]:
    """(path, query) of a request target as sent: origin form ``/a/b?q`` or absolute form
    ``http://host/a/b?q``; the path stays percent-encoded and ``//`` stays as sent."""
    target = target.split("#", 1)[0]
    if "://" in target.split("?", 1)[0]:
        rest = target.split("://", 1)[1]
        target = "/" + rest.split("/", 1)[1] if "/" in rest.split("?", 1)[0] else "/?" + rest.partition("?")[2]
    path, _, query = target.partition("?")
    return path or "/", query


def _raw_target(environ: WSGIEnvironment) -> str:
    """The request target as received (werkzeug's handler here), else rebuilt from the environ."""
    raw = environ.get(RAW_TARGET) or environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw is None:
        query = environ.get("QUERY_STRING")
        raw = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")) + (f"?{query}" if query else "")
    # http.server decodes the request line as latin-1; a client that sent UTF-8 bytes meant UTF-8
    return str(raw).encode("latin-1", "replace").decode("utf-8", "replace")


def _raw_headers(request: Request) -> list[tuple[str, str]]:
    raw = request.environ.get(RAW_HEADERS)
    return list(raw) if raw is not None else list(request.headers.items())


def _read_body(request: Request) -> bytes:
    """The request body; a body over ``MAX_BODY`` is read on (up to ``MAX_DRAIN``, so the client
    reads the answer instead of a reset) and refused."""
    stream: IO[bytes] = request.stream  # werkzeug: bounded by Content-Length, or de-chunked
    try:
        if (request.content_length or 0) > MAX_BODY:
            _drain(stream, MAX_DRAIN)
            raise _too_large()
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_BODY:
            chunk = stream.read(min(1 << 20, MAX_BODY + 1 - size))
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
        _drain(stream, MAX_DRAIN - size)
        raise _too_large()
    except HTTPException as exc:  # werkzeug: the client went away or sent a broken chunk
        raise GatewayError("DEFAULT_4XX", exc.code or 400, "Bad Request") from None
    except (OSError, ValueError):  # a malformed chunked body
        raise GatewayError("DEFAULT_4XX", 400, "Bad Request") from None


def _drain(stream: IO[bytes], limit: int) -> None:
    while limit > 0:
        got = stream.read(min(limit, 1 << 20))
        if not got:
            return
        limit -= len(got)


class ApiGateway:
    """Turns requests into proxy events for in-process functions and their results into responses.

    A WSGI application (``gateway(environ, start_response)``); ``handle(werkzeug Request) ->
    werkzeug Response`` without a server. ``functions`` maps a ``FunctionSpec.name`` (logical name,
    e.g. ``content-api``) to a callable ``(event, context) -> result``
    (``local.lambdas.LocalFunction``). ``authorizers`` maps an auth kind (``"jwt"``) to the logical
    name of its authorizer function.
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

    # -- entry points -------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return self.handle(Request(environ))(environ, start_response)

    def handle(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        started = time.monotonic()
        method = request.environ.get("REQUEST_METHOD") or request.method  # the token as sent
        target = _raw_target(request.environ)
        try:
            response = self._handle(request, method, target, request_id)
        except GatewayError as err:
            response = err.response(request_id)
        except Exception:  # a bug in the gateway itself: never leave the client without an answer
            log.exception("gateway failure on %s %s", method, target[:200])
            response = GatewayError("DEFAULT_5XX", 500, "Internal server error").response(request_id)
        log.info("%s %s -> %d (%.0f ms)", method, target[:200], response.status_code,
                 (time.monotonic() - started) * 1000)
        return response

    def _handle(self, request: Request, method: str, target: str, request_id: str) -> Response:
        if len(target) > MAX_URL:
            _drain(request.stream, MAX_DRAIN)
            raise GatewayError("DEFAULT_4XX", 414, "Request-URI Too Long")
        body = _read_body(request)
        path, query = _split_target(target)
        route, path_params = self.routes.resolve(method, path)
        event = self._event(request, method, path, query, body, route, path_params, request_id)

        if route.route.auth not in HANDLER_CHECKED_AUTH:
            event["requestContext"]["authorizer"] = self._authorize(route, event)

        if len(json.dumps(event)) > MAX_EVENT:
            raise _too_large()  # Lambda refuses the invocation; the deployed API answers 413 too
        result = self._invoke(route.function.name, event, min(self.timeout, route.function.timeout))
        return self._proxy_response(result, request_id)

    # -- events -------------------------------------------------------------------------------

    def _event(self, request: Request, method: str, path: str, query: str, raw_body: bytes,
               target: RouteTarget, path_params: dict[str, str], request_id: str) -> dict[str, Any]:
        headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        for name, value in _raw_headers(request):
            headers[name] = value
            multi_headers.setdefault(name, []).append(value)
        multi_query: dict[str, list[str]] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            multi_query.setdefault(name, []).append(value)

        def header(name: str, default: str | None = None) -> str | None:
            return next((v for k, v in headers.items() if k.lower() == name), default)

        body: str | None
        if not raw_body:
            body, is_b64 = None, False
        elif _is_binary(header("content-type")):
            body, is_b64 = base64.b64encode(raw_body).decode(), True
        else:
            try:
                body, is_b64 = raw_body.decode("utf-8"), False
            except UnicodeDecodeError:  # API Gateway would garble it; base64 keeps the bytes
                body, is_b64 = base64.b64encode(raw_body).decode(), True

        now = time.time()
        return {
            "resource": target.route.path,
            "path": path,
            "httpMethod": method,
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
                "httpMethod": method,
                "path": f"/{self.stage}{path}",
                "stage": self.stage,
                "requestId": request_id,
                "extendedRequestId": request_id,
                "requestTime": formatdate(now, usegmt=True),
                "requestTimeEpoch": int(now * 1000),
                "protocol": request.environ.get("SERVER_PROTOCOL") or "HTTP/1.1",
                "domainName": header("host", "127.0.0.1"),
                "identity": {"sourceIp": request.remote_addr or "127.0.0.1", "userAgent": header("user-agent"),
                             "accessKey": None, "accountId": None, "caller": None, "user": None,
                             "userArn": None, "cognitoIdentityId": None, "cognitoIdentityPoolId": None},
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
            raise GatewayError("AUTHORIZER_CONFIGURATION_ERROR", 500, "Internal server error")
        if not any(k.lower() == "authorization" and v for k, v in (event["headers"] or {}).items()):
            # the identity source is missing: API Gateway answers 401 without calling the authorizer
            raise GatewayError("UNAUTHORIZED", 401, "Unauthorized")

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
                raise GatewayError("UNAUTHORIZED", 401, "Unauthorized") from None
            log.error("authorizer %s failed: %r", name, err.exc)
            raise GatewayError("AUTHORIZER_FAILURE", 500, "Internal server error") from None

        try:
            statements = result["policyDocument"]["Statement"]
            principal = result["principalId"]
        except (KeyError, TypeError):
            log.error("authorizer %s returned no policy: %r", name, result)
            raise GatewayError("AUTHORIZER_CONFIGURATION_ERROR", 500, "Internal server error") from None
        if not _policy_allows(statements, auth_event["methodArn"]):
            raise GatewayError("ACCESS_DENIED", 403, "User is not authorized to access this resource")
        # API Gateway passes context values to the integration as strings
        context = {k: _stringify(v) for k, v in (result.get("context") or {}).items()}
        return {**context, "principalId": principal}

    # -- invocation ---------------------------------------------------------------------------

    def _invoke(self, name: str, event: dict[str, Any], timeout: float, *, raise_errors: bool = False) -> Any:
        function = self.functions.get(name)
        if function is None:
            log.error("function %s is not deployed", name)
            raise GatewayError("API_CONFIGURATION_ERROR", 500, "Internal server error")
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
            raise GatewayError("INTEGRATION_TIMEOUT", 504, "Endpoint request timed out")
        if "error" in outcome:
            exc = outcome["error"]
            if raise_errors:
                raise _FunctionError(exc)
            log.error("function %s raised", name, exc_info=exc)
            raise _bad_gateway()
        return outcome["result"]

    def _proxy_response(self, result: Any, request_id: str) -> Response:
        status = result.get("statusCode") if isinstance(result, dict) else None
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            log.error("malformed Lambda proxy response: %r", result if not isinstance(result, dict)
                      else {k: result[k] for k in result if k != "body"})
            raise _bad_gateway()
        try:
            headers: list[tuple[str, str]] = []
            single = result.get("headers") or {}
            multi = result.get("multiValueHeaders") or {}
            for name, values in multi.items():
                headers += [(name, str(v)) for v in values]
            for name, value in single.items():
                if name not in multi:
                    headers.append((name, str(value)))
            headers = [(k, v) for k, v in headers
                       if k.lower() not in ("content-length", "connection", "transfer-encoding")]
            headers.append(("x-amzn-RequestId", request_id))
            body = result.get("body") or ""
            raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
            return _ProxyResponse(raw, status=status, headers=headers)
        except (AttributeError, TypeError, ValueError) as exc:  # headers not maps, bad base64, CR/LF in a header
            log.error("malformed Lambda proxy response: %r", exc)
            raise _bad_gateway() from None


class _ProxyResponse(Response):
    # The function's headers only: no Content-Type unless it set one.
    default_mimetype = None


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
# HTTP transport: werkzeug's threaded WSGI server
# --------------------------------------------------------------------------------------------


class _RequestHandler(WSGIRequestHandler):
    """werkzeug's handler, plus the request target and header lines exactly as received, quiet
    access logging (the gateway logs each request), and HTTP-level refusals (a malformed request
    line, a request line over 64 KB, too many headers) in the API's error shape."""

    def make_environ(self) -> WSGIEnvironment:
        environ = super().make_environ()
        environ[RAW_TARGET] = self.path
        environ[RAW_HEADERS] = list(self.headers.items())
        return environ

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # What http.server refuses is the client's fault, even its 505 for an unknown HTTP version.
        code = code if 400 <= code < 500 else 400
        request_id = str(uuid.uuid4())
        reason = message or HTTPStatus(code).phrase
        status, body = gateway_response("DEFAULT_4XX", code, reason, request_id)
        data = json.dumps(body, separators=(",", ":")).encode()
        self.close_connection = True
        self.request_version = self.protocol_version  # answer with a status line even to "HTTP/0.9"
        self.send_response(status, reason)
        self.send_header("Content-Type", "application/json")
        self.send_header("x-amzn-RequestId", request_id)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        if getattr(self, "command", None) != "HEAD" and status >= 200 and status not in (204, 304):
            self.wfile.write(data)


class ApiServer:
    """The gateway on ``host:port``, one thread per connection, serving from a background thread.

    Binds at construction (``OSError`` if the port is taken); ``gateway`` may be replaced before or
    after ``start()``: each request goes to the current one.
    """

    def __init__(self, gateway: ApiGateway, port: int, host: str = "127.0.0.1") -> None:
        self.gateway = gateway
        self._server: BaseWSGIServer = make_server(host, port, self._app, threaded=True,
                                                   request_handler=_RequestHandler)
        self._thread: threading.Thread | None = None

    def _app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return self.gateway(environ, start_response)

    @property
    def server_address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def url(self) -> str:
        host, port = self.server_address
        return f"http://{host}:{port}"

    def start(self) -> ApiServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="api-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread:  # shutdown() waits for serve_forever, so only when it runs
            self._server.shutdown()
            self._thread.join(5)
            self._thread = None
        self._server.server_close()
