"""The relayer balance alarm: the chain monitor publishes the relayer's ETH balance every run
(metric ``RelayerBalanceEth``, namespace = the project, dimension ``service: chain-monitor``); the
alarm fires when its minimum over 5 minutes is below ``RELAYER_MIN_BALANCE_ETH`` (context
``settings``, else the default of ``marketplace.config.ChainMonitorConfig``), and when the metric
stops (the monitor is not running: the balance is unknown). A relayer without gas stops every
relayed flow: registrations, terms, purchases, usage batches, refunds."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct
from marketplace.config import ChainMonitorConfig
from marketplace.kit.observability import Metric
from marketplace.resources import physical_name

from infra.config import StageConfig

MONITOR = "chain-monitor"


def min_balance_eth(config: StageConfig) -> float:
    configured = config.settings.get("RELAYER_MIN_BALANCE_ETH")
    if configured is not None:
        return float(configured)
    return float(ChainMonitorConfig.model_fields["min_balance_eth"].default)


class RelayerBalanceAlarm(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        threshold = min_balance_eth(config)
        self.alarm = cloudwatch.Alarm(
            self, "Alarm", alarm_name=physical_name(config.prefix, "relayer-balance-low"),
            alarm_description=f"the relayer's ETH balance is below {threshold} (or the chain monitor stopped "
                              "publishing it): fund the relayer address (stack output KeyRelayerKey, "
                              "python -m marketplace.chain.kms ARN) before relayed transactions fail",
            metric=cloudwatch.Metric(namespace=config.project, metric_name=Metric.RELAYER_BALANCE_ETH.value,
                                     dimensions_map={"service": MONITOR}, statistic="Minimum",
                                     period=Duration.minutes(5)),
            threshold=threshold, evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
