"""The ``analytics-events`` FIFO's consumer (``resources.FUNCTIONS``: ``analytics-events``): the
chain's UsageLogged, PaymentReleased, LicensePurchased, LicenseRevoked → the aggregates, once per
event (``marketplace.analytics.feeders``), partial batch failures."""

from __future__ import annotations

import functools

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from marketplace import config
from marketplace.chain.events import ChainEvent
from marketplace.kit.sqs import SqsConsumer


@functools.cache
def feeder():
    from marketplace.adapters.chain import get_chain
    from marketplace.analytics.adapters import DynamoAnalyticsStore, DynamoDirectory
    from marketplace.analytics.feeders import ChainFeeder, live_feed
    from marketplace.payments.adapters import EscrowChain

    cfg = config.load(config.AnalyticsEventsConfig)
    store = DynamoAnalyticsStore(cfg.analytics_table)
    directory = DynamoDirectory(licenses_table=cfg.licenses_table, content_table=cfg.content_table, analytics=store)
    return ChainFeeder(store, directory, EscrowChain(get_chain(cfg)), live_feed())


def handle(event: ChainEvent, record: SQSRecord) -> dict:
    return feeder().handle(event)


handler = SqsConsumer("analytics-events", ChainEvent, handle, config_model=config.AnalyticsEventsConfig).handler
