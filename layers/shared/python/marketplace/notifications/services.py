"""The notifications flows: webhook management (the API), the fan-out of a notification to a
creator's webhooks and email (the ``notifications`` consumer), and each delivery attempt with its
retries (the ``webhook-delivery`` consumer).

Delivery (docs/design.md, "Notifications"): a message on the ``notifications`` queue becomes one
delivery record per matching webhook (id derived from (message id, webhook id): a redelivered
message finds it and adds nothing) and a task ``{deliveryId, attempt: 1, dueAt}`` on the
``webhook-deliveries`` queue. Each task claims its attempt in the delivery record first
(``attempts`` n-1 → n: a duplicate task claims nothing), sends, logs the outcome; a failure queues
attempt n+1 after ``retry_schedule[n-1]`` seconds (longer than SQS's 15-minute delay: the task
comes back early and is re-queued until it is due) or, after the last attempt, moves the delivery
to FAILED and puts it on the dead-letter queue (alarmed). Replay sends one delivery again now.
"""

from __future__ import annotations

import json
import logging
import math
import re
import secrets as pysecrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from marketplace.errors import ConflictError, ForbiddenError, NotFoundError
from marketplace.notifications import egress, signing
from marketplace.notifications.emails import render
from marketplace.notifications.models import (
    SCHEDULED,
    TEST_EVENT,
    Attempt,
    Delivery,
    DeliveryState,
    EmailSetting,
    NotificationMessage,
    SealedSecret,
    Webhook,
    delivery_id,
)
from marketplace.notifications.ports import (
    CreatorSettings,
    DeliveryQueue,
    DeliveryStore,
    Mailer,
    WebhookStore,
)
from marketplace.shared.timefmt import iso

log = logging.getLogger(__name__)

