"""In-memory notifications ports over the same items as the adapters (``shared.memory``)."""

from __future__ import annotations

import threading
from typing import Any

from marketplace.notifications.models import (
    DELIVERY_LIFECYCLE,
    SCHEDULED,
    Attempt,
    Delivery,
    DeliveryState,
    EmailSetting,
    SealedSecret,
    Webhook,
)
from marketplace.shared.memory import MemoryTable


class MemoryWebhookStore:
    def __init__(self, table: MemoryTable | None = None) -> None:
        self.table = table if table is not None else MemoryTable("webhookId")

    def create(self, webhook: Webhook) -> None:
        if not self.table.put(webhook.to_item(), condition=lambda old: old is None):
            raise ValueError(f"webhook {webhook.webhook_id} exists")

    def get(self, webhook_id: str) -> Webhook | None:
        item = self.table.get_item({"webhookId": webhook_id})
        return Webhook.from_item(item) if item else None

    def by_creator(self, creator: str) -> list[Webhook]:
        return sorted((Webhook.from_item(i) for i in self.table.query("creator", creator)),
                      key=lambda w: (w.created_at, w.webhook_id))

    def delete(self, webhook_id: str) -> bool:
        return bool(self.table.delete({"webhookId": webhook_id}))

    def set_secrets(self, webhook_id: str, secrets: tuple[SealedSecret, ...]) -> bool:
        return self.table.update({"webhookId": webhook_id},
                                 lambda item: item.update(secrets=[s.to_item() for s in secrets]),
                                 condition=lambda old: old is not None) is not None


class MemoryDeliveryStore:
    def __init__(self, table: MemoryTable | None = None) -> None:
        self.table = table if table is not None else MemoryTable("deliveryId")

    def create(self, delivery: Delivery) -> tuple[Delivery, bool]:
        with self.table.lock:
            created = self.table.put(delivery.to_item(), condition=lambda old: old is None)
            stored = self.get(delivery.delivery_id)
        assert stored is not None
        return stored, created

    def get(self, delivery_id: str) -> Delivery | None:
        item = self.table.get_item({"deliveryId": delivery_id})
        return Delivery.from_item(item) if item else None

    def by_target(self, target: str, limit: int = 50) -> list[Delivery]:
        items = sorted(self.table.query("webhookId", target), key=lambda i: (i["createdAt"], i["deliveryId"]),
                       reverse=True)
        return [Delivery.from_item(i) for i in items[:limit]]

    def claim(self, delivery_id: str, attempt: int, now: int, stale_after: int) -> Delivery | None:
        scheduled = {str(s) for s in SCHEDULED}

        def allowed(old: dict[str, Any] | None) -> bool:
            if old is None or old["state"] not in scheduled:
                return False
            fresh = old.get("attempts", 0) == attempt - 1
            stale = (old.get("attempts", 0) == attempt and old.get("logged", 0) == attempt - 1
                     and old.get("claimedAt", 0) < now - stale_after)
            return fresh or stale

        item = self.table.update({"deliveryId": delivery_id},
                                 lambda i: i.update(attempts=attempt, claimedAt=now), condition=allowed)
        return Delivery.from_item(item) if item else None

    def record(self, delivery_id: str, attempt: Attempt, state: DeliveryState) -> Delivery | None:
        sources = {str(s) for s in DELIVERY_LIFECYCLE.sources(state)}

        def change(item: dict[str, Any]) -> None:
            item["log"] = [*item.get("log", []), attempt.to_item()]
            item["state"] = str(state)
            if attempt.scheduled is not None:
                item["logged"] = attempt.scheduled

        item = self.table.update({"deliveryId": delivery_id}, change,
                                 condition=lambda old: old is not None and old["state"] in sources)
        return Delivery.from_item(item) if item else None


class MemoryCreatorSettings:
    def __init__(self, table: MemoryTable | None = None) -> None:
        self.table = table if table is not None else MemoryTable("creator")

    def get_email(self, creator: str) -> EmailSetting | None:
        item = self.table.get_item({"creator": creator})
        return EmailSetting.from_item(item) if item and "email" in item else None

    def put_email(self, setting: EmailSetting) -> None:
        self.table.update({"creator": setting.creator}, lambda item: item.update(setting.to_item()))


class ListQueue:
    """The delivery queue as two lists: (task, delay) scheduled, and dead letters."""

    def __init__(self) -> None:
        self.scheduled: list[tuple[dict[str, Any], int]] = []
        self.dead: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def schedule(self, task: dict[str, Any], delay_seconds: int) -> None:
        if not 0 <= delay_seconds <= 900:
            raise ValueError("SQS delays are 0-900 s")
        with self._lock:
            self.scheduled.append((dict(task), delay_seconds))

    def dead_letter(self, task: dict[str, Any]) -> None:
        with self._lock:
            self.dead.append(dict(task))

    def take(self) -> list[tuple[dict[str, Any], int]]:
        with self._lock:
            out, self.scheduled = self.scheduled, []
        return out


class MemoryMailer:
    """SES in memory: addresses in ``verified`` pass verification at once (as in moto)."""

    def __init__(self, verify_at_once: bool = True) -> None:
        self.identities: dict[str, str] = {}
        self.verify_at_once = verify_at_once
        self.sent: list[dict[str, str]] = []

    def request_verification(self, email: str) -> str:
        self.identities[email] = "Success" if self.verify_at_once else "Pending"
        return self.identities[email]

    def verification_status(self, email: str) -> str:
        return self.identities.get(email, "NotStarted")

    def send(self, sender: str, to: str, subject: str, text: str, html: str) -> str:
        self.sent.append({"from": sender, "to": to, "subject": subject, "text": text, "html": html})
        return f"mem-{len(self.sent)}"
