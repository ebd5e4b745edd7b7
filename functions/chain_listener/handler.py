"""The chain listener, run on a schedule (``resources.FUNCTIONS``: ``chain-listener``): contract
logs → ``ChainEvent`` messages on the ``chain-events`` FIFO and the ``analytics-events`` FIFO
(``marketplace.chain.listener``)."""

from __future__ import annotations

import functools
from datetime import datetime

from marketplace import config
from marketplace.kit.schedule import ScheduledFunction


@functools.cache
def listener():
    from marketplace.adapters.aws import client
    from marketplace.adapters.chain import get_chain
    from marketplace.chain.listener import ChainListener
    from marketplace.payments.adapters import queue_url

    cfg = config.load(config.ChainListenerConfig)
    return ChainListener(get_chain(cfg), client("sqs"),
                         [queue_url(cfg.chain_events_queue), queue_url(cfg.analytics_events_queue)])


def run(now: datetime) -> dict:
    report = listener().run()
    return {"delivered": report.delivered, "sent": report.sent, "pages": report.pages, "removed": report.removed,
            "reorgs": report.reorgs}


handler = ScheduledFunction("chain-listener", run, config_model=config.ChainListenerConfig).handler
