"""The ``notifications`` queue's consumer: each message (``NotificationMessage``) becomes one
delivery per matching webhook of its creator, queued on ``webhook-deliveries``, and one email if
the creator's address is verified (``Notifications.fan_out``)."""

from __future__ import annotations

import functools

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from marketplace import config
from marketplace.kit.sqs import SqsConsumer
from marketplace.notifications.models import NotificationMessage
from marketplace.notifications.services import Notifications


@functools.cache
def notifications() -> Notifications:
    from marketplace.notifications.adapters import (
        DynamoCreatorSettings,
        DynamoDeliveryStore,
        DynamoWebhookStore,
        SesMailer,
        SqsDeliveryQueue,
    )
    from marketplace.notifications.services import NotificationSettings

    cfg = config.load(config.NotificationsConsumerConfig)

    def no_key() -> bytes:  # fan-out never signs
        raise RuntimeError("the notifications consumer does not sign")

    return Notifications(DynamoWebhookStore(cfg.webhooks_table), DynamoDeliveryStore(cfg.deliveries_table),
                         DynamoCreatorSettings(cfg.creator_settings_table), SesMailer(),
                         SqsDeliveryQueue(cfg.deliveries_queue, cfg.dead_letters_queue), no_key,
                         NotificationSettings(email_from=cfg.email_from))


def handle(message: NotificationMessage, record: SQSRecord) -> dict:
    return notifications().fan_out(message)


handler = SqsConsumer("notifications", NotificationMessage, handle, fifo=False,
                      config_model=config.NotificationsConsumerConfig).handler
