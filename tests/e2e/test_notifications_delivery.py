"""Notifications through real queues: the moto server, the local stack's SQS pollers and the real
handlers (``notifications``, ``webhook-delivery``, ``notifications-api``), a webhook receiver on
127.0.0.1 (plain http: the local setting ``WEBHOOKS_ALLOW_LOOPBACK``).

Given a creator's webhook and verified email, when a ``payment.completed`` message is put on the
``notifications`` queue, then the receiver gets it signed per Standard Webhooks (verified with the
``standardwebhooks`` package) and moto's SES records an email with the amount and contentId in its
text and HTML parts; a receiver failing twice gets it on the third attempt after the (compressed)
backoff, one failing always ends on the dead-letter queue, and replay sends it again.
"""

from __future__ import annotations

import email
import functools
import json
import time
import uuid

import pytest
import requests
from marketplace import resources
from standardwebhooks import Webhook as StandardWebhook

from local.aws import create_local_resources, verify_email_sender
from local.lambdas import LocalFunction
from local.stack import function_env
from local.workers import SqsPoller, WorkerContext, stop_workers
from tests.support.waiting import wait_for as _wait_for
from tests.support.webhook_receiver import Receiver

pytestmark = pytest.mark.e2e

PREFIX = "notify-test"
CREATOR = "0x" + "Ab" * 20
SENDER = "notifications@zkdm.test"
FUNCTIONS = ("notifications", "webhook-delivery", "notifications-api")


wait_for = functools.partial(_wait_for, interval=0.1)

@pytest.fixture(scope="module")
def stack(moto_server):
    mp = pytest.MonkeyPatch()
    mp.setenv("AWS_ENDPOINT_URL", moto_server.url)
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        mp.setenv(var, "testing")
    mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
    from marketplace.adapters import aws, secrets

    aws.client.cache_clear()
    secrets.clear_cache()
    env = create_local_resources(moto_server.url, PREFIX)
    verify_email_sender(moto_server.url, SENDER)
    env.update({"WEBHOOKS_ALLOW_LOOPBACK": "true", "EMAIL_FROM": SENDER, "WEBHOOK_RETRY_SCHEDULE": "1,1,1"})
    functions = {}
    for name in FUNCTIONS:
        spec = resources.by_name(resources.FUNCTIONS, name)
        functions[name] = LocalFunction(resources.physical_name(PREFIX, name), spec.handler, function_env(spec, env))
    ctx = WorkerContext(functions, PREFIX, moto_server.url)
    workers = [SqsPoller(ctx, queue="notifications", function="notifications"),
               SqsPoller(ctx, queue="webhook-deliveries", function="webhook-delivery", batch_size=4)]
    for w in workers:
        w.start()
    yield {"env": env, "functions": functions, "ctx": ctx, "moto": moto_server}
    stop_workers(workers)
    mp.undo()
    aws.client.cache_clear()
    secrets.clear_cache()


def call(stack, method: str, resource: str, params: dict | None = None, body: dict | None = None) -> tuple[int, dict]:
    path = resource
    for k, v in (params or {}).items():
        path = path.replace("{" + k + "}", v)
    event = {"resource": resource, "path": path, "httpMethod": method,
             "headers": {"Content-Type": "application/json"}, "multiValueHeaders": {},
             "queryStringParameters": None, "multiValueQueryStringParameters": None,
             "pathParameters": params or None, "stageVariables": None, "isBase64Encoded": False,
             "body": json.dumps(body) if body is not None else None,
             "requestContext": {"requestId": str(uuid.uuid4()), "resourcePath": resource, "httpMethod": method,
                                "stage": "local", "identity": {"sourceIp": "127.0.0.1"},
                                "authorizer": {"address": CREATOR}}}
    out = stack["functions"]["notifications-api"](event)
    return out["statusCode"], json.loads(out["body"]) if out.get("body") else {}


def publish(stack, n: str) -> dict:
    message = {"id": f"evt-{n}", "type": "payment.completed", "creator": CREATOR,
               "occurredAt": "2027-01-15T10:00:00Z",
               "data": {"amount": 9_750_000, "contentId": "0x" + "cc" * 32, "licenseId": "0x" + "11" * 32,
                        "batchId": 4, "txHash": "0x" + n.encode().hex().ljust(64, "e"), "uses": 100,
                        "platformFee": 250_000}}
    stack["ctx"].client("sqs").send_message(QueueUrl=stack["env"]["NOTIFICATIONS_QUEUE"], MessageBody=json.dumps(message))
    return message


def register(stack, receiver: Receiver, events=("payment.completed",)) -> tuple[str, str]:
    status, body = call(stack, "POST", "/webhooks", body={"url": receiver.url, "events": list(events)})
    assert status == 201, body
    return body["webhookId"], body["secret"]


def deliveries(stack, webhook_id: str) -> list[dict]:
    status, body = call(stack, "GET", "/webhooks/{webhookId}/deliveries", {"webhookId": webhook_id})
    assert status == 200, body
    return body["deliveries"]


def sent_emails(stack) -> list[email.message.Message]:
    data = requests.get(f"{stack['moto'].url}/moto-api/data.json", timeout=10).json()
    raw = data.get("ses", {}).get("RawMessage", [])
    return [email.message_from_string(m["raw_data"]) for m in raw]


