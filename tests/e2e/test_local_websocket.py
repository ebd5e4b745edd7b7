"""The local WebSocket API emulation (``local.websocket``) with the analytics stream's real routes
(over in-memory connections): handshakes decided by ``$connect`` (401 refused, the subprotocol
echoed), messages routed by ``action`` with two-way answers, pushes through boto3's
``apigatewaymanagementapi`` against the emulation's Management endpoint (410 GoneException once
closed), ``$disconnect`` on close, and both ports released on stop."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from datetime import UTC, datetime

import boto3
import pytest
import websockets
from marketplace import resources
from marketplace.auth import tokens
from marketplace.kit.websocket import WebSocketFunction, push
from marketplace.streaming import routes
from marketplace.streaming.fakes import MemoryConnections, MemoryOwners
from marketplace.streaming.services import StreamService

from local.lambdas import LambdaContext
from local.websocket import WebSocketGateway

pytestmark = pytest.mark.e2e

KEY = b"w" * 32
CREATOR = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
OTHER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
MINE, THEIRS = "0x" + "a1" * 32, "0x" + "b2" * 32


def token(address: str = CREATOR) -> str:
    return tokens.issue(address, KEY, ttl_seconds=600, now=datetime.now(UTC))[0]


@pytest.fixture
def gateway(monkeypatch):
    conns = MemoryConnections()
    svc = StreamService(conns, MemoryOwners({MINE: CREATOR, THEIRS: OTHER}), lambda: KEY)
    monkeypatch.setattr(routes, "service", lambda: svc)
    events: list[dict] = []
    fn = WebSocketFunction("analytics-stream-local", routes.ROUTES)

    def function(event, context):
        events.append(event)
        return fn.handler(event, context or LambdaContext("analytics-stream-local"))  # as LocalFunction does

    gw = WebSocketGateway(resources.by_name(resources.WEBSOCKET_APIS, "analytics-stream"), function).start()
    yield gw, conns, events
    gw.stop()


def management(gw: WebSocketGateway):
    return boto3.client("apigatewaymanagementapi", endpoint_url=gw.management_url, region_name="us-east-1",
                        aws_access_key_id="x", aws_secret_access_key="x")


async def registered(gw: WebSocketGateway) -> list[str]:
    """The open connections, once the handshake's session has registered (just after the client's open)."""
    for _ in range(100):
        if gw.connections:
            return gw.connections
        await asyncio.sleep(0.01)
    return gw.connections


def test_connect_subscribe_push_and_disconnect(gateway):
    gw, conns, events = gateway
    api = management(gw)

    async def scenario():
        # refused handshakes: no token, a bad one (the $connect function's 401 and its error body)
        for url in (gw.url, f"{gw.url}/?token=nope"):
            with pytest.raises(websockets.InvalidStatus) as refused:
                await websockets.connect(url)
            assert refused.value.response.status_code == 401
            assert json.loads(refused.value.response.body)["error"] == "UNAUTHORIZED"
        # a browser-style handshake: the token as a subprotocol, zkdm.analytics chosen
        async with websockets.connect(gw.url, subprotocols=["zkdm.analytics", f"bearer.{token()}"]) as ws:
            assert ws.subprotocol == "zkdm.analytics"
            [cid] = await registered(gw)
            assert conns.get(cid).creator == CREATOR.lower()
            connect = next(e for e in events if e["requestContext"]["routeKey"] == "$connect"
                           and e["requestContext"]["connectionId"] == cid)
            assert connect["requestContext"]["domainName"] == f"127.0.0.1:{gw.management_port}"
            # two-way routes: subscribe answered, another creator's content refused, $default for the rest
            await ws.send(json.dumps({"action": "subscribe", "contentIds": [MINE]}))
            assert json.loads(await ws.recv()) == {"type": "subscribed", "contentIds": [MINE]}
            await ws.send(json.dumps({"action": "subscribe", "contentIds": [THEIRS]}))
            assert json.loads(await ws.recv())["error"] == "FORBIDDEN"
            await ws.send("not json")
            assert json.loads(await ws.recv())["error"] == "VALIDATION_ERROR"
            # the Management API through boto3 (in a thread: it blocks), and through kit.websocket.push
            await asyncio.to_thread(api.post_to_connection, ConnectionId=cid, Data=b'{"delta": {"uses": 1}}')
            assert json.loads(await ws.recv()) == {"delta": {"uses": 1}}
            assert await asyncio.to_thread(push, gw.management_url, cid, {"n": 2}, client=api) is True
            assert json.loads(await ws.recv()) == {"n": 2}
            info = await asyncio.to_thread(api.get_connection, ConnectionId=cid)
            assert info["Identity"]["SourceIp"] == "127.0.0.1"
        # closed: $disconnect ran (the connection forgotten), pushes answer 410 -> False
        for _ in range(50):
            if conns.get(cid) is None:
                break
            await asyncio.sleep(0.05)
        assert conns.get(cid) is None
        assert any(e["requestContext"]["routeKey"] == "$disconnect" for e in events)
        assert await asyncio.to_thread(push, gw.management_url, cid, {"n": 3}, client=api) is False
        with pytest.raises(api.exceptions.GoneException):
            await asyncio.to_thread(api.post_to_connection, ConnectionId=cid, Data=b"{}")
        # the server closes a connection (DELETE @connections/{id})
        async with websockets.connect(f"{gw.url}/?token={token()}") as ws:
            [cid2] = await registered(gw)
            await asyncio.to_thread(api.delete_connection, ConnectionId=cid2)
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)

    asyncio.run(scenario())


def test_stop_releases_both_ports():
    gw = WebSocketGateway(resources.WEBSOCKET_APIS[0], lambda e, c: {"statusCode": 200}).start()
    ports = (gw.port, gw.management_port)
    gw.stop()
    time.sleep(0.1)
    for port in ports:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))  # free again