# Standard Webhooks' recommended schedule after the first attempt: 5 s, 5 min, 30 min, 2 h, 5 h,
# 10 h, 10 h: eight attempts over about 27.5 hours
DEFAULT_RETRY_SCHEDULE: tuple[int, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
MAX_SQS_DELAY = 900
WEBHOOK_ID = re.compile(r"^wh_[0-9a-f]{24}$")
DELIVERY_ID = re.compile(r"^dlv_[0-9a-f]{32}$")


class DeliveryTask(BaseModel):
    """A message on the ``webhook-deliveries`` queue: attempt ``attempt`` of a delivery, due at
    ``dueAt`` (epoch seconds)."""

    model_config = ConfigDict(extra="forbid")

    deliveryId: str
    attempt: int = Field(ge=1)
    dueAt: float = 0


@dataclass(frozen=True)
class NotificationSettings:
    allow_loopback: bool = False
    retry_schedule: tuple[int, ...] = DEFAULT_RETRY_SCHEDULE
    timeout: float = egress.TIMEOUT_SECONDS
    max_response_bytes: int = egress.MAX_RESPONSE_BYTES
    secret_grace_seconds: int = 24 * 3600
    email_from: str | None = None
    max_webhooks_per_creator: int = 10
    claim_stale_seconds: int = 300  # a claimed attempt with no logged outcome after this is retaken

    @property
    def policy(self) -> egress.Policy:
        return egress.Policy(self.allow_loopback, self.timeout, self.max_response_bytes)


def body_of(message_id: str, event_type: str, timestamp: str, data: dict[str, Any]) -> str:
    """The webhook body: Standard Webhooks' ``{type, timestamp, data}`` (compact JSON)."""
    return json.dumps({"type": event_type, "timestamp": timestamp, "data": data}, separators=(",", ":"))


class Notifications:
    def __init__(self, webhooks: WebhookStore, deliveries: DeliveryStore, settings_store: CreatorSettings,
                 mailer: Mailer, queue: DeliveryQueue, key_material: Callable[[], bytes],
                 settings: NotificationSettings | None = None, *, clock: Callable[[], float] = time.time,
                 resolve: egress.Resolver = egress.system_resolver,
                 post: Callable[..., egress.Outcome] = egress.post) -> None:
        self.webhooks, self.deliveries, self.settings_store = webhooks, deliveries, settings_store
        self.mailer, self.queue, self.key_material = mailer, queue, key_material
        self.settings = settings or NotificationSettings()
        self.clock, self.resolve, self._post = clock, resolve, post

    # -- webhooks (API) -------------------------------------------------------------------------

    def register(self, creator: str, url: str, events: list[str], description: str | None = None
                 ) -> tuple[Webhook, str]:
        """A new webhook and its secret (shown once)."""
        self._check_url(url)
        if len(self.webhooks.by_creator(creator)) >= self.settings.max_webhooks_per_creator:
            raise ConflictError(f"at most {self.settings.max_webhooks_per_creator} webhooks per creator",
                                {"limit": self.settings.max_webhooks_per_creator})
        webhook_id = "wh_" + pysecrets.token_hex(12)
        secret = signing.new_secret()
        now = int(self.clock())
        webhook = Webhook(webhook_id, creator, url, tuple(dict.fromkeys(events)), iso(now),
                          (SealedSecret(signing.seal(secret, self.key_material(), webhook_id), now),), description)
        self.webhooks.create(webhook)
        return webhook, secret

    def list_webhooks(self, creator: str) -> list[Webhook]:
        return self.webhooks.by_creator(creator)

    def delete(self, creator: str, webhook_id: str) -> None:
        self.owned(creator, webhook_id)
        self.webhooks.delete(webhook_id)

    def rotate(self, creator: str, webhook_id: str) -> tuple[Webhook, str, int]:
        """A new secret (shown once); the previous one keeps signing alongside it until the grace
        ends (its expiry, returned). Secrets already past their grace are dropped."""
        webhook = self.owned(creator, webhook_id)
        now = int(self.clock())
        grace_ends = now + self.settings.secret_grace_seconds
        secret = signing.new_secret()
        kept = tuple(s if s.expires is not None else replace(s, expires=grace_ends)
                     for s in webhook.secrets if s.live(now))
        secrets = (SealedSecret(signing.seal(secret, self.key_material(), webhook_id), now), *kept)
        if not self.webhooks.set_secrets(webhook_id, secrets):
            raise NotFoundError("Unknown webhook", {"webhookId": webhook_id})
        return replace(webhook, secrets=secrets), secret, grace_ends

    def owned(self, creator: str, webhook_id: str) -> Webhook:
        webhook = self.webhooks.get(webhook_id) if WEBHOOK_ID.match(webhook_id) else None
        if webhook is None or webhook.creator != creator:  # another creator's webhook does not exist for you
            raise NotFoundError("Unknown webhook", {"webhookId": webhook_id})
        return webhook

    def _check_url(self, url: str) -> None:
        try:
            egress.check(url, self.settings.policy, self.resolve)
        except egress.UnsafeDestination as exc:
            raise ForbiddenError(f"webhook URL refused: {exc}", {"field": "url"}) from None

    # -- delivery log, test, replay (API) ---------------------------------------------------------

    def delivery_log(self, creator: str, webhook_id: str, limit: int = 50) -> list[Delivery]:
        self.owned(creator, webhook_id)
        return self.deliveries.by_target(webhook_id, limit)

    def test(self, creator: str, webhook_id: str) -> Delivery:
        """Send a ``webhook.test`` event now (no retries); the delivery with its one attempt."""
        webhook = self.owned(creator, webhook_id)
        now = self.clock()
        message_id = "msg_test_" + pysecrets.token_hex(12)
        body = body_of(message_id, TEST_EVENT, iso(now), {"webhookId": webhook_id, "creator": creator})
        delivery, _ = self.deliveries.create(Delivery(delivery_id(message_id, webhook_id), "webhook", webhook_id,
                                                      creator, message_id, TEST_EVENT, body, iso(now)))
        attempt = self._send(webhook, delivery, "test", None)
        return self._recorded(delivery, attempt, DeliveryState.DELIVERED if attempt.ok else DeliveryState.FAILED)

    def replay(self, creator: str, webhook_id: str, delivery_id_: str) -> Delivery:
        """Send one logged delivery again now, signed with the webhook's current secrets."""
        webhook = self.owned(creator, webhook_id)
        delivery = self.deliveries.get(delivery_id_) if DELIVERY_ID.match(delivery_id_) else None
        if delivery is None or delivery.target != webhook_id:
            raise NotFoundError("Unknown delivery", {"deliveryId": delivery_id_})
        if delivery.state == DeliveryState.CANCELLED:
            raise ConflictError("the delivery was cancelled", {"state": str(delivery.state)})
        attempt = self._send(webhook, delivery, "replay", None)
        if attempt.ok:
            state = DeliveryState.DELIVERED
        else:  # a failed replay leaves a delivered or dead-lettered delivery as it was
            state = delivery.state if delivery.state not in SCHEDULED else DeliveryState.RETRYING
        return self._recorded(delivery, attempt, state)

    def _recorded(self, delivery: Delivery, attempt: Attempt, state: DeliveryState) -> Delivery:
        out = self.deliveries.record(delivery.delivery_id, attempt, state)
        if out is None:
            raise ConflictError("the delivery changed meanwhile: read its log again",
                                {"deliveryId": delivery.delivery_id})
        return out

    # -- email settings (API) ---------------------------------------------------------------------

    def set_email(self, creator: str, email: str) -> EmailSetting:
        status = self.mailer.request_verification(email)
        setting = EmailSetting(creator, email, status, iso(self.clock()))
        self.settings_store.put_email(setting)
        return setting

    def get_email(self, creator: str) -> EmailSetting:
        setting = self.settings_store.get_email(creator)
        if setting is None:
            raise NotFoundError("No notification email set", {"creator": creator})
        status = self.mailer.verification_status(setting.email)
        if status != setting.status:
            setting = replace(setting, status=status, updated_at=iso(self.clock()))
            self.settings_store.put_email(setting)
        return setting

    # -- fan-out (the notifications consumer) -----------------------------------------------------

    def fan_out(self, message: NotificationMessage) -> dict[str, Any]:
        """One delivery per matching webhook (queued once) and one email if the creator's address
        is verified. Safe to run again for the same message."""
        now = self.clock()
        body = body_of(message.id, message.type, message.occurredAt, message.data)
        queued = 0
        webhooks = [w for w in self.webhooks.by_creator(message.creator) if w.wants(message.type)]
        for webhook in webhooks:
            stored, _ = self.deliveries.create(Delivery(
                delivery_id(message.id, webhook.webhook_id), "webhook", webhook.webhook_id, message.creator,
                message.id, message.type, body, iso(now)))
            if stored.state == DeliveryState.PENDING and stored.attempts == 0:
                # queued again if a previous run died after creating it: the claim keeps one attempt
                self.queue.schedule({"deliveryId": stored.delivery_id, "attempt": 1, "dueAt": now}, 0)
                queued += 1
        return {"webhooks": len(webhooks), "queued": queued, "email": self._email(message, body, now)}

    def _email(self, message: NotificationMessage, body: str, now: float) -> str:
        sender = self.settings.email_from
        setting = self.settings_store.get_email(message.creator)
        if setting is None:
            return "no address"
        if not sender:
            log.warning("EMAIL_FROM is not set: no email for %s", message.id)
            return "no sender configured"
        status = self.mailer.verification_status(setting.email)  # only verified addresses get mail
        if status != setting.status:
            self.settings_store.put_email(replace(setting, status=status, updated_at=iso(now)))
        if status != "Success":
            return f"address not verified ({status})"
        stored, _ = self.deliveries.create(Delivery(
            delivery_id(message.id, "email"), "email", "email#" + message.creator, message.creator,
            message.id, message.type, body, iso(now)))
        if stored.state != DeliveryState.PENDING:
            return "already sent"
        subject, text, html = render(message)
        started = time.monotonic()
        self.mailer.send(sender, setting.email, subject, text, html)  # raises: the message is retried
        self.deliveries.record(stored.delivery_id, Attempt(
            at=iso(self.clock()), trigger="scheduled", ok=True, scheduled=1,
            durationMs=int((time.monotonic() - started) * 1000)), DeliveryState.DELIVERED)
        return "sent"

    # -- one attempt (the webhook-delivery consumer) ----------------------------------------------

    def deliver(self, task: dict[str, Any]) -> dict[str, Any]:
        did, n, due = str(task["deliveryId"]), int(task["attempt"]), float(task.get("dueAt", 0))
        now = self.clock()
        if due - now > 1:  # SQS delays at most 15 minutes: not due yet, wait again
            self.queue.schedule(task, min(math.ceil(due - now), MAX_SQS_DELAY))
            return {"deliveryId": did, "attempt": n, "outcome": "deferred"}
        delivery = self.deliveries.claim(did, n, int(now), self.settings.claim_stale_seconds)
        if delivery is None:
            return {"deliveryId": did, "attempt": n, "outcome": "skipped (duplicate or settled)"}
        webhook = self.webhooks.get(delivery.target)
        if webhook is None:
            self.deliveries.record(did, Attempt(at=iso(now), trigger="scheduled", ok=False, scheduled=n,
                                                error="webhook deleted"), DeliveryState.CANCELLED)
            return {"deliveryId": did, "attempt": n, "outcome": "cancelled"}
        attempt = self._send(webhook, delivery, "scheduled", n)
        schedule = self.settings.retry_schedule
        if attempt.ok:
            state, outcome = DeliveryState.DELIVERED, "delivered"
        elif n <= len(schedule):
            delay = schedule[n - 1]
            # queued before the outcome is recorded: a crash in between leaves a task that claims n+1
            self.queue.schedule({"deliveryId": did, "attempt": n + 1, "dueAt": now + delay},
                                min(delay, MAX_SQS_DELAY))
            state, outcome = DeliveryState.RETRYING, f"retry in {delay} s"
        else:
            self.queue.dead_letter({"deliveryId": did, "webhookId": webhook.webhook_id, "messageId": delivery.message_id,
                                    "type": delivery.event_type, "attempts": n,
                                    "lastError": attempt.error or f"HTTP {attempt.status}"})
            state, outcome = DeliveryState.FAILED, "dead-lettered"
        self.deliveries.record(did, attempt, state)
        return {"deliveryId": did, "attempt": n, "outcome": outcome, "status": attempt.status}

    def _send(self, webhook: Webhook, delivery: Delivery, trigger: str, scheduled: int | None) -> Attempt:
        now = self.clock()
        key = self.key_material()
        secrets = [signing.unseal(s.sealed, key, webhook.webhook_id)
                   for s in sorted(webhook.secrets, key=lambda s: -s.created) if s.live(now)]
        headers = signing.headers(secrets, delivery.message_id, int(now), delivery.body)
        out = self._post(webhook.url, delivery.body.encode(), headers, self.settings.policy, self.resolve)
        if not out.ok:
            log.info("webhook attempt failed", extra={"deliveryId": delivery.delivery_id, "status": out.status,
                                                      "error": out.error})
        return Attempt(at=iso(now), trigger=trigger, ok=out.ok, scheduled=scheduled,  # type: ignore[arg-type]
                       status=out.status, error=out.error, durationMs=out.duration_ms)
