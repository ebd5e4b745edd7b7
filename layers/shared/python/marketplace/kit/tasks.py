"""The Step Functions kit: a task function's steps, each with a pydantic input and output model.

A state machine's ``lambda:invoke`` task passes ``{"step": NAME, "input": {...}}``; the kit validates
``input`` with the step's input model, runs it, and returns the output model as JSON. A step that
fails raises a typed error: Lambda reports its class name as ``errorType``, so the ASL's ``Retry``
and ``Catch`` match on names such as ``BlockchainError`` or ``ProofGenerationError`` (never on
text). An input that does not fit its model raises ``TaskInputError`` (not retryable: a bug in the
state machine, not a transient failure).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from marketplace.kit import observability


class TaskInputError(Exception):
    """The task's event does not name a known step or its input does not fit the step's model."""


@dataclass(frozen=True)
class Step:
    input: type[BaseModel]
    output: type[BaseModel] | None
    run: Callable[[Any], Any]


def step(input_model: type[BaseModel], output_model: type[BaseModel] | None = None):
    def decorate(fn: Callable[[Any], Any]) -> Step:
        return Step(input_model, output_model, fn)

    return decorate


class TaskFunction:
    def __init__(self, service: str, steps: Mapping[str, Step], *, config_model: type | None = None) -> None:
        self.service = service
        self.steps = dict(steps)
        self.config_model = config_model
        self.handler = observability.wrap(self._run, service, correlation_id_path="execution",
                                          before=observability.env_check(self.config_model))

    def _run(self, event: dict[str, Any], context: Any) -> Any:
        name = event.get("step") if isinstance(event, dict) else None
        step_ = self.steps.get(name) if isinstance(name, str) else None
        if step_ is None:
            raise TaskInputError(f"unknown step {name!r}; steps: {sorted(self.steps)}")
        try:
            data = step_.input.model_validate(event.get("input") or {})
        except PydanticValidationError as exc:
            raise TaskInputError(f"step {name}: input does not fit {step_.input.__name__}: {exc}") from None
        observability.telemetry(self.service).logger.append_keys(step=name)
        out = step_.run(data)
        if step_.output is not None:
            if not isinstance(out, step_.output):
                raise TypeError(f"step {name} returned {type(out).__name__}, not {step_.output.__name__}")
            return out.model_dump(mode="json")
        return out.model_dump(mode="json") if isinstance(out, BaseModel) else out
