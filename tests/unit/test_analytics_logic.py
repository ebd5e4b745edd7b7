"""Analytics logic over the fakes: what each source changes, once; what the dashboard answers
(periods, series, trends and their rounding, top content, summary), the 5-minute cache and its
freshness, 403 for anyone but the creator; live updates only for changes applied now."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from marketplace.analytics.fakes import (
    FixedBlockClock,
    MemoryAnalyticsStore,
    MemoryDirectory,
    RecordingLiveFeed,
)
from marketplace.analytics.feeders import ChainFeeder, UnknownLicense, UsageFeeder
from marketplace.analytics.models import Bucket
from marketplace.analytics.services import AnalyticsService, bucket_keys, change_pct
from marketplace.chain.events import ChainEvent
from marketplace.errors import ForbiddenError

pytestmark = pytest.mark.unit

CREATOR, BUYER, BUYER2, OTHER = "0x" + "c1" * 20, "0x" + "b1" * 20, "0x" + "b2" * 20, "0x" + "0d" * 20
CID, CID2 = "0x" + "c0" * 32, "0x" + "c2" * 32
LID, LID2 = "0x" + "11" * 32, "0x" + "12" * 32
NOW = int(datetime(2026, 11, 30, 8, 30, tzinfo=UTC).timestamp())
HOUR, DAY = 3600, 86_400


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def world():
    clock = Clock(NOW)
    store = MemoryAnalyticsStore(clock=clock)
    directory = MemoryDirectory({LID: {"creator": CREATOR, "buyer": BUYER, "contentId": CID},
                                 LID2: {"creator": CREATOR, "buyer": BUYER2, "contentId": CID2}},
                                {CID: CREATOR, CID2: CREATOR})
    feed = RecordingLiveFeed()
    chain = FixedBlockClock(default=NOW - HOUR)
    return store, UsageFeeder(store, directory, feed), ChainFeeder(store, directory, chain, feed), feed, clock


def usage(seq, ts, license_id=LID, content_id=CID):
    return {"licenseId": license_id, "seq": seq, "ts": ts, "contentId": content_id, "batch": "PENDING"}


def event(name, args, tx="0x" + "ee" * 32, log_index=0, block=7):
    return ChainEvent(contract="X", event=name, args=args, txHash=tx, logIndex=log_index, blockNumber=block,
                      blockHash="0x" + "bb" * 32)


def test_trend_is_rounded_half_up_to_a_tenth_and_null_without_a_base():
    assert change_pct(1247, 892) == 39.8  # the spec's example
    assert change_pct(892, 1247) == -28.5
    assert change_pct(3, 8) == -62.5 and change_pct(1, 3) == -66.7 and change_pct(2, 3) == -33.3
    assert change_pct(5, 0) is None and change_pct(0, 0) is None and change_pct(0, 4) == -100.0


def test_periods_are_whole_buckets_ending_with_the_current_one():
    assert bucket_keys(Bucket.HOUR, NOW, 3) == ["h#2026-11-30T06", "h#2026-11-30T07", "h#2026-11-30T08"]
    assert bucket_keys(Bucket.DAY, NOW, 2) == ["d#2026-11-29", "d#2026-11-30"]
    assert bucket_keys(Bucket.MONTH, NOW, 13)[0] == "m#2025-11" and bucket_keys(Bucket.MONTH, NOW, 13)[-1] == "m#2026-11"
    assert bucket_keys(Bucket.MONTH, int(datetime(2026, 1, 5, tzinfo=UTC).timestamp()), 2) == ["m#2025-12", "m#2026-01"]


def test_a_use_counts_once_and_is_published_once(world):
    _store, uses, _, feed, _ = world
    assert uses.apply([usage(0, NOW), usage(1, NOW)]) == 2
    assert uses.apply([usage(0, NOW), usage(1, NOW)]) == 0  # the stream replays the batch
    assert [(u.type, u.delta, u.contentId, u.creator) for u in feed.updates] == [("usage", {"uses": 1}, CID, CREATOR)] * 2
    with pytest.raises(UnknownLicense):
        uses.apply([usage(0, NOW, license_id="0x" + "99" * 32)])


def test_a_failing_live_feed_never_fails_or_repeats_the_change(world):
    store, _, _, _, _ = world
    feeder = UsageFeeder(store, MemoryDirectory({LID: {"creator": CREATOR, "buyer": BUYER, "contentId": CID}}),
                         RecordingLiveFeed(fail=True))
    assert feeder.apply([usage(5, NOW)]) == 1 and feeder.apply([usage(5, NOW)]) == 0


def test_chain_events_change_their_counters_once(world):
    store, _, chain, feed, _ = world
    bought = event("LicensePurchased", {"licenseId": LID, "licensee": BUYER.upper().replace("0X", "0x"),
                                        "termsId": "0x" + "7e" * 32, "timestamp": NOW - 2 * HOUR, "contentId": CID,
                                        "amount": 64_000, "credentialCommitment": 1, "validUntil": NOW + DAY},
                   log_index=1)
    logged = event("UsageLogged", {"licenseId": LID, "contentId": CID, "batchId": "0x" + "ba" * 32, "startIndex": 0,
                                   "count": 64, "windowStart": 0, "windowEnd": 1, "chainNew": 0}, log_index=2)
    paid = event("PaymentReleased", {"licenseId": LID, "contentId": CID, "payee": CREATOR, "batchId": "0x" + "ba" * 32,
                                     "uses": 64, "creatorAmount": 62_400, "platformFee": 1_600}, log_index=3)
    for e in (bought, logged, paid):
        assert chain.handle(e)["applied"] is True
        assert chain.handle(e)["applied"] is False
    assert chain.handle(event("Withdrawn", {"account": CREATOR, "amount": 1}))["ignored"] is True
    assert [(u.type, u.delta) for u in feed.updates] == [
        ("license", {"licenses": 1}), ("payment", {"provenUses": 64}), ("payment", {"revenue": 62_400, "payments": 1})]
    body = AnalyticsService(store, clock=lambda: NOW).compute(CREATOR, "day", NOW)
    s = body["summary"]
    assert (s["provenUses"], s["revenue"], s["payments"], s["purchases"], s["sales"], s["activeLicenses"]) == (
        64, 62_400, 1, 1, 64_000, 1)
    # newest first (the batch's two logs share a block time: by log index, newest first)
    assert [a["type"] for a in body["recentActivity"]] == ["payment.released", "usage.proven", "license.purchased"]
    revoked = event("LicenseRevoked", {"licenseId": LID, "contentId": CID, "timestamp": NOW - 60}, log_index=4)
    assert chain.handle(revoked)["applied"] is True and chain.handle(revoked)["applied"] is False
    body = AnalyticsService(store, clock=lambda: NOW).compute(CREATOR, "day", NOW)
    assert body["summary"]["activeLicenses"] == 0 and body["summary"]["revocations"] == 1
    assert body["recentActivity"][0]["type"] == "license.revoked" and body["recentActivity"][0]["txHash"] == "0x" + "ee" * 32


def test_dashboard_series_trends_top_content_and_licensees(world):
    store, uses, _, _, _ = world
    # 3 uses yesterday-ish (previous 24 h), 5 in the current 24 h over two contents and two licensees
    uses.apply([usage(i, NOW - 30 * HOUR) for i in range(3)])
    uses.apply([usage(10 + i, NOW - 2 * HOUR) for i in range(3)] + [usage(i, NOW, LID2, CID2) for i in range(2)])
    body = AnalyticsService(store, clock=lambda: NOW).compute(CREATOR, "day", NOW)
    assert body["granularity"] == "hour" and len(body["series"]) == 24
    assert body["series"][-1]["start"] == "2026-11-30T08:00:00Z" and body["series"][-1]["uses"] == 2
    assert body["series"][-3]["uses"] == 3 and sum(p["uses"] for p in body["series"]) == 5
    assert body["start"] == "2026-11-29T09:00:00Z" and body["end"] == "2026-11-30T09:00:00Z"
    assert body["trends"]["uses"] == {"current": 5, "previous": 3, "change": 2, "changePct": 66.7}
    assert body["trends"]["revenue"] == {"current": 0, "previous": 0, "change": 0, "changePct": None}
    assert body["summary"]["licenseesWithUses"] == 2 and body["summary"]["uses"] == 5
    assert [(t["contentId"], t["uses"]) for t in body["topContent"]] == [(CID, 3), (CID2, 2)]
    assert body["allTime"]["uses"] == 8
    week = AnalyticsService(store, clock=lambda: NOW).compute(CREATOR, "week", NOW)
    assert len(week["series"]) == 7 and week["summary"]["uses"] == 8 and week["trends"]["uses"]["previous"] == 0
    year = AnalyticsService(store, clock=lambda: NOW).compute(CREATOR, "year", NOW)
    assert len(year["series"]) == 12 and year["series"][-1]["uses"] == 8 and year["granularity"] == "month"


def test_only_the_creator_reads_and_answers_are_cached_five_minutes(world):
    store, uses, _, _, clock = world
    service = AnalyticsService(store, clock=clock)
    with pytest.raises(ForbiddenError):
        service.creator_analytics(OTHER, CREATOR, "day")
    first = service.creator_analytics(CREATOR.upper().replace("0X", "0x"), CREATOR, "day")
    assert first["cached"] is False and first["cacheAgeSeconds"] == 0 and first["summary"]["uses"] == 0
    uses.apply([usage(0, NOW)])
    clock.t = NOW + 120
    hit = service.creator_analytics(CREATOR, CREATOR, "day")
    assert hit["cached"] is True and hit["cacheAgeSeconds"] == 120 and hit["summary"]["uses"] == 0
    assert hit["generatedAt"] == first["generatedAt"]
    assert service.creator_analytics(CREATOR, CREATOR, "week")["cached"] is False  # per period
    clock.t = NOW + 300
    fresh = service.creator_analytics(CREATOR, CREATOR, "day")
    assert fresh["cached"] is False and fresh["summary"]["uses"] == 1
