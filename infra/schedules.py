"""EventBridge schedules: one rule per function whose ``FunctionSpec.schedule`` is set (e.g. the
chain monitor, ``rate(1 minute)``), invoking that function with the scheduled event."""

from __future__ import annotations

from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from marketplace.resources import FUNCTIONS, physical_name

from infra.config import StageConfig
from infra.naming import pascal


class Schedules(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig,
                 functions: dict[str, lambda_.Function]) -> None:
        super().__init__(scope, construct_id)
        self.by_name: dict[str, events.Rule] = {}
        for spec in FUNCTIONS:
            if spec.schedule is None:
                continue
            self.by_name[spec.name] = events.Rule(
                self, pascal(spec.name),
                rule_name=physical_name(config.prefix, spec.name),
                description=f"runs {spec.name} on {spec.schedule}",
                schedule=events.Schedule.expression(spec.schedule),
                targets=[targets.LambdaFunction(functions[spec.name], retry_attempts=0)],
            )
