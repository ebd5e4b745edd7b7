"""Ports of the notifications context: webhook and delivery stores, creator settings, the
delivery queue, and the mailer."""

from __future__ import annotations

from typing import Any, Protocol

from marketplace.notifications.models import (
    Attempt,
    Delivery,
    DeliveryState,
    EmailSetting,
    SealedSecret,
    Webhook,
)


class WebhookStore(Protocol):
    def create(self, webhook: Webhook) -> None: ...

    def get(self, webhook_id: str) -> Webhook | None: ...

    def by_creator(self, creator: str) -> list[Webhook]:
        """The creator's webhooks, oldest first."""
        ...

    def delete(self, webhook_id: str) -> bool:
        """True if it existed."""
        ...

    def set_secrets(self, webhook_id: str, secrets: tuple[SealedSecret, ...]) -> bool:
        """Replace the secrets of an existing webhook (False: it is gone)."""
        ...


class DeliveryStore(Protocol):
    def create(self, delivery: Delivery) -> tuple[Delivery, bool]:
        """Store a new delivery unless one with its id exists; (the stored one, created?)."""
        ...

    def get(self, delivery_id: str) -> Delivery | None: ...

    def by_target(self, target: str, limit: int = 50) -> list[Delivery]:
        """A webhook's deliveries, newest first."""
        ...

    def claim(self, delivery_id: str, attempt: int, now: int, stale_after: int) -> Delivery | None:
        """Take scheduled attempt ``attempt``: ``attempts`` goes ``attempt - 1`` → ``attempt`` while
        the state is PENDING or RETRYING; or retake ``attempt`` if it was claimed more than
        ``stale_after`` seconds ago and its outcome never logged (the claimer died). None: a
        duplicate, an outdated task, or a delivery that no longer waits for this attempt."""
        ...

    def record(self, delivery_id: str, attempt: Attempt, state: DeliveryState) -> Delivery | None:
        """Append ``attempt`` to the log and move to ``state`` (lifecycle-checked: None if the
        delivery is gone or the move is not allowed from its current state); a scheduled attempt
        also sets ``logged``."""
        ...


class CreatorSettings(Protocol):
    def get_email(self, creator: str) -> EmailSetting | None: ...

    def put_email(self, setting: EmailSetting) -> None: ...


class DeliveryQueue(Protocol):
    def schedule(self, task: dict[str, Any], delay_seconds: int) -> None:
        """Queue a delivery task (``delay_seconds`` ≤ 900: SQS's per-message delay)."""
        ...

    def dead_letter(self, task: dict[str, Any]) -> None:
        """Put an exhausted delivery on the dead-letter queue (alarmed)."""
        ...


class Mailer(Protocol):
    def request_verification(self, email: str) -> str:
        """Start SES verification of ``email``; its verification status."""
        ...

    def verification_status(self, email: str) -> str:
        """SES's status: Success, Pending, Failed, TemporaryFailure or NotStarted."""
        ...

    def send(self, sender: str, to: str, subject: str, text: str, html: str) -> str:
        """One multipart/alternative message (text + HTML); its SES message id."""
        ...
