"""SQS redelivery: the chain-events FIFO's message delivered again after the payments consumer
died between its effect and the message's deletion (a Lambda killed after writing, before
answering): the same message twice, one effect (one license record, one notification).
"""

from __future__ import annotations

import json

import pytest

from local.lambdas import LambdaContext, load_handler
from local.workers import SqsPoller, WorkerContext
from tests.support import license_support as support
from tests.support.faults_stack import PREFIX

content, people, _fresh_license_singletons = support.content, support.people, support._fresh_license_singletons
pytestmark = pytest.mark.slow


@pytest.fixture
def fresh_consumers():
    for folder, attr in (("payments", "consumer"), ("chain_listener", "listener")):
        getattr(support.handler_module(folder), attr).cache_clear()
    yield
    for folder, attr in (("payments", "consumer"), ("chain_listener", "listener")):
        getattr(support.handler_module(folder), attr).cache_clear()


@pytest.mark.parametrize("crash", ["after_the_effect", "before_answering"])
def test_a_purchase_event_redelivered_after_a_crash_is_applied_once(stack, people, content, fresh_consumers,
                                                                    monkeypatch, crash):
    from marketplace.adapters.dynamodb import from_ddb
    from marketplace.payments.consumer import ChainEventConsumer

    content_id, _ = content
    terms = people.create_terms(content_id, price=1_000, max_uses=5)
    license_id = people.buy_with_permit(terms["termsId"]).body["licenseId"]
    load_handler("chain_listener")({"time": "2025-01-01T00:00:00Z", "id": "t"}, LambdaContext("l"))

    # Given the consumer dies once: after recording the purchase (before its notification), or
    # after everything (notified too) but before answering, so SQS never deletes the message
    notify = ChainEventConsumer._notify
    crashes: list[str] = []

    def dies_once(self, event, kind, creator, data, at):
        if kind == "license.purchased" and data.get("licenseId") == license_id and not crashes:
            crashes.append(event.dedupe_id)
            raise RuntimeError("killed after the effect")
        return notify(self, event, kind, creator, data, at)

    if crash == "after_the_effect":
        monkeypatch.setattr(ChainEventConsumer, "_notify", dies_once)
    sqs = stack.client("sqs")
    consumer = load_handler("payments")
    receipts: dict[str, int] = {}

    def payments(event, context):
        for r in event["Records"]:
            receipts[r["messageId"]] = int(r["attributes"].get("ApproximateReceiveCount", "1"))
        try:
            out = consumer(event, LambdaContext("payments", timeout_seconds=20))
        except Exception:  # noqa: BLE001 - every record failed: the whole batch returns
            failed = {r["messageId"] for r in event["Records"]}
            out = None
        else:
            failed = {f["itemIdentifier"] for f in (out or {}).get("batchItemFailures", [])}
            mine = [r for r in event["Records"] if license_id[2:] in r["body"].lower()]
            if crash == "before_answering" and mine and not crashes:  # done, then killed: nothing deleted
                crashes.append(mine[0]["messageId"])
                failed = {r["messageId"] for r in event["Records"]}
                out = None
        for r in event["Records"]:  # back on the queue now rather than after the visibility timeout
            if r["messageId"] in failed:
                sqs.change_message_visibility(QueueUrl=poller.queue_url, ReceiptHandle=r["receiptHandle"],
                                              VisibilityTimeout=0)
        if out is None:
            raise RuntimeError("the batch failed")
        return out

    poller = SqsPoller(WorkerContext({"payments": payments}, PREFIX, stack.moto_url), queue="chain-events",
                       function="payments", wait_seconds=0)
    # When the queue is drained (the message comes back once)
    for _ in range(50):
        before = dict(receipts)
        poller.tick()
        if receipts == before and crashes:
            break
    # Then it was delivered twice and applied once: one license record, one marker, one notification
    assert len(crashes) == 1 and max(receipts.values()) >= 2
    ddb = stack.client("dynamodb")
    items = [from_ddb(i) for i in ddb.scan(TableName=stack.env["PAYMENTS_TABLE"])["Items"]]
    assert len([i for i in items if i.get("kind") == "license" and i.get("licenseId") == license_id]) == 1
    (lic,) = [i for i in items if i.get("kind") == "license" and i.get("licenseId") == license_id]
    assert len([i for i in items if str(i.get("pk", "")).startswith(f"event#{lic['txHash']}")]) == 1
    sent = []
    while True:
        got = sqs.receive_message(QueueUrl=stack.env["NOTIFICATIONS_QUEUE"], MaxNumberOfMessages=10,
                                  WaitTimeSeconds=0).get("Messages", [])
        if not got:
            break
        sent += [json.loads(m["Body"]) for m in got]
    mine = [n for n in sent if n["type"] == "license.purchased" and n["data"]["licenseId"] == license_id]
    assert len(mine) == 1
