"""The usage table in DynamoDB (``licenseId`` + numeric ``seq``) and the usage-signers table
(``licenseId`` + ``signer``), on the low-level client: the access path's signed use is one
TransactWriteItems (the event put and the signer's counter advanced together)."""

from __future__ import annotations

import hashlib
from typing import Any

from marketplace.adapters.aws import client, error_code
from marketplace.adapters.dynamodb import CONDITION_FAILED, from_ddb, to_ddb
from marketplace.adapters.transactions import (
    TransactionContended,
    cancellation_reasons,
    condition_failed,
    transact_write,
)
from marketplace.shared.lifecycle import state_in
from marketplace.usage.models import (
    BATCH_LIFECYCLE,
    SIGNER_LIFECYCLE,
    BatchState,
    SignerState,
    UsageEvent,
    UsageSigner,
)
from marketplace.usage.ports import SignerRefused, UsageConflict, UsageContended


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

    def events_from(self, license_id: str, from_seq: int, limit: int) -> list[UsageEvent]:
        events: list[UsageEvent] = []
        kwargs = {"TableName": self.table, "KeyConditionExpression": "licenseId = :l AND seq >= :s",
                  "ExpressionAttributeValues": to_ddb({":l": license_id, ":s": from_seq}),
                  "ConsistentRead": True, "Limit": limit}
        while len(events) < limit:
            out = self._ddb.query(**kwargs)
            events += [UsageEvent.from_item(from_ddb(i)) for i in out.get("Items", [])]
            if "LastEvaluatedKey" not in out:
                break
            kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]
        return events[:limit]

    def mark_proven(self, license_id: str, seqs: list[int], *, batch_id: str | None = None,
                    tx_hash: str | None = None, first_index: int | None = None) -> int:
        condition, values = state_in(BATCH_LIFECYCLE.sources(BatchState.PROVEN), "#b", ":b")
        moved = 0
        for position, seq in enumerate(seqs):
            extra = {k: v for k, v in (("batchId", batch_id), ("txHash", tx_hash),
                                       ("index", None if first_index is None else first_index + position))
                     if v is not None}
            sets = ", ".join(["#b = :proven"] + [f"#{k} = :{k}" for k in extra])
            try:
                self._ddb.update_item(
                    TableName=self.table, Key=to_ddb({"licenseId": license_id, "seq": seq}),
                    UpdateExpression=f"SET {sets}", ConditionExpression=condition,
                    ExpressionAttributeNames={"#b": "batch", **{f"#{k}": k for k in extra}},
                    ExpressionAttributeValues=to_ddb({**values, ":proven": str(BatchState.PROVEN),
                                                      **{f":{k}": v for k, v in extra.items()}}))
                moved += 1
            except Exception as exc:
                if error_code(exc) not in CONDITION_FAILED:
                    raise
        return moved


