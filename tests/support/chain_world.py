"""Shared by the chain gateway's integration tests and ``bench/chain.py``: the EventEmitter test
contract deployed next to a deployment, an ABI folder holding both, and gateways built the way a
Lambda container builds one (its own boto3 clients, its own web3 connection)."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from eth_account import Account
from marketplace.chain.gateway import ChainGateway, GatewaySettings
from marketplace.config import ChainDeployment
from web3 import Web3

ROOT = Path(__file__).resolve().parents[2]
EMITTER = ROOT / "build" / "test-contracts" / "EventEmitter.json"


def emitter_artifact() -> dict[str, Any]:
    if not EMITTER.is_file():
        subprocess.run(["node", "contracts/build.mjs", "--test"], cwd=ROOT, check=True, capture_output=True)
    return json.loads(EMITTER.read_text())


def abi_dir_with_emitter(folder: Path) -> Path:
    """``build/contracts/*.json`` plus ``EventEmitter.json`` in ``folder`` (the gateway reads one
    ABI folder, as the layer's ``artifacts/contracts``)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in (ROOT / "build" / "contracts").glob("*.json"):
        if not path.name.startswith("solc-"):
            shutil.copy(path, folder / path.name)
    (folder / "EventEmitter.json").write_text(json.dumps({"abi": emitter_artifact()["abi"]}))
    return folder


def send(w3: Web3, key: str, tx: dict[str, Any]) -> dict[str, Any]:
    account = Account.from_key(key)
    tx = {"from": account.address, "chainId": w3.eth.chain_id,
          "nonce": w3.eth.get_transaction_count(account.address, "pending"), **tx}
    tx.setdefault("gas", int(w3.eth.estimate_gas(tx) * 1.2))
    tip = int(w3.eth.max_priority_fee)
    tx.setdefault("maxPriorityFeePerGas", tip)
    tx.setdefault("maxFeePerGas", 2 * int(w3.eth.get_block("latest")["baseFeePerGas"]) + tip)
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction), timeout=120)
    assert receipt["status"] == 1, receipt
    return receipt


def deploy_emitter(w3: Web3, key: str) -> str:
    art = emitter_artifact()
    factory = w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
    tx = factory.constructor().build_transaction({"from": Account.from_key(key).address})
    return send(w3, key, {"data": tx["data"]})["contractAddress"]


def emit(w3: Web3, key: str, emitter: str, batch: int, count: int) -> dict[str, Any]:
    """``count`` Tick events of ``batch`` in one transaction from a Hardhat account."""
    contract = w3.eth.contract(address=emitter, abi=emitter_artifact()["abi"])
    data = contract.functions.emitMany(batch, count)._encode_transaction_data()
    return send(w3, key, {"to": emitter, "data": data})


@dataclass
class GatewayFactory:
    """Builds independent gateways over one moto server and one node (one per simulated container)."""

    moto_url: str
    env: dict[str, str]  # RELAYER_KEY_ID, CHAIN_NONCES_TABLE, CHAIN_TXS_TABLE, CHAIN_CURSORS_TABLE
    deployment: dict[str, Any]
    abi_dir: Path
    defaults: dict[str, Any] = field(default_factory=dict)

    def clients(self):
        made: dict[str, Any] = {}

        def client(service: str):
            if service not in made:
                made[service] = boto3.client(service, endpoint_url=self.moto_url, region_name="us-east-1")
            return made[service]

        return client

    def gateway(self, **settings: Any) -> ChainGateway:
        s = GatewaySettings(abi_dir=str(self.abi_dir), relayer_key_id=self.env["RELAYER_KEY_ID"],
                            nonces_table=self.env["CHAIN_NONCES_TABLE"], txs_table=self.env["CHAIN_TXS_TABLE"],
                            cursors_table=self.env["CHAIN_CURSORS_TABLE"], **{**self.defaults, **settings})
        return ChainGateway(ChainDeployment.model_validate(self.deployment), s, clients=self.clients())
