"""The kit's other event sources: SQS FIFO (partial failures, one effect per message), Step
Functions tasks, schedules, WebSocket routes and pushes, and the metrics every function emits."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import boto3
import pytest
from marketplace.errors import BlockchainError, ForbiddenError
from marketplace.kit import observability
from marketplace.kit.schedule import ScheduledFunction
from marketplace.kit.sqs import SqsConsumer
from marketplace.kit.tasks import TaskFunction, TaskInputError, step
from marketplace.kit.websocket import WebSocketFunction, WsReply, push
from moto import mock_aws
from pydantic import BaseModel

from local.lambdas import LambdaContext

pytestmark = pytest.mark.unit


class Event(BaseModel):
    licenseId: str
    amount: int


def sqs_event(*records: tuple[str, str, str, str]) -> dict:
    """records: (messageId, group, dedupe id, body)"""
    return {"Records": [{
        "messageId": mid, "receiptHandle": "rh-" + mid, "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1", "MessageGroupId": group,
                       "MessageDeduplicationId": dedupe, "SenderId": "x",
                       "ApproximateFirstReceiveTimestamp": "1"},
        "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q.fifo", "awsRegion": "us-east-1"}
        for mid, group, dedupe, body in records]}


@pytest.fixture
def idempotency_table(monkeypatch):
    with mock_aws():
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
        boto3.client("dynamodb").create_table(
            TableName="idem", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
        monkeypatch.setenv("IDEMPOTENCY_TABLE", "idem")
        yield


def body(license_id: str, amount: int) -> str:
    return json.dumps({"licenseId": license_id, "amount": amount})


def test_sqs_duplicates_have_one_effect_and_failures_are_partial(idempotency_table):
    seen: list[tuple[str, int]] = []

    def handle(message: Event, record) -> dict:
        if message.amount < 0:
            raise ValueError("cannot pay a negative amount")
        seen.append((message.licenseId, message.amount))
        return {"paid": message.amount}

    consumer = SqsConsumer("payments-test", Event, handle)
    ctx = LambdaContext("payments-test", timeout_seconds=30)
    first = consumer.handler(sqs_event(("m1", "L1", "tx1:0", body("L1", 5)), ("m2", "L2", "tx2:0", body("L2", 7))), ctx)
    assert first == {"batchItemFailures": []}
    # the same chain events delivered again (new message ids: a listener re-read), plus a bad one in
    # group L3 followed by another of L3 (skipped to keep the group's order) and a good L4
    again = consumer.handler(sqs_event(("m3", "L1", "tx1:0", body("L1", 5)), ("m4", "L2", "tx2:0", body("L2", 7)),
                                       ("m5", "L3", "tx3:0", body("L3", -1)), ("m6", "L3", "tx3:1", body("L3", 1)),
                                       ("m7", "L4", "tx4:0", body("L4", 2)),
                                       ("m8", "L5", "tx5:0", "{not json")), ctx)
    assert sorted(f["itemIdentifier"] for f in again["batchItemFailures"]) == ["m5", "m6", "m8"]
    assert seen == [("L1", 5), ("L2", 7), ("L4", 2)]


def test_task_steps_validate_input_and_output_and_raise_typed_errors():
    class In(BaseModel):
        n: int

    class Out(BaseModel):
        doubled: int

    @step(In, Out)
    def double(data: In) -> Out:
        if data.n < 0:
            raise BlockchainError("node down")
        return Out(doubled=2 * data.n)

    fn = TaskFunction("tasks-test", {"double": double})
    ctx = LambdaContext("tasks-test")
    assert fn.handler({"step": "double", "input": {"n": 21}}, ctx) == {"doubled": 42}
    with pytest.raises(TaskInputError):
        fn.handler({"step": "double", "input": {"n": "x"}}, ctx)
    with pytest.raises(TaskInputError):
        fn.handler({"step": "triple", "input": {}}, ctx)
    with pytest.raises(BlockchainError):  # Lambda reports errorType "BlockchainError" for Retry/Catch
        fn.handler({"step": "double", "input": {"n": -1}}, ctx)


def test_schedule_passes_the_scheduled_time():
    runs: list[datetime] = []
    fn = ScheduledFunction("schedule-test", lambda now: runs.append(now) or {"checked": 3})
    out = fn.handler({"id": "e1", "detail-type": "Scheduled Event", "source": "aws.events",
                      "time": "2026-11-30T05:00:00Z", "detail": {}}, LambdaContext("schedule-test"))
    assert out == {"checked": 3} and runs == [datetime(2026, 11, 30, 5, tzinfo=UTC)]


def ws_event(route: str, body: dict | None = None, query: dict | None = None) -> dict:
    return {"requestContext": {"routeKey": route, "connectionId": "c-1", "domainName": "abc.execute-api.us-east-1"
                               ".amazonaws.com", "stage": "prod", "requestId": "r-1"},
            "body": json.dumps(body) if body is not None else None, "queryStringParameters": query}


def test_websocket_routes_by_route_key_and_maps_errors():
    def connect(req):
        if req.query.get("token") != "ok":
            raise ForbiddenError("not yours")
        return WsReply(200)

    def subscribe(req):
        return WsReply(200, {"subscribed": req.body["contentId"], "endpoint": req.endpoint})

    fn = WebSocketFunction("ws-test", {"$connect": connect, "subscribe": subscribe})
    ctx = LambdaContext("ws-test")
    assert fn.handler(ws_event("$connect", query={"token": "ok"}), ctx) == {"statusCode": 200}
    refused = fn.handler(ws_event("$connect", query={"token": "no"}), ctx)
    assert refused["statusCode"] == 403 and json.loads(refused["body"])["error"] == "FORBIDDEN"
    ok = fn.handler(ws_event("subscribe", {"action": "subscribe", "contentId": "0x1"}), ctx)
    assert json.loads(ok["body"]) == {"subscribed": "0x1",
                                      "endpoint": "https://abc.execute-api.us-east-1.amazonaws.com/prod"}
    assert fn.handler(ws_event("unknown"), ctx)["statusCode"] == 404


def test_push_reports_a_gone_connection():
    class Gone(Exception):
        pass

    class Client:
        class exceptions:
            GoneException = Gone

        def __init__(self):
            self.sent = []

        def post_to_connection(self, ConnectionId, Data):
            if ConnectionId == "gone":
                raise Gone()
            self.sent.append((ConnectionId, json.loads(Data)))

    client = Client()
    assert push("http://x", "c-1", {"delta": 1}, client=client) is True
    assert push("http://x", "gone", {"delta": 1}, client=client) is False
    assert client.sent == [("c-1", {"delta": 1})]


def test_every_invocation_publishes_emf_metrics_with_business_counts(capsys, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "zkdm-test")

    def run(now):
        observability.business(observability.Metric.PURCHASES)
        observability.business(observability.Metric.GAS_SPENT, 21000)

    ScheduledFunction("metrics-test", run).handler({"time": "2026-11-30T05:00:00Z"}, LambdaContext("metrics-test"))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    emf = [line for line in lines if "_aws" in line]
    names = {m["Name"] for e in emf for d in e["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"Purchases", "GasSpent"} <= names
    assert any(e.get("GasSpent") in (21000, 21000.0, [21000.0]) for e in emf), emf
    assert os.environ["POWERTOOLS_METRICS_NAMESPACE"] == "zkdm-test"


def test_a_sent_transaction_counts_in_the_senders_metrics(capsys):
    from marketplace.chain.gateway import _count_spent

    ScheduledFunction("gas-test", lambda now: _count_spent({"gasUsed": 385_547, "status": 1})).handler(
        {"time": "2026-11-30T05:00:00Z"}, LambdaContext("gas-test"))
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{") and "_aws" in line]
    assert any(e.get("GasSpent") in (385_547, 385_547.0, [385_547.0]) and e.get("TransactionsSent") for e in emf), emf
