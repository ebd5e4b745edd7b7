"""The relayer's sender: estimate (outside the lease) → lease → nonce → sign (KMS) → journal →
broadcast → release → wait for the receipt (outside the lease).

The nonce is ``max(lease's stored next, chain's pending count)``; only an accepted broadcast
advances the stored next (``nonce + 1``). When a broadcast is refused the sender decides from
chain state, never from the error's text: the node knows our hash → it was accepted after all;
the relayer's pending count passed our nonce → another sender used it (a lease taken over from a
stalled holder, or a transaction sent outside the gateway) → the transaction is journaled
REJECTED and built again under a new lease; anything else → ``BlockchainError`` (the RPC's words
go to the log with the ``supportId``, never to the client).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from marketplace.chain import journal as J
from marketplace.chain.kms import SignedTx
from marketplace.chain.nonces import NonceLease
from marketplace.errors import BlockchainError

log = logging.getLogger(__name__)

GAS_MARGIN_PERCENT = 120  # estimated gas × 1.2, so a slightly different state at mining does not run out
SEND_ATTEMPTS = 4  # builds under a fresh lease after another sender used our nonce
RECEIPT_POLL_SECONDS = 0.2
FOLLOW_JOURNAL_AFTER_SECONDS = 2.0  # then check every second whether the monitor re-priced our tx


@dataclass
class Sent:
    tx_hash: str
    nonce: int
    tx: dict[str, Any]


class RelayerSender:
    def __init__(self, w3: Any, chain_id: int, signer: Any, lease: NonceLease, journal: J.TxJournal,
                 tx_timeout: float) -> None:
        self.w3 = w3
        self.chain_id = chain_id
        self.signer = signer
        self.lease = lease
        self.journal = journal
        self.tx_timeout = tx_timeout

    @property
    def address(self) -> str:
        return self.signer.address

    def fees(self) -> tuple[int, int]:
        """(maxFeePerGas, maxPriorityFeePerGas): 2 × the latest base fee + the node's suggested tip."""
        tip = int(self.w3.eth.max_priority_fee)
        base = int(self.w3.eth.get_block("latest").get("baseFeePerGas") or 0)
        return 2 * base + tip, tip

    def prepare(self, to: str, data: bytes | str, value: int = 0, gas: int | None = None) -> dict[str, Any]:
        """The transaction without its nonce; gas estimated here (a revert raises the web3
        ``ContractLogicError`` for the caller to decode)."""
        tx: dict[str, Any] = {"chainId": self.chain_id, "to": to, "value": int(value),
                              "data": data if isinstance(data, bytes) else bytes.fromhex(data.removeprefix("0x"))}
        if gas is None:
            estimate = self.w3.eth.estimate_gas({"from": self.address, "to": to, "value": int(value),
                                                 "data": "0x" + tx["data"].hex()})
            gas = int(estimate) * GAS_MARGIN_PERCENT // 100
        tx["gas"] = int(gas)
        tx["maxFeePerGas"], tx["maxPriorityFeePerGas"] = self.fees()
        return tx

    def send(self, tx: dict[str, Any], *, purpose: str, context: dict[str, Any] | None = None,
             on_signed: Callable[[str, int], None] | None = None) -> Sent:
        """Broadcast ``tx`` (prepared) under the nonce lease; returns once the node accepted it."""
        key = NonceLease.key(self.chain_id, self.address)
        for attempt in range(1, SEND_ATTEMPTS + 1):
            lease = self.lease.acquire(key)
            next_nonce: int | None = None
            try:
                pending = self.w3.eth.get_transaction_count(self.address, "pending")
                nonce = max(lease.stored_next, int(pending))
                signed: SignedTx = self.signer.sign_transaction({**tx, "nonce": nonce})
                self.journal.record_signed(tx_hash=signed.hash, chain_id=self.chain_id, sender=self.address,
                                           nonce=nonce, tx=tx, raw=signed.raw, purpose=purpose, context=context)
                if on_signed is not None:
                    on_signed(signed.hash, nonce)  # raising here sends nothing
                accepted, reason = self._broadcast(signed)
                if accepted:
                    next_nonce = nonce + 1
                elif reason == "nonce-gap":
                    # the transactions at the nonces below ours are gone (dropped from the pool, or
                    # un-mined by a reorg; the journal and the monitor follow them): the chain's
                    # count is the next nonce, or nothing this relayer sends is ever mined again
                    next_nonce = int(self.w3.eth.get_transaction_count(self.address, "pending"))
            finally:
                if not self.lease.release(lease, next_nonce):
                    log.warning("nonce lease %s was taken over while held", key)
            if accepted:
                self.journal.transition(signed.hash, J.PENDING, "broadcast", from_states=(J.SIGNED,),
                                        add={"broadcasts": 1})
                return Sent(signed.hash, nonce, {**tx, "nonce": nonce})
            self.journal.transition(signed.hash, J.REJECTED, "refused", from_states=(J.SIGNED,))
            if reason in ("nonce-used", "nonce-gap") and attempt < SEND_ATTEMPTS:
                log.info("nonce %s %s; building again", nonce,
                         "was used by another sender" if reason == "nonce-used" else "is past a gap the chain lost")
                continue
            raise BlockchainError("Transaction not accepted", {"txHash": signed.hash, "nonce": nonce})
        raise AssertionError("unreachable")

    def _broadcast(self, signed: SignedTx) -> tuple[bool, str]:
        """(accepted, why not): decided from chain state after a refusal, not from the message."""
        try:
            self.w3.eth.send_raw_transaction(signed.raw)
            return True, ""
        except Exception as exc:  # noqa: BLE001 - classified below from state, logged in full
            log.warning("broadcast of %s (nonce %s) refused: %r", signed.hash, signed.nonce, exc)
        if self.knows(signed.hash):
            return True, ""
        pending = int(self.w3.eth.get_transaction_count(self.address, "pending"))
        if pending > signed.nonce:
            return False, "nonce-used"
        if pending < signed.nonce:
            return False, "nonce-gap"
        return False, "refused"

    def knows(self, tx_hash: str) -> bool:
        from web3.exceptions import TransactionNotFound

        try:
            return self.w3.eth.get_transaction(tx_hash) is not None
        except TransactionNotFound:
            return False

    def wait(self, sent: Sent) -> dict[str, Any]:
        """The receipt of ``sent``, or of the transaction the monitor replaced it with (same nonce,
        higher fees: ``supersededBy`` in the journal); ``BlockchainError`` after ``tx_timeout``."""
        from web3.exceptions import TransactionNotFound

        watched = [sent.tx_hash]
        start = time.monotonic()
        next_follow = start + FOLLOW_JOURNAL_AFTER_SECONDS
        while True:
            for h in watched:
                try:
                    receipt = self.w3.eth.get_transaction_receipt(h)
                except TransactionNotFound:
                    continue
                if receipt is not None:
                    receipt = dict(receipt)
                    self.journal.transition(h, J.MINED, "mined", from_states=(J.PENDING, J.SIGNED, J.DROPPED),
                                            fields={"blockNumber": int(receipt["blockNumber"]),
                                                    "blockHash": "0x" + bytes(receipt["blockHash"]).hex(),
                                                    "status": int(receipt["status"]),
                                                    "gasUsed": int(receipt["gasUsed"])})
                    return receipt
            now = time.monotonic()
            if now - start >= self.tx_timeout:
                # an int: the saga journals details in DynamoDB, which takes no floats
                raise BlockchainError("Transaction not mined in time",
                                      {"txHash": sent.tx_hash, "timeoutSeconds": math.ceil(self.tx_timeout)})
            if now >= next_follow:
                next_follow = now + 1.0
                item = self.journal.get(watched[-1]) or {}
                if item.get("supersededBy") and item["supersededBy"] not in watched:
                    watched.append(item["supersededBy"])
            time.sleep(RECEIPT_POLL_SECONDS)
