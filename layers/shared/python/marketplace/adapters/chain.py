"""The EVM chain: web3.py over HTTP, contracts by name, transactions signed locally by the relayer.

ABIs come from ``<CONTRACTS_ABI_DIR>/<Name>.json`` (``abi`` key; the build writes them to
``build/contracts/`` and the shared layer packages them). Addresses come from ``CHAIN_CONFIG``.

Nonces: several workers may send from the relayer at once. Each send takes the account's
*pending* transaction count as its nonce; if the node refuses the nonce (another worker took it
first) the transaction is rebuilt with a fresh count and sent again, a few times. Reverts found
while estimating gas, or a mined transaction with status 0, become ``BlockchainError`` with the
decoded custom error name when the ABI knows it.

A caller that must know later whether its transaction can still be mined passes ``on_signed``:
it gets the signed transaction's hash and nonce *before* the send (a hash is known once signed),
so a crash or a receipt timeout after the send leaves a record to look up with ``tx_pending``.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from marketplace.config import ChainDeployment
from marketplace.errors import BlockchainError

log = logging.getLogger(__name__)

SEND_ATTEMPTS = 5
GAS_MARGIN = 1.2  # estimated gas × this, so a slightly different state at mining does not run out
# JSON-RPC error texts that mean "this nonce is taken": nodes give no standard code for it, so this
# is the one place that reads an error message (to decide on a retry, never a response status).
_NONCE_TAKEN = ("nonce too low", "already known", "replacement transaction underpriced",
                "nonce has already been used", "known transaction")


@functools.cache
def load_abi(abi_dir: str, name: str) -> list[dict[str, Any]]:
    path = Path(abi_dir) / f"{name}.json"
    try:
        return json.loads(path.read_text())["abi"]
    except FileNotFoundError:
        raise RuntimeError(f"no ABI for {name} at {path} (build the contracts: make build-contracts)") from None


def _error_selectors(abi: list[dict[str, Any]]) -> dict[str, tuple[str, list[str]]]:
    from eth_utils import keccak

    out = {}
    for item in abi:
        if item.get("type") == "error":
            types = [i["type"] for i in item.get("inputs", [])]
            signature = f"{item['name']}({','.join(types)})"
            out["0x" + keccak(text=signature)[:4].hex()] = (item["name"], types)
    return out


def revert_reason(exc: Exception, abi: list[dict[str, Any]]) -> str:
    """A readable reason for a revert: the custom error ``Name(args)`` if the ABI has it."""
    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x") and len(data) >= 10:
        known = _error_selectors(abi).get(data[:10])
        if known:
            from eth_abi import decode

            name, types = known
            try:
                args = decode(types, bytes.fromhex(data[10:]))
                shown = ", ".join("0x" + a.hex() if isinstance(a, bytes) else str(a) for a in args)
            except Exception:  # noqa: BLE001 - a reason without its arguments is still a reason
                shown = "?"
            return f"{name}({shown})"
    message = getattr(exc, "message", None) or str(exc)
    return str(message)


class Chain:
    def __init__(self, deployment: ChainDeployment, abi_dir: Path, relayer_key: str, tx_timeout: float) -> None:
        self.deployment = deployment
        self.abi_dir = str(abi_dir)
        self._key = relayer_key
        self.tx_timeout = tx_timeout
        self._lock = threading.Lock()  # one send at a time per process; other processes: nonce retry

    @functools.cached_property
    def w3(self):
        from web3 import Web3

        return Web3(Web3.HTTPProvider(self.deployment.rpcUrl, request_kwargs={"timeout": 30}))

    @functools.cached_property
    def account(self):
        from eth_account import Account

        return Account.from_key(self._key)

    def abi(self, name: str) -> list[dict[str, Any]]:
        return load_abi(self.abi_dir, name)

    def contract(self, name: str):
        return self.w3.eth.contract(address=self.deployment.address(name), abi=self.abi(name))

    def transact(self, contract_name: str, function: str, *args: Any,
                 on_signed: Callable[[str, int], None] | None = None) -> dict[str, Any]:
        """Send ``contract.function(*args)`` from the relayer and wait for its receipt.
        ``on_signed(txHash, nonce)`` runs before each send attempt; if it raises, nothing is sent."""
        from web3.exceptions import ContractLogicError, TimeExhausted, Web3RPCError

        abi = self.abi(contract_name)
        call = getattr(self.contract(contract_name).functions, function)(*args)
        with self._lock:
            for attempt in range(1, SEND_ATTEMPTS + 1):
                nonce = self.w3.eth.get_transaction_count(self.account.address, "pending")
                try:
                    tx = call.build_transaction({"from": self.account.address, "nonce": nonce,
                                                 "chainId": self.deployment.chainId})
                except ContractLogicError as exc:
                    reason = revert_reason(exc, abi)
                    raise BlockchainError(f"Transaction failed: {reason}",
                                          {"contract": contract_name, "function": function, "reason": reason}) from exc
                tx["gas"] = int(tx["gas"] * GAS_MARGIN)
                signed = self.account.sign_transaction(tx)
                if on_signed is not None:
                    on_signed("0x" + bytes(signed.hash).hex(), nonce)
                try:
                    tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
                    break
                except (Web3RPCError, ValueError) as exc:
                    if any(s in str(exc).lower() for s in _NONCE_TAKEN) and attempt < SEND_ATTEMPTS:
                        log.info("nonce %s taken, retrying (%s)", nonce, exc)
                        continue
                    raise BlockchainError(f"Transaction not accepted: {exc}",
                                          {"contract": contract_name, "function": function}) from exc
        try:
            receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=self.tx_timeout, poll_latency=0.2)
        except TimeExhausted as exc:
            raise BlockchainError("Transaction not mined in time",
                                  {"txHash": "0x" + bytes(tx_hash).hex(),
                                   # an int: the saga journals details in DynamoDB, which takes no floats
                                   "timeoutSeconds": math.ceil(self.tx_timeout)}) from exc
        if receipt["status"] != 1:
            raise BlockchainError("Transaction failed: reverted", {
                "txHash": "0x" + bytes(tx_hash).hex(), "gasProvided": tx["gas"], "gasUsed": receipt["gasUsed"]})
        return dict(receipt)

    def events(self, contract_name: str, event: str, receipt: dict[str, Any]) -> list[dict[str, Any]]:
        """The decoded ``event`` logs of ``contract_name`` in a receipt."""
        from web3.logs import DISCARD

        ev = getattr(self.contract(contract_name).events, event)()
        return [dict(e["args"]) for e in ev.process_receipt(receipt, errors=DISCARD)]

    def tx_pending(self, tx_hash: str, nonce: int) -> bool:
        """Whether the relayer's transaction ``tx_hash`` (sent with ``nonce``) may still be mined:
        the node holds it unmined and the relayer's mined nonce has not passed it. False when it is
        mined, when another transaction used its nonce (replaced), or when the node does not know
        it (refused, or dropped from the pool)."""
        from web3.exceptions import TransactionNotFound

        try:
            tx = self.w3.eth.get_transaction(tx_hash)
        except TransactionNotFound:
            tx = None
        if tx is not None and tx["blockNumber"] is not None:
            return False
        if self.w3.eth.get_transaction_count(self.account.address, "latest") > nonce:
            return False
        return tx is not None

    def block_number(self) -> int:
        return self.w3.eth.block_number

    def find_logs(self, contract_name: str, event: str, filters: dict[str, Any],
                  from_block: int | None = None) -> list[dict[str, Any]]:
        """Past ``event`` logs matching indexed ``filters`` since ``from_block`` (default: the
        deployment's block): ``{args, transactionHash, blockNumber}``."""
        ev = getattr(self.contract(contract_name).events, event)
        start = self.deployment.blockNumber if from_block is None else from_block
        logs = ev.get_logs(argument_filters=filters, from_block=start)
        return [{"args": dict(e["args"]), "transactionHash": "0x" + bytes(e["transactionHash"]).hex(),
                 "blockNumber": e["blockNumber"]} for e in logs]


_chains: dict[tuple, Chain] = {}


def get_chain(deployment: ChainDeployment, abi_dir: Path, relayer_key: str, tx_timeout: float) -> Chain:
    """One ``Chain`` per (deployment, key) per process (keeps the HTTP connection warm)."""
    key = (deployment.model_dump_json(), str(abi_dir), relayer_key, tx_timeout)
    chain = _chains.get(key)
    if chain is None:
        chain = _chains[key] = Chain(deployment, abi_dir, relayer_key, tx_timeout)
    return chain
