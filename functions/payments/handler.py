"""The payments consumer (``resources.FUNCTIONS``: ``payments``): the ``chain-events`` FIFO's
messages (``ChainEvent``) → payments, earnings, refunds, revocations, notifications
(``marketplace.payments.consumer``), partial batch failures and one effect per message."""

from __future__ import annotations

import functools

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from marketplace import config
from marketplace.chain.events import ChainEvent
from marketplace.kit.sqs import SqsConsumer


@functools.cache
def consumer():
    from marketplace.adapters.chain import get_chain
    from marketplace.licensing.adapters import LicensingDynamoStore
    from marketplace.payments.adapters import DynamoPaymentsStore, EscrowChain, SqsNotifier
    from marketplace.payments.consumer import ChainEventConsumer

    cfg = config.load(config.PaymentsConsumerConfig)
    # the licensing store's revocation (mark_revoked) touches the licenses table only
    licenses = LicensingDynamoStore(terms="", quotes="", licenses=cfg.licenses_table, apikeys="", ratelimits="")
    return ChainEventConsumer(DynamoPaymentsStore(cfg.payments_table), EscrowChain(get_chain(cfg)),
                              SqsNotifier(cfg.notifications_queue), licenses, confirmations=cfg.confirmations)


def handle(event: ChainEvent, record: SQSRecord) -> dict:
    return consumer().handle(event)


handler = SqsConsumer("payments", ChainEvent, handle, config_model=config.PaymentsConsumerConfig).handler
