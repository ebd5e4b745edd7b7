"""The payments consumer: one chain event (``chain.events.ChainEvent``, from the ``chain-events``
FIFO queue) → its effect on the payments store, the license cache and the notifications queue.

| event | effect | notification |
|---|---|---|
| ``LicensePurchased`` | the license's buyer-side summary (creator and price from the escrow's deposit), in the refund queue if it expires | ``license.purchased`` |
| ``PaymentReleased`` | the batch's payment PROCESSING + the creator's earnings (total, per content), the license's usesPaid/paid, the platform's fee; confirmed → COMPLETED; released before the creator's last withdrawal → WITHDRAWN | ``payment.completed`` |
| ``UsageLogged`` | (the payment is its ``PaymentReleased``, same transaction) | ``usage.batch_logged`` |
| ``Withdrawn`` | the account's ``withdrawn`` and last withdrawal; its COMPLETED payments released before → WITHDRAWN | |
| ``Refunded`` | the refund on the license, out of the refund queue | ``refund.completed`` |
| ``LicenseRevoked`` | the licensing store's license REVOKED (``mark_revoked``: the access path refuses the next access), the summary revoked and in the refund queue | ``license.revoked`` |
| ``UsageSignerAdded/Revoked`` | ``marketplace.usage.chain_events.apply_signer_event`` (the usage context's signers table) | |

**Exactly one effect per event.** Every store effect is one DynamoDB transaction that includes
the event's marker (``event#<txHash:logIndex>``), conditional on its absence; the revocation is a
conditional update of its own. A duplicate delivery, a listener re-read, or a retry after a crash
between the effect and the message's deletion finds the marker and does nothing again; then it
finishes what the first attempt may not have (confirmation, withdrawal marks, the notification).
The SQS kit's idempotency is the second guard. Notifications are sent after the effect and noted
on the marker (``notified``): a crash between sending and noting sends once more, with the same
``id`` (``<txHash:logIndex>:<type>``), which the notifications consumer drops as a repeat.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from marketplace.chain.events import ChainEvent
from marketplace.errors import BlockchainError
from marketplace.payments.models import NO_EXPIRY, Payment, PaymentState, position
from marketplace.payments.ports import Notifier, PaymentsChain, PaymentsStore, Revocations
from marketplace.shared.ids import hex32
from marketplace.shared.timefmt import iso

log = logging.getLogger(__name__)

HANDLED_EVENTS = ("LicensePurchased", "LicenseRevoked", "UsageLogged", "PaymentReleased", "Withdrawn", "Refunded",
                  "UsageSignerAdded", "UsageSignerRevoked")


class NotConfirmedYet(BlockchainError):
    """The event's block is not deep enough yet: the message is retried later."""


class ReorganisedAway(BlockchainError):
    """The event's block is no longer the chain's: the payment stays PROCESSING, the message goes
    to the dead-letter queue after its retries (its alarm), for support to reconcile."""


def checksum(address: str) -> str:
    from eth_utils import to_checksum_address

    return to_checksum_address(address)


def apply_usage_signer_event(event: ChainEvent) -> Any:
    """``UsageSignerAdded`` / ``UsageSignerRevoked``: the usage context's own handler (its signers
    table), imported when such an event arrives."""
    from marketplace.usage.chain_events import apply_signer_event

    return apply_signer_event(event)


def apply_withdrawal(store: PaymentsStore, chain: PaymentsChain, event: ChainEvent,
                     clock: Callable[[], float] = time.time) -> dict[str, Any]:
    """A ``Withdrawn``: the account's withdrawal recorded once, then its COMPLETED payments released
    before it → WITHDRAWN (the escrow's withdraw() takes the whole owed balance). The listener's
    message and ``POST /creator/withdraw {txHash}`` both call this; the marker makes it one effect."""
    account, pos = event.args["account"].lower(), position(event.blockNumber, event.logIndex)
    at = chain.block_time(event.blockNumber)
    recorded = store.record_withdrawal(event.dedupe_id, {
        "account": account, "amount": int(event.args["amount"]), "txHash": event.txHash.lower(),
        "position": pos, "blockNumber": event.blockNumber, "withdrawnAt": iso(at)})
    moved = 0
    for p in store.completed_before(account, pos):
        moved += store.move_payment(account, int(p["position"]), PaymentState.WITHDRAWN,
                                    {"withdrawTxHash": event.txHash.lower(), "withdrawnAt": iso(at),
                                     "updatedAt": iso(clock())})
    return {"recorded": recorded, "withdrawn": moved}


