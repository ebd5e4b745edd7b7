"""What the payments services need: their store, the escrow on chain, the notifications queue,
the licensing store's revocation and the access path's granted uses.

``adapters`` implements them on DynamoDB, the chain gateway and SQS; ``fakes`` in memory over the
same items (tests/contract runs the store's suite over both).

Every ``record_*`` method applies one chain event's effect **once**: it writes the event's marker
(``event#<dedupeId>``, the log's ``txHash:logIndex``) in the same DynamoDB transaction as the
effect, conditional on the marker not existing, and answers False when the event was applied
already. So a duplicate SQS delivery, a listener re-read or a retry after a crash has one effect.
"""

from __future__ import annotations

from typing import Any, Protocol

from marketplace.payments.models import Deposit, PaymentState, Settlement


class PaymentsStore(Protocol):
    # -- applied events and their notifications --------------------------------------------------
    def applied(self, event_id: str) -> dict[str, Any] | None:
        """The event's marker (``{type, appliedAt, notified?}``), or None if it was not applied."""
        ...

    def record_event(self, event_id: str, event_type: str) -> bool:
        """Only the marker (events whose effect lives elsewhere); False if present."""
        ...

    def mark_notified(self, event_id: str) -> None: ...

    # -- licenses (the buyer side) ---------------------------------------------------------------
    def record_license(self, event_id: str, lic: dict[str, Any]) -> bool:
        """A purchased license's summary (licenseId, contentId, termsId, buyer, creator, amount,
        pricePerUse, maxUses, validFrom, validUntil, txHash, position), with usesPaid = paid = 0;
        in the refund queue when it expires."""
        ...

    def get_license(self, license_id: str) -> dict[str, Any] | None: ...

    def creator_licenses(self, creator: str) -> list[dict[str, Any]]: ...

    def record_revocation(self, event_id: str, license_id: str, revoked_at: int, tx_hash: str) -> bool:
        """The summary revoked (a refund is open at once: refundAt 0, unless refunded already)."""
        ...

    # -- payments ---------------------------------------------------------------------------------
    def record_payment(self, event_id: str, payment: dict[str, Any], platform: str | None) -> bool:
        """A released batch's payment (PROCESSING), credited at once to the creator's earnings
        (total and per content), to the license's usesPaid / paid, and its fee to ``platform``'s
        total: all or nothing, once."""
        ...

    def get_payment(self, creator: str, position: int) -> dict[str, Any] | None: ...

    def move_payment(self, creator: str, position: int, target: PaymentState, changes: dict[str, Any]) -> bool:
        """The payment to ``target`` if its lifecycle allows from where it is (with ``changes``)."""
        ...

    def list_payments(self, *, creator: str | None = None, buyer: str | None = None, license_id: str | None = None,
                      content_id: str | None = None, status: str | None = None, cursor: str | None = None,
                      limit: int = 50) -> tuple[list[dict[str, Any]], str | None]:
        """Payments, newest first, of one creator, buyer or license (one of the three), filtered;
        the next page's cursor (None at the end)."""
        ...

    # -- withdrawals ------------------------------------------------------------------------------
    def record_withdrawal(self, event_id: str, withdrawal: dict[str, Any]) -> bool:
        """A ``Withdrawn`` (account, amount, txHash, position, withdrawnAt): the account's total
        ``withdrawn`` grows by amount, ``withdrawnThrough`` becomes its position."""
        ...

    def completed_before(self, creator: str, before: int) -> list[dict[str, Any]]:
        """The creator's COMPLETED payments released before position ``before`` (strongly consistent)."""
        ...

    def earnings(self, account: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """The account's total (earned, withdrawn, uses, payments, withdrawnThrough, lastWithdrawal)
        and its per-content items (contentId, earned, uses, payments)."""
        ...

    # -- refunds ----------------------------------------------------------------------------------
    def record_refund(self, event_id: str, license_id: str, refund: dict[str, Any]) -> bool:
        """A ``Refunded`` (amount, uses, txHash, refundedAt): on the license, out of the refund queue."""
        ...

    def refund_candidates(self, now: int, limit: int = 50) -> list[dict[str, Any]]:
        """Licenses in the refund queue whose refund may be open at ``now`` (expired or revoked)."""
        ...

    def defer_refund(self, license_id: str, at: int) -> None:
        """Not a candidate again before ``at`` (its refund opens then)."""
        ...

    def close_refund(self, license_id: str, reason: str) -> None:
        """Out of the refund queue without a refund (nothing was left to refund)."""
        ...


class PaymentsChain(Protocol):
    """The escrow and the chain's blocks, as the payments services read them."""

    escrow: str  # PaymentEscrow's address
    chain_id: int

    def head(self) -> int: ...
    def block_hash(self, number: int) -> str | None: ...
    def block_time(self, number: int) -> int: ...
    def deposit(self, license_id: str) -> Deposit: ...
    def platform_account(self) -> str: ...
    def fee_bps(self) -> int: ...
    def owed(self, account: str) -> int: ...
    def settlement(self, license_id: str) -> Settlement: ...
    def receipt(self, tx_hash: str) -> dict[str, Any] | None: ...
    def withdrawals(self, receipt: dict[str, Any]) -> list[dict[str, Any]]:
        """The escrow's ``Withdrawn`` logs in a receipt: ``{account, amount, logIndex}``."""
        ...


class RefundSender(Protocol):
    def refund(self, license_id: str) -> str:
        """Send ``PaymentEscrow.refund(licenseId)`` as the relayer; the mined transaction's hash."""
        ...


class Notifier(Protocol):
    def send(self, message: dict[str, Any]) -> None:
        """One notification on the notifications queue (engineer I's webhooks and email)."""
        ...


class Revocations(Protocol):
    """The licensing store's revocation (``licensing.ports.LicensingStore.mark_revoked``)."""

    def mark_revoked(self, license_id: str, revoked_at: int, tx_hash: str) -> bool: ...


class GrantedUses(Protocol):
    def granted(self, license_ids: list[str]) -> dict[str, int]:
        """``usesGranted`` of each license the access path knows (licenses table)."""
        ...
