"""Flow 7's live stream: the analytics WebSocket API's $connect, $disconnect, subscribe and $default
(routes: ``marketplace.streaming.routes``)."""

from marketplace import config
from marketplace.kit.websocket import WebSocketFunction
from marketplace.streaming.routes import ROUTES

handler = WebSocketFunction("analytics-stream", ROUTES, config_model=config.AnalyticsStreamConfig).handler
