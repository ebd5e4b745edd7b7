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


def spread(s, uses: int, contents: int, first: int = 0) -> None:
    """``uses`` uses (from ``first``) over ``contents`` content items and 7 licensees, 7 hours apart
    (about 12 days), with a payment per 4 uses."""
    for i in range(first, uses):
        content, buyer = f"0x{i % contents + 1:04x}" + "ab" * 30, f"0x{i % 7 + 1:040x}"  # distinct short ids
        at = NOW - (i % 40) * 7 * 3600
        s.apply(Change(f"use#{LID}#{i}", "usage", CREATOR, content, at, {"uses": 1}, licensee=buyer, license_id=LID))
        if i % 4 == 0:
            s.apply(Change(f"0xpay:{i}", "payment", CREATOR, content, at, {"revenue": 100 * (i % 13), "payments": 1},
                           license_id=LID, activity={"type": "payment.released", "contentId": content, "at": at,
                                                     "delta": {"revenue": 100 * (i % 13), "payments": 1}}))


def from_buckets(s, period: str, now: int) -> dict:
    """The figures of a period read from the buckets themselves (what the rollup must equal)."""
    from marketplace.analytics.rollup import FIGURES, PERIODS, window
    from marketplace.shared.timefmt import iso

    granularity, _ = PERIODS[period]
    before, current = window(period, now)
    found = {b.bucket: b for b in s.series(creator_scope(CREATOR), granularity, before[0], current[-1])}
    series = [{f: found[k].get(f) if k in found else 0 for f in FIGURES} for k in current]
    split: dict[str, list[int]] = {}
    licensees: set[str] = set()
    for k in current:
        if k in found:
            licensees |= found[k].licensees
            for short, v in found[k].split.items():
                acc = split.setdefault(short, [0, 0, 0])
                for i, f in enumerate(("uses", "provenUses", "revenue")):
                    acc[i] += v.get(f, 0)
    names = s.totals(creator_scope(CREATOR)).names
    top = sorted(((names[sh], v) for sh, v in split.items()), key=lambda kv: (-kv[1][2], -kv[1][0], kv[0]))[:10]
    return {"series": series, "previous": sum(found[k].get("uses") for k in before if k in found),
            "licensees": len(licensees), "top": [{"contentId": c, "uses": u, "provenUses": p, "revenue": r}
                                                 for c, (u, p, r) in top],
            "recent": [iso(a["at"]) for a in s.recent(CREATOR, 20)], "active": s.active_licenses(CREATOR, now)}


def answer(body: dict) -> dict:
    return {"series": [{k: v for k, v in p.items() if k != "start"} for p in body["series"]],
            "previous": body["trends"]["uses"]["previous"], "licensees": body["summary"]["licenseesWithUses"],
            "top": body["topContent"], "recent": [a["at"] for a in body["recentActivity"]],
            "active": body["summary"]["activeLicenses"]}


@pytest.mark.parametrize("period", ["day", "week", "month", "year"])
def test_the_rollup_answers_exactly_what_the_buckets_say(backend, period):
    """Every period's answer from the rollup equals the buckets' figures: as the writer left it, and
    a day later without any change (the window moved: computed from the detail item)."""
    s = store(backend)
    spread(s, 60, 13)
    s.apply(purchase(LID, valid_until=NOW + 3600))
    s.apply(purchase(LID2, CID2, valid_until=NOW + 3 * 86_400))
    seen = []
    for at in (NOW, NOW + 1800, NOW + 86_400 + 60):
        body = AnalyticsService(s, clock=lambda at=at: at).compute(CREATOR, period, at)
        expected = from_buckets(s, period, at)
        assert answer(body) == expected
        assert body["allTime"]["uses"] == 60 and body["summary"]["uses"] == sum(p["uses"] for p in expected["series"])
        seen.append(expected)
    assert [e["active"] for e in seen] == [2, 2, 1]
    assert seen[0]["top"] and seen[0]["licensees"] > 0 and seen[0]["previous"] + sum(p["uses"] for p in seen[0]["series"])


def test_a_miss_reads_one_small_item_however_many_uses_and_content_items(backend):
    """Count the DynamoDB requests, items and bytes of a cache miss (read, compute, cache write) of
    every period over 80 uses of 20 content items, then over 200 uses of 60 (the buckets, the top
    10 and the 20 activity entries full both times): one GetItem of one item of about 10 KB (half of it the cached answer), the same
    size; once the window moved without a change, one more item (the detail)."""
    if backend.kind == "memory":
        pytest.skip("counts DynamoDB requests")
    from marketplace.adapters.aws import client

    s = store(backend)
    calls: list[tuple[str, int, int]] = []

    def count(model, parsed, http_response, **_):
        items = len(parsed.get("Items", [])) + (1 if "Item" in parsed else 0)
        calls.append((model.name, items, len(http_response.content or b"")))

    def miss(period: str, at: int = NOW) -> list[tuple[str, int, int]]:
        ddb.meta.events.register("after-call.dynamodb", count)
        try:
            calls.clear()
            body = AnalyticsService(s, clock=lambda: at, cache_seconds=0).creator_analytics(CREATOR, CREATOR, period)
        finally:
            ddb.meta.events.unregister("after-call.dynamodb", count)
        assert body["cached"] is False and body["allTime"]["uses"] == uses
        return list(calls)

    ddb = client("dynamodb")
    sizes: dict[str, list[int]] = {p: [] for p in ("day", "week", "month", "year")}
    for uses, contents in ((80, 20), (200, 60)):
        spread(s, uses, contents, first=80 if uses == 200 else 0)
        for period, seen in sizes.items():
            miss(period)  # its answer is cached on the item read: measured with one there, both times
            made = miss(period)
            assert [(op, n) for op, n, _ in made] == [("GetItem", 1), ("UpdateItem", 0)], made  # read, cache write
            seen.append(made[0][2])
    for period, (small, large) in sizes.items():
        assert large < 16_000 and large <= small * 1.1 + 100, (period, small, large)  # 2.5x the uses, 3x the content items
    # a day later, no change since: the window moved, so the detail item is read too (two items)
    assert [(op, n) for op, n, _ in miss("month", NOW + 86_400)] == [("GetItem", 1), ("GetItem", 1), ("UpdateItem", 0)]
