"""AWS faults injected into the boto3 clients the functions use (a botocore ``before-send`` hook):
the next calls of an operation get an error answer DynamoDB or S3 would send, without reaching
the moto server; later calls go through. The hook is on the client object, so it sees exactly
what the handlers send (their retries included: botocore runs the hook once per attempt).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from botocore.awsrequest import AWSResponse


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_kwargs):
        yield self.body


def dynamodb_error(code: str, message: str = "injected", status: int = 400, **fields) -> AWSResponse:
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message, **fields}).encode()
    return AWSResponse("https://dynamodb.local/", status, {"x-amzn-ErrorType": code,
                                                            "Content-Type": "application/x-amz-json-1.0"}, _Raw(body))


def throttled() -> AWSResponse:
    return dynamodb_error("ThrottlingException", "Rate of requests exceeds the allowed throughput.")


def transaction_conflict(*codes: str) -> AWSResponse:
    """A TransactWriteItems cancelled with these reasons, one per item (``"None"``: that item was fine)."""
    return dynamodb_error("TransactionCanceledException",
                          f"Transaction cancelled, please refer cancellation reasons for specific reasons "
                          f"[{', '.join(codes)}]",
                          CancellationReasons=[{"Code": c, **({"Message": "Transaction is ongoing for the item"}
                                                              if c == "TransactionConflict" else {})} for c in codes])


def s3_unavailable(status: int = 503) -> AWSResponse:
    return AWSResponse("https://s3.local/", status, {}, _Raw(b""))


@dataclass
class Injected:
    answers: list[AWSResponse]
    calls: int = 0  # calls of the operation seen (answered or passed through)
    answered: int = 0
    operations: list[str] = field(default_factory=list)


@contextlib.contextmanager
def inject(client, event: str, answers: list[AWSResponse]) -> Iterator[Injected]:
    """The next ``len(answers)`` sends matching ``event`` (``"dynamodb.UpdateItem"``,
    ``"s3.HeadObject"``, ``"dynamodb"`` for every operation) get these answers, in order."""
    state = Injected(list(answers))

    def hook(request, **kwargs):
        state.calls += 1
        state.operations.append(kwargs.get("event_name", ""))
        if state.answers:
            state.answered += 1
            return state.answers.pop(0)
        return None

    name = f"before-send.{event}"
    client.meta.events.register(name, hook)
    try:
        yield state
    finally:
        client.meta.events.unregister(name, hook)