@dataclass
class ChainEventConsumer:
    store: PaymentsStore
    chain: PaymentsChain
    notifier: Notifier
    revocations: Revocations
    confirmations: int = 1
    signer_events: Callable[[ChainEvent], Any] = apply_usage_signer_event
    clock: Callable[[], float] = time.time

    def handle(self, event: ChainEvent) -> dict[str, Any]:
        handler = getattr(self, f"_on_{event.event}", None)
        if handler is None:
            return {"event": event.event, "ignored": True}
        out = handler(event)
        return {"event": event.event, "id": event.dedupe_id, **(out or {})}

    # -- helpers ------------------------------------------------------------------------------------

    def _notify(self, event: ChainEvent, kind: str, creator: str | None, data: dict[str, Any], at: int) -> bool:
        """Send the notification unless the event's marker says it was sent."""
        if creator is None:
            log.warning("no creator known for %s %s: no notification", kind, event.dedupe_id)
            return False
        applied = self.store.applied(event.dedupe_id)
        if applied is not None and applied.get("notified"):
            return False
        self.notifier.send({"id": f"{event.dedupe_id}:{kind}", "type": kind, "creator": checksum(creator),
                            "data": data, "occurredAt": iso(at)})
        if applied is None:  # events whose effect has no marker of its own (e.g. a revocation of an unknown license)
            self.store.record_event(event.dedupe_id, event.event)
        self.store.mark_notified(event.dedupe_id)
        return True

    def _creator_of(self, license_id: str) -> str | None:
        lic = self.store.get_license(license_id)
        if lic is not None:
            return lic["creator"]
        try:
            return self.chain.deposit(license_id).payee.lower()
        except Exception:  # noqa: BLE001 - an unknown license: no deposit
            return None

    def _position(self, event: ChainEvent) -> int:
        return position(event.blockNumber, event.logIndex)

    def _confirm(self, event: ChainEvent) -> None:
        head = self.chain.head()
        if head - event.blockNumber + 1 < self.confirmations:
            raise NotConfirmedYet("The payment's block is not confirmed yet",
                                  {"blockNumber": event.blockNumber, "head": head})
        if (self.chain.block_hash(event.blockNumber) or "").lower() != event.blockHash.lower():
            raise ReorganisedAway("The payment's block is no longer on the chain",
                                  {"blockNumber": event.blockNumber, "blockHash": event.blockHash,
                                   "txHash": event.txHash})

    # -- Flow 2 -------------------------------------------------------------------------------------

    def _on_LicensePurchased(self, event: ChainEvent) -> dict[str, Any]:
        a = event.args
        license_id = hex32(a["licenseId"])
        deposit = self.chain.deposit(license_id)
        amount = int(a["amount"])
        lic: dict[str, Any] = {
            "licenseId": license_id, "contentId": hex32(a["contentId"]), "termsId": hex32(a["termsId"]),
            "buyer": a["licensee"].lower(), "creator": deposit.payee.lower(), "amount": amount,
            "pricePerUse": deposit.price_per_use,
            "maxUses": amount // deposit.price_per_use if deposit.price_per_use else 0,
            "validFrom": int(a["timestamp"]), "validUntil": int(a["validUntil"]), "txHash": event.txHash.lower(),
            "position": self._position(event), "purchasedAt": iso(int(a["timestamp"])),
        }
        if lic["validUntil"] != NO_EXPIRY:
            lic.update(refundQueue="open", refundAt=lic["validUntil"])
        recorded = self.store.record_license(event.dedupe_id, lic)
        self._notify(event, "license.purchased", lic["creator"], {
            "licenseId": license_id, "contentId": lic["contentId"], "termsId": lic["termsId"],
            "buyer": checksum(lic["buyer"]), "amount": amount, "validUntil": lic["validUntil"],
            "txHash": lic["txHash"]}, int(a["timestamp"]))
        return {"recorded": recorded}

    def _on_LicenseRevoked(self, event: ChainEvent) -> dict[str, Any]:
        a = event.args
        license_id, at = hex32(a["licenseId"]), int(a["timestamp"])
        revoked = self.revocations.mark_revoked(license_id, at, event.txHash.lower())
        recorded = self.store.record_revocation(event.dedupe_id, license_id, at, event.txHash.lower())
        self._notify(event, "license.revoked", self._creator_of(license_id), {
            "licenseId": license_id, "contentId": hex32(a["contentId"]), "revokedAt": iso(at),
            "txHash": event.txHash.lower()}, at)
        return {"revoked": revoked, "recorded": recorded}

    # -- Flow 4 -------------------------------------------------------------------------------------

    def _on_PaymentReleased(self, event: ChainEvent) -> dict[str, Any]:
        a = event.args
        license_id, creator = hex32(a["licenseId"]), a["payee"].lower()
        pos = self._position(event)
        lic = self.store.get_license(license_id)
        buyer = lic["buyer"] if lic is not None else self.chain.deposit(license_id).payer.lower()
        amount, fee, uses = int(a["creatorAmount"]), int(a["platformFee"]), int(a["uses"])
        Payment.released(license_id, hex32(a["batchId"]), creator, uses, amount, event.txHash)  # the move is legal
        payment = {
            "paymentId": hex32(a["batchId"]), "batchId": hex32(a["batchId"]), "licenseId": license_id,
            "contentId": hex32(a["contentId"]), "creator": creator, "buyer": buyer, "uses": uses,
            "creatorAmount": amount, "platformFee": fee, "txHash": event.txHash.lower(),
            "blockNumber": event.blockNumber, "blockHash": event.blockHash.lower(), "logIndex": event.logIndex,
            "position": pos, "state": str(PaymentState.PROCESSING),
            "releasedAt": iso(self.chain.block_time(event.blockNumber)), "updatedAt": iso(self.clock()),
        }
        recorded = self.store.record_payment(event.dedupe_id, payment, self.chain.platform_account())
        current = self.store.get_payment(creator, pos)
        if current is None:  # recorded by another event at this position: not ours
            raise RuntimeError(f"payment at {pos} of {creator} missing after recording {event.dedupe_id}")
        if current["state"] == PaymentState.PROCESSING:
            self._confirm(event)
            self.store.move_payment(creator, pos, PaymentState.COMPLETED,
                                    {"completedAt": iso(self.clock()), "updatedAt": iso(self.clock())})
        # released before the creator's latest withdrawal (processed first: another message group)?
        total, _ = self.store.earnings(creator)
        if total is not None and int(total.get("withdrawnThrough", -1)) > pos:
            self.store.move_payment(creator, pos, PaymentState.WITHDRAWN,
                                    {"withdrawTxHash": total.get("lastWithdrawal"), "updatedAt": iso(self.clock())})
        self._notify(event, "payment.completed", creator, {
            "amount": amount, "contentId": payment["contentId"], "licenseId": license_id,
            "batchId": payment["batchId"], "txHash": payment["txHash"], "uses": uses, "platformFee": fee},
            self.chain.block_time(event.blockNumber))
        return {"recorded": recorded}

    def _on_UsageLogged(self, event: ChainEvent) -> dict[str, Any]:
        a = event.args
        license_id = hex32(a["licenseId"])
        recorded = self.store.record_event(event.dedupe_id, event.event)
        self._notify(event, "usage.batch_logged", self._creator_of(license_id), {
            "licenseId": license_id, "contentId": hex32(a["contentId"]), "batchId": hex32(a["batchId"]),
            "startIndex": int(a["startIndex"]), "count": int(a["count"]), "windowStart": int(a["windowStart"]),
            "windowEnd": int(a["windowEnd"]), "txHash": event.txHash.lower()}, self.chain.block_time(event.blockNumber))
        return {"recorded": recorded}

    def _on_Withdrawn(self, event: ChainEvent) -> dict[str, Any]:
        return apply_withdrawal(self.store, self.chain, event, self.clock)

    def _on_Refunded(self, event: ChainEvent) -> dict[str, Any]:
        a = event.args
        license_id = hex32(a["licenseId"])
        at = self.chain.block_time(event.blockNumber)
        refund = {"amount": int(a["amount"]), "uses": int(a["uses"]), "txHash": event.txHash.lower(),
                  "refundedAt": iso(at)}
        recorded = self.store.record_refund(event.dedupe_id, license_id, refund)
        self._notify(event, "refund.completed", self._creator_of(license_id), {
            "licenseId": license_id, "contentId": hex32(a["contentId"]), "buyer": checksum(a["payer"]),
            "uses": refund["uses"], "amount": refund["amount"], "txHash": refund["txHash"]}, at)
        return {"recorded": recorded}

    def _on_UsageSignerAdded(self, event: ChainEvent) -> dict[str, Any]:
        return {"applied": _json_safe(self.signer_events(event))}

    def _on_UsageSignerRevoked(self, event: ChainEvent) -> dict[str, Any]:
        return {"applied": _json_safe(self.signer_events(event))}


def _json_safe(value: Any) -> Any:
    """What the kit's idempotency record can hold (it stores the handler's result as JSON)."""
    return value if isinstance(value, (bool, int, str, type(None), dict, list)) else str(value)
