"""Notifications over the in-memory ports and a real receiver on 127.0.0.1: fan-out, signatures
(verified with the ``standardwebhooks`` package), retries with backoff, dead letters, replay,
rotation's grace, and email only to verified addresses."""

from __future__ import annotations

import json

import pytest
from marketplace.errors import ConflictError, ForbiddenError, NotFoundError
from marketplace.notifications import signing
from marketplace.notifications.fakes import (
    ListQueue,
    MemoryCreatorSettings,
    MemoryDeliveryStore,
    MemoryMailer,
    MemoryWebhookStore,
)
from marketplace.notifications.models import DeliveryState, NotificationMessage
from marketplace.notifications.services import Notifications, NotificationSettings
from standardwebhooks import Webhook as StandardWebhook
from standardwebhooks import WebhookVerificationError

from tests.support.webhook_receiver import Receiver

pytestmark = pytest.mark.unit

CREATOR, OTHER = "0x" + "Ab" * 20, "0x" + "cd" * 20
KEY = bytes(range(32))


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def payment(n: int = 1, creator: str = CREATOR) -> NotificationMessage:
    return NotificationMessage.model_validate({
        "id": f"evt-{n}", "type": "payment.completed", "creator": creator, "occurredAt": "2027-01-15T10:00:00Z",
        "data": {"amount": 975_000, "contentId": "0x" + "cc" * 32, "licenseId": "0x" + "11" * 32, "batchId": 3,
                 "txHash": "0x" + "ee" * 32, "uses": 10, "platformFee": 25_000}})


@pytest.fixture
def world():
    clock = Clock()
    queue, mailer = ListQueue(), MemoryMailer()
    svc = Notifications(MemoryWebhookStore(), MemoryDeliveryStore(), MemoryCreatorSettings(), mailer, queue,
                        lambda: KEY, NotificationSettings(allow_loopback=True, retry_schedule=(5, 60, 3600),
                                                          email_from="n@zkdm.test"), clock=clock)
    return svc, queue, mailer, clock


def run_queue(svc: Notifications, queue: ListQueue, clock: Clock, rounds: int = 20) -> list[dict]:
    """Run the delivery consumer over what is queued, advancing the clock by each task's delay."""
    outcomes = []
    for _ in range(rounds):
        tasks = queue.take()
        if not tasks:
            break
        for task, delay in tasks:
            clock.now += delay
            outcomes.append(svc.deliver(task))
    return outcomes


def verify(secret: str, got) -> dict:
    return StandardWebhook(secret).verify(got.body, got.headers)


def test_a_payment_reaches_the_creators_webhook_signed_per_standard_webhooks(world):
    svc, queue, _, clock = world
    with Receiver() as receiver:
        webhook, secret = svc.register(CREATOR, receiver.url, ["payment.completed"])
        svc.register(CREATOR, receiver.url, ["license.revoked"])  # another type: not sent
        clock.now = __import__("time").time()  # the receiver's library checks the timestamp is recent
        summary = svc.fan_out(payment())
        run_queue(svc, queue, clock)
    assert secret.startswith("whsec_") and summary["webhooks"] == 1 and summary["queued"] == 1
    [got] = receiver.received
    payload = verify(secret, got)
    assert payload["type"] == "payment.completed" and payload["timestamp"] == "2027-01-15T10:00:00Z"
    assert payload["data"]["amount"] == 975_000 and payload["data"]["contentId"] == "0x" + "cc" * 32
    assert payload["data"]["txHash"] == "0x" + "ee" * 32
    assert got.headers["webhook-id"] == "evt-1" and got.headers["content-type"] == "application/json"
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(signing.new_secret()).verify(got.body, got.headers)
    [delivery] = svc.delivery_log(CREATOR, webhook.webhook_id)
    assert delivery.state == DeliveryState.DELIVERED and [a.status for a in delivery.log] == [204]


