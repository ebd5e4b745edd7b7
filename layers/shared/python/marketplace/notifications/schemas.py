"""HTTP bodies of the notifications API (function ``notifications-api``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from marketplace.notifications.models import Attempt, Delivery, EmailSetting, EventType, Webhook
from marketplace.shared.schemas import Strict

WebhookUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s/?#@]+(?:[/?#]\S*)?$", max_length=2048)]
EmailAddress = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$",
                                                max_length=254)]


class WebhookRequest(Strict):
    """A webhook to register: an https URL (refused with 403 when it resolves to a private,
    loopback, link-local or metadata address) and the event types it receives."""

    url: WebhookUrl
    events: list[EventType] = Field(min_length=1, max_length=5, json_schema_extra={"uniqueItems": True})
    description: Annotated[str, StringConstraints(max_length=200)] | None = None


class WebhookView(BaseModel):
    webhookId: str
    url: str
    events: list[str]
    createdAt: str
    description: str | None = None
    # during a rotation's grace: when the previous secret stops signing (RFC 3339)
    previousSecretExpiresAt: str | None = None

    @classmethod
    def of(cls, w: Webhook) -> WebhookView:
        from marketplace.shared.timefmt import iso

        expiring = [s.expires for s in w.secrets if s.expires is not None]
        return cls(webhookId=w.webhook_id, url=w.url, events=list(w.events), createdAt=w.created_at,
                   description=w.description, previousSecretExpiresAt=iso(max(expiring)) if expiring else None)


class WebhookCreated(WebhookView):
    """The new webhook with its signing secret (``whsec_``…): shown this once, store it now."""

    secret: str


class WebhookList(BaseModel):
    webhooks: list[WebhookView]


class SecretRotated(BaseModel):
    """The new signing secret (shown once); the previous one signs alongside it until
    ``previousSecretExpiresAt``."""

    webhookId: str
    secret: str
    previousSecretExpiresAt: str


class AttemptView(BaseModel):
    n: int
    at: str
    trigger: Literal["scheduled", "replay", "test"]
    ok: bool
    scheduled: int | None = None
    status: int | None = None
    error: str | None = None
    durationMs: int

    @classmethod
    def of(cls, n: int, a: Attempt) -> AttemptView:
        return cls(n=n, at=a.at, trigger=a.trigger, ok=a.ok, scheduled=a.scheduled, status=a.status,
                   error=a.error, durationMs=a.durationMs)


class DeliveryView(BaseModel):
    deliveryId: str
    webhookId: str
    messageId: str
    type: str
    state: Literal["PENDING", "RETRYING", "DELIVERED", "FAILED", "CANCELLED"]
    createdAt: str
    attempts: list[AttemptView]

    @classmethod
    def of(cls, d: Delivery) -> DeliveryView:
        return cls(deliveryId=d.delivery_id, webhookId=d.target, messageId=d.message_id, type=d.event_type,
                   state=str(d.state), createdAt=d.created_at,
                   attempts=[AttemptView.of(i + 1, a) for i, a in enumerate(d.log)])


class DeliveryList(BaseModel):
    deliveries: list[DeliveryView]


class EmailRequest(Strict):
    email: EmailAddress


class EmailView(BaseModel):
    """The creator's notification address; only a verified one (``status`` Success) gets mail."""

    email: str
    status: str
    verified: bool
    updatedAt: str

    @classmethod
    def of(cls, s: EmailSetting) -> EmailView:
        return cls(email=s.email, status=s.status, verified=s.status == "Success", updatedAt=s.updated_at)
