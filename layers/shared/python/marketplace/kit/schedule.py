"""The schedule kit: a function run by an EventBridge rule (or the local stack's timer).

``ScheduledFunction(service, run)`` calls ``run(now)`` with the event's scheduled time (UTC; the
current time when the event has none, e.g. a manual invoke) and returns its summary, which the
kit logs. A run that raises fails the invocation: EventBridge retries it and the function's error
alarm sees it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from marketplace.kit import observability


def scheduled_time(event: Any) -> datetime:
    raw = event.get("time") if isinstance(event, dict) else None
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw).astimezone(UTC)
        except ValueError:
            pass
    return datetime.now(UTC)


class ScheduledFunction:
    def __init__(self, service: str, run: Callable[[datetime], Any], *, config_model: type | None = None) -> None:
        self.service = service
        self.run = run
        self.config_model = config_model
        self.handler = observability.wrap(self._run, service, correlation_id_path="id",
                                          before=observability.env_check(self.config_model))

    def _run(self, event: Any, context: Any) -> Any:
        out = self.run(scheduled_time(event))
        summary = out.model_dump(mode="json") if isinstance(out, BaseModel) else out
        observability.telemetry(self.service).logger.info("scheduled run done", extra={"summary": summary})
        return summary
