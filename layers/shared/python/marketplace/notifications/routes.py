"""The notifications API (function ``notifications-api``): a creator's webhooks (Standard
Webhooks), their delivery log, test and replay, and the creator's notification email."""

from __future__ import annotations

import functools
from typing import Any

from marketplace import config
from marketplace.kit.http import Api, caller, reply
from marketplace.notifications.schemas import (
    DeliveryList,
    DeliveryView,
    EmailRequest,
    EmailView,
    SecretRotated,
    WebhookCreated,
    WebhookList,
    WebhookRequest,
    WebhookView,
)
from marketplace.notifications.services import Notifications
from marketplace.shared.timefmt import iso

api = Api("notifications-api")

_WEBHOOK_404 = "NOT_FOUND: no such webhook of yours"
_SENT = ("The attempt's outcome is in the answer (the receiver's status, or why it failed); the request "
         "itself succeeds whatever the receiver answered.")


@functools.cache
def notifications() -> Notifications:
    from marketplace.adapters.secrets import get_secret_bytes
    from marketplace.notifications.adapters import (
        DynamoCreatorSettings,
        DynamoDeliveryStore,
        DynamoWebhookStore,
        SesMailer,
    )

    cfg = config.load(config.NotificationsApiConfig)

    class _NoQueue:  # the API sends test and replay attempts itself and schedules nothing
        def schedule(self, task: dict[str, Any], delay_seconds: int) -> None:
            raise RuntimeError("the notifications API does not queue deliveries")

        def dead_letter(self, task: dict[str, Any]) -> None:
            raise RuntimeError("the notifications API does not dead-letter deliveries")

    return Notifications(DynamoWebhookStore(cfg.webhooks_table), DynamoDeliveryStore(cfg.deliveries_table),
                         DynamoCreatorSettings(cfg.creator_settings_table), SesMailer(), _NoQueue(),
                         lambda: get_secret_bytes(cfg.webhook_secret_key_id),
                         cfg.notification_settings(secret_grace_seconds=cfg.secret_grace_seconds))


@api.operation("POST", "/webhooks", "Register a webhook (Standard Webhooks): its secret is shown once",
               ok={201: ("the webhook and its whsec_ signing secret (shown once)", WebhookCreated)},
               errors={403: "FORBIDDEN: the URL is not https or resolves to a private, loopback, link-local, "
                            "multicast, reserved or metadata address",
                       409: "CONFLICT: the creator has the most webhooks allowed"})
def register(req: WebhookRequest):
    webhook, secret = notifications().register(caller(api), req.url, list(req.events), req.description)
    return reply(201, WebhookCreated(**WebhookView.of(webhook).model_dump(), secret=secret))


@api.operation("GET", "/webhooks", "The caller's webhooks (no secrets)",
               ok={200: ("the webhooks", WebhookList)})
def list_webhooks():
    return WebhookList(webhooks=[WebhookView.of(w) for w in notifications().list_webhooks(caller(api))])


@api.operation("DELETE", "/webhooks/{webhookId}", "Delete a webhook (its pending deliveries are cancelled)",
               ok={204: ("deleted", None)}, errors={404: _WEBHOOK_404})
def delete_webhook(webhookId: str):
    notifications().delete(caller(api), webhookId)
    return reply(204)


@api.operation("POST", "/webhooks/{webhookId}/rotate",
               "Rotate the signing secret: the new one is shown once, the previous one keeps signing "
               "alongside it for the grace period (webhook-signature carries both)",
               ok={200: ("the new secret and when the previous one stops signing", SecretRotated)},
               errors={404: _WEBHOOK_404})
def rotate(webhookId: str):
    webhook, secret, grace_ends = notifications().rotate(caller(api), webhookId)
    return SecretRotated(webhookId=webhook.webhook_id, secret=secret, previousSecretExpiresAt=iso(grace_ends))


@api.operation("POST", "/webhooks/{webhookId}/test", "Send a webhook.test event now. " + _SENT,
               ok={200: ("the test delivery with its attempt", DeliveryView)}, errors={404: _WEBHOOK_404})
def test(webhookId: str):
    return DeliveryView.of(notifications().test(caller(api), webhookId))


@api.operation("GET", "/webhooks/{webhookId}/deliveries", "The webhook's delivery log, newest first "
               "(each delivery with every attempt)",
               ok={200: ("the deliveries", DeliveryList)}, errors={404: _WEBHOOK_404})
def deliveries(webhookId: str):
    return DeliveryList(deliveries=[DeliveryView.of(d) for d in notifications().delivery_log(caller(api), webhookId)])


@api.operation("POST", "/webhooks/{webhookId}/deliveries/{deliveryId}/replay",
               "Send one delivery again now, signed with the webhook's current secrets. " + _SENT,
               ok={200: ("the delivery with the new attempt in its log", DeliveryView)},
               errors={404: "NOT_FOUND: no such webhook of yours, or no such delivery of it",
                       409: "CONFLICT: the delivery was cancelled, or changed during the replay"})
def replay(webhookId: str, deliveryId: str):
    return DeliveryView.of(notifications().replay(caller(api), webhookId, deliveryId))


@api.operation("PUT", "/creator/notifications/email",
               "Set the caller's notification email: SES sends it a verification link; only a verified "
               "address gets notifications (plain text + HTML)",
               ok={200: ("the address and its verification status", EmailView)})
def set_email(req: EmailRequest):
    return EmailView.of(notifications().set_email(caller(api), req.email))


@api.operation("GET", "/creator/notifications/email", "The caller's notification email and its verification status",
               ok={200: ("the address and its verification status", EmailView)},
               errors={404: "NOT_FOUND: no notification email set"})
def get_email():
    return EmailView.of(notifications().get_email(caller(api)))