def test_a_message_seen_twice_makes_one_delivery_and_one_attempt(world):
    svc, queue, _, _clock = world
    with Receiver() as receiver:
        svc.register(CREATOR, receiver.url, ["payment.completed"])
        svc.fan_out(payment())
        first = queue.take()
        svc.fan_out(payment())  # redelivered before the first task ran: queued again, claimed once
        second = queue.take()
        for task, _ in first + second + first:
            svc.deliver(task)
        svc.fan_out(payment())  # after delivery: nothing more
    assert len(receiver.received) == 1 and queue.take() == []


def test_a_receiver_failing_twice_gets_the_event_after_backoff_and_the_log_shows_three_attempts(world):
    svc, queue, _, clock = world
    with Receiver(statuses=[500, 503, 200]) as receiver:
        webhook, _secret = svc.register(CREATOR, receiver.url, ["payment.completed"])
        svc.fan_out(payment())
        start = clock.now
        outcomes = run_queue(svc, queue, clock)
    assert [o["outcome"] for o in outcomes] == ["retry in 5 s", "retry in 60 s", "delivered"]
    assert clock.now - start == 65
    assert len(receiver.received) == 3 and len({r.headers["webhook-id"] for r in receiver.received}) == 1
    assert len({r.body for r in receiver.received}) == 1  # the same body, signed anew each time
    [delivery] = svc.delivery_log(CREATOR, webhook.webhook_id)
    assert [(a.scheduled, a.status, a.ok) for a in delivery.log] == [(1, 500, False), (2, 503, False), (3, 200, True)]
    assert delivery.state == DeliveryState.DELIVERED


def test_a_receiver_failing_always_is_dead_lettered_then_replay_resends(world):
    svc, queue, _, clock = world
    with Receiver(statuses=[500, 500, 500, 500, 200]) as receiver:
        webhook, _ = svc.register(CREATOR, receiver.url, ["payment.completed"])
        svc.fan_out(payment())
        outcomes = run_queue(svc, queue, clock)
        attempts = [o for o in outcomes if o["outcome"] != "deferred"]
        assert attempts[-1]["outcome"] == "dead-lettered" and len(attempts) == 4
        [dead] = queue.dead
        assert dead["webhookId"] == webhook.webhook_id and dead["attempts"] == 4 and dead["lastError"] == "HTTP 500"
        [delivery] = svc.delivery_log(CREATOR, webhook.webhook_id)
        assert delivery.state == DeliveryState.FAILED and len(delivery.log) == 4
        replayed = svc.replay(CREATOR, webhook.webhook_id, delivery.delivery_id)
    assert replayed.state == DeliveryState.DELIVERED and replayed.log[-1].trigger == "replay"
    assert len(receiver.received) == 5 and receiver.received[-1].body == receiver.received[0].body


def test_a_delay_longer_than_sqs_allows_comes_back_until_due(world):
    svc, queue, _, clock = world
    with Receiver(statuses=[500, 500, 500, 200]) as receiver:
        svc.register(CREATOR, receiver.url, ["payment.completed"])
        svc.fan_out(payment())
        outcomes = run_queue(svc, queue, clock)
    # the third failure waits 3600 s: four SQS hops of at most 900 s
    assert [o["outcome"] for o in outcomes].count("deferred") == 3 and outcomes[-1]["outcome"] == "delivered"


def test_a_deleted_webhooks_pending_delivery_is_cancelled(world):
    svc, queue, _, clock = world
    with Receiver() as receiver:
        webhook, _ = svc.register(CREATOR, receiver.url, ["payment.completed"])
        svc.fan_out(payment())
        svc.delete(CREATOR, webhook.webhook_id)
        assert run_queue(svc, queue, clock)[0]["outcome"] == "cancelled"
    assert receiver.received == []


