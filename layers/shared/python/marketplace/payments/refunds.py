"""Refunds at expiry (Flow 4), run on a schedule (``functions/refunds``).

The payments store keeps every license that may come to a refund in a queue (``refundQueue``,
``refundAt``: its expiry, or 0 once revoked). Each run takes the licenses whose ``refundAt`` has
passed and asks the escrow, which decides: ``refundOpensAt`` (revocation: at once; expiry:
``validUntil + settlementGrace + 1``, the grace in which the batch prover logs, and so pays, the
uses served before expiry) and ``refundable`` (``(maxUses − releasedUses) × pricePerUse``).

- open and something to refund → ``PaymentEscrow.refund(licenseId)`` sent by the relayer through
  the chain gateway (the escrow allows the relayer); the ``Refunded`` event, read by the listener,
  takes the license out of the queue. A refund pays the unused deposit only: the contract counts
  ``releasedUses`` (paid batches) out, so a refund never returns paid-for uses.
- not open yet (inside the grace) → deferred to ``refundOpensAt``;
- open with nothing left (every use paid, or refunded already) → out of the queue.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from marketplace.payments.ports import PaymentsChain, PaymentsStore, RefundSender

log = logging.getLogger(__name__)


@dataclass
class RefundReport:
    checked: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    deferred: int = 0
    closed: int = 0
    failed: int = 0


class RefundScheduler:
    def __init__(self, store: PaymentsStore, chain: PaymentsChain, sender: RefundSender, *, batch: int = 25,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.chain = chain
        self.sender = sender
        self.batch = batch
        self.clock = clock

    def run(self) -> RefundReport:
        report = RefundReport()
        now = int(self.clock())
        block_time = self.chain.block_time(self.chain.head())
        for lic in self.store.refund_candidates(max(now, block_time), self.batch):
            report.checked += 1
            license_id = lic["licenseId"]
            try:
                figures = self.chain.settlement(license_id)
                if figures.refund_opens_at is None:
                    self.store.close_refund(license_id, "never")  # no expiry and not revoked
                    report.closed += 1
                elif figures.refund_opens_at > block_time:
                    self.store.defer_refund(license_id, figures.refund_opens_at)
                    report.deferred += 1
                elif figures.refundable == 0:
                    self.store.close_refund(license_id, "nothing to refund")
                    report.closed += 1
                else:
                    tx_hash = self.sender.refund(license_id)
                    report.sent.append({"licenseId": license_id, "amount": figures.refundable, "txHash": tx_hash})
            except Exception:  # one license's failure does not stop the others
                report.failed += 1
                log.exception("refund of %s failed; retried next run", license_id)
        if report.failed:
            raise RuntimeError(f"{report.failed} of {report.checked} refunds failed (retried next run): {report}")
        return report
