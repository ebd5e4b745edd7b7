"""Step Functions state machines, one per ``resources.STATE_MACHINES`` entry.

The definition is ``statemachines/<spec.definition>`` as written (the local stack runs the same
file); each ``${Placeholder}`` the spec maps to a function becomes that function's ARN. A
placeholder in the file that the spec does not map is an error here, not at deploy. Logging of
every event (without execution data: registrations carry creators' metadata) and X-Ray tracing.

Alarms: every machine's failed executions; for ``usage-batches`` also the batch worker's
``UsageBatchesFailed`` business metric (a license's PROOF_GENERATION_FAILED or BLOCKCHAIN_ERROR is
caught inside the execution, which still succeeds, and retried by the next run: the metric is
what shows it).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct
from marketplace.resources import STATE_MACHINES, StateMachineSpec, physical_name

from infra.config import ConfigError, StageConfig
from infra.layers import MissingBuildError
from infra.log_groups import log_group
from infra.naming import pascal

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def placeholders(definition: str) -> set[str]:
    return set(_PLACEHOLDER.findall(definition))


def definition_file(root: Path, spec: StateMachineSpec) -> Path:
    """``statemachines/<spec.definition>``, checked: it exists, is JSON, and every ``${...}`` in it
    is a placeholder the spec maps to a function."""
    path = root / "statemachines" / spec.definition
    if not path.is_file():
        raise MissingBuildError(f"{path} missing: resources.STATE_MACHINES declares {spec.name!r}")
    text = path.read_text()
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not JSON ({exc})") from exc
    unmapped = placeholders(text) - set(spec.functions)
    if unmapped:
        raise ConfigError(
            f"{path.name} uses ${{{', '.join(sorted(unmapped))}}} but the StateMachineSpec "
            f"{spec.name!r} maps only {sorted(spec.functions)}")
    return path


class StateMachines(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig,
                 functions: dict[str, lambda_.Function]) -> None:
        super().__init__(scope, construct_id)
        self.by_name: dict[str, sfn.StateMachine] = {
            spec.name: self._machine(spec, config, functions) for spec in STATE_MACHINES
        }
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for name, machine in self.by_name.items():
            self.alarms[name] = self._alarm(
                f"{pascal(name)}FailedAlarm", physical_name(config.prefix, f"{name}-failed"),
                f"{name}: an execution failed", machine.metric_failed(period=Duration.minutes(5)))
        if "usage-batches" in self.by_name:
            self.alarms["usage-batches-batch-failed"] = self._alarm(
                "UsageBatchFailedAlarm", physical_name(config.prefix, "usage-batch-failed"),
                "a usage batch's proof (PROOF_GENERATION_FAILED) or transaction (BLOCKCHAIN_ERROR) failed; the "
                "batch is retried by the next run (logs of usage-batch-worker: supportId)",
                cloudwatch.Metric(namespace=config.project, metric_name="UsageBatchesFailed",
                                  dimensions_map={"service": "usage-batch-worker"}, statistic="Sum",
                                  period=Duration.minutes(5)))

    def _alarm(self, construct_id: str, name: str, description: str, metric: cloudwatch.IMetric) -> cloudwatch.Alarm:
        return cloudwatch.Alarm(self, construct_id, alarm_name=name, alarm_description=description, metric=metric,
                                threshold=1, evaluation_periods=1,
                                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING)

    def _machine(self, spec: StateMachineSpec, config: StageConfig,
                 functions: dict[str, lambda_.Function]) -> sfn.StateMachine:
        path = definition_file(config.root, spec)
        invoked = {placeholder: functions[fn] for placeholder, fn in spec.functions.items()}
        name = physical_name(config.prefix, spec.name)
        machine = sfn.StateMachine(
            self, pascal(spec.name),
            state_machine_name=name,
            state_machine_type=(sfn.StateMachineType.EXPRESS if spec.express
                                else sfn.StateMachineType.STANDARD),
            definition_body=sfn.DefinitionBody.from_file(str(path)),
            definition_substitutions={p: fn.function_arn for p, fn in invoked.items()},
            logs=sfn.LogOptions(
                destination=log_group(self, f"{pascal(spec.name)}Logs", f"/aws/vendedlogs/states/{name}",
                                      config),
                level=sfn.LogLevel.ALL, include_execution_data=False,
            ),
            tracing_enabled=True,
        )
        # The ASL is opaque to CDK, so the invoke permission is explicit: the unqualified ARNs the
        # substitutions put in the definition, nothing else.
        if invoked:
            machine.add_to_role_policy(iam.PolicyStatement(
                actions=["lambda:InvokeFunction"], resources=[fn.function_arn for fn in invoked.values()]))
        return machine

