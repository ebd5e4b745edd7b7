"""The payment lifecycle (the spec's), mapped onto "a batch is paid inside ``logUsageBatch``".

A payment is one logged usage batch's release from a license's deposit to its creator. The
escrow pays a batch in the transaction that logs it (``PaymentReleased`` next to ``UsageLogged``),
so there is no separate release transaction for the backend to send, and the states mean:

- PENDING: uses granted by the access path whose batch is not logged yet. They are not payment
  records: they are the licenses' ``usesGranted`` past what the chain paid, and appear as the
  ``pending`` figure of a creator's earnings (the batch prover, Flow 4's state machine, logs them).
- PROCESSING: the ``PaymentReleased`` log was read by the chain listener and recorded (the
  creator's owed balance on chain already holds it); its confirmation is being checked.
- COMPLETED: confirmed (its block still canonical, ``CHAIN_CONFIRMATIONS`` deep): the funds are
  the creator's owed balance in the escrow. ``payment.completed`` is notified.
- WITHDRAWN: a later ``Withdrawn`` of the creator moved the whole owed balance to their wallet.
- FAILED: kept from the spec for a release that did not happen; a reverted ``logUsageBatch`` pays
  nothing and leaves no payment record (the batch prover retries the batch), so nothing moves here
  today. FAILED → PROCESSING stays allowed (a retried release).

No pydantic: the queue consumer and the access path stay light.
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
# A release seen on chain is recorded already PROCESSING: its PENDING phase (uses granted, batch not
# logged) is the licenses' usesGranted, not a record (``Payment.released`` checks the move).

NO_EXPIRY = 2**40 - 1  # a license without expiry (LicenseManager: durationSeconds = 0)
POSITION_BASE = 1_000_000  # position = blockNumber × POSITION_BASE + logIndex (a log's place on the chain)

# the notification types the payments consumer sends to the notifications queue
NOTIFICATION_TYPES = ("payment.completed", "license.purchased", "usage.batch_logged", "license.revoked",
                      "refund.completed")


def position(block_number: int, log_index: int) -> int:
    """A log's place in the chain's order, as one integer (sort key of payments and withdrawals)."""
    return block_number * POSITION_BASE + log_index


@dataclass(frozen=True)
class Payment:
    """What the escrow paid a creator for one usage batch of one license."""

    license_id: str
    batch_id: str  # keccak256(abi.encode(licenseId, startIndex)), as UsageTracker records it
    creator: str
    uses: int
    amount: int  # token base units: the creator's share (uses × pricePerUse − the platform fee)
    state: PaymentState = PaymentState.PENDING
    tx_hash: str | None = None  # the release (PROCESSING and after) or the withdrawal (WITHDRAWN)

    @classmethod
    def released(cls, license_id: str, batch_id: str, creator: str, uses: int, amount: int, tx_hash: str) -> Payment:
        """A batch's payment as the chain listener finds it: PENDING → PROCESSING (checked)."""
        return cls(license_id, batch_id, creator, uses, amount).moved_to(PaymentState.PROCESSING, tx_hash)

    def moved_to(self, target: PaymentState, tx_hash: str | None = None) -> Payment:
        """This payment in ``target`` (``IllegalTransition`` if the lifecycle forbids the move)."""
        state = PAYMENT_LIFECYCLE.transition(self.state, target, licenseId=self.license_id, batchId=self.batch_id)
        return replace(self, state=state, tx_hash=tx_hash if tx_hash is not None else self.tx_hash)


@dataclass(frozen=True)
class Deposit:
    """``PaymentEscrow.getDeposit``: a license's deposit (in uses of ``price_per_use``)."""

    payee: str
    payer: str
    price_per_use: int
    max_uses: int
    released_uses: int


@dataclass(frozen=True)
class Settlement:
    """A license's on-chain settlement figures (``GET /license/{id}``)."""

    uses_proven: int  # uses in logged batches (LicenseManager getLicense().uses)
    paid: int  # released to creator and platform: releasedUses × pricePerUse
    refundable: int  # what refund() would pay now
    refund_opens_at: int | None  # unix seconds; None: never (no expiry, not revoked)
