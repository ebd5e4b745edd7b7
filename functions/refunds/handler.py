"""Refunds at expiry, run on a schedule (``resources.FUNCTIONS``: ``refunds``): licenses whose refund
is open with an unused deposit get ``PaymentEscrow.refund`` sent by the relayer
(``marketplace.payments.refunds``)."""

from __future__ import annotations

import functools
from datetime import datetime

from marketplace import config
from marketplace.kit.schedule import ScheduledFunction


@functools.cache
def scheduler():
    from marketplace.adapters.chain import get_chain
    from marketplace.payments.adapters import DynamoPaymentsStore, EscrowChain
    from marketplace.payments.refunds import RefundScheduler

    cfg = config.load(config.RefundsConfig)
    chain = EscrowChain(get_chain(cfg))
    return RefundScheduler(DynamoPaymentsStore(cfg.payments_table), chain, chain, batch=5)


def run(now: datetime) -> dict:
    report = scheduler().run()
    return {"checked": report.checked, "sent": report.sent, "deferred": report.deferred, "closed": report.closed}


handler = ScheduledFunction("refunds", run, config_model=config.RefundsConfig).handler