def test_payment_completed_reaches_the_webhook_verified_and_the_verified_email(stack):
    status, body = call(stack, "PUT", "/creator/notifications/email", body={"email": "creator@example.com"})
    assert status == 200 and body["verified"] is True  # moto verifies at once
    with Receiver() as receiver:
        webhook_id, secret = register(stack, receiver)
        status, listed = call(stack, "GET", "/webhooks")
        assert status == 200 and "secret" not in json.dumps(listed)
        message = publish(stack, "1")
        assert receiver.wait(1, 30)
        got = receiver.received[0]
        payload = StandardWebhook(secret).verify(got.body, got.headers)
    assert payload["type"] == "payment.completed" and payload["data"] == message["data"]
    assert got.headers["webhook-id"] == "evt-1"
    log = wait_for(lambda: [d for d in deliveries(stack, webhook_id) if d["state"] == "DELIVERED"])
    assert log and log[0]["attempts"][0]["status"] == 204

    mails = wait_for(lambda: [m for m in sent_emails(stack) if "creator@example.com" in m["To"]])
    assert mails, "no email in moto"
    mail = mails[-1]
    parts = {p.get_content_type(): p.get_payload(decode=True).decode() for p in mail.walk() if not p.is_multipart()}
    assert set(parts) == {"text/plain", "text/html"} and mail["From"] == SENDER
    for text in parts.values():
        assert "9750000" in text and "0x" + "cc" * 32 in text


def test_a_receiver_failing_twice_gets_the_event_on_the_third_attempt(stack):
    with Receiver(statuses=[500, 502, 200]) as receiver:
        webhook_id, secret = register(stack, receiver)
        publish(stack, "2")
        assert receiver.wait(3, 40)
        time.sleep(1.5)  # nothing more comes
        assert len(receiver.received) == 3
        for got in receiver.received:
            StandardWebhook(secret).verify(got.body, got.headers)
    [delivery] = wait_for(lambda: [d for d in deliveries(stack, webhook_id) if d["state"] == "DELIVERED"])
    assert [(a["n"], a["scheduled"], a["status"]) for a in delivery["attempts"]] == [(1, 1, 500), (2, 2, 502),
                                                                                     (3, 3, 200)]


def test_a_receiver_failing_always_ends_on_the_dead_letter_queue_and_replay_resends(stack):
    with Receiver(statuses=[500, 500, 500, 500, 200]) as receiver:
        webhook_id, _ = register(stack, receiver)
        publish(stack, "3")
        [delivery] = wait_for(lambda: [d for d in deliveries(stack, webhook_id) if d["state"] == "FAILED"], 60)
        assert len(delivery["attempts"]) == 4 and len(receiver.received) == 4
        sqs = stack["ctx"].client("sqs")
        dead: list[dict] = []

        def dead_lettered() -> bool:  # (earlier tests' webhooks, their receivers gone, end there too)
            out = sqs.receive_message(QueueUrl=stack["env"]["WEBHOOK_DEAD_LETTERS_QUEUE"], MaxNumberOfMessages=10,
                                      WaitTimeSeconds=1, VisibilityTimeout=0)
            dead.extend(json.loads(m["Body"]) for m in out.get("Messages", []))
            return any(d["deliveryId"] == delivery["deliveryId"] for d in dead)

        assert wait_for(dead_lettered)
        [mine] = {json.dumps(d) for d in dead if d["deliveryId"] == delivery["deliveryId"]}
        assert json.loads(mine)["attempts"] == 4 and json.loads(mine)["lastError"] == "HTTP 500"
        status, replayed = call(stack, "POST", "/webhooks/{webhookId}/deliveries/{deliveryId}/replay",
                                {"webhookId": webhook_id, "deliveryId": delivery["deliveryId"]})
    assert status == 200 and replayed["state"] == "DELIVERED" and replayed["attempts"][-1]["trigger"] == "replay"
    assert len(receiver.received) == 5 and receiver.received[-1].body == receiver.received[0].body


def test_test_rotate_delete_and_refusals_through_the_api(stack):
    with Receiver() as receiver:
        webhook_id, old = register(stack, receiver)
        status, rotated = call(stack, "POST", "/webhooks/{webhookId}/rotate", {"webhookId": webhook_id})
        assert status == 200 and rotated["secret"] != old
        status, tested = call(stack, "POST", "/webhooks/{webhookId}/test", {"webhookId": webhook_id})
        assert status == 200 and tested["state"] == "DELIVERED" and tested["type"] == "webhook.test"
        got = receiver.received[-1]
        for secret in (old, rotated["secret"]):  # during the grace either secret verifies
            StandardWebhook(secret).verify(got.body, got.headers)
    status, err = call(stack, "POST", "/webhooks", body={"url": "http://169.254.169.254/latest",
                                                         "events": ["payment.completed"]})
    assert status == 403 and err["error"] == "FORBIDDEN"
    status, err = call(stack, "POST", "/webhooks", body={"url": "https://h.example.com", "events": ["nope"]})
    assert status == 422
    assert call(stack, "DELETE", "/webhooks/{webhookId}", {"webhookId": webhook_id})[0] == 204
    assert call(stack, "DELETE", "/webhooks/{webhookId}", {"webhookId": webhook_id})[0] == 404
