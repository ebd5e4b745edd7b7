"""Contract of ``AnalyticsStore`` over the in-memory fake and the DynamoDB adapter: one effect per
change (its marker in the same transaction), buckets per hour/day/month and all-time for the
content and its creator, the per-content split and the licensees of a creator's buckets, recent
activity, active licenses (bought, not revoked, not expired), the response cache; and the
dashboard's reads bounded by the number of buckets, not by the uses counted."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from marketplace.analytics.adapters import DynamoAnalyticsStore
from marketplace.analytics.fakes import MemoryAnalyticsStore
from marketplace.analytics.models import (
    Bucket,
    Change,
    bucket_key,
    content_scope,
    creator_scope,
    licensee_key,
    short_id,
)
from marketplace.analytics.services import AnalyticsService

pytestmark = pytest.mark.contract

CREATOR, BUYER, BUYER2 = "0x" + "c1" * 20, "0x" + "b1" * 20, "0x" + "b2" * 20
CID, CID2 = "0x" + "c0" * 32, "0x" + "c2" * 32
LID, LID2 = "0x" + "11" * 32, "0x" + "12" * 32
T0 = int(datetime(2026, 11, 30, 8, 15, tzinfo=UTC).timestamp())
NOW = T0 + 3600


def store(b):
    if b.kind == "memory":
        return MemoryAnalyticsStore(b.tables["analytics"], clock=lambda: NOW)
    return DynamoAnalyticsStore(b.tables["analytics"], clock=lambda: NOW)


def use(seq, at=T0, license_id=LID, content_id=CID, buyer=BUYER):
    return Change(f"use#{license_id}#{seq}", "usage", CREATOR, content_id, at, {"uses": 1}, licensee=buyer,
                  license_id=license_id)


def purchase(license_id=LID, content_id=CID, valid_until=NOW + 86_400, at=T0, event="0xp:1"):
    return Change(event + license_id[-4:], "purchase", CREATOR, content_id, at, {"purchases": 1, "sales": 10_000},
                  licensee=BUYER, license_id=license_id, valid_until=valid_until,
                  activity={"type": "license.purchased", "contentId": content_id, "licenseId": license_id,
                            "at": at, "delta": {"purchases": 1}})


def test_a_change_counts_once_in_every_bucket_of_its_content_and_creator(backend):
    s = store(backend)
    assert s.apply(use(0)) is True
    assert s.apply(use(0)) is False  # the same use again (a replayed stream record)
    assert s.applied(f"use#{LID}#0") and not s.applied(f"use#{LID}#1")
    for scope in (creator_scope(CREATOR), content_scope(CID)):
        for g in Bucket:
            (b,) = s.series(scope, g, bucket_key(g, T0), bucket_key(g, T0))
            assert b.get("uses") == 1 and b.bucket == bucket_key(g, T0)
        assert s.totals(scope).get("uses") == 1


def test_buckets_split_per_content_and_hold_the_licensees_with_uses(backend):
    s = store(backend)
    s.apply(use(0))
    s.apply(use(1, at=T0 + 3600))  # the next hour, same day
    s.apply(use(0, license_id=LID2, content_id=CID2, buyer=BUYER2))
    s.apply(Change("0xpay:1", "payment", CREATOR, CID, T0, {"revenue": 1_950, "platformFees": 50, "payments": 1},
                   license_id=LID))
    (day,) = s.series(creator_scope(CREATOR), Bucket.DAY, bucket_key(Bucket.DAY, T0), bucket_key(Bucket.DAY, T0))
    assert (day.get("uses"), day.get("revenue"), day.get("payments")) == (3, 1_950, 1)
    assert day.split == {short_id(CID): {"uses": 2, "revenue": 1_950}, short_id(CID2): {"uses": 1}}
    assert day.licensees == {licensee_key(BUYER), licensee_key(BUYER2)} and len(licensee_key(BUYER)) == 12
    assert s.totals(creator_scope(CREATOR)).names == {short_id(CID): CID, short_id(CID2): CID2}
    hours = s.series(creator_scope(CREATOR), Bucket.HOUR, bucket_key(Bucket.HOUR, T0), bucket_key(Bucket.HOUR, NOW))
    assert [h.get("uses") for h in hours] == [2, 1]
    assert s.totals(content_scope(CID2)).get("uses") == 1 and s.totals(content_scope(CID2)).split == {}
    assert s.series(creator_scope(CREATOR), Bucket.DAY, "d#2026-12-01", "d#2026-12-31") == []


def test_concurrent_changes_of_one_creator_all_count(backend):
    s = store(backend)
    threads = [threading.Thread(target=lambda i=i: [s.apply(use(i * 10 + k)) for k in range(10)]) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert s.totals(creator_scope(CREATOR)).get("uses") == 40


def test_active_licenses_are_bought_not_revoked_not_expired_and_activity_is_newest_first(backend):
    s = store(backend)
    assert s.apply(purchase(LID, valid_until=NOW + 10))
    assert s.apply(purchase(LID2, CID2, valid_until=NOW - 1, at=T0 + 5))  # expired already
    assert s.license(LID)["licensee"] == BUYER and s.license(LID)["validUntil"] == NOW + 10
    assert s.active_licenses(CREATOR, NOW) == 1
    assert s.active_licenses(CREATOR, NOW + 10) == 0  # validUntil is its last valid second... and no later
    revoke = Change("0xr:1", "revocation", CREATOR, CID, T0 + 9, {"revocations": 1}, license_id=LID,
                    valid_until=NOW + 10, activity={"type": "license.revoked", "contentId": CID, "at": T0 + 9,
                                                    "delta": {"revocations": 1}})
    assert s.apply(revoke) and not s.apply(revoke)
    assert s.active_licenses(CREATOR, NOW) == 0
    assert [a["type"] for a in s.recent(CREATOR, 10)] == ["license.revoked", "license.purchased", "license.purchased"]
    assert len(s.recent(CREATOR, 2)) == 2
    assert s.totals(creator_scope(CREATOR)).values == {"purchases": 2, "sales": 20_000, "revocations": 1}


def test_the_cache_keeps_an_answer_per_creator_and_period(backend):
    s = store(backend)
    assert s.cached(f"{CREATOR}|day") is None
    s.cache(f"{CREATOR}|day", {"a": 1, "generatedAtTs": NOW}, 300)
    assert s.cached(f"{CREATOR}|day") == {"a": 1, "generatedAtTs": NOW} and s.cached(f"{CREATOR}|week") is None


@pytest.mark.parametrize("period", ["day", "week", "month", "year"])
def test_the_dashboard_reads_as_many_items_as_buckets_however_many_uses(backend, period, monkeypatch):
    """Count DynamoDB calls and items read for the same dashboard over 20 and over 200 uses."""
    if backend.kind == "memory":
        pytest.skip("counts DynamoDB requests")
    import boto3  # noqa: F401
    from marketplace.adapters.aws import client

    s = store(backend)
    calls: list[tuple[str, int]] = []

    def count(model, parsed, **_):
        calls.append((model.name, len(parsed.get("Items", [])) + (1 if "Item" in parsed else 0)))

    ddb = client("dynamodb")
    ddb.meta.events.register("after-call.dynamodb", count)
    try:
        figures = []
        for total in (20, 200):
            for i in range(len(figures) and 20 or 0, total):  # 20 uses, then 180 more (same buckets)
                s.apply(use(i, at=NOW - (i % 20) * 60))
            calls.clear()
            service = AnalyticsService(s, clock=lambda: NOW)
            body = service.compute(CREATOR, period, NOW)
            figures.append(list(calls))
            assert body["summary"]["uses"] == total
        small, large = figures
        reads = [c for c in large if c[0] in ("GetItem", "Query", "BatchGetItem")]
        assert sorted(small) == sorted(large)  # the same requests, reading as many items (made in parallel)
        assert len(reads) == 5  # the period's buckets, the previous period's, all-time, activity, active licenses
        buckets = {"day": 48, "week": 14, "month": 60, "year": 24}[period]
        assert sum(n for _, n in reads) <= buckets + 1 + 20
    finally:
        ddb.meta.events.unregister("after-call.dynamodb", count)
