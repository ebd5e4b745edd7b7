"""The payments API (Flow 4): a creator's earnings, payments seen by their creator or buyer, and
withdrawals.

**Withdrawal.** ``PaymentEscrow.withdraw()`` pays ``msg.sender`` its whole owed balance and the
escrow has no relayed (signature-based) variant (contracts/README.md), so the platform cannot
send it for a creator. ``POST /creator/withdraw`` without ``txHash`` answers the unsigned
transaction (to, calldata, chain id) and the amount it would withdraw; the creator sends it from
their wallet and posts its ``txHash``, which is verified on chain (mined, status 1, sent by the
caller, the escrow's ``Withdrawn`` for the caller) and recorded at once, through the same
once-only effect as the listener's ``Withdrawn`` message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from marketplace.chain.events import ChainEvent
from marketplace.errors import ConflictError, ForbiddenError, NotFoundError
from marketplace.payments.consumer import apply_withdrawal, checksum
from marketplace.payments.ports import GrantedUses, PaymentsChain, PaymentsStore
from marketplace.payments.schemas import (
    ContentEarnings,
    EarningsView,
    PaymentList,
    PaymentView,
    UnsignedTransaction,
    WithdrawChallenge,
    WithdrawRequest,
    WithdrawView,
)
from marketplace.shared.ids import hex32

WITHDRAW_SELECTOR = "0x3ccfd60b"  # bytes4(keccak256("withdraw()"))
BPS = 10_000


def creator_share(uses: int, price: int, fee_bps: int) -> int:
    """What a batch of ``uses`` pays its creator: the escrow's split (fee rounded down)."""
    amount = uses * price
    return amount - amount * fee_bps // BPS


def payment_view(item: dict[str, Any]) -> PaymentView:
    return PaymentView(paymentId=item["paymentId"], batchId=item["batchId"], licenseId=item["licenseId"],
                       contentId=item["contentId"], creator=checksum(item["creator"]), buyer=checksum(item["buyer"]),
                       uses=int(item["uses"]), amount=int(item["creatorAmount"]), platformFee=int(item["platformFee"]),
                       status=item["state"], txHash=item["txHash"], blockNumber=int(item["blockNumber"]),
                       releasedAt=item["releasedAt"], completedAt=item.get("completedAt"),
                       withdrawTxHash=item.get("withdrawTxHash"), withdrawnAt=item.get("withdrawnAt"))


