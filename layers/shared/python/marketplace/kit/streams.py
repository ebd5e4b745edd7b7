"""The DynamoDB Streams kit: a Lambda handler for a table's stream (event source mapping with
``ReportBatchItemFailures``; in AWS its filter passes ``INSERT`` records only, and the kit skips
any other record as well).

``StreamConsumer(service, handle, flush)`` calls ``handle(new_image)`` (the new item as a plain
dict) for each INSERT record in stream order, stops at the first one that raises and reports it
as the batch's failure (Lambda retries the shard from that record: the records after it are not
lost and the ones before it are not redone), then calls ``flush()`` in every case (e.g. publish
what was applied). ``handle`` must be idempotent on its own (a retried batch, or a record the
stream delivers twice): the analytics feeder writes a marker per record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marketplace.kit import observability


class StreamConsumer:
    def __init__(self, service: str, handle: Callable[[dict[str, Any]], Any],
                 flush: Callable[[], Any] | None = None, *, config_model: type | None = None) -> None:
        self.service = service
        self.handle = handle
        self.flush = flush
        self.config_model = config_model
        self.handler = observability.wrap(self._run, service, correlation_id_path="Records[0].eventID",
                                          before=observability.env_check(self.config_model))

    def _run(self, event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
        from marketplace.adapters.dynamodb import from_ddb

        failures: list[dict[str, str]] = []
        try:
            for record in event.get("Records", []):
                if record.get("eventName") != "INSERT":
                    continue
                data = record.get("dynamodb") or {}
                try:
                    self.handle(from_ddb(data.get("NewImage") or {}))
                except Exception:
                    observability.business(observability.Metric.MESSAGES_FAILED)
                    log = observability.current_logger()
                    if log is not None:
                        log.exception("stream record failed; the shard is retried from it",
                                      extra={"sequenceNumber": data.get("SequenceNumber")})
                    failures.append({"itemIdentifier": str(data.get("SequenceNumber"))})
                    break
                observability.business(observability.Metric.MESSAGES_PROCESSED)
        finally:
            if self.flush is not None:
                self.flush()
        return {"batchItemFailures": failures}
