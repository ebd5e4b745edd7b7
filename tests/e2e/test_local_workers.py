"""The local stack's background workers: an SQS event source mapping and a schedule.

Given a queue of ``resources.QUEUES`` in moto and a consumer function, when messages arrive, then
the poller hands them to the function in Lambda's SQS event format, deletes those it processed
and leaves the ones it reported in ``batchItemFailures``; a schedule invokes its function with
EventBridge's "Scheduled Event".
"""

from __future__ import annotations

import functools
import json
import threading
import time

import pytest
from marketplace import resources

from local.aws import create_local_resources
from local.workers import (
    WORKERS,
    Schedule,
    SqsPoller,
    WorkerContext,
    register_worker,
    start_workers,
    stop_workers,
)
from tests.support.waiting import wait_for as _wait_for

pytestmark = pytest.mark.e2e

PREFIX = "workers-test"


wait_for = functools.partial(_wait_for, timeout=20.0, interval=0.05)


@pytest.fixture(scope="module")
def env(moto_server):
    return create_local_resources(moto_server.url, PREFIX)


def test_sqs_poller_delivers_records_and_keeps_reported_failures(moto_server, env):
    spec = resources.by_name(resources.QUEUES, "notifications")
    seen: list[dict] = []
    done = threading.Event()

    def consumer(event, context):
        seen.extend(event["Records"])
        if len(seen) >= 3:
            done.set()
        failures = [{"itemIdentifier": r["messageId"]} for r in event["Records"] if json.loads(r["body"])["n"] == 2]
        return {"batchItemFailures": failures}

    ctx = WorkerContext({"consumer": consumer}, PREFIX, moto_server.url)
    sqs = ctx.client("sqs")
    url = env[spec.env]
    for n in (1, 2, 3):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": n}),
                         MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"}})
    poller = SqsPoller(ctx, queue="notifications", function="consumer")
    poller.start()
    try:
        assert done.wait(20)
    finally:
        poller.stop()

    record = seen[0]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(f":{PREFIX}-notifications")
    assert record["messageAttributes"]["kind"]["stringValue"] == "test"
    assert sorted(json.loads(r["body"])["n"] for r in seen) == [1, 2, 3]
    # 1 and 3 were deleted; 2 is in flight until its visibility timeout, then comes back
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "0"
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "1"


def test_a_failing_batch_is_left_on_the_queue(moto_server, env):
    spec = resources.by_name(resources.QUEUES, "chain-events")
    calls = threading.Event()

    def consumer(event, context):
        calls.set()
        raise RuntimeError("consumer down")

    ctx = WorkerContext({"consumer": consumer}, PREFIX, moto_server.url)
    sqs = ctx.client("sqs")
    url = env[spec.env]
    sqs.send_message(QueueUrl=url, MessageBody="{}", MessageGroupId="g")
    poller = SqsPoller(ctx, queue="chain-events", function="consumer")
    poller.start()
    try:
        assert calls.wait(20)
    finally:
        poller.stop()
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"]) == 1


def test_schedule_invokes_with_a_scheduled_event(moto_server):
    events: list[dict] = []
    ctx = WorkerContext({"tick": lambda event, context: events.append(event)}, PREFIX, moto_server.url)
    schedule = Schedule(ctx, function="tick", every_seconds=0.05)
    schedule.start()
    try:
        assert wait_for(lambda: len(events) >= 2)
    finally:
        schedule.stop()
    assert events[0]["detail-type"] == "Scheduled Event"
    assert events[0]["source"] == "aws.events"
    assert events[0]["resources"] == [f"arn:aws:events:us-east-1:123456789012:rule/{PREFIX}-schedule-tick"]


def test_registry_starts_and_stops_registered_workers(moto_server):
    ticks: list[dict] = []
    name = "test-registry-schedule"

    @register_worker(name)
    def _factory(ctx: WorkerContext):
        return Schedule(ctx, function="tick", every_seconds=0.05, name=name)

    try:
        with pytest.raises(ValueError):
            register_worker(name)(_factory)
        ctx = WorkerContext({"tick": lambda event, context: ticks.append(event)}, PREFIX, moto_server.url)
        workers = start_workers(ctx, names=[name])
        assert [w.name for w in workers] == [name]
        assert wait_for(lambda: len(ticks) >= 1)
        stop_workers(workers)
        count = len(ticks)
        time.sleep(0.3)
        assert len(ticks) == count  # stopped: no more ticks
    finally:
        WORKERS.pop(name, None)
