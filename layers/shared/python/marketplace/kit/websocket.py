"""The WebSocket kit: an API Gateway WebSocket API's routes, and pushes through the Management API.

``WebSocketFunction(service, routes)`` dispatches on ``requestContext.routeKey`` (``$connect``,
``$disconnect``, ``$default`` and custom action routes chosen by the body's ``action``). A route
gets a ``WsRequest`` and returns a status (and optionally a JSON body); ``MarketplaceError``s
answer their status and error body, a refusal on ``$connect`` (401/403) closes the handshake. An
unknown route key answers 404 through ``$default`` when there is no ``$default`` route.

``push(endpoint, connection_id, data)`` posts to one connection through
``apigatewaymanagementapi`` (``https://{domainName}/{stage}`` in AWS; the local emulation's URL
locally) and returns False when the connection is gone (410), so the caller can forget it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from marketplace.errors import InternalError, MarketplaceError, NotFoundError, ValidationError
from marketplace.kit import observability


@dataclass(frozen=True)
class WsRequest:
    route: str
    connection_id: str
    endpoint: str  # Management API endpoint of this connection's API and stage
    body: dict[str, Any]
    query: dict[str, str]
    headers: dict[str, str]
    authorizer: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WsReply:
    status: int = 200
    body: dict[str, Any] | None = None
    # $connect only: response headers of the handshake (``Sec-WebSocket-Protocol``: the subprotocol
    # chosen among those the client offered, which a browser requires to be echoed)
    headers: dict[str, str] | None = None


Route = Callable[[WsRequest], WsReply | None]


def management_endpoint(ctx: Mapping[str, Any]) -> str:
    domain, stage = ctx.get("domainName") or "", ctx.get("stage") or ""
    if domain.startswith(("127.0.0.1", "localhost")):
        return f"http://{domain}"
    return f"https://{domain}/{stage}"


def _request(event: Mapping[str, Any]) -> WsRequest:
    ctx = event.get("requestContext") or {}
    raw = event.get("body")
    body: dict[str, Any] = {}
    if raw:
        try:
            parsed = json.loads(raw)
        except ValueError:
            raise ValidationError("message is not valid JSON", {"field": "body"}) from None
        if not isinstance(parsed, dict):
            raise ValidationError("message must be a JSON object", {"field": "body"})
        body = parsed
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    return WsRequest(route=str(ctx.get("routeKey") or "$default"), connection_id=str(ctx.get("connectionId") or ""),
                     endpoint=management_endpoint(ctx), body=body,
                     query={str(k): str(v) for k, v in (event.get("queryStringParameters") or {}).items()},
                     headers=headers, authorizer=dict(ctx.get("authorizer") or {}))


class WebSocketFunction:
    def __init__(self, service: str, routes: Mapping[str, Route], *, config_model: type | None = None) -> None:
        self.service = service
        self.routes = dict(routes)
        self.config_model = config_model
        self.handler = observability.wrap(self._run, service, correlation_id_path="requestContext.requestId",
                                          before=observability.env_check(self.config_model))

    def _run(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        logger = observability.telemetry(self.service).logger
        try:
            req = _request(event)
            route = self.routes.get(req.route) or self.routes.get("$default")
            if route is None:
                raise NotFoundError(f"no route {req.route}")
            out = route(req) or WsReply()
            return {"statusCode": out.status, **({"body": json.dumps(out.body)} if out.body is not None else {}),
                    **({"headers": dict(out.headers)} if out.headers else {})}
        except MarketplaceError as err:
            logger.info("websocket request refused", extra={"error": err.code, "status": err.status})
            return {"statusCode": err.status, "body": json.dumps(err.body())}
        except Exception:
            internal = InternalError("Internal error")
            logger.exception("unhandled exception", extra={"supportId": internal.support_id})
            return {"statusCode": 500, "body": json.dumps(internal.body())}


def push(endpoint: str, connection_id: str, data: Any, *, client: Any = None) -> bool:
    """Send ``data`` (JSON) to one connection; False when API Gateway says it is gone."""
    if client is None:
        import boto3

        client = boto3.client("apigatewaymanagementapi", endpoint_url=endpoint)
    try:
        client.post_to_connection(ConnectionId=connection_id, Data=json.dumps(data).encode())
    except client.exceptions.GoneException:
        return False
    return True
