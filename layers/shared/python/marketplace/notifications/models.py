"""The notifications context's models.

``NotificationMessage`` is the body of a message on the ``notifications`` queue (the payment
consumer produces it, the ``notifications`` function consumes it). It is a pydantic model, unlike
the other contexts' ``models.py`` (dataclasses so the access path may import them): nothing on the
access path imports this context, and the SQS kit validates each body with it.

Webhooks and deliveries are dataclasses over their table items (``webhooks``, ``deliveries``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from marketplace.shared.lifecycle import Lifecycle

EventType = Literal["payment.completed", "license.purchased", "usage.batch_logged", "license.revoked",
                    "refund.completed"]
EVENT_TYPES: tuple[str, ...] = ("payment.completed", "license.purchased", "usage.batch_logged",
                                "license.revoked", "refund.completed")
TEST_EVENT = "webhook.test"  # what POST /webhooks/{id}/test sends (not subscribable)

ChecksumAddress = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{40}$")]


class PaymentCompletedData(BaseModel):
    """``data`` of ``payment.completed``: the creator's amount (token base units), the content, the
    release transaction, and what it paid for."""

    model_config = ConfigDict(extra="allow")

    amount: int = Field(ge=0)
    contentId: str
    licenseId: str
    batchId: str | int
    txHash: str
    uses: int = Field(ge=0)
    platformFee: int = Field(ge=0)


class NotificationMessage(BaseModel):
    """One event for one creator, as put on the ``notifications`` queue (standard queue)."""

    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, StringConstraints(min_length=1, max_length=200)]  # unique per event: the webhook-id
    type: EventType
    creator: ChecksumAddress
    data: dict[str, Any]
    occurredAt: str  # ISO 8601

    def payment(self) -> PaymentCompletedData | None:
        return PaymentCompletedData.model_validate(self.data) if self.type == "payment.completed" else None


# -- deliveries ------------------------------------------------------------------------------------

class DeliveryState(StrEnum):
    PENDING = "PENDING"  # recorded, first attempt queued
    RETRYING = "RETRYING"  # an attempt failed, the next one is queued
    DELIVERED = "DELIVERED"  # a 2xx answer
    FAILED = "FAILED"  # every scheduled attempt failed: dead-lettered (replay may still deliver it)
    CANCELLED = "CANCELLED"  # its webhook was deleted before it was delivered


DELIVERY_LIFECYCLE = Lifecycle("delivery", DeliveryState, {
    DeliveryState.PENDING: (DeliveryState.DELIVERED, DeliveryState.RETRYING, DeliveryState.FAILED,
                            DeliveryState.CANCELLED),
    DeliveryState.RETRYING: (DeliveryState.DELIVERED, DeliveryState.RETRYING, DeliveryState.FAILED,
                             DeliveryState.CANCELLED),
    DeliveryState.FAILED: (DeliveryState.DELIVERED, DeliveryState.FAILED),  # a replay
    DeliveryState.DELIVERED: (DeliveryState.DELIVERED,),  # a replay (a failed one keeps DELIVERED)
}, initial=(DeliveryState.PENDING,))
# states in which a scheduled (automatic) attempt may still run
SCHEDULED: tuple[DeliveryState, ...] = (DeliveryState.PENDING, DeliveryState.RETRYING)

Channel = Literal["webhook", "email"]


def delivery_id(message_id: str, target: str) -> str:
    """The one delivery of a message to a target (a webhook id, or ``email``): idempotent by both."""
    return "dlv_" + hashlib.sha256(f"{message_id}\x00{target}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Attempt:
    """One send in a delivery's log (its place in the log is its number)."""

    at: str
    trigger: Literal["scheduled", "replay", "test"]
    ok: bool
    scheduled: int | None = None  # the scheduled attempt's number (1 = the first send)
    status: int | None = None  # the receiver's HTTP status
    error: str | None = None  # why it failed without a status (timeout, refused address, ...)
    durationMs: int = 0

    def to_item(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Attempt:
        return cls(**{k: item[k] for k in ("at", "trigger", "ok", "scheduled", "status", "error", "durationMs")
                      if k in item})


@dataclass(frozen=True)
class Delivery:
    delivery_id: str
    channel: Channel
    target: str  # webhook id, or the creator's address for email
    creator: str
    message_id: str
    event_type: str
    body: str  # the exact JSON body every attempt sends (signed anew with each attempt's timestamp)
    created_at: str
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0  # scheduled attempts claimed so far
    logged: int = 0  # scheduled attempts whose outcome is in the log
    log: tuple[Attempt, ...] = ()
    claimed_at: int = 0  # epoch seconds of the last claim

    def to_item(self) -> dict[str, Any]:
        return {"deliveryId": self.delivery_id, "channel": self.channel, "webhookId": self.target,
                "creator": self.creator, "messageId": self.message_id, "type": self.event_type,
                "body": self.body, "createdAt": self.created_at, "state": str(self.state),
                "attempts": self.attempts, "logged": self.logged, "log": [a.to_item() for a in self.log],
                "claimedAt": self.claimed_at}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Delivery:
        return cls(delivery_id=item["deliveryId"], channel=item["channel"], target=item["webhookId"],
                   creator=item["creator"], message_id=item["messageId"], event_type=item["type"],
                   body=item["body"], created_at=item["createdAt"], state=DeliveryState(item["state"]),
                   attempts=int(item.get("attempts", 0)), logged=int(item.get("logged", 0)),
                   log=tuple(Attempt.from_item(a) for a in item.get("log", [])),
                   claimed_at=int(item.get("claimedAt", 0)))


# -- webhooks --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SealedSecret:
    """A signing secret sealed at rest (AES-256-GCM under the ``webhook-key`` secret); ``expires``
    (epoch seconds) is set on the previous secret during a rotation's grace."""

    sealed: str
    created: int
    expires: int | None = None

    def live(self, now: float) -> bool:
        return self.expires is None or now < self.expires

    def to_item(self) -> dict[str, Any]:
        return {"sealed": self.sealed, "created": self.created, "expires": self.expires}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> SealedSecret:
        return cls(item["sealed"], int(item["created"]),
                   int(item["expires"]) if item.get("expires") is not None else None)


@dataclass(frozen=True)
class Webhook:
    webhook_id: str
    creator: str
    url: str
    events: tuple[str, ...]
    created_at: str
    secrets: tuple[SealedSecret, ...] = field(default=())
    description: str | None = None

    def wants(self, event_type: str) -> bool:
        return event_type in self.events

    def to_item(self) -> dict[str, Any]:
        return {"webhookId": self.webhook_id, "creator": self.creator, "url": self.url,
                "events": list(self.events), "createdAt": self.created_at,
                "secrets": [s.to_item() for s in self.secrets], "description": self.description}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Webhook:
        return cls(item["webhookId"], item["creator"], item["url"], tuple(item.get("events", [])),
                   item["createdAt"], tuple(SealedSecret.from_item(s) for s in item.get("secrets", [])),
                   item.get("description"))


@dataclass(frozen=True)
class EmailSetting:
    creator: str
    email: str
    status: str  # SES verification status: Pending, Success, Failed, TemporaryFailure, NotStarted
    updated_at: str

    def to_item(self) -> dict[str, Any]:
        return {"creator": self.creator, "email": self.email, "emailStatus": self.status,
                "updatedAt": self.updated_at}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> EmailSetting:
        return cls(item["creator"], item["email"], item.get("emailStatus", "Pending"), item["updatedAt"])
