"""The transaction monitor (run on a schedule): every open journal entry is brought up to date.

- PENDING with a receipt → MINED; MINED with ``confirmations`` blocks on top → CONFIRMED; MINED
  whose block hash changed (reorg) → PENDING again.
- PENDING whose nonce the relayer has used (latest count past it) without a receipt → REPLACED.
- PENDING the node no longer knows (dropped from its pool) → DROPPED, then re-broadcast as it was
  signed (the rebroadcast is claimed in the journal first: ``DROPPED → PENDING``, ``broadcasts+1``).
- PENDING for longer than ``stuck_seconds`` → re-priced: the same nonce and payload with fees
  × ``REPRICE_PERCENT`` (nodes want ≥ +10 %), journaled as a new entry (``replaces``), the old one
  noted ``supersededBy``; after ``max_reprices`` it is cancelled instead (a 0-value self-send on
  the same nonce).
- ABANDONED (a caller gave a lost transaction up, see ``ChainGateway.tx_pending``) → its nonce
  is filled by a cancel, so later nonces are not stuck behind a gap.
- SIGNED for longer than the lease (its sender died between journal and broadcast) → PENDING if
  the node knows it, else REJECTED.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from marketplace.chain import journal as J
from marketplace.chain.sender import RelayerSender

log = logging.getLogger(__name__)

REPRICE_PERCENT = 125


@dataclass
class MonitorReport:
    checked: int = 0
    actions: dict[str, int] = field(default_factory=dict)

    def count(self, action: str) -> None:
        self.actions[action] = self.actions.get(action, 0) + 1


class TxMonitor:
    def __init__(self, sender: RelayerSender, *, confirmations: int = 1, stuck_seconds: float = 60,
                 max_reprices: int = 3, signed_grace_seconds: float = 30) -> None:
        self.sender = sender
        self.w3 = sender.w3
        self.journal = sender.journal
        self.confirmations = confirmations
        self.stuck_seconds = stuck_seconds
        self.max_reprices = max_reprices
        self.signed_grace_seconds = signed_grace_seconds

    def run(self) -> MonitorReport:
        report = MonitorReport()
        head = int(self.w3.eth.block_number)
        latest_nonce = int(self.w3.eth.get_transaction_count(self.sender.address, "latest"))
        for state in J.OPEN_STATES:
            for item in self.journal.in_state(state):
                if item["sender"].lower() != self.sender.address.lower() or item["chainId"] != self.sender.chain_id:
                    continue
                report.checked += 1
                try:
                    action = self._check(item, head, latest_nonce)
                except Exception:
                    log.exception("monitor: checking %s failed", item["txHash"])
                    action = "error"
                if action:
                    report.count(action)
        return report

    # -- one entry --------------------------------------------------------------------------------

    def _receipt(self, tx_hash: str) -> dict[str, Any] | None:
        from web3.exceptions import TransactionNotFound

        try:
            r = self.w3.eth.get_transaction_receipt(tx_hash)
        except TransactionNotFound:
            return None
        return dict(r) if r is not None else None

    def _check(self, item: dict[str, Any], head: int, latest_nonce: int) -> str | None:
        h, state, now_ms = item["txHash"], item["state"], int(time.time() * 1000)
        if state == J.MINED:
            block = self.w3.eth.get_block(int(item["blockNumber"]))
            if "0x" + bytes(block["hash"]).hex() != item.get("blockHash"):
                self.journal.transition(h, J.PENDING, "reorged", from_states=(J.MINED,))
                return "reorged"
            if head - int(item["blockNumber"]) + 1 >= self.confirmations:
                self.journal.transition(h, J.CONFIRMED, "confirmed", from_states=(J.MINED,),
                                        fields={"confirmedAt": head})
                return "confirmed"
            return None
        receipt = self._receipt(h) if state != J.ABANDONED else None
        if receipt is not None:
            self.journal.transition(h, J.MINED, "mined", from_states=(J.PENDING, J.SIGNED, J.DROPPED),
                                    fields={"blockNumber": int(receipt["blockNumber"]),
                                            "blockHash": "0x" + bytes(receipt["blockHash"]).hex(),
                                            "status": int(receipt["status"]), "gasUsed": int(receipt["gasUsed"])})
            return "mined"
        if latest_nonce > int(item["nonce"]):
            # another transaction took the nonce (our re-priced copy, a cancel, or someone else)
            self.journal.transition(h, J.REPLACED, "replaced", from_states=(J.PENDING, J.SIGNED, J.DROPPED, J.ABANDONED),
                                    fields={"replacedBy": item.get("supersededBy") or "unknown"})
            return "replaced"
        if state == J.ABANDONED:
            return None if item.get("supersededBy") else self._cancel(item, "cancel-abandoned")
        known = self.sender.knows(h)
        if state == J.SIGNED:
            if now_ms - int(item["createdAt"]) < self.signed_grace_seconds * 1000:
                return None
            if known:
                self.journal.transition(h, J.PENDING, "found-broadcast", from_states=(J.SIGNED,))
                return "found"
            self.journal.transition(h, J.REJECTED, "never-broadcast", from_states=(J.SIGNED,))
            return "never-broadcast"
        if item.get("supersededBy"):
            return None  # its replacement is the one to watch
        if not known:
            return self._rebroadcast(item)
        if now_ms - int(item["updatedAt"]) >= self.stuck_seconds * 1000:
            if int(item.get("reprices", 0)) >= self.max_reprices:
                return self._cancel(item, "cancel-stuck")
            return self._reprice(item)
        return None

    def _rebroadcast(self, item: dict[str, Any]) -> str:
        h, seen = item["txHash"], int(item.get("broadcasts", 0))
        if not self.journal.transition(h, J.DROPPED, "dropped", from_states=(J.PENDING,), expect={"broadcasts": seen}):
            return "raced"
        # claim the rebroadcast before sending it, so an abandon racing with us loses cleanly
        if not self.journal.transition(h, J.PENDING, "rebroadcast", from_states=(J.DROPPED,),
                                       expect={"broadcasts": seen}, add={"broadcasts": 1}):
            return "raced"
        try:
            self.w3.eth.send_raw_transaction(bytes.fromhex(item["raw"][2:]))
        except Exception:
            log.warning("rebroadcast of %s refused", h, exc_info=True)
            if not self.sender.knows(h):
                return self._reprice(item)
        return "rebroadcast"

    def _bumped(self, item: dict[str, Any]) -> tuple[int, int]:
        fee, tip = self.sender.fees()
        return (max(fee, int(item["maxFeePerGas"]) * REPRICE_PERCENT // 100 + 1),
                max(tip, int(item["maxPriorityFeePerGas"]) * REPRICE_PERCENT // 100 + 1))

    def _replace(self, item: dict[str, Any], tx: dict[str, Any], purpose: str, event: str) -> str:
        signed = self.sender.signer.sign_transaction(tx)
        self.journal.record_signed(tx_hash=signed.hash, chain_id=self.sender.chain_id, sender=self.sender.address,
                                   nonce=int(item["nonce"]), tx=tx, raw=signed.raw, purpose=purpose,
                                   context={**item.get("context", {}), "original": item["txHash"]},
                                   replaces=item["txHash"])
        try:
            self.w3.eth.send_raw_transaction(signed.raw)
        except Exception:
            log.warning("%s of %s refused", event, item["txHash"], exc_info=True)
            if not self.sender.knows(signed.hash):
                self.journal.transition(signed.hash, J.REJECTED, "refused", from_states=(J.SIGNED,))
                return f"{event}-refused"
        self.journal.transition(signed.hash, J.PENDING, "broadcast", from_states=(J.SIGNED,), add={"broadcasts": 1})
        self.journal.note(item["txHash"], {"supersededBy": signed.hash})
        self.journal.transition(item["txHash"], item["state"], event, from_states=(item["state"],),
                                fields={"by": signed.hash}, add={"reprices": 1})
        return event

    def _reprice(self, item: dict[str, Any]) -> str:
        fee, tip = self._bumped(item)
        tx = {"chainId": self.sender.chain_id, "nonce": int(item["nonce"]), "to": item["to"],
              "value": int(item["value"]), "data": bytes.fromhex(item["data"][2:]), "gas": int(item["gas"]),
              "maxFeePerGas": fee, "maxPriorityFeePerGas": tip}
        return self._replace(item, tx, item.get("purpose", "relay"), "repriced")

    def _cancel(self, item: dict[str, Any], event: str) -> str:
        fee, tip = self._bumped(item)
        tx = {"chainId": self.sender.chain_id, "nonce": int(item["nonce"]), "to": self.sender.address, "value": 0,
              "data": b"", "gas": 21000, "maxFeePerGas": fee, "maxPriorityFeePerGas": tip}
        return self._replace(item, tx, "cancel", event)
