"""The DynamoDB Streams kit (``kit.streams.StreamConsumer``) and the chain listener's fan-out to
both FIFOs (``chain.listener``): what the analytics feeders rely on."""

from __future__ import annotations

import json

import pytest
from marketplace.chain.events import ChainEvent
from marketplace.chain.listener import ChainListener, SqsFifoSink
from marketplace.kit.streams import StreamConsumer

from local.lambdas import LambdaContext

pytestmark = pytest.mark.unit


def record(name: str, seq: int, image: dict | None) -> dict:
    data: dict = {"SequenceNumber": str(seq), "Keys": {"licenseId": {"S": "l"}, "seq": {"N": str(seq)}}}
    if image is not None:
        data["NewImage"] = image
    return {"eventID": f"e{seq}", "eventName": name, "eventSource": "aws:dynamodb", "dynamodb": data}


def test_inserts_only_in_order_stopping_at_the_first_failure_and_flushing_always():
    handled, flushed = [], []

    def handle(item: dict) -> None:
        if item["seq"] == 3:
            raise RuntimeError("a store error")
        handled.append((item["licenseId"], item["seq"], item["ts"]))

    consumer = StreamConsumer("test-stream", handle, lambda: flushed.append(len(handled)))
    image = lambda seq: {"licenseId": {"S": "l"}, "seq": {"N": str(seq)}, "ts": {"N": "100"}}
    out = consumer.handler({"Records": [record("INSERT", 1, image(1)), record("MODIFY", 2, image(2)),
                                        record("INSERT", 3, image(3)), record("INSERT", 4, image(4))]},
                           LambdaContext("stream-test"))
    assert handled == [("l", 1, 100)]  # the MODIFY skipped, nothing after the failed record
    assert out == {"batchItemFailures": [{"itemIdentifier": "3"}]}  # Lambda retries the shard from 3
    assert flushed == [1]
    assert consumer.handler({"Records": [record("REMOVE", 5, None)]}, LambdaContext("stream-test")) == {
        "batchItemFailures": []}
    assert flushed == [1, 1]


class FakeSqs:
    def __init__(self, refuse: str | None = None) -> None:
        self.sent: dict[str, list[dict]] = {}
        self.refuse = refuse

    def send_message_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:
        if QueueUrl == self.refuse:
            return {"Failed": [{"Id": e["Id"], "Code": "x"} for e in Entries]}
        self.sent.setdefault(QueueUrl, []).extend(Entries)
        return {"Successful": [{"Id": e["Id"]} for e in Entries]}


def test_the_listener_sends_every_page_to_each_queue_and_fails_the_page_if_one_refuses():
    events = [ChainEvent(contract="UsageTracker", event="UsageLogged", args={"licenseId": "0x" + "11" * 32},
                         txHash="0x" + "aa" * 32, logIndex=i, blockNumber=5, blockHash="0x" + "bb" * 32)
              for i in range(12)]
    listener = ChainListener.__new__(ChainListener)  # the sinks alone (no gateway)
    sqs = FakeSqs()
    listener.sinks = [SqsFifoSink(sqs, "payments"), SqsFifoSink(sqs, "analytics")]
    listener.sink = listener.sinks[0]
    for sink in listener.sinks:
        sink.send(events)
    for url in ("payments", "analytics"):
        bodies = [json.loads(e["MessageBody"]) for e in sqs.sent[url]]
        assert [b["logIndex"] for b in bodies] == list(range(12))
        assert {e["MessageDeduplicationId"] for e in sqs.sent[url]} == {ev.dedupe_id for ev in events}
    with pytest.raises(RuntimeError, match="refused"):
        SqsFifoSink(FakeSqs(refuse="analytics"), "analytics").send(events)
