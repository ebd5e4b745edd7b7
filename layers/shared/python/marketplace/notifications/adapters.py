"""The notifications ports on AWS: DynamoDB tables (``webhooks``, ``deliveries``,
``creator-settings``), the ``webhook-deliveries`` SQS queue and its dead-letter queue, SES."""

from __future__ import annotations

import json
from typing import Any

from marketplace.adapters.aws import client, error_code
from marketplace.adapters.dynamodb import CONDITION_FAILED, Table, from_ddb, to_ddb
from marketplace.notifications.emails import mime
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
from marketplace.shared.lifecycle import state_in


class DynamoWebhookStore:
    def __init__(self, table: str) -> None:
        self.table = Table(table)

    def create(self, webhook: Webhook) -> None:
        if not self.table.put(webhook.to_item(), condition="attribute_not_exists(webhookId)"):
            raise ValueError(f"webhook {webhook.webhook_id} exists")

    def get(self, webhook_id: str) -> Webhook | None:
        item = self.table.get({"webhookId": webhook_id})
        return Webhook.from_item(item) if item else None

    def by_creator(self, creator: str) -> list[Webhook]:
        ddb = client("dynamodb")
        kwargs: dict[str, Any] = {"TableName": self.table.name, "IndexName": "byCreator",
                                  "KeyConditionExpression": "creator = :c",
                                  "ExpressionAttributeValues": to_ddb({":c": creator})}
        out: list[Webhook] = []
        while True:
            page = ddb.query(**kwargs)
            out += [Webhook.from_item(from_ddb(i)) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return sorted(out, key=lambda w: (w.created_at, w.webhook_id))

    def delete(self, webhook_id: str) -> bool:
        return bool(self.table.delete({"webhookId": webhook_id}))

    def set_secrets(self, webhook_id: str, secrets: tuple[SealedSecret, ...]) -> bool:
        return self.table.update({"webhookId": webhook_id}, {"secrets": [s.to_item() for s in secrets]},
                                 condition="attribute_exists(webhookId)")


class DynamoDeliveryStore:
    def __init__(self, table: str) -> None:
        self.name = table
        self.table = Table(table)

    def create(self, delivery: Delivery) -> tuple[Delivery, bool]:
        created = self.table.put(delivery.to_item(), condition="attribute_not_exists(deliveryId)")
        stored = self.get(delivery.delivery_id)
        assert stored is not None
        return stored, created

    def get(self, delivery_id: str) -> Delivery | None:
        item = self.table.get({"deliveryId": delivery_id})
        return Delivery.from_item(item) if item else None

    def by_target(self, target: str, limit: int = 50) -> list[Delivery]:
        out = client("dynamodb").query(
            TableName=self.name, IndexName="byWebhook", KeyConditionExpression="webhookId = :w",
            ExpressionAttributeValues=to_ddb({":w": target}), ScanIndexForward=False, Limit=limit)
        return [Delivery.from_item(from_ddb(i)) for i in out.get("Items", [])]

    def claim(self, delivery_id: str, attempt: int, now: int, stale_after: int) -> Delivery | None:
        states, values = state_in(SCHEDULED, "#st", ":st")
        condition = (f"attribute_exists(deliveryId) AND {states} AND (attempts = :prev OR "
                     "(attempts = :n AND logged = :prev AND claimedAt < :stale))")
        try:
            out = client("dynamodb").update_item(
                TableName=self.name, Key=to_ddb({"deliveryId": delivery_id}),
                UpdateExpression="SET attempts = :n, claimedAt = :now", ConditionExpression=condition,
                ExpressionAttributeNames={"#st": "state"},
                ExpressionAttributeValues=to_ddb({**values, ":prev": attempt - 1, ":n": attempt, ":now": now,
                                                  ":stale": now - stale_after}),
                ReturnValues="ALL_NEW")
        except Exception as exc:
            if error_code(exc) in CONDITION_FAILED:
                return None
            raise
        return Delivery.from_item(from_ddb(out["Attributes"]))

    def record(self, delivery_id: str, attempt: Attempt, state: DeliveryState) -> Delivery | None:
        sources, states_values = state_in(DELIVERY_LIFECYCLE.sources(state), "#st", ":src")
        update = "SET #log = list_append(if_not_exists(#log, :empty), :entry), #st = :state"
        values: dict[str, Any] = {**states_values, ":empty": [], ":entry": [attempt.to_item()], ":state": str(state)}
        if attempt.scheduled is not None:
            update += ", logged = :logged"
            values[":logged"] = attempt.scheduled
        try:
            out = client("dynamodb").update_item(
                TableName=self.name, Key=to_ddb({"deliveryId": delivery_id}), UpdateExpression=update,
                ConditionExpression=f"attribute_exists(deliveryId) AND {sources}",
                ExpressionAttributeNames={"#st": "state", "#log": "log"},
                ExpressionAttributeValues=to_ddb(values), ReturnValues="ALL_NEW")
        except Exception as exc:
            if error_code(exc) in CONDITION_FAILED:
                return None
            raise
        return Delivery.from_item(from_ddb(out["Attributes"]))


class DynamoCreatorSettings:
    def __init__(self, table: str) -> None:
        self.table = Table(table)

    def get_email(self, creator: str) -> EmailSetting | None:
        item = self.table.get({"creator": creator})
        return EmailSetting.from_item(item) if item and "email" in item else None

    def put_email(self, setting: EmailSetting) -> None:
        item = setting.to_item()
        self.table.update({"creator": setting.creator}, {k: v for k, v in item.items() if k != "creator"})


def queue_url(value: str) -> str:
    """A queue's URL from its environment value (the local stack gives URLs, CDK names)."""
    if value.startswith(("http://", "https://")):
        return value
    return client("sqs").get_queue_url(QueueName=value)["QueueUrl"]


class SqsDeliveryQueue:
    def __init__(self, queue: str, dead_letters: str) -> None:
        self.queue, self.dead_letters = queue, dead_letters

    def schedule(self, task: dict[str, Any], delay_seconds: int) -> None:
        if not 0 <= delay_seconds <= 900:
            raise ValueError("SQS delays are 0-900 s")
        client("sqs").send_message(QueueUrl=queue_url(self.queue), MessageBody=json.dumps(task),
                                   DelaySeconds=delay_seconds)

    def dead_letter(self, task: dict[str, Any]) -> None:
        client("sqs").send_message(QueueUrl=queue_url(self.dead_letters), MessageBody=json.dumps(task))


class SesMailer:
    """SES (v1 API: moto implements it): identities are verified per address; a message is sent
    raw, so the text and HTML alternatives both reach SES (and moto records both)."""

    def request_verification(self, email: str) -> str:
        client("ses").verify_email_identity(EmailAddress=email)
        return self.verification_status(email)

    def verification_status(self, email: str) -> str:
        out = client("ses").get_identity_verification_attributes(Identities=[email])
        return str(out.get("VerificationAttributes", {}).get(email, {}).get("VerificationStatus", "NotStarted"))

    def send(self, sender: str, to: str, subject: str, text: str, html: str) -> str:
        raw = mime(sender, to, subject, text, html)
        out = client("ses").send_raw_email(Source=sender, Destinations=[to], RawMessage={"Data": raw})
        return str(out["MessageId"])
