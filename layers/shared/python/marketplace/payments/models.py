"""The payment lifecycle (the spec's): a payment is one proven usage batch's release from the
escrow to the creator.

PENDING (usage granted, awaiting its batch's ``UsageLogged``) → PROCESSING (escrow release sent)
→ COMPLETED (release confirmed: the creator's balance in the escrow) → WITHDRAWN (the creator
withdrew). FAILED: the release transaction reverted or was dropped; a failed release may be
retried (FAILED → PROCESSING). No pydantic: Flow 4's queue consumers and the access path stay light.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from marketplace.shared.lifecycle import Lifecycle


class PaymentState(StrEnum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    WITHDRAWN = "WITHDRAWN"
    FAILED = "FAILED"


_P = PaymentState
PAYMENT_LIFECYCLE = Lifecycle("payment", PaymentState, {
    _P.PENDING: (_P.PROCESSING,),
    _P.PROCESSING: (_P.COMPLETED, _P.FAILED),
    _P.FAILED: (_P.PROCESSING,),
    _P.COMPLETED: (_P.WITHDRAWN,),
}, initial=(_P.PENDING,))


@dataclass(frozen=True)
class Payment:
    """What the escrow owes a creator for one usage batch of one license."""

    license_id: str
    batch_id: str  # keccak256(abi.encode(licenseId, startIndex)), as UsageTracker records it
    creator: str
    uses: int
    amount: int  # token base units: uses × pricePerUse
    state: PaymentState = PaymentState.PENDING
    tx_hash: str | None = None  # the release (PROCESSING and after) or the withdrawal (WITHDRAWN)

    def moved_to(self, target: PaymentState, tx_hash: str | None = None) -> Payment:
        """This payment in ``target`` (``IllegalTransition`` if the lifecycle forbids the move)."""
        state = PAYMENT_LIFECYCLE.transition(self.state, target, licenseId=self.license_id, batchId=self.batch_id)
        return replace(self, state=state, tx_hash=tx_hash if tx_hash is not None else self.tx_hash)
