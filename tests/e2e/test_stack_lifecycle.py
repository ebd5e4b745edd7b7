"""``python -m local.stack``: what it writes, what it deploys, and that Ctrl-C stops all of it.

Given a freshly started local stack, then stack.json names the API, the chain and the AWS endpoint,
at least two creators, two buyers and the platform, each holding the test stablecoin (6 decimals,
EIP-2612 permit); when the stack gets SIGINT (Ctrl-C), then the API, the moto server and the
Hardhat node all stop and the process exits cleanly.
"""

from __future__ import annotations

import json
import signal
import socket
import time
from urllib.parse import urlsplit

import pytest
from web3 import Web3

from local.processes import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def listening(url: str) -> bool:
    parts = urlsplit(url)
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((parts.hostname, parts.port)) == 0


def test_stack_json_accounts_and_tokens_then_ctrl_c_stops_everything(start_stack):
    process = start_stack()
    info = process.wait_ready()

    assert set(info) >= {"apiUrl", "rpcUrl", "chainId", "contracts", "accounts", "awsEndpoint"}
    assert info["chainId"] == 31337
    roles = [a["role"] for a in info["accounts"]]
    assert sum(r.startswith("creator") for r in roles) >= 2
    assert sum(r.startswith("buyer") for r in roles) >= 2
    assert "platform" in roles
    for a in info["accounts"]:
        assert Web3.to_checksum_address(a["address"]) == a["address"]
        assert len(a["privateKey"]) == 66

    w3 = Web3(Web3.HTTPProvider(info["rpcUrl"]))
    assert w3.eth.chain_id == 31337
    for name in ("ContentRegistry", "LicenseManager", "PaymentEscrow", "UsageTracker", "MockStablecoin"):
        assert w3.eth.get_code(info["contracts"][name]) != b"", name
    abi = json.loads((ROOT / "build" / "contracts" / "MockStablecoin.json").read_text())["abi"]
    coin = w3.eth.contract(address=info["contracts"]["MockStablecoin"], abi=abi)
    assert coin.functions.decimals().call() == 6
    assert len(coin.functions.DOMAIN_SEPARATOR().call()) == 32  # EIP-2612 permit
    for a in info["accounts"]:
        if a["role"].startswith(("creator", "buyer")):
            assert coin.functions.balanceOf(a["address"]).call() > 0, a["role"]

    # it printed the URL, the accounts and how to stop (stack.json is written just before)
    deadline = time.monotonic() + 30
    while "Ctrl-C to stop" not in process.log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    printed = process.log_path.read_text()
    assert "Ctrl-C to stop" in printed and info["apiUrl"] in printed
    for a in info["accounts"]:
        assert a["address"] in printed and a["role"] in printed

    assert f"{info['apiUrl']}/dashboard" in printed
    # the WebSocket APIs (local.websocket): their clients' and Management API ports go with the stack
    websockets = [u for ws in info["websockets"].values() for u in (ws["url"], ws["managementUrl"])]
    assert len(websockets) == 2 * len(info["websockets"]) >= 2
    urls = [info["apiUrl"], info["rpcUrl"], info["awsEndpoint"], *websockets]
    assert all(listening(u) for u in urls)

    process.proc.send_signal(signal.SIGINT)
    assert process.proc.wait(60) == 0
    assert not any(listening(u) for u in urls)
    assert not process.info_path.exists()
    assert "Stopped." in process.tail()