def test_rotation_signs_with_both_secrets_during_the_grace_then_the_new_one_only(world):
    svc, queue, _, clock = world
    import time

    clock.now = time.time()
    with Receiver() as receiver:
        webhook, old = svc.register(CREATOR, receiver.url, ["payment.completed"])
        _, new, grace_ends = svc.rotate(CREATOR, webhook.webhook_id)
        assert grace_ends == int(clock.now) + 24 * 3600
        svc.fan_out(payment(1))
        run_queue(svc, queue, clock)
        during = receiver.received[-1]
        assert verify(old, during) == verify(new, during)
        assert len(during.headers["webhook-signature"].split(" ")) == 2
        assert svc.list_webhooks(CREATOR)[0].secrets[1].expires == grace_ends

        clock.now = grace_ends + 1  # the receiver checks timestamps: sign "now" and verify at once
        svc.test(CREATOR, webhook.webhook_id)
        after = receiver.received[-1]
    sig = after.headers["webhook-signature"]
    assert len(sig.split(" ")) == 1
    ts = int(after.headers["webhook-timestamp"])
    assert sig == signing.signature(new, after.headers["webhook-id"], ts, after.body.decode())
    assert sig != signing.signature(old, after.headers["webhook-id"], ts, after.body.decode())


def test_registration_refuses_unsafe_urls_and_other_creators_see_nothing(world):
    svc, *_ = world
    strict = Notifications(svc.webhooks, svc.deliveries, svc.settings_store, svc.mailer, svc.queue, lambda: KEY,
                           NotificationSettings(), resolve=lambda host, port: ["10.0.0.1"])
    for url in ("http://hooks.example.com/", "https://hooks.example.com/", "https://169.254.169.254/"):
        with pytest.raises(ForbiddenError):
            strict.register(CREATOR, url, ["payment.completed"])
    webhook, _ = svc.register(CREATOR, "http://127.0.0.1:9/x", ["payment.completed"])
    with pytest.raises(NotFoundError):
        svc.delete(OTHER, webhook.webhook_id)
    with pytest.raises(NotFoundError):
        svc.rotate(OTHER, webhook.webhook_id)
    with pytest.raises(NotFoundError):
        svc.delivery_log(OTHER, webhook.webhook_id)
    assert svc.list_webhooks(OTHER) == [] and [w.webhook_id for w in svc.list_webhooks(CREATOR)] == [webhook.webhook_id]
    for _ in range(9):
        svc.register(CREATOR, "http://127.0.0.1:9/x", ["payment.completed"])
    with pytest.raises(ConflictError):
        svc.register(CREATOR, "http://127.0.0.1:9/x", ["payment.completed"])


def test_secrets_are_sealed_at_rest(world):
    svc, *_ = world
    webhook, secret = svc.register(CREATOR, "http://127.0.0.1:9/x", ["payment.completed"])
    stored = json.dumps(svc.webhooks.table.get_item({"webhookId": webhook.webhook_id}))
    assert secret not in stored and secret[6:] not in stored
    assert signing.unseal(webhook.secrets[0].sealed, KEY, webhook.webhook_id) == secret
    with pytest.raises(ValueError):
        signing.unseal(webhook.secrets[0].sealed, KEY, "wh_" + "0" * 24)  # bound to its webhook


def test_email_goes_only_to_a_verified_address_with_text_and_html(world):
    svc, _, mailer, _ = world
    mailer.verify_at_once = False
    setting = svc.set_email(CREATOR, "creator@example.com")
    assert setting.status == "Pending"
    assert svc.fan_out(payment(1))["email"] == "address not verified (Pending)" and mailer.sent == []
    mailer.identities["creator@example.com"] = "Success"  # the creator clicked SES's link
    assert svc.get_email(CREATOR).status == "Success"
    assert svc.fan_out(payment(2))["email"] == "sent"
    assert svc.fan_out(payment(2))["email"] == "already sent"
    [mail] = mailer.sent
    assert mail["to"] == "creator@example.com" and mail["from"] == "n@zkdm.test"
    for part in (mail["text"], mail["html"], mail["subject"]):
        assert "975000" in part and "0x" + "cc" * 32 in part
    assert "<table>" in mail["html"]
    with pytest.raises(NotFoundError):
        svc.get_email(OTHER)
