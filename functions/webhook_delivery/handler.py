"""The ``webhook-deliveries`` queue's consumer: one webhook attempt per message, the next one
queued with its backoff, an exhausted delivery dead-lettered (``Notifications.deliver``)."""

from __future__ import annotations

import functools

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from marketplace import config
from marketplace.kit.sqs import SqsConsumer
from marketplace.notifications.services import DeliveryTask, Notifications


@functools.cache
def notifications() -> Notifications:
    from marketplace.adapters.secrets import get_secret_bytes
    from marketplace.notifications.adapters import (
        DynamoCreatorSettings,
        DynamoDeliveryStore,
        DynamoWebhookStore,
        SesMailer,
        SqsDeliveryQueue,
    )

    cfg = config.load(config.WebhookDeliveryConfig)
    return Notifications(DynamoWebhookStore(cfg.webhooks_table), DynamoDeliveryStore(cfg.deliveries_table),
                         DynamoCreatorSettings("unused"), SesMailer(),
                         SqsDeliveryQueue(cfg.deliveries_queue, cfg.dead_letters_queue),
                         lambda: get_secret_bytes(cfg.webhook_secret_key_id),
                         cfg.notification_settings(retry_schedule=cfg.retry_schedule))


def handle(task: DeliveryTask, record: SQSRecord) -> dict:
    return notifications().deliver(task.model_dump())


handler = SqsConsumer("webhook-delivery", DeliveryTask, handle, fifo=False,
                      config_model=config.WebhookDeliveryConfig).handler
