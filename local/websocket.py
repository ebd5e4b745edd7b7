"""API Gateway WebSocket APIs emulated on 127.0.0.1 for the local stack (``resources.WEBSOCKET_APIS``).

Each API is two listeners, like API Gateway's two faces of one WebSocket API:

- **clients** (``ws://127.0.0.1:<port>``, the ``websockets`` package's asyncio server in a thread of
  its own): the handshake becomes the ``$connect`` event for the API's function, whose status decides
  it (a non-2xx refuses the handshake with that status and body; a ``Sec-WebSocket-Protocol`` header
  in its answer is the chosen subprotocol); each message is routed by its JSON ``action`` (route
  selection ``$request.body.action``) to that route key if the API declares it, else ``$default``;
  what an action or ``$default`` route answers (its ``body``) goes back to the sender (two-way
  routes); a closed connection is ``$disconnect``. Events have API Gateway's shape
  (``requestContext``: ``routeKey``, ``eventType``, ``connectionId``, ``domainName``, ``stage``,
  ``requestId``, ``connectedAt``, ``identity``; ``headers``, ``queryStringParameters`` on
  ``$connect``; ``body`` on messages).
- **the Management API** (``http://127.0.0.1:<management port>``, werkzeug): ``POST
  /@connections/{id}`` sends the body to that connection as a text frame, ``GET`` describes it,
  ``DELETE`` closes it; an unknown or closed connection is 410 ``GoneException``, so boto3's
  ``apigatewaymanagementapi`` client (``endpoint_url`` = this URL) behaves as against AWS and
  ``kit.websocket.push`` and ``analytics.live`` run unchanged. ``requestContext.domainName`` is this
  listener's ``host:port``, so ``kit.websocket.management_endpoint`` finds it.

Where this differs from AWS: no 10-minute idle timeout and no 2-hour connection limit (the
connections table's ``ttl`` still expires the session); frames up to 1 MiB (API Gateway: 128 KB
messages in 32 KB frames); an invocation's timeout is not enforced; messages of one connection are
handled one after another (API Gateway may invoke in parallel).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from marketplace.resources import WebSocketApiSpec
from websockets.typing import Subprotocol
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

log = logging.getLogger("local.websocket")

Function = Callable[[Any, Any], Any]
API_ID = "localws"
SEND_TIMEOUT = 10.0  # seconds a Management API post waits for the frame to go out
CONNECT_ROUTES = ("$connect", "$disconnect")


def _gone(connection_id: str) -> Response:
    return Response(json.dumps({"message": f"connection {connection_id} is gone"}), status=410,
                    headers={"x-amzn-ErrorType": "GoneException"}, content_type="application/json")


def _iso(epoch_ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_ms / 1000)) + f".{epoch_ms % 1000:03d}Z"


@dataclass
class _Client:
    connection: Any  # websockets.asyncio.server.ServerConnection
    connected_at: int  # epoch ms
    source_ip: str
    user_agent: str
    last_active: int = 0
    subprotocol: str | None = None


@dataclass
class WebSocketGateway:
    """One WebSocket API. Both ports are bound at construction (0: a free one), so its URLs are
    known before the functions' environment is built; ``function`` may be set until ``start()``."""

    spec: WebSocketApiSpec
    function: Function | None = None
    port: int = 0
    management_port: int = 0
    stage: str = "local"
    host: str = "127.0.0.1"

    _clients: dict[str, _Client] = field(default_factory=dict)
    _pending: dict[int, tuple[str, _Client]] = field(default_factory=dict)  # handshake -> (id, client)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _mgmt_thread: threading.Thread | None = None
    _stop: asyncio.Event | None = None
    _ready: threading.Event = field(default_factory=threading.Event)
    _error: list[BaseException] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((self.host, self.port))
        self._sock.listen(128)
        self.port = self._sock.getsockname()[1]
        self._mgmt: BaseWSGIServer = make_server(self.host, self.management_port, self._management, threaded=True)
        self.management_port = self._mgmt.server_address[1]

    # -- URLs --------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """What clients connect to (``spec.url_env``)."""
        return f"ws://{self.host}:{self.port}"

    @property
    def management_url(self) -> str:
        """The Management API endpoint (``spec.management_env``)."""
        return f"http://{self.host}:{self.management_port}"

    def env(self) -> dict[str, str]:
        return {self.spec.url_env: self.url, self.spec.management_env: self.management_url}

    @property
    def connections(self) -> list[str]:
        with self._lock:
            return list(self._clients)

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> WebSocketGateway:
        if self.function is None:
            raise RuntimeError(f"WebSocket API {self.spec.name}: no function to invoke")
        self._thread = threading.Thread(target=self._serve_clients, name=f"ws-{self.spec.name}", daemon=True)
        self._thread.start()
        self._mgmt_thread = threading.Thread(target=self._mgmt.serve_forever, name=f"ws-mgmt-{self.spec.name}",
                                             daemon=True)
        self._mgmt_thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"WebSocket API {self.spec.name} did not start")
        if self._error:
            raise self._error[0]
        return self

    def stop(self) -> None:
        if self._mgmt_thread is not None:
            self._mgmt.shutdown()
            self._mgmt_thread.join(5)
            self._mgmt_thread = None
        self._mgmt.server_close()
        if self._loop is not None and self._stop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(10)
            self._thread = None
        try:
            self._sock.close()
        except OSError:
            pass

    # -- the clients' side -------------------------------------------------------------------------

    def _serve_clients(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - reported by start()
            self._error.append(exc)
            self._ready.set()

    async def _main(self) -> None:
        from websockets.asyncio.server import serve

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve(self._session, sock=self._sock, process_request=self._handshake,
                         select_subprotocol=self._subprotocol, max_size=1 << 20,
                         ping_interval=None, close_timeout=2) as server:
            self._ready.set()
            await self._stop.wait()
            server.close(close_connections=True)
            await server.wait_closed()

    def _context(self, route: str, connection_id: str, client: _Client, event_type: str, **extra: Any) -> dict:
        now = int(time.time() * 1000)
        request_id = str(uuid.uuid4())
        return {"routeKey": route, "eventType": event_type, "connectionId": connection_id,
                "messageDirection": "IN", "extendedRequestId": request_id, "requestId": request_id,
                "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()), "requestTimeEpoch": now,
                "stage": self.stage, "apiId": API_ID, "connectedAt": client.connected_at,
                "domainName": f"{self.host}:{self.management_port}",
                "identity": {"sourceIp": client.source_ip, "userAgent": client.user_agent}, **extra}

    async def _invoke(self, event: dict) -> dict[str, Any] | None:
        assert self.function is not None
        try:
            result = await asyncio.to_thread(self.function, event, None)
        except Exception:
            log.exception("WebSocket API %s: %s failed", self.spec.name, event["requestContext"]["routeKey"])
            return None
        return result if isinstance(result, dict) else {}

    async def _handshake(self, connection: Any, request: Any) -> Any:
        connection_id = uuid.uuid4().hex[:12] + "="  # API Gateway's ids are short base64 strings
        peer = connection.remote_address or ("127.0.0.1", 0)
        client = _Client(connection, int(time.time() * 1000), str(peer[0]),
                         request.headers.get("User-Agent", ""))
        query = dict(parse_qsl(urlsplit(request.path).query, keep_blank_values=True))
        headers = {k: v for k, v in request.headers.raw_items()}
        multi: dict[str, list[str]] = {}
        for k, v in request.headers.raw_items():
            multi.setdefault(k, []).append(v)
        event = {"headers": headers, "multiValueHeaders": multi,
                 "queryStringParameters": query or None,
                 "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
                 "requestContext": self._context("$connect", connection_id, client, "CONNECT"),
                 "isBase64Encoded": False}
        result = await self._invoke(event)
        status = int((result or {}).get("statusCode", 200)) if result is not None else 500
        if not 200 <= status < 300:
            body = (result or {}).get("body") or json.dumps({"message": "Internal server error"
                                                             if result is None else "Forbidden"})
            return connection.respond(status, body if isinstance(body, str) else json.dumps(body))
        chosen = {k.lower(): v for k, v in ((result or {}).get("headers") or {}).items()}
        client.subprotocol = chosen.get("sec-websocket-protocol")
        with self._lock:
            self._pending[id(connection)] = (connection_id, client)
        return None

    def _subprotocol(self, connection: Any, offered: Sequence[Subprotocol]) -> Subprotocol | None:
        with self._lock:
            pending = self._pending.get(id(connection))
        chosen = pending[1].subprotocol if pending else None
        return Subprotocol(chosen) if chosen is not None and chosen in offered else None

    async def _session(self, connection: Any) -> None:
        with self._lock:
            pending = self._pending.pop(id(connection), None)
        if pending is None:
            return
        connection_id, client = pending
        with self._lock:
            self._clients[connection_id] = client
        try:
            async for message in connection:
                client.last_active = int(time.time() * 1000)
                await self._message(connection_id, client, message)
        except Exception:  # a broken connection ends like a closed one
            log.debug("connection %s ended abnormally", connection_id, exc_info=True)
        finally:
            with self._lock:
                self._clients.pop(connection_id, None)
            code = connection.close_code or 1006
            await self._invoke({"headers": {}, "isBase64Encoded": False, "requestContext": self._context(
                "$disconnect", connection_id, client, "DISCONNECT", disconnectStatusCode=code,
                disconnectReason=connection.close_reason or "")})

    async def _message(self, connection_id: str, client: _Client, message: str | bytes) -> None:
        text = message if isinstance(message, str) else message.decode("utf-8", "replace")
        route = "$default"
        try:
            parsed = json.loads(text)
            action = parsed.get("action") if isinstance(parsed, dict) else None
            if isinstance(action, str) and action in self.spec.routes and action not in CONNECT_ROUTES:
                route = action
        except ValueError:
            pass
        context = self._context(route, connection_id, client, "MESSAGE", messageId=uuid.uuid4().hex)
        if route not in self.spec.routes:  # no $default: API Gateway answers by itself
            await self._reply(client, json.dumps({"message": "Forbidden", "connectionId": connection_id,
                                                  "requestId": context["requestId"]}))
            return
        result = await self._invoke({"requestContext": context, "body": text, "isBase64Encoded": False})
        if result is None:
            await self._reply(client, json.dumps({"message": "Internal server error", "connectionId": connection_id,
                                                  "requestId": context["requestId"]}))
        elif result.get("body") is not None:  # a two-way route: the integration's answer goes back
            body = result["body"]
            await self._reply(client, body if isinstance(body, str) else json.dumps(body))

    @staticmethod
    async def _reply(client: _Client, text: str) -> None:
        try:
            await client.connection.send(text)
        except Exception:  # closed meanwhile: nobody to answer
            log.debug("answer not sent: connection closed", exc_info=True)

    # -- the Management API ------------------------------------------------------------------------

    def _management(self, environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        return self._manage(request)(environ, start_response)

    def _manage(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        if len(parts) < 2 or parts[-2] != "@connections":
            return Response(json.dumps({"message": "Not Found"}), status=404, content_type="application/json")
        connection_id = parts[-1]
        with self._lock:
            client = self._clients.get(connection_id)
        if client is None or self._loop is None:
            return _gone(connection_id)
        if request.method == "POST":
            data = request.get_data()
            if len(data) > 128 * 1024:
                return Response(json.dumps({"message": "payload too large"}), status=413,
                                headers={"x-amzn-ErrorType": "PayloadTooLargeException"},
                                content_type="application/json")
            try:
                frame: str | bytes = data.decode("utf-8")
            except UnicodeDecodeError:
                frame = data
            future = asyncio.run_coroutine_threadsafe(client.connection.send(frame), self._loop)
            try:
                future.result(SEND_TIMEOUT)
            except Exception:  # noqa: BLE001 - closed while sending
                return _gone(connection_id)
            return Response(status=200)
        if request.method == "GET":
            return Response(json.dumps({
                "connectedAt": _iso(client.connected_at),
                "identity": {"sourceIp": client.source_ip, "userAgent": client.user_agent},
                "lastActiveAt": _iso(client.last_active or client.connected_at)}), content_type="application/json")
        if request.method == "DELETE":
            asyncio.run_coroutine_threadsafe(client.connection.close(1000, "closed by the server"), self._loop)
            return Response(status=204)
        return Response(json.dumps({"message": "Method Not Allowed"}), status=405, content_type="application/json")
