"""Helpers for the contract tests and the gas benchmark: build, deploy, send, decode reverts and
events, move time, and make the proofs a marketplace scenario needs.

Transactions are sent from the Hardhat node's unlocked development accounts (``eth_sendTransaction``);
signatures (EIP-712, EIP-2612) use their well-known private keys (``hardhat_accounts``).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak
from web3 import Web3
from web3.exceptions import ContractLogicError

from local.processes import HardhatNode, hardhat_accounts

ROOT = Path(__file__).resolve().parents[2]
ARTIFACT_DIRS = (ROOT / "build" / "contracts", ROOT / "build" / "test-contracts")
ROLES = ("deployer", "relayer", "platform", "creator", "buyer", "other", "buyer2", "creator2", "tracker")


def build_contracts() -> None:
    """Compile contracts/ (+ generated verifiers) and the test fixtures (cached by input hash)."""
    for args in ([], ["--test"]):
        subprocess.run(["node", "contracts/build.mjs", *args], cwd=ROOT, check=True, capture_output=True)


@cache
def artifact(name: str) -> dict[str, Any]:
    for directory in ARTIFACT_DIRS:
        path = directory / f"{name}.json"
        if path.exists():
            return json.loads(path.read_text())
    raise FileNotFoundError(f"no artifact for {name} (node contracts/build.mjs [--test])")


@cache
def error_table() -> dict[str, tuple[str, list[str]]]:
    """4-byte selector -> (error name, input types), over every compiled ABI."""
    table = {}
    for directory in ARTIFACT_DIRS:
        for path in directory.glob("*.json"):
            if path.name.startswith("solc-"):
                continue
            for item in json.loads(path.read_text()).get("abi", []):
                if item.get("type") == "error":
                    types = [i["type"] for i in item["inputs"]]
                    table["0x" + keccak(text=f"{item['name']}({','.join(types)})")[:4].hex()] = (item["name"], types)
    return table


def decode_error(data: str | bytes | None) -> tuple[str, tuple]:
    """(name, args) of custom-error revert data; ("", ()) for empty data."""
    from eth_abi import decode

    if isinstance(data, bytes):
        data = "0x" + data.hex()
    if not data or data == "0x":
        return "", ()
    name, types = error_table().get(data[:10], (f"unknown:{data[:10]}", []))
    return name, tuple(decode(types, bytes.fromhex(data[10:]))) if types else ()


class Reverted(AssertionError):
    pass


def revert_data(exc: ContractLogicError) -> str | None:
    """The revert data of a failed call (web3 gives a hex string, or Hardhat's {message, data})."""
    data = exc.data
    if isinstance(data, dict):
        data = data.get("data")
    return data if isinstance(data, str) else None


@dataclass
class Chain:
    """A web3 connection to a Hardhat node, with the named development accounts."""

    node: HardhatNode
    w3: Web3 = field(init=False)
    accounts: dict[str, str] = field(init=False)
    keys: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.w3 = Web3(Web3.HTTPProvider(self.node.url, request_kwargs={"timeout": 120}))
        dev = hardhat_accounts(len(ROLES))
        self.accounts = {role: addr for role, (addr, _) in zip(ROLES, dev)}
        self.keys = {role: key for role, (_, key) in zip(ROLES, dev)}

    def __getattr__(self, role: str) -> str:  # chain.buyer -> address
        accounts = self.__dict__.get("accounts", {})
        if role in accounts:
            return accounts[role]
        raise AttributeError(role)

    # -- contracts and transactions -----------------------------------------------------------

    def contract(self, name: str, address: str):
        return self.w3.eth.contract(address=address, abi=artifact(name)["abi"])

    def deploy(self, name: str, *args: Any, sender: str | None = None):
        a = artifact(name)
        factory = self.w3.eth.contract(abi=a["abi"], bytecode=a["bytecode"])
        tx_hash = factory.constructor(*args).transact({"from": sender or self.accounts["deployer"]})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        assert receipt["status"] == 1, f"deploying {name} failed"
        return self.contract(name, receipt["contractAddress"])

    def constructor_revert(self, name: str, *args: Any) -> str:
        """The custom error deploying ``name`` with ``args`` reverts with."""
        a = artifact(name)
        factory = self.w3.eth.contract(abi=a["abi"], bytecode=a["bytecode"])
        try:
            factory.constructor(*args).estimate_gas({"from": self.accounts["deployer"]})
        except ContractLogicError as exc:
            return decode_error(revert_data(exc))[0]
        raise AssertionError(f"deploying {name} did not revert")

    def send(self, fn, sender: str, **tx: Any) -> dict[str, Any]:
        """Sends ``fn`` from ``sender``; returns the receipt; raises Reverted(name) on a revert."""
        try:
            tx_hash = fn.transact({"from": sender, **tx})
        except ContractLogicError as exc:
            name, args = decode_error(revert_data(exc))
            raise Reverted(name or str(exc), args) from exc
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        if receipt["status"] != 1:
            raise Reverted("status 0")
        return receipt

    def revert_of(self, fn, sender: str) -> tuple[str, tuple]:
        """The custom error (name, args) ``fn`` reverts with when sent by ``sender`` now."""
        try:
            fn.call({"from": sender}, block_identifier="pending")
        except ContractLogicError as exc:
            return decode_error(revert_data(exc))
        raise AssertionError("call did not revert")

    def expect_revert(self, fn, sender: str, error: str) -> tuple:
        name, args = self.revert_of(fn, sender)
        assert name == error, f"expected {error}, got {name or '(no data)'} {args}"
        return args

    @staticmethod
    def events(contract, receipt: dict[str, Any], event: str) -> list[dict[str, Any]]:
        from web3.logs import DISCARD

        return [dict(e["args"]) for e in getattr(contract.events, event)().process_receipt(receipt, errors=DISCARD)]

    # -- time -----------------------------------------------------------------------------------

    def now(self) -> int:
        return self.w3.eth.get_block("latest")["timestamp"]

    def advance(self, seconds: int) -> int:
        """Moves time forward by ``seconds`` and mines a block; returns the new block time."""
        self.node.rpc("evm_increaseTime", [seconds])
        self.node.rpc("evm_mine")
        return self.now()

    def snapshot(self) -> str:
        return self.node.rpc("evm_snapshot")

    def revert_to(self, snapshot_id: str) -> None:
        assert self.node.rpc("evm_revert", [snapshot_id]) is True

    # -- signatures -----------------------------------------------------------------------------

    def sign_typed(self, role: str, domain: dict, types: dict, primary: str, message: dict) -> bytes:
        signable = encode_typed_data(full_message={
            "types": {"EIP712Domain": _domain_types(domain), **types},
            "primaryType": primary, "domain": domain, "message": message,
        })
        return bytes(Account.sign_message(signable, self.keys[role]).signature)

    def permit(self, role: str, token, spender: str, value: int, deadline: int) -> tuple[int, bytes, bytes]:
        """(v, r, s) of an EIP-2612 permit by ``role`` for ``token`` (OpenZeppelin ERC20Permit)."""
        owner = self.accounts[role]
        _, name, version, chain_id, verifying, _, _ = token.functions.eip712Domain().call()
        domain = {"name": name, "version": version, "chainId": chain_id, "verifyingContract": verifying}
        types = {"Permit": [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"},
                            {"name": "value", "type": "uint256"}, {"name": "nonce", "type": "uint256"},
                            {"name": "deadline", "type": "uint256"}]}
        message = {"owner": owner, "spender": spender, "value": value,
                   "nonce": token.functions.nonces(owner).call(), "deadline": deadline}
        sig = self.sign_typed(role, domain, types, "Permit", message)
        return sig[64], sig[:32], sig[32:64]


def _domain_types(domain: dict) -> list[dict[str, str]]:
    order = [("name", "string"), ("version", "string"), ("chainId", "uint256"), ("verifyingContract", "address")]
    return [{"name": k, "type": t} for k, t in order if k in domain]


def content_hash(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
