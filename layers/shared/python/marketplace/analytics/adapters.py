"""The analytics table in DynamoDB (``pk`` + ``sk``, both strings), on the low-level client.

Items:

| pk | sk | what |
|---|---|---|
| ``creator#<address>`` / ``content#<id>`` | ``h#…`` ``d#…`` ``m#…`` ``all`` | counters of a bucket (``models``); a creator's also the per-content split and ``licensees`` (string set) |
| ``event#<id>`` | ``-`` | the marker of an applied change (uses: ttl 7 days, past the stream's 24 h; chain events: kept) |
| ``activity#<creator>`` | ``<at:010d>#<event id>`` | a recent-activity entry (ttl 90 days) |
| ``license#<licenseId>`` | ``-`` | creator, contentId, licensee, validUntil of a bought license |
| ``active#<creator>`` | ``<validUntil:010d>#<licenseId>`` | a license not revoked (expired ones fall out of the query's range) |
| ``rollup#<creator>`` | ``main`` | the dashboard's item (``rollup``): ``v`` version, ``m`` (zlib JSON), ``cache_<period>`` the cached answers |
| ``rollup#<creator>`` | ``detail`` | ``d`` (zlib JSON): per-content split, licensees' latest uses, expiries |

``apply`` reads the creator's rollup (both items, one consistent BatchGetItem), then writes one
TransactWriteItems: the marker (conditional on its absence) with every counter update (``ADD``),
the activity entry, the license items and both rollup items (the main one conditional on the
version read); a transaction conflict or a newer rollup (two changes of one creator at once) is
read again and retried with jittered backoff, the marker keeps it one effect.
Hour buckets expire after 35 days (a day's dashboard reads 48 hours), day and month buckets stay.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from typing import Any

from marketplace.adapters.aws import client, error_code
from marketplace.adapters.dynamodb import from_ddb, to_ddb
from marketplace.analytics import rollup
from marketplace.analytics.models import (
    ALL,
    COUNTERS,
    NAME,
    SPLIT,
    Bucket,
    Change,
    Counters,
    bucket_key,
    content_scope,
    creator_scope,
    licensee_key,
    short_id,
)

HOUR_BUCKET_TTL = 35 * 24 * 3600
USE_MARKER_TTL = 7 * 24 * 3600
ACTIVITY_TTL = 90 * 24 * 3600
MAX_ATTEMPTS = 30  # a creator's changes race for its rollup: each failed attempt means another one succeeded


@dataclass(frozen=True)
class BucketUpdate:
    pk: str
    sk: str
    add: dict[str, int]  # attribute -> increment (counters, and a creator's per-content split)
    licensee: str | None  # a licensee key added to the bucket's set
    set_absent: dict[str, Any]  # attribute -> value set if absent (ttl; id#<short> on a creator's all-time item)


def bucket_updates(change: Change) -> list[BucketUpdate]:
    """Every bucket item a change touches, and how."""
    deltas = {k: v for k, v in change.deltas.items() if v}
    short = short_id(change.content_id)
    split = {SPLIT[k] + short: v for k, v in deltas.items() if k in SPLIT}
    licensee = licensee_key(change.licensee) if change.licensee and deltas.get("uses") else None
    out = []
    for scope, of_creator in ((creator_scope(change.creator), True), (content_scope(change.content_id), False)):
        for granularity in (Bucket.HOUR, Bucket.DAY, Bucket.MONTH, None):
            sk = ALL if granularity is None else bucket_key(granularity, change.at)
            absent: dict[str, Any] = {}
            if granularity is Bucket.HOUR:
                absent["ttl"] = change.at + HOUR_BUCKET_TTL
            if of_creator and granularity is None:
                absent[NAME + short] = change.content_id
            out.append(BucketUpdate(scope, sk, {**deltas, **(split if of_creator else {})},
                                    licensee if of_creator else None, absent))
    return out


def marker_item(change: Change, now: int) -> dict[str, Any]:
    item: dict[str, Any] = {"pk": f"event#{change.event_id}", "sk": "-", "kind": change.kind, "at": change.at,
                            "appliedAt": now}
    if change.kind == "usage":
        item["ttl"] = now + USE_MARKER_TTL
    return item


def activity_item(change: Change) -> dict[str, Any] | None:
    if change.activity is None:
        return None
    return {"pk": f"activity#{change.creator}", "sk": f"{change.at:010d}#{change.event_id}",
            "entry": json.dumps(change.activity, separators=(",", ":")), "ttl": change.at + ACTIVITY_TTL}


def active_key(creator: str, valid_until: int, license_id: str) -> dict[str, str]:
    return {"pk": f"active#{creator}", "sk": f"{min(valid_until, 9_999_999_999):010d}#{license_id}"}


class DynamoAnalyticsStore:
    def __init__(self, table: str, *, clock=time.time) -> None:
        self.table = table
        self.clock = clock

    @property
    def _ddb(self):
        return client("dynamodb")

    # -- writes ----------------------------------------------------------------------------------

    def _transaction(self, change: Change) -> list[dict[str, Any]]:
        now = int(self.clock())
        items: list[dict[str, Any]] = [{"Put": {
            "TableName": self.table, "Item": to_ddb(marker_item(change, now)),
            "ConditionExpression": "attribute_not_exists(pk)"}}]
        for u in bucket_updates(change):
            names: dict[str, str] = {}
            values: dict[str, Any] = {}
            adds, sets = [], []
            for i, (attr, value) in enumerate(u.add.items()):
                names[f"#a{i}"] = attr
                values[f":a{i}"] = value
                adds.append(f"#a{i} :a{i}")
            if u.licensee:
                names["#l"] = "licensees"
                values[":l"] = {u.licensee}
                adds.append("#l :l")
            for i, (attr, value) in enumerate(u.set_absent.items()):
                names[f"#s{i}"] = attr
                values[f":s{i}"] = value
                sets.append(f"#s{i} = if_not_exists(#s{i}, :s{i})")
            if not adds and not sets:
                continue
            expression = " ".join(part for part in (
                ("ADD " + ", ".join(adds)) if adds else "", ("SET " + ", ".join(sets)) if sets else "") if part)
            items.append({"Update": {"TableName": self.table, "Key": to_ddb({"pk": u.pk, "sk": u.sk}),
                                     "UpdateExpression": expression, "ExpressionAttributeNames": names,
                                     "ExpressionAttributeValues": to_ddb(values)}})
        activity = activity_item(change)
        if activity is not None:
            items.append({"Put": {"TableName": self.table, "Item": to_ddb(activity)}})
        if change.kind == "purchase" and change.license_id:
            valid_until = int(change.valid_until or 0)
            items.append({"Put": {"TableName": self.table, "Item": to_ddb({
                "pk": f"license#{change.license_id}", "sk": "-", "creator": change.creator,
                "contentId": change.content_id, "licensee": change.licensee, "validUntil": valid_until})}})
            items.append({"Put": {"TableName": self.table, "Item": to_ddb({
                **active_key(change.creator, valid_until, change.license_id), "contentId": change.content_id})}})
        if change.kind == "revocation" and change.license_id and change.valid_until is not None:
            items.append({"Delete": {"TableName": self.table,
                                     "Key": to_ddb(active_key(change.creator, change.valid_until, change.license_id))}})
        return items

    def _read_rollup(self, creator: str) -> tuple[int, rollup.Main, rollup.Detail]:
        keys = [to_ddb({"pk": f"rollup#{creator}", "sk": sk}) for sk in ("main", "detail")]
        request: dict[str, Any] = {self.table: {"Keys": keys, "ConsistentRead": True,
                                                "ProjectionExpression": "sk, v, m, d"}}
        items: dict[str, dict[str, Any]] = {}
        while request:
            out = self._ddb.batch_get_item(RequestItems=request)
            items.update({i["sk"]: i for i in map(from_ddb, out.get("Responses", {}).get(self.table, []))})
            request = out.get("UnprocessedKeys") or {}
        main, detail = items.get("main", {}), items.get("detail", {})
        return (int(main.get("v", 0)), rollup.Main.decode(_blob(main.get("m"))),
                rollup.Detail.decode(_blob(detail.get("d"))))

    def _rollup_writes(self, creator: str, version: int, main: rollup.Main, detail: rollup.Detail
                       ) -> list[dict[str, Any]]:
        condition = "attribute_not_exists(v)" if version == 0 else "v = :old"
        values: dict[str, Any] = {":v": version + 1, ":m": main.encode()}
        if version:
            values[":old"] = version
        return [{"Update": {"TableName": self.table, "Key": to_ddb({"pk": f"rollup#{creator}", "sk": "main"}),
                            "UpdateExpression": "SET v = :v, m = :m", "ConditionExpression": condition,
                            "ExpressionAttributeValues": to_ddb(values)}},
                {"Update": {"TableName": self.table, "Key": to_ddb({"pk": f"rollup#{creator}", "sk": "detail"}),
                            "UpdateExpression": "SET d = :d",
                            "ExpressionAttributeValues": to_ddb({":d": detail.encode()})}}]

    def apply(self, change: Change) -> bool:
        base = self._transaction(change)
        for attempt in range(MAX_ATTEMPTS):
            version, main, detail = self._read_rollup(change.creator)
            rollup.apply(main, detail, change)
            rollup.refresh(main, detail, int(self.clock()))
            try:
                self._ddb.transact_write_items(TransactItems=base + self._rollup_writes(change.creator, version,
                                                                                        main, detail))
                return True
            except Exception as exc:
                if error_code(exc) != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code") for r in getattr(exc, "response", {}).get("CancellationReasons", [])]
                if reasons and reasons[0] == "ConditionalCheckFailed":
                    return False  # the marker exists: applied before
                newer = len(reasons) > len(base) and reasons[len(base)] == "ConditionalCheckFailed"
                if attempt == MAX_ATTEMPTS - 1 or not (newer or any(
                        r in ("TransactionConflict", "ThrottlingError") for r in reasons)):
                    raise
                time.sleep(random.uniform(0, 0.005 * 2 ** min(attempt, 4)))
        return False  # unreachable

    # -- reads -----------------------------------------------------------------------------------

    def applied(self, event_id: str) -> bool:
        return "Item" in self._ddb.get_item(TableName=self.table, Key=to_ddb({"pk": f"event#{event_id}", "sk": "-"}),
                                            ConsistentRead=True)

    def license(self, license_id: str) -> dict[str, Any] | None:
        item = self._ddb.get_item(TableName=self.table, Key=to_ddb({"pk": f"license#{license_id}", "sk": "-"}),
                                  ConsistentRead=True).get("Item")
        return from_ddb(item) if item else None

    def _query(self, **kwargs) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            page = self._ddb.query(TableName=self.table, **kwargs)
            out += [from_ddb(i) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page or ("Limit" in kwargs and len(out) >= kwargs["Limit"]):
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def series(self, scope: str, granularity: Bucket, first: str, last: str, *, counters_only: bool = False
               ) -> list[Counters]:
        del granularity  # the keys carry it
        projection: dict[str, Any] = {}
        if counters_only:
            names = {f"#c{i}": c for i, c in enumerate(("pk", "sk", *COUNTERS))}
            projection = {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
        items = self._query(KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b", **projection,
                            ExpressionAttributeValues=to_ddb({":p": scope, ":a": first, ":b": last}))
        return [Counters.from_item(i) for i in items]

    def totals(self, scope: str) -> Counters | None:
        item = self._ddb.get_item(TableName=self.table, Key=to_ddb({"pk": scope, "sk": ALL})).get("Item")
        return Counters.from_item(from_ddb(item)) if item else None

    def recent(self, creator: str, limit: int) -> list[dict]:
        items = self._query(KeyConditionExpression="pk = :p", ScanIndexForward=False, Limit=limit,
                            ExpressionAttributeValues=to_ddb({":p": f"activity#{creator.lower()}"}))
        return [json.loads(i["entry"]) for i in items[:limit]]

    def active_licenses(self, creator: str, now: int) -> int:
        kwargs: dict[str, Any] = {"TableName": self.table, "Select": "COUNT",
                                  "KeyConditionExpression": "pk = :p AND sk > :n",
                                  "ExpressionAttributeValues": to_ddb({":p": f"active#{creator.lower()}",
                                                                       ":n": f"{now:010d}~"})}
        count = 0
        while True:
            page = self._ddb.query(**kwargs)
            count += int(page.get("Count", 0))
            if "LastEvaluatedKey" not in page:
                return count
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # -- the dashboard: the rollup and the response cache -------------------------------------------

    def view(self, creator: str, period: str) -> rollup.View:
        item = self._ddb.get_item(TableName=self.table, Key=to_ddb({"pk": f"rollup#{creator.lower()}", "sk": "main"}),
                                  ProjectionExpression="#c, m",
                                  ExpressionAttributeNames={"#c": f"cache_{period}"}).get("Item")
        plain = from_ddb(item) if item else {}
        body = plain.get(f"cache_{period}")
        return rollup.View(json.loads(body) if body else None, _blob(plain.get("m")))

    def detail(self, creator: str) -> rollup.Detail:
        item = self._ddb.get_item(TableName=self.table, Key=to_ddb({"pk": f"rollup#{creator.lower()}",
                                                                    "sk": "detail"})).get("Item")
        return rollup.Detail.decode(_blob(from_ddb(item).get("d")) if item else None)

    def cached(self, key: str) -> dict | None:
        creator, period = key.split("|", 1)
        return self.view(creator, period).cached

    def cache(self, key: str, body: dict, ttl_seconds: int) -> None:
        """On the main rollup item (never touching the rollup itself); its age decides (``generatedAtTs``)."""
        del ttl_seconds
        creator, period = key.split("|", 1)
        self._ddb.update_item(TableName=self.table, Key=to_ddb({"pk": f"rollup#{creator}", "sk": "main"}),
                              UpdateExpression="SET #c = :b", ExpressionAttributeNames={"#c": f"cache_{period}"},
                              ExpressionAttributeValues=to_ddb({":b": json.dumps(body, separators=(",", ":"))}))


def _blob(value: Any) -> bytes | None:
    if value is None:
        return None
    return bytes(value.value if hasattr(value, "value") else value)


class DynamoDirectory:
    """``Directory`` over the licenses table (creator, buyer, contentId of a license the API sold),
    then the analytics table's own license items (licenses bought on chain directly), and the
    content table (a content's creator). These fields never change: each answer is kept for the
    container's life."""

    def __init__(self, *, licenses_table: str, content_table: str | None = None,
                 analytics: DynamoAnalyticsStore | None = None) -> None:
        self.licenses_table = licenses_table
        self.content_table = content_table
        self.analytics = analytics
        self._licenses: dict[str, dict[str, Any]] = {}
        self._creators: dict[str, str] = {}

    @property
    def _ddb(self):
        return client("dynamodb")

    def license_of(self, license_id: str) -> dict[str, Any] | None:
        if license_id in self._licenses:
            return self._licenses[license_id]
        item = self._ddb.get_item(TableName=self.licenses_table, Key=to_ddb({"licenseId": license_id}),
                                  ProjectionExpression="creator, buyer, contentId").get("Item")
        found: dict[str, Any] | None = None
        if item:
            plain = from_ddb(item)
            if plain.get("creator") and plain.get("buyer"):
                found = {"creator": plain["creator"].lower(), "buyer": plain["buyer"].lower(),
                         "contentId": str(plain.get("contentId", "")).lower()}
        if found is None and self.analytics is not None:
            known = self.analytics.license(license_id)
            if known:
                found = {"creator": known["creator"], "buyer": known.get("licensee"), "contentId": known["contentId"]}
        if found is not None:
            self._licenses[license_id] = found
        return found

    def creator_of(self, content_id: str) -> str | None:
        if content_id in self._creators:
            return self._creators[content_id]
        if self.content_table is None:
            return None
        item = self._ddb.get_item(TableName=self.content_table, Key=to_ddb({"contentId": content_id}),
                                  ProjectionExpression="creator").get("Item")
        creator = str(from_ddb(item).get("creator") or "").lower() if item else ""
        if creator:
            self._creators[content_id] = creator
        return creator or None
