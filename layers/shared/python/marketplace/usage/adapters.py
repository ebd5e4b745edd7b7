"""The usage table in DynamoDB (``licenseId`` + numeric ``seq``), on the low-level client: the
access path's write is one PutItem."""

from __future__ import annotations

from marketplace.adapters.aws import client, error_code
from marketplace.adapters.dynamodb import CONDITION_FAILED, from_ddb, to_ddb
from marketplace.shared.lifecycle import state_in
from marketplace.usage.models import BATCH_LIFECYCLE, BatchState, UsageEvent
from marketplace.usage.ports import UsageConflict


class DynamoUsageLog:
    def __init__(self, table: str) -> None:
        self.table = table

    @property
    def _ddb(self):
        return client("dynamodb")

    def record(self, event: UsageEvent) -> None:
        BATCH_LIFECYCLE.transition(None, event.batch)
        try:
            self._ddb.put_item(TableName=self.table, Item=to_ddb(event.to_item()),
                               ConditionExpression="attribute_not_exists(seq)")
        except Exception as exc:
            if error_code(exc) in CONDITION_FAILED:
                raise UsageConflict(f"{event.license_id}#{event.seq}") from None
            raise

    def pending(self, license_id: str, from_seq: int = 0, limit: int = 64) -> list[UsageEvent]:
        condition, values = state_in((BatchState.PENDING,), "#b", ":b")
        events: list[UsageEvent] = []
        kwargs = {"TableName": self.table, "KeyConditionExpression": "licenseId = :l AND seq >= :s",
                  "FilterExpression": condition, "ExpressionAttributeNames": {"#b": "batch"},
                  "ExpressionAttributeValues": to_ddb({":l": license_id, ":s": from_seq, **values}),
                  "ConsistentRead": True}
        while len(events) < limit:
            out = self._ddb.query(**kwargs)
            events += [UsageEvent.from_item(from_ddb(i)) for i in out.get("Items", [])]
            if "LastEvaluatedKey" not in out:
                break
            kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]
        return events[:limit]

    def mark_proven(self, license_id: str, seqs: list[int]) -> int:
        condition, values = state_in(BATCH_LIFECYCLE.sources(BatchState.PROVEN), "#b", ":b")
        moved = 0
        for seq in seqs:
            try:
                self._ddb.update_item(
                    TableName=self.table, Key=to_ddb({"licenseId": license_id, "seq": seq}),
                    UpdateExpression="SET #b = :proven", ConditionExpression=condition,
                    ExpressionAttributeNames={"#b": "batch"},
                    ExpressionAttributeValues=to_ddb({**values, ":proven": str(BatchState.PROVEN)}))
                moved += 1
            except Exception as exc:
                if error_code(exc) not in CONDITION_FAILED:
                    raise
        return moved
