"""Contract of the notifications ports (``WebhookStore``, ``DeliveryStore``, ``CreatorSettings``)
over the fakes and the DynamoDB adapters, and of ``SesMailer`` against moto's SES (what moto
recorded: one raw message with the text and HTML parts)."""

from __future__ import annotations

import email
from concurrent.futures import ThreadPoolExecutor

import pytest
from marketplace.notifications.adapters import DynamoCreatorSettings, DynamoDeliveryStore, DynamoWebhookStore
from marketplace.notifications.fakes import MemoryCreatorSettings, MemoryDeliveryStore, MemoryWebhookStore
from marketplace.notifications.models import (
    Attempt,
    Delivery,
    DeliveryState,
    EmailSetting,
    NotificationMessage,
    SealedSecret,
    Webhook,
    delivery_id,
)

pytestmark = pytest.mark.contract

CREATOR = "0x" + "Ab" * 20


def stores(b):
    if b.kind == "memory":
        return (MemoryWebhookStore(b.tables["webhooks"]), MemoryDeliveryStore(b.tables["deliveries"]),
                MemoryCreatorSettings(b.tables["creator-settings"]))
    return (DynamoWebhookStore(b.tables["webhooks"]), DynamoDeliveryStore(b.tables["deliveries"]),
            DynamoCreatorSettings(b.tables["creator-settings"]))


def webhook(n: int, creator: str = CREATOR) -> Webhook:
    return Webhook(f"wh_{n:024x}", creator, "https://hooks.example.com/x", ("payment.completed",),
                   f"2027-01-01T00:00:0{n}Z", (SealedSecret("v1.abc", 100),))


def delivery(message: str = "evt-1", target: str = "wh_" + "0" * 24, at: str = "2027-01-01T00:00:00Z") -> Delivery:
    return Delivery(delivery_id(message, target), "webhook", target, CREATOR, message, "payment.completed",
                    '{"type":"payment.completed"}', at)


def attempt(ok: bool, scheduled: int | None = None, status: int | None = 500) -> Attempt:
    return Attempt(at="2027-01-01T00:00:05Z", trigger="scheduled" if scheduled else "replay", ok=ok,
                   scheduled=scheduled, status=status, durationMs=3)


def test_webhooks_by_creator_secrets_and_deletion(backend):
    hooks, _, _ = stores(backend)
    for n in (2, 1):
        hooks.create(webhook(n))
    hooks.create(webhook(3, creator="0x" + "cd" * 20))
    with pytest.raises(ValueError):
        hooks.create(webhook(1))
    assert [w.webhook_id for w in hooks.by_creator(CREATOR)] == [webhook(1).webhook_id, webhook(2).webhook_id]
    assert hooks.get(webhook(1).webhook_id) == webhook(1)
    rotated = (SealedSecret("v1.new", 200), SealedSecret("v1.abc", 100, expires=300))
    assert hooks.set_secrets(webhook(1).webhook_id, rotated)
    assert hooks.get(webhook(1).webhook_id).secrets == rotated
    assert hooks.delete(webhook(1).webhook_id) and not hooks.delete(webhook(1).webhook_id)
    assert hooks.get(webhook(1).webhook_id) is None and not hooks.set_secrets(webhook(1).webhook_id, rotated)


def test_a_delivery_is_created_once_and_listed_newest_first(backend):
    _, deliveries, _ = stores(backend)
    first, created = deliveries.create(delivery("evt-1"))
    again, created_again = deliveries.create(delivery("evt-1", at="2030-01-01T00:00:00Z"))
    assert created and not created_again and again == first == delivery("evt-1")
    deliveries.create(delivery("evt-2", at="2027-01-02T00:00:00Z"))
    deliveries.create(delivery("evt-3", target="wh_" + "1" * 24))
    assert [d.message_id for d in deliveries.by_target("wh_" + "0" * 24)] == ["evt-2", "evt-1"]
    assert deliveries.get("dlv_" + "f" * 32) is None


