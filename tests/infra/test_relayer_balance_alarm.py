"""The relayer balance alarm: on the chain monitor's RelayerBalanceEth metric, below the configured
threshold (context settings, else the monitor's default), and when the metric stops."""

from __future__ import annotations

import pytest
from marketplace.config import ChainMonitorConfig

from infra.relayer_balance import min_balance_eth

pytestmark = pytest.mark.infra


def test_the_alarm_fires_below_the_threshold_or_without_data(synth):
    alarms = [a["Properties"] for a in synth.resources("AWS::CloudWatch::Alarm").values()
              if a["Properties"].get("MetricName") == "RelayerBalanceEth"]
    [alarm] = alarms
    assert alarm["AlarmName"] == "zkdm-dev-relayer-balance-low"
    assert alarm["Namespace"] == "zkdm" and alarm["Dimensions"] == [{"Name": "service", "Value": "chain-monitor"}]
    assert alarm["Statistic"] == "Minimum" and alarm["Period"] == 300
    assert alarm["ComparisonOperator"] == "LessThanThreshold" and alarm["TreatMissingData"] == "breaching"
    assert alarm["Threshold"] == ChainMonitorConfig.model_fields["min_balance_eth"].default
    # the monitor publishes the metric under that service name and reads the same threshold
    env = synth.template["Resources"][synth.logical_id(synth.stack.functions.by_name["chain-monitor"])][
        "Properties"]["Environment"]["Variables"]
    assert env["POWERTOOLS_SERVICE_NAME"] == "chain-monitor" and env["POWERTOOLS_METRICS_NAMESPACE"] == "zkdm"


def test_the_threshold_is_configurable():
    from types import SimpleNamespace  # the one attribute min_balance_eth reads: settings

    assert min_balance_eth(SimpleNamespace(settings={"RELAYER_MIN_BALANCE_ETH": "2.5"})) == 2.5  # type: ignore[arg-type]
    assert min_balance_eth(SimpleNamespace(settings={})) == (  # type: ignore[arg-type]
        ChainMonitorConfig.model_fields["min_balance_eth"].default)
