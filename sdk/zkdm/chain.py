"""A minimal Ethereum JSON-RPC client (httpx, no web3): send a transaction signed here, wait for it.

Used where the platform cannot send for you: ``withdraw()`` pays ``msg.sender``, so the creator's
own key signs it (``Client.withdraw``). The node is the user's choice (``--rpc-url`` /
``ZKDM_RPC_URL``; the local stack's ``.local/stack.json`` has ``rpcUrl``).
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from zkdm.errors import ZkdmError
from zkdm.signing import Signer

RPC_URL_ENV = "ZKDM_RPC_URL"


class ChainError(ZkdmError):
    """The chain node refused or failed a call, or a transaction reverted (``reverted``)."""

    def __init__(self, message: str, *, reverted: bool = False, tx_hash: str | None = None) -> None:
        super().__init__(message)
        self.reverted, self.tx_hash = reverted, tx_hash


class Rpc:
    def __init__(self, url: str, *, timeout: float = 30.0, transport: httpx.BaseTransport | None = None) -> None:
        self.url = url
        self.http = httpx.Client(timeout=timeout, transport=transport)
        self._id = 0

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, *params: Any) -> Any:
        self._id += 1
        resp = self.http.post(self.url, json={"jsonrpc": "2.0", "id": self._id, "method": method,
                                              "params": list(params)})
        if resp.status_code != 200:
            raise ChainError(f"{method}: the node answered HTTP {resp.status_code}: {resp.text[:300]}")
        body = resp.json()
        if body.get("error"):
            err = body["error"]
            raise ChainError(f"{method}: {err.get('message', err)}",
                             reverted="revert" in str(err.get("message", "")).lower())
        return body.get("result")

    def chain_id(self) -> int:
        return int(self.call("eth_chainId"), 16)

    def send(self, signer: Signer, to: str, data: str, *, value: int = 0, chain_id: int | None = None) -> str:
        """Sign (EIP-1559: fees from the latest block's base fee) and send a transaction; its hash."""
        node_chain = self.chain_id()
        if chain_id is not None and chain_id != node_chain:
            raise ChainError(f"the transaction is for chain {chain_id}, the node at {self.url} is chain {node_chain}")
        from eth_utils import to_checksum_address

        tx: dict[str, Any] = {"from": signer.address, "to": to_checksum_address(to), "data": data, "value": value}
        estimate = self.call("eth_estimateGas", {**tx, "value": hex(value)})
        base = int(self.call("eth_getBlockByNumber", "latest", False).get("baseFeePerGas") or "0x0", 16)
        tip = 10**9
        tx.update(chainId=node_chain, nonce=int(self.call("eth_getTransactionCount", signer.address, "pending"), 16),
                  gas=int(int(estimate, 16) * 1.2), maxFeePerGas=2 * base + tip, maxPriorityFeePerGas=tip, type=2)
        tx.pop("from")
        return str(self.call("eth_sendRawTransaction", "0x" + signer.sign_transaction(tx).hex()))

    def wait(self, tx_hash: str, *, timeout: float = 120.0, interval: float = 0.5) -> dict[str, Any]:
        """The transaction's receipt once mined; ``ChainError`` if it reverted or did not mine in time."""
        deadline = time.monotonic() + timeout
        while True:
            receipt = self.call("eth_getTransactionReceipt", tx_hash)
            if receipt is not None:
                if int(receipt.get("status", "0x0"), 16) != 1:
                    raise ChainError(f"transaction {tx_hash} reverted", reverted=True, tx_hash=tx_hash)
                return receipt
            if time.monotonic() > deadline:
                raise ChainError(f"transaction {tx_hash} not mined after {timeout:.0f} s", tx_hash=tx_hash)
            time.sleep(interval)