class DynamoUsageSigners:
    """``UsageSigners`` on the usage-signers table; ``record_signed_use`` also writes the usage table."""

    def __init__(self, table: str, usage_table: str | None = None) -> None:
        self.table = table
        self.usage_table = usage_table

    @property
    def _ddb(self):
        return client("dynamodb")

    def get(self, license_id: str, signer: str) -> UsageSigner | None:
        item = self._ddb.get_item(TableName=self.table, Key=to_ddb({"licenseId": license_id, "signer": signer.lower()}),
                                  ConsistentRead=True).get("Item")
        return UsageSigner.from_item(from_ddb(item)) if item else None

    def list(self, license_id: str) -> list[UsageSigner]:
        out: list[UsageSigner] = []
        kwargs = {"TableName": self.table, "KeyConditionExpression": "licenseId = :l",
                  "ExpressionAttributeValues": to_ddb({":l": license_id}), "ConsistentRead": True}
        while True:
            page = self._ddb.query(**kwargs)
            out += [UsageSigner.from_item(from_ddb(i)) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return sorted(out, key=lambda s: s.signer)
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def add(self, license_id: str, signer: str, at: int, tx_hash: str | None) -> bool:
        SIGNER_LIFECYCLE.transition(None, SignerState.ACTIVE)
        item = {"licenseId": license_id, "signer": signer.lower(), "state": str(SignerState.ACTIVE),
                "lastCounter": 0, "addedAt": at, **({"txHash": tx_hash} if tx_hash else {})}
        try:
            self._ddb.put_item(TableName=self.table, Item=to_ddb(item),
                               ConditionExpression="attribute_not_exists(signer)")
        except Exception as exc:
            if error_code(exc) in CONDITION_FAILED:
                return False
            raise
        return True

    def revoke(self, license_id: str, signer: str, at: int, tx_hash: str | None) -> bool:
        condition, values = state_in(SIGNER_LIFECYCLE.sources(SignerState.REVOKED), "#st", ":st")
        try:
            self._ddb.update_item(
                TableName=self.table, Key=to_ddb({"licenseId": license_id, "signer": signer.lower()}),
                UpdateExpression="SET #st = :revoked, revokedAt = :at, lastCounter = if_not_exists(lastCounter, :zero)"
                                 + (", revokeTx = :tx" if tx_hash else ""),
                ConditionExpression=f"attribute_not_exists(signer) OR {condition}",
                ExpressionAttributeNames={"#st": "state"},
                ExpressionAttributeValues=to_ddb({**values, ":revoked": str(SignerState.REVOKED), ":at": at,
                                                  ":zero": 0, **({":tx": tx_hash} if tx_hash else {})}))
        except Exception as exc:
            if error_code(exc) in CONDITION_FAILED:
                return False
            raise
        return True

    def record_signed_use(self, event: UsageEvent) -> None:
        access = event.access
        if access is None or self.usage_table is None:
            raise ValueError("a signed use needs its access and the usage table")
        BATCH_LIFECYCLE.transition(None, event.batch)
        key = {"licenseId": event.license_id, "signer": access.signer}
        try:
            transact_write(token=hashlib.sha256(f"{event.license_id}#{event.seq}".encode()).hexdigest(), items=[
                {"Put": {"TableName": self.usage_table, "Item": to_ddb(event.to_item()),
                         "ConditionExpression": "attribute_not_exists(seq)"}},
                {"Update": {"TableName": self.table, "Key": to_ddb(key),
                            "UpdateExpression": "SET lastCounter = :c, lastSignature = :sig, lastRequestHash = :rh, "
                                                "lastSeq = :seq",
                            "ConditionExpression": "#st = :active AND lastCounter = :prev",
                            "ExpressionAttributeNames": {"#st": "state"},
                            "ExpressionAttributeValues": to_ddb({
                                ":c": access.counter, ":prev": access.counter - 1, ":sig": access.signature,
                                ":rh": access.request_hash, ":seq": event.seq,
                                ":active": str(SignerState.ACTIVE)})}},
            ])
        except TransactionContended:
            raise UsageContended(f"{event.license_id}#{event.seq}") from None
        except Exception as exc:
            # only a failed condition is the signer's or the seq's answer: a TransactionConflict
            # (another request on the signer's item) was retried by transact_write
            if not condition_failed(exc):
                raise
            codes = cancellation_reasons(exc)
            if codes and codes[0] == "ConditionalCheckFailed":
                raise UsageConflict(f"{event.license_id}#{event.seq}") from None
            raise SignerRefused(self.get(event.license_id, access.signer)) from None


class DynamoBatchLicenses:
    """What the batch prover reads and writes on the licenses table (``usesProven``, the seq cursor
    ``usageCursor``, the in-flight ``batchClaim``) and its per-license lock (ratelimits table)."""

    def __init__(self, licenses: str, ratelimits: str) -> None:
        from marketplace.adapters.dynamodb import Table

        self.table = Table(licenses)
        self.locks = Table(ratelimits)

    def pending(self, limit: int) -> list[str]:
        """Licenses with uses granted beyond those proven (a scan: one run's worth)."""
        ids: list[str] = []
        kwargs: dict[str, Any] = {"TableName": self.table.name, "ProjectionExpression": "licenseId",
                  "FilterExpression": "usesGranted > usesProven AND attribute_not_exists(revokedAt)"}
        while len(ids) < limit:
            page = client("dynamodb").scan(**kwargs)
            ids += [from_ddb(i)["licenseId"] for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return ids[:limit]

    def get(self, license_id: str) -> dict | None:
        return self.table.get({"licenseId": license_id})

    def lock(self, license_id: str, until: int, now: int) -> bool:
        return self.locks.put({"pk": f"lock#usage-batch#{license_id}", "ttl": until},
                              condition="attribute_not_exists(pk) OR #ttl < :now", values={":now": now},
                              names={"#ttl": "ttl"})

    def unlock(self, license_id: str) -> None:
        self.locks.delete({"pk": f"lock#usage-batch#{license_id}"})

    def set_claim(self, license_id: str, claim: dict) -> None:
        self.table.update({"licenseId": license_id}, {"batchClaim": claim})

    def clear_claim(self, license_id: str) -> None:
        self.table.update({"licenseId": license_id}, {}, remove=("batchClaim",))

    def complete(self, license_id: str, uses_proven: int, cursor: int) -> None:
        """The batch is proven: ``usesProven`` and the cursor advance (never back), the claim goes."""
        self.table.update({"licenseId": license_id}, {"usesProven": uses_proven, "usageCursor": cursor},
                          remove=("batchClaim",),
                          condition="attribute_not_exists(usesProven) OR usesProven <= :n",
                          values={":n": uses_proven})


class DynamoBatchRecords:
    """The batches table (``licenseId`` + numeric ``startIndex``): one record per proven batch."""

    def __init__(self, table: str) -> None:
        self.table = table

    @property
    def _ddb(self):
        return client("dynamodb")

    def put(self, license_id: str, start_index: int, record: dict, *, batch_id: str, tx_hash: str | None) -> None:
        item = {"licenseId": license_id, "startIndex": start_index, "digest": str(record["digest"]),
                "count": int(record["count"]), "windowStart": int(record["window_start"]),
                "windowEnd": int(record["window_end"]), "batchId": batch_id}
        if tx_hash:
            item["txHash"] = tx_hash
        try:
            self._ddb.put_item(TableName=self.table, Item=to_ddb(item),
                               ConditionExpression="attribute_not_exists(licenseId)")
        except Exception as exc:
            if error_code(exc) not in CONDITION_FAILED:
                raise  # else already recorded (a recovered run): a batch record never changes

    def list(self, license_id: str) -> list[dict]:
        out: list[dict] = []
        kwargs: dict[str, Any] = {"TableName": self.table, "KeyConditionExpression": "licenseId = :l",
                                  "ExpressionAttributeValues": to_ddb({":l": license_id}), "ConsistentRead": True}
        while True:
            page = self._ddb.query(**kwargs)
            out += [_record(from_ddb(i)) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _record(item: dict[str, Any]) -> dict[str, Any]:
    return {"startIndex": int(item["startIndex"]), "digest": int(item["digest"]), "count": int(item["count"]),
            "window_start": int(item["windowStart"]), "window_end": int(item["windowEnd"]),
            "batchId": item.get("batchId"), "txHash": item.get("txHash")}
