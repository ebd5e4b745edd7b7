"""The analytics stream's WebSocket routes (function ``analytics-stream``, ``kit.websocket``).

Browsers cannot set headers on a WebSocket, so ``$connect`` takes the session JWT from the query
(``?token=<jwt>``) or from the offered subprotocols (``new WebSocket(url, ["zkdm.analytics",
"bearer." + jwt])``: the token stays out of URLs and access logs); when ``zkdm.analytics`` is
offered it is the subprotocol chosen (a browser refuses a handshake that chooses none of its
offers). No token 401, an invalid or expired one 401 (the handshake is refused with that status).
Messages: ``{"action": "subscribe", "contentIds": [...]}`` (answered ``{"type": "subscribed",
"contentIds": [...] | "all"}``, or an error body); pushes are ``{contentId, type, delta}``.
"""

from __future__ import annotations

import functools

from marketplace import config
from marketplace.errors import ValidationError
from marketplace.kit.websocket import WsReply, WsRequest
from marketplace.streaming.services import StreamService

PROTOCOL = "zkdm.analytics"
BEARER_PREFIX = "bearer."


@functools.cache
def service() -> StreamService:
    from marketplace.adapters.secrets import get_secret_bytes
    from marketplace.streaming.adapters import ContentTableOwners, DynamoConnections

    cfg = config.load(config.AnalyticsStreamConfig)
    return StreamService(DynamoConnections(cfg.ws_connections_table), ContentTableOwners(cfg.content_table),
                         lambda: get_secret_bytes(cfg.jwt_secret_id))


def offered_protocols(req: WsRequest) -> list[str]:
    return [p.strip() for p in req.headers.get("sec-websocket-protocol", "").split(",") if p.strip()]


def token_of(req: WsRequest) -> str | None:
    for p in offered_protocols(req):
        if p.startswith(BEARER_PREFIX):
            return p[len(BEARER_PREFIX):]
    return req.query.get("token") or None


def connect(req: WsRequest) -> WsReply:
    service().connect(req.connection_id, token_of(req))
    chosen = {"Sec-WebSocket-Protocol": PROTOCOL} if PROTOCOL in offered_protocols(req) else None
    return WsReply(200, headers=chosen)


def disconnect(req: WsRequest) -> WsReply:
    service().disconnect(req.connection_id)
    return WsReply(200)


def subscribe(req: WsRequest) -> WsReply:
    following = service().subscribe(req.connection_id, req.body.get("contentIds"))
    return WsReply(200, {"type": "subscribed", "contentIds": list(following) if following is not None else "all"})


def unknown(req: WsRequest) -> WsReply:
    raise ValidationError("unknown action: send {\"action\": \"subscribe\", \"contentIds\": [...]}",
                          {"field": "action"})


ROUTES = {"$connect": connect, "$disconnect": disconnect, "subscribe": subscribe, "$default": unknown}
