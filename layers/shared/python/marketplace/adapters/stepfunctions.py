"""Step Functions: start a saga execution by name, read its status."""

from __future__ import annotations

import json
from typing import Any

from marketplace.adapters.aws import client, error_code
from marketplace.errors import ConflictError

RUNNING = "RUNNING"
SUCCEEDED = "SUCCEEDED"
ENDED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


class Saga:
    def __init__(self, state_machine_arn: str) -> None:
        self.arn = state_machine_arn

    def start(self, name: str, payload: dict[str, Any]) -> str:
        """Start an execution named ``name`` (unique per state machine); its ARN."""
        try:
            out = client("stepfunctions").start_execution(stateMachineArn=self.arn, name=name,
                                                          input=json.dumps(payload))
        except Exception as exc:
            if error_code(exc) == "ExecutionAlreadyExists":
                raise ConflictError("this registration has already started", {"registrationId": name}) from exc
            raise
        return out["executionArn"]

    def status(self, execution_arn: str) -> str:
        return client("stepfunctions").describe_execution(executionArn=execution_arn)["status"]