def test_one_claim_per_scheduled_attempt_even_in_parallel(backend):
    _, deliveries, _ = stores(backend)
    d, _ = deliveries.create(delivery())
    with ThreadPoolExecutor(6) as pool:
        claims = list(pool.map(lambda _: deliveries.claim(d.delivery_id, 1, 1000, 300), range(6)))
    assert sum(c is not None for c in claims) == 1
    assert deliveries.claim(d.delivery_id, 3, 1000, 300) is None  # not the next attempt
    # claimed, never logged: retaken only once the claim is stale
    assert deliveries.claim(d.delivery_id, 1, 1100, 300) is None
    assert deliveries.claim(d.delivery_id, 1, 1400, 300).attempts == 1
    out = deliveries.record(d.delivery_id, attempt(False, 1), DeliveryState.RETRYING)
    assert (out.state, out.logged, out.attempts, len(out.log)) == (DeliveryState.RETRYING, 1, 1, 1)
    assert deliveries.claim(d.delivery_id, 1, 9999, 300) is None  # logged: never again
    assert deliveries.claim(d.delivery_id, 2, 1500, 300).attempts == 2


def test_record_appends_in_order_and_follows_the_lifecycle(backend):
    _, deliveries, _ = stores(backend)
    d, _ = deliveries.create(delivery())
    deliveries.claim(d.delivery_id, 1, 10, 300)
    deliveries.record(d.delivery_id, attempt(False, 1), DeliveryState.RETRYING)
    deliveries.claim(d.delivery_id, 2, 20, 300)
    deliveries.record(d.delivery_id, attempt(False, 2), DeliveryState.FAILED)
    assert deliveries.claim(d.delivery_id, 3, 30, 300) is None  # failed: no more scheduled attempts
    out = deliveries.record(d.delivery_id, attempt(True, None, 200), DeliveryState.DELIVERED)  # a replay
    assert [(a.scheduled, a.ok, a.trigger) for a in out.log] == [(1, False, "scheduled"), (2, False, "scheduled"),
                                                                 (None, True, "replay")]
    assert out.state == DeliveryState.DELIVERED and out.logged == 2
    assert deliveries.record(d.delivery_id, attempt(False, 3), DeliveryState.RETRYING) is None  # not from DELIVERED
    assert deliveries.record("dlv_" + "f" * 32, attempt(True, 1), DeliveryState.DELIVERED) is None


def test_creator_email_setting_round_trips(backend):
    _, _, settings = stores(backend)
    assert settings.get_email(CREATOR) is None
    settings.put_email(EmailSetting(CREATOR, "c@example.com", "Pending", "2027-01-01T00:00:00Z"))
    settings.put_email(EmailSetting(CREATOR, "c@example.com", "Success", "2027-01-01T00:01:00Z"))
    assert settings.get_email(CREATOR) == EmailSetting(CREATOR, "c@example.com", "Success", "2027-01-01T00:01:00Z")


def test_ses_mailer_sends_text_and_html_that_moto_records(monkeypatch):
    from marketplace.adapters import aws
    from marketplace.notifications.adapters import SesMailer
    from marketplace.notifications.emails import render
    from moto import mock_aws
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    aws.client.cache_clear()
    message = NotificationMessage.model_validate({
        "id": "evt-9", "type": "payment.completed", "creator": CREATOR, "occurredAt": "2027-01-15T10:00:00Z",
        "data": {"amount": 4_875_000, "contentId": "0x" + "cc" * 32, "licenseId": "0x" + "11" * 32,
                 "batchId": 7, "txHash": "0x" + "ee" * 32, "uses": 50, "platformFee": 125_000}})
    try:
        with mock_aws():
            mailer = SesMailer()
            assert mailer.verification_status("creator@example.com") == "NotStarted"
            assert mailer.request_verification("creator@example.com") == "Success"  # moto verifies at once
            mailer.request_verification("notifications@zkdm.test")
            mailer.send("notifications@zkdm.test", "creator@example.com", *render(message))
            [sent] = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    finally:
        aws.client.cache_clear()
    assert sent.source == "notifications@zkdm.test" and set(sent.destinations) == {"creator@example.com"}
    mime = email.message_from_string(sent.raw_data)
    parts = {p.get_content_type(): p.get_payload(decode=True).decode() for p in mime.walk() if not p.is_multipart()}
    assert set(parts) == {"text/plain", "text/html"}
    for body in parts.values():
        assert "4875000" in body and "0x" + "cc" * 32 in body and "0x" + "ee" * 32 in body
    assert "4875000" in mime["Subject"] and parts["text/html"].startswith("<!doctype html>")
