"""Background workers of the local stack: what AWS runs without a request.

In AWS, Lambda's event source mappings poll SQS queues and EventBridge schedules invoke functions;
Step Functions runs the state machines. Locally moto runs the state machines itself (see
``local.processes.MotoServer``); this module stands in for the rest:

- ``SqsPoller``: receives from a queue and invokes a function with Lambda's SQS event
  (``Records``), deleting the messages it processed and leaving failed ones (whole batch on an
  exception, or those named in ``batchItemFailures``) to reappear after the visibility timeout,
  like an event source mapping with ``ReportBatchItemFailures``;
- ``StreamPoller``: reads a table's DynamoDB stream (moto keeps its records) and invokes a function
  with Lambda's stream event (INSERT records), retrying from a failed record;
- ``Schedule``: invokes a function with an EventBridge "Scheduled Event" every N seconds.

Later flows add their consumers to the registry::

    @register_worker("payments")
    def _payments(ctx: WorkerContext) -> Worker:
        return SqsPoller(ctx, queue="chain-events", function="payments")

and ``python -m local.stack`` starts every registered worker.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from marketplace import resources

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

log = logging.getLogger("local.workers")

Function = Callable[[Any, Any], Any]


@dataclass
class WorkerContext:
    """What a worker factory may use: the deployed functions and where the resources are."""

    functions: Mapping[str, Function]  # by FunctionSpec.name
    prefix: str
    aws_endpoint: str
    region: str = "us-east-1"

    def client(self, service: Literal["sqs"]) -> SQSClient:  # the services the workers use
        import boto3

        return boto3.client(service, endpoint_url=self.aws_endpoint, region_name=self.region)


class Worker(Protocol):
    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...


WorkerFactory = Callable[[WorkerContext], Worker]
WORKERS: dict[str, WorkerFactory] = {}


def register_worker(name: str) -> Callable[[WorkerFactory], WorkerFactory]:
    def add(factory: WorkerFactory) -> WorkerFactory:
        if name in WORKERS:
            raise ValueError(f"worker {name!r} registered twice")
        WORKERS[name] = factory
        return factory

    return add


def start_workers(ctx: WorkerContext, names: list[str] | None = None) -> list[Worker]:
    """Start the registered workers (all, or those named); returns them for ``stop_workers``."""
    started: list[Worker] = []
    for name, factory in WORKERS.items():
        if names is not None and name not in names:
            continue
        worker = factory(ctx)
        worker.start()
        started.append(worker)
    return started


def stop_workers(workers: list[Worker]) -> None:
    for worker in reversed(workers):
        try:
            worker.stop()
        except Exception:
            log.exception("stopping worker %s failed", worker.name)


class _Loop:
    """A daemon thread calling ``tick`` until stopped; a failing tick is logged, not fatal."""

    name: str
    interval: float

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("worker %s failed", self.name)
            self._stop.wait(self.interval)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"worker-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(30)


class SqsPoller(_Loop):
    """An SQS event source mapping: queue ``queue`` (a ``QueueSpec.name``) → function ``function``."""

    def __init__(self, ctx: WorkerContext, *, queue: str, function: str, batch_size: int = 10,
                 wait_seconds: int = 1, name: str | None = None) -> None:
        super().__init__()
        spec = resources.by_name(resources.QUEUES, queue)
        self.name = name or f"sqs-{queue}-{function}"
        self.interval = 0.0  # the long poll paces the loop
        self.function = ctx.functions[function]
        self.batch_size = batch_size
        self.wait_seconds = wait_seconds
        self.region = ctx.region
        self.sqs = ctx.client("sqs")
        self.queue_url = self.sqs.get_queue_url(
            QueueName=resources.physical_name(ctx.prefix, spec.name, fifo=spec.fifo))["QueueUrl"]
        self.queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def tick(self) -> None:
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=self.batch_size, WaitTimeSeconds=self.wait_seconds,
            AttributeNames=["All"], MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return
        event = {"Records": [self._record(m) for m in messages]}
        try:
            result = self.function(event, None)
        except Exception:
            log.exception("%s: batch of %d failed; messages return after the visibility timeout",
                          self.name, len(messages))
            return
        failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)])

    def _record(self, m: MessageTypeDef) -> dict[str, Any]:
        return {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m.get("Attributes", {}),
            "messageAttributes": {
                k: {"stringValue": v.get("StringValue"), "binaryValue": v.get("BinaryValue"),
                    "stringListValues": [], "binaryListValues": [], "dataType": v["DataType"]}
                for k, v in m.get("MessageAttributes", {}).items()
            },
            "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }


class StreamPoller(_Loop):
    """A DynamoDB Streams event source mapping: the stream of table ``table`` (a ``TableSpec.name``
    with ``stream``) → function ``function``, INSERT records only (the mapping's filter in AWS), in
    batches of ``batch_size`` per shard. A batch that raises is retried from its first record, one
    that reports ``batchItemFailures`` from the failed record (``ReportBatchItemFailures``); the
    records after a success are read next, like Lambda's poller."""

    def __init__(self, ctx: WorkerContext, *, table: str, function: str, batch_size: int = 100,
                 interval: float = 0.25, name: str | None = None) -> None:
        import boto3

        super().__init__()
        self.name = name or f"stream-{table}-{function}"
        self.interval = interval
        self.function = ctx.functions[function]
        self.batch_size = batch_size
        self.region = ctx.region
        ddb = boto3.client("dynamodb", endpoint_url=ctx.aws_endpoint, region_name=ctx.region)
        self.streams = boto3.client("dynamodbstreams", endpoint_url=ctx.aws_endpoint, region_name=ctx.region)
        self.stream_arn = ddb.describe_table(
            TableName=resources.physical_name(ctx.prefix, table))["Table"]["LatestStreamArn"]
        self.iterators: dict[str, str] = {}

    def _iterator(self, shard: str, kind: str, sequence: str | None = None) -> str:
        kwargs: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": shard, "ShardIteratorType": kind}
        if sequence is not None:
            kwargs["SequenceNumber"] = sequence
        return self.streams.get_shard_iterator(**kwargs)["ShardIterator"]

    def tick(self) -> None:
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        for shard in (s["ShardId"] for s in shards):
            if shard not in self.iterators:
                self.iterators[shard] = self._iterator(shard, "TRIM_HORIZON")
            self._poll(shard)

    def _poll(self, shard: str) -> None:
        out = self.streams.get_records(ShardIterator=self.iterators[shard], Limit=self.batch_size)
        records = out.get("Records", [])
        inserts = [r for r in records if r.get("eventName") == "INSERT"]
        retry_from: str | None = None
        if inserts:
            event = {"Records": [{**r, "eventSourceARN": self.stream_arn, "awsRegion": self.region} for r in inserts]}
            try:
                result = self.function(event, None)
                failed = [f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])]
                retry_from = min(failed, key=int) if failed else None
            except Exception:
                log.exception("%s: batch of %d failed; retried from its first record", self.name, len(inserts))
                retry_from = inserts[0]["dynamodb"]["SequenceNumber"]
        if retry_from is not None:
            self.iterators[shard] = self._iterator(shard, "AT_SEQUENCE_NUMBER", retry_from)
        elif out.get("NextShardIterator"):
            self.iterators[shard] = out["NextShardIterator"]