class PaymentsApi:
    def __init__(self, store: PaymentsStore, chain: PaymentsChain, granted: GrantedUses,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.chain = chain
        self.granted = granted
        self.clock = clock

    # -- earnings -----------------------------------------------------------------------------------

    def _pending(self, creator: str, fee_bps: int) -> dict[str, tuple[int, int]]:
        """contentId → (pending uses, creator's share) over the creator's live licenses: uses the
        access path granted past those the chain paid (revoked or refunded licenses excluded: their
        unlogged uses can no longer be paid)."""
        live = [lic for lic in self.store.creator_licenses(creator)
                if lic.get("revokedAt") is None and lic.get("refundedAt") is None]
        granted = self.granted.granted([lic["licenseId"] for lic in live]) if live else {}
        out: dict[str, tuple[int, int]] = {}
        for lic in live:
            uses = max(0, min(granted.get(lic["licenseId"], 0), int(lic["maxUses"])) - int(lic.get("usesPaid", 0)))
            if uses:
                before = out.get(lic["contentId"], (0, 0))
                out[lic["contentId"]] = (before[0] + uses,
                                         before[1] + creator_share(uses, int(lic["pricePerUse"]), fee_bps))
        return out

    def earnings(self, caller: str) -> EarningsView:
        total, per_content = self.store.earnings(caller)
        total = total or {}
        fee_bps = self.chain.fee_bps()
        pending = self._pending(caller, fee_bps)
        contents = {c["contentId"]: c for c in per_content}
        rows = [ContentEarnings(contentId=cid, earned=int(contents.get(cid, {}).get("earned", 0)),
                                uses=int(contents.get(cid, {}).get("uses", 0)),
                                payments=int(contents.get(cid, {}).get("payments", 0)),
                                pending=pending.get(cid, (0, 0))[1], pendingUses=pending.get(cid, (0, 0))[0])
                for cid in sorted(set(contents) | set(pending))]
        earned, withdrawn = int(total.get("earned", 0)), int(total.get("withdrawn", 0))
        return EarningsView(account=checksum(caller), owed=earned - withdrawn, owedOnChain=self.chain.owed(caller),
                            earned=earned, withdrawn=withdrawn, pending=sum(r.pending for r in rows),
                            pendingUses=sum(r.pendingUses for r in rows), uses=int(total.get("uses", 0)),
                            payments=int(total.get("payments", 0)), platformFeeBps=fee_bps,
                            lastWithdrawal=total.get("lastWithdrawal"), perContent=rows)

    # -- payments -----------------------------------------------------------------------------------

    def payments(self, caller: str, *, role: str = "creator", content_id: str | None = None,
                 license_id: str | None = None, status: str | None = None, cursor: str | None = None,
                 limit: int = 50) -> PaymentList:
        try:
            if role == "creator" and license_id is None:
                items, nxt = self.store.list_payments(creator=caller, content_id=content_id, status=status,
                                                      cursor=cursor, limit=limit)
            elif role == "creator":  # the creator's payments of one license (none if it is not theirs)
                items, nxt = self.store.list_payments(license_id=license_id, content_id=content_id, status=status,
                                                      cursor=cursor, limit=limit)
                items = [i for i in items if i["creator"] == caller.lower()]
            else:
                items, nxt = self.store.list_payments(buyer=caller, license_id=license_id, content_id=content_id,
                                                      status=status, cursor=cursor, limit=limit)
        except ValueError as exc:  # a well-formed string naming no page of this listing (404)
            raise NotFoundError(str(exc), {"field": "cursor"}) from None
        return PaymentList(payments=[payment_view(i) for i in items], cursor=nxt)

    # -- withdrawal ---------------------------------------------------------------------------------

    def withdraw(self, caller: str, req: WithdrawRequest) -> WithdrawChallenge | WithdrawView:
        if req.txHash is None:
            owed = self.chain.owed(caller)
            if owed == 0:
                raise ConflictError("Nothing to withdraw: the escrow owes you nothing now", {"owed": 0})
            return WithdrawChallenge(
                transaction=UnsignedTransaction(to=checksum(self.chain.escrow), function="withdraw()", args=[],
                                                data=WITHDRAW_SELECTOR, chainId=self.chain.chain_id),
                owed=owed,
                note="PaymentEscrow.withdraw() pays msg.sender and has no relayed variant: send this transaction "
                     "from your wallet, then POST its txHash")
        receipt = self.chain.receipt(req.txHash)
        if receipt is None:
            raise ConflictError("The transaction is unknown or not mined yet: retry when it is", {"txHash": req.txHash})
        if receipt.get("status") != 1:
            raise ConflictError("The transaction reverted", {"txHash": req.txHash})
        if str(receipt.get("from", "")).lower() != caller.lower():
            raise ForbiddenError("The transaction was not sent by you", {"txHash": req.txHash})
        mine = [w for w in self.chain.withdrawals(receipt) if w["account"].lower() == caller.lower()]
        if not mine:
            raise ConflictError("The transaction withdrew nothing for you from the escrow", {"txHash": req.txHash})
        block_number = int(receipt["blockNumber"])
        block_hash = receipt["blockHash"]
        block_hash = hex32(block_hash) if isinstance(block_hash, (bytes, bytearray)) else str(block_hash).lower()
        amount = 0
        for w in mine:
            event = ChainEvent(contract="PaymentEscrow", event="Withdrawn",
                               args={"account": checksum(w["account"]), "amount": int(w["amount"])},
                               txHash=req.txHash, logIndex=int(w["logIndex"]), blockNumber=block_number,
                               blockHash=block_hash)
            apply_withdrawal(self.store, self.chain, event, self.clock)
            amount += int(w["amount"])
        total, _ = self.store.earnings(caller)
        total = total or {}
        return WithdrawView(account=checksum(caller), txHash=req.txHash, amount=amount,
                            withdrawn=int(total.get("withdrawn", 0)),
                            owed=int(total.get("earned", 0)) - int(total.get("withdrawn", 0)))
