"""Log groups: named, with the stage's retention, kept when the stack goes (they are evidence)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import ConfigError, StageConfig

_RETENTION = {
    1: logs.RetentionDays.ONE_DAY, 7: logs.RetentionDays.ONE_WEEK, 14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH, 60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS, 180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR, 731: logs.RetentionDays.TWO_YEARS,
}


def log_group(scope: Construct, construct_id: str, name: str, config: StageConfig) -> logs.LogGroup:
    if config.log_retention_days not in _RETENTION:
        raise ConfigError(f"logRetentionDays={config.log_retention_days}: use one of {sorted(_RETENTION)}")
    return logs.LogGroup(
        scope, construct_id, log_group_name=name, retention=_RETENTION[config.log_retention_days],
        removal_policy=RemovalPolicy.RETAIN if config.is_production else RemovalPolicy.DESTROY,
    )
