"""The SQS kit: one message model, partial batch failures, and one effect per message.

``SqsConsumer(service, Model, handle)`` gives a Lambda handler for an SQS trigger (configured with
``ReportBatchItemFailures``). Each record's body is validated as ``Model``; ``handle(message,
record)`` runs at most once per idempotency key (Powertools idempotency on the declared
``idempotency`` table): the FIFO ``MessageDeduplicationId`` when there is one (a chain event's is
``txHash:logIndex``), else the SQS ``messageId``. A redelivered or duplicated message therefore
returns the stored result instead of running again.

FIFO queues keep order per message group: on a failure, the rest of that group in the batch is
reported failed too (``skip_group_on_error``) and retried in order; other groups go on. A body that
does not fit the model is a poison message: it fails, and the queue's redrive policy moves it to
the dead-letter queue after ``maxReceiveCount`` receives.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.sqs_fifo_partial_processor import SqsFifoPartialProcessor
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from pydantic import BaseModel

from marketplace.kit import observability

M = TypeVar("M", bound=BaseModel)
IDEMPOTENCY_TABLE_ENV = "IDEMPOTENCY_TABLE"
DEFAULT_IDEMPOTENCY_SECONDS = 7 * 24 * 3600  # longer than any redelivery or replay window


def idempotency_key(record: SQSRecord) -> str:
    dedupe = record.attributes.message_deduplication_id
    return f"sqs:{dedupe}" if dedupe else f"sqs:{record.message_id}"


class SqsConsumer(Generic[M]):
    def __init__(self, service: str, model: type[M], handle: Callable[[M, SQSRecord], Any], *,
                 fifo: bool = True, config_model: type | None = None,
                 idempotency_seconds: int = DEFAULT_IDEMPOTENCY_SECONDS) -> None:
        self.service = service
        self.model = model
        self.handle = handle
        self.fifo = fifo
        self.config_model = config_model
        self.idempotency_seconds = idempotency_seconds
        self._cfg = IdempotencyConfig(event_key_jmespath="key", expires_after_seconds=idempotency_seconds,
                                      raise_on_no_idempotency_key=True)
        self.handler = observability.wrap(self._run, service, correlation_id_path="Records[0].messageId",
                                          before=observability.env_check(self.config_model))

    @functools.cached_property
    def _once(self) -> Callable[..., Any]:
        store = DynamoDBPersistenceLayer(table_name=os.environ[IDEMPOTENCY_TABLE_ENV], key_attr="id",
                                         expiry_attr="expiration")

        @idempotent_function(data_keyword_argument="ident", persistence_store=store, config=self._cfg,
                             key_prefix=self.service)
        def once(*, ident: dict[str, str], record: SQSRecord) -> Any:
            message = self.model.model_validate_json(record.body)
            result = self.handle(message, record)
            return result.model_dump(mode="json") if isinstance(result, BaseModel) else result

        return once

    def _record(self, record: SQSRecord) -> Any:
        try:
            out = self._once(ident={"key": idempotency_key(record)}, record=record)
        except Exception:
            observability.business(observability.Metric.MESSAGES_FAILED)
            raise
        observability.business(observability.Metric.MESSAGES_PROCESSED)
        return out

    def _run(self, event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
        if context is not None and hasattr(context, "get_remaining_time_in_millis"):
            self._cfg.register_lambda_context(context)
        processor: BatchProcessor = (SqsFifoPartialProcessor(skip_group_on_error=True) if self.fifo
                                     else BatchProcessor(event_type=EventType.SQS))
        return process_partial_response(event=event, record_handler=self._record, processor=processor,
                                        context=context)