class Schedule(_Loop):
    """An EventBridge schedule (``rate(N seconds)``) invoking ``function``."""

    def __init__(self, ctx: WorkerContext, *, function: str, every_seconds: float, name: str | None = None,
                 detail: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.name = name or f"schedule-{function}"
        self.interval = every_seconds
        self.function = ctx.functions[function]
        self.region = ctx.region
        self.rule_arn = f"arn:aws:events:{ctx.region}:123456789012:rule/{ctx.prefix}-{self.name}"
        self.detail = detail or {}

    def tick(self) -> None:
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "region": self.region,
            "resources": [self.rule_arn],
            "detail": json.loads(json.dumps(self.detail)),
        }
        self.function(event, None)


# -- registered workers ------------------------------------------------------------------------

CHAIN_MONITOR_SECONDS = 5.0  # EventBridge runs it every minute in AWS; locally a short schedule


@register_worker("chain-monitor")
def _chain_monitor(ctx: WorkerContext) -> Worker:
    return Schedule(ctx, function="chain-monitor", every_seconds=CHAIN_MONITOR_SECONDS)


# notifications (issue 9): the notifications queue's fan-out and the webhook attempts
@register_worker("notifications")
def _notifications(ctx: WorkerContext) -> Worker:
    return SqsPoller(ctx, queue="notifications", function="notifications")


@register_worker("webhook-delivery")
def _webhook_delivery(ctx: WorkerContext) -> Worker:
    spec = resources.by_name(resources.FUNCTIONS, "webhook-delivery")
    return SqsPoller(ctx, queue="webhook-deliveries", function="webhook-delivery", batch_size=spec.batch_size)


# Flow 4 (issue 9): the chain listener (EventBridge every minute in AWS), the payments consumer of
# the chain-events FIFO, and refunds at expiry (every 5 minutes in AWS)
CHAIN_LISTENER_SECONDS = 3.0
REFUNDS_SECONDS = 10.0


@register_worker("chain-listener")
def _chain_listener(ctx: WorkerContext) -> Worker:
    return Schedule(ctx, function="chain-listener", every_seconds=CHAIN_LISTENER_SECONDS)


@register_worker("payments")
def _payments(ctx: WorkerContext) -> Worker:
    return SqsPoller(ctx, queue="chain-events", function="payments")


@register_worker("refunds")
def _refunds(ctx: WorkerContext) -> Worker:
    return Schedule(ctx, function="refunds", every_seconds=REFUNDS_SECONDS)


# Flow 4 (issue 9): the usage-batches state machine's schedule (EventBridge every 10 minutes in
# AWS); locally short, so a batch lands soon after its window may close (see docs/design.md
# "Usage batches": the window's minimum width needs chain time, advanced in tests)
USAGE_BATCHES_SECONDS = 15.0


@register_worker("usage-batch-scheduler")
def _usage_batches(ctx: WorkerContext) -> Worker:
    return Schedule(ctx, function="usage-batch-scheduler", every_seconds=USAGE_BATCHES_SECONDS)


# Flow 7 (issue 11): the analytics aggregates' feeders: the usage table's stream (a DynamoDB Streams
# event source mapping in AWS) and the analytics-events FIFO (the chain listener's second queue)
@register_worker("analytics-usage")
def _analytics_usage(ctx: WorkerContext) -> Worker:
    spec = resources.by_name(resources.FUNCTIONS, "analytics-usage")
    return StreamPoller(ctx, table=str(spec.stream), function="analytics-usage", batch_size=spec.batch_size)


@register_worker("analytics-events")
def _analytics_events(ctx: WorkerContext) -> Worker:
    return SqsPoller(ctx, queue="analytics-events", function="analytics-events")
