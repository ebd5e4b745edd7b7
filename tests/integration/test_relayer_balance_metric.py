"""The chain monitor publishes the relayer's ETH balance (the stack's low-balance alarm reads it):
the real handler against the Hardhat node, its metric as Powertools emits it (EMF on stdout, what
CloudWatch ingests in Lambda and what the local stack prints), and an error log below the threshold."""

from __future__ import annotations

import json
import logging

import pytest

from local.lambdas import LambdaContext, load_handler

pytestmark = [pytest.mark.integration]


def emitted(stdout: str) -> list[dict]:
    """The EMF documents among the handler's stdout lines."""
    out = []
    for line in stdout.splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict) and "_aws" in doc:
            out.append(doc)
    return out


def run_monitor(capsys) -> tuple[dict, list[dict], str]:
    summary = load_handler("chain_monitor")({"time": "2026-01-01T00:00:00Z"}, LambdaContext("chain_monitor"))
    captured = capsys.readouterr()
    return summary, emitted(captured.out), captured.out + captured.err


def test_the_monitor_publishes_the_relayer_balance(stack, capsys, set_env):
    set_env(RELAYER_MIN_BALANCE_ETH="0.5")
    balance = stack.w3().eth.get_balance(stack.relayer) / 10**18
    summary, docs, _ = run_monitor(capsys)
    [doc] = [d for d in docs if "RelayerBalanceEth" in d]
    values = doc["RelayerBalanceEth"]  # one value per invocation (Powertools writes a list)
    assert values == [pytest.approx(balance, rel=1e-6)] or values == pytest.approx(balance, rel=1e-6)
    [metrics] = doc["_aws"]["CloudWatchMetrics"]
    assert {"Name": "RelayerBalanceEth", "Unit": "None"} in metrics["Metrics"]
    assert doc["service"] == "chain-monitor" and ["service"] in metrics["Dimensions"]
    assert summary["relayerBalanceEth"] == pytest.approx(balance, rel=1e-6)


def test_below_the_threshold_the_monitor_logs_an_error(stack, capsys, set_env, caplog):
    balance = stack.w3().eth.get_balance(stack.relayer) / 10**18
    set_env(RELAYER_MIN_BALANCE_ETH=str(balance * 2))
    with caplog.at_level(logging.ERROR):
        _, docs, output = run_monitor(capsys)
    assert any("RelayerBalanceEth" in d for d in docs)
    assert "relayer balance below the threshold" in output + caplog.text
