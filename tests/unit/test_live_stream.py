"""Flow 7's live stream: the analytics WebSocket API's routes (connect auth, subscribe authorization,
disconnect) through the kit's WebSocketFunction, and the live feed's pushes (gone and expired
connections forgotten, only followers of the content, only the creator's connections)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from marketplace.analytics.live import LiveStream
from marketplace.analytics.ports import LiveUpdate
from marketplace.auth import tokens
from marketplace.kit.websocket import WebSocketFunction
from marketplace.streaming import routes
from marketplace.streaming.fakes import MemoryConnections, MemoryOwners, RecordingPusher
from marketplace.streaming.models import MAX_CONNECTION_SECONDS, Connection
from marketplace.streaming.services import StreamService

from local.lambdas import LambdaContext

pytestmark = pytest.mark.unit

KEY = b"k" * 32
NOW = int(time.time())  # tokens.verify checks the wall clock: set again before each test (_now)
CREATOR = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
OTHER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
MINE, THEIRS = "0x" + "a1" * 32, "0x" + "b2" * 32


@pytest.fixture(autouse=True)
def _now():
    """The wall clock when the test runs, not when the module was collected (the full suite runs
    this module many minutes after collecting it: a 10-minute token issued then had expired)."""
    global NOW
    NOW = int(time.time())


def jwt_for(address: str, *, key: bytes = KEY, ttl: int = 3600, at: int | None = None) -> str:
    issued = NOW if at is None else at
    return tokens.issue(address, key, ttl_seconds=ttl, now=datetime.fromtimestamp(issued, UTC))[0]


@pytest.fixture
def world(monkeypatch):
    conns = MemoryConnections()
    clock = [float(NOW)]
    svc = StreamService(conns, MemoryOwners({MINE: CREATOR, THEIRS: OTHER}), lambda: KEY, clock=lambda: clock[0])
    monkeypatch.setattr(routes, "service", lambda: svc)
    fn = WebSocketFunction("analytics-stream-test", routes.ROUTES)

    def call(route: str, *, cid: str = "c-1", body=None, query=None, headers=None) -> dict:
        event = {"requestContext": {"routeKey": route, "connectionId": cid, "stage": "prod", "requestId": "r",
                                    "domainName": "abc.execute-api.us-east-1.amazonaws.com"},
                 "headers": headers, "queryStringParameters": query,
                 "body": json.dumps(body) if body is not None else None}
        out = fn.handler(event, LambdaContext("analytics-stream-test"))
        if "body" in out:
            out["json"] = json.loads(out["body"])
        return out

    return conns, call, clock


def test_connect_needs_a_valid_session_jwt(world, monkeypatch):
    conns, call, _ = world
    # no token, a forged one, another key's, an expired one: 401 with the API's error body, nothing stored
    for query, headers in [(None, None), ({"token": "x.y.z"}, None), ({"token": jwt_for(CREATOR, key=b"o" * 32)}, None),
                           ({"token": jwt_for(CREATOR, at=NOW - 7200)}, None),
                           (None, {"Sec-WebSocket-Protocol": "zkdm.analytics"})]:
        out = call("$connect", query=query, headers=headers)
        assert out["statusCode"] == 401 and out["json"]["error"] == "UNAUTHORIZED", (query, headers)
    assert len(conns.table) == 0
    # a query token: connected, following all of the creator's content, until the token expires
    assert call("$connect", query={"token": jwt_for(CREATOR, ttl=600)}) == {"statusCode": 200}
    c = conns.get("c-1")
    assert c.creator == CREATOR.lower() and c.contents is None and c.ttl == NOW + 600
    # the subprotocol form (what a browser can send): the token in "bearer.<jwt>", zkdm.analytics chosen
    out = call("$connect", cid="c-2",
               headers={"Sec-WebSocket-Protocol": f"zkdm.analytics, bearer.{jwt_for(CREATOR, ttl=24 * 3600)}"})
    assert out == {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "zkdm.analytics"}}
    assert conns.get("c-2").ttl == NOW + MAX_CONNECTION_SECONDS  # API Gateway's 2 h cap


def test_subscribe_to_own_content_only(world):
    conns, call, clock = world
    call("$connect", query={"token": jwt_for(CREATOR)})
    out = call("subscribe", body={"action": "subscribe", "contentIds": [MINE.upper().replace("0X", "0x")]})
    assert out["statusCode"] == 200 and out["json"] == {"type": "subscribed", "contentIds": [MINE]}
    assert conns.get("c-1").contents == (MINE,)
    # another creator's content: 403, and what it followed stays
    out = call("subscribe", body={"action": "subscribe", "contentIds": [MINE, THEIRS]})
    assert out["statusCode"] == 403 and out["json"]["error"] == "FORBIDDEN" and \
        out["json"]["details"] == {"contentId": THEIRS}
    assert conns.get("c-1").contents == (MINE,)
    out = call("subscribe", body={"action": "subscribe", "contentIds": ["0x" + "cc" * 32]})
    assert out["statusCode"] == 404 and out["json"]["error"] == "NOT_FOUND"
    for bad in (["0x12"], "all", [MINE] * 101, [1]):
        out = call("subscribe", body={"action": "subscribe", "contentIds": bad})
        assert out["statusCode"] == 422 and out["json"]["details"]["field"] == "contentIds", bad
    # no ids: all own content again
    assert call("subscribe", body={"action": "subscribe"})["json"] == {"type": "subscribed", "contentIds": "all"}
    assert conns.get("c-1").contents is None
    # an unknown action or a message that is not JSON: 400 with the error body
    assert call("$default", body={"action": "nope"})["json"]["error"] == "VALIDATION_ERROR"
    # a connection never signed in, or past its session: 401
    assert call("subscribe", cid="c-x", body={"action": "subscribe"})["statusCode"] == 401
    clock[0] = NOW + 3601
    assert call("subscribe", body={"action": "subscribe"})["statusCode"] == 401


def test_disconnect_forgets_the_connection(world):
    conns, call, _ = world
    call("$connect", query={"token": jwt_for(CREATOR)})
    assert conns.get("c-1") is not None
    assert call("$disconnect")["statusCode"] == 200
    assert conns.get("c-1") is None
    assert call("$disconnect")["statusCode"] == 200  # twice: still fine


def update(content: str, creator: str, kind: str = "usage", delta=None) -> LiveUpdate:
    return LiveUpdate(contentId=content, creator=creator.lower(), type=kind, delta=delta or {"uses": 1})


def test_publish_pushes_to_followers_and_forgets_gone_and_expired_connections():
    conns = MemoryConnections()
    c = CREATOR.lower()
    conns.put(Connection("all", c, None, NOW, NOW + 3600))
    conns.put(Connection("mine-only", c, (MINE,), NOW, NOW + 3600))
    conns.put(Connection("other-content", c, ("0x" + "dd" * 32,), NOW, NOW + 3600))
    conns.put(Connection("gone", c, None, NOW, NOW + 3600))
    conns.put(Connection("expired", c, None, NOW - 7200, NOW - 1))
    conns.put(Connection("other-creator", OTHER.lower(), None, NOW, NOW + 3600))
    pusher = RecordingPusher(gone={"gone"})
    feed = LiveStream(conns, pusher, clock=lambda: NOW)
    report = feed.deliver([update(MINE, c), update(MINE, c, "payment", {"revenue": 500, "provenUses": 1})])
    sent = sorted(pusher.sent, key=lambda s: s[0])
    assert sent == [
        ("all", {"contentId": MINE, "type": "usage", "delta": {"uses": 1}}),
        ("all", {"contentId": MINE, "type": "payment", "delta": {"revenue": 500, "provenUses": 1}}),
        ("mine-only", {"contentId": MINE, "type": "usage", "delta": {"uses": 1}}),
        ("mine-only", {"contentId": MINE, "type": "payment", "delta": {"revenue": 500, "provenUses": 1}}),
    ]
    # the two messages of one connection keep their order
    assert [d["type"] for cid, d in pusher.sent if cid == "all"] == ["usage", "payment"]
    assert report.sent == 4 and report.gone == ["gone"] and report.expired == ["expired"]
    assert pusher.closed == ["expired"]
    assert conns.get("gone") is None and conns.get("expired") is None and conns.get("all") is not None
    # nothing to send: nothing happens; the public publish() is the same call
    feed.publish([])
    feed.publish([update(THEIRS, OTHER, "license", {"licenses": 1})])
    assert pusher.sent[-1] == ("other-creator", {"contentId": THEIRS, "type": "license", "delta": {"licenses": 1}})


def test_a_failing_push_is_counted_not_raised():
    class Broken(RecordingPusher):
        def push(self, connection_id, data):
            raise RuntimeError("endpoint down")

    conns = MemoryConnections()
    conns.put(Connection("c", CREATOR.lower(), None, NOW, NOW + 3600))
    report = LiveStream(conns, Broken(), clock=lambda: NOW).deliver([update(MINE, CREATOR)])
    assert report.failed == 1 and report.sent == 0 and conns.get("c") is not None
