"""The creator's dashboard (Flow 7 "Dashboard initial load"): ``GET /creator/{address}/analytics``.

Periods are rolling windows of whole buckets ending with the current (partial) one:

| period | granularity | buckets | previous period |
|---|---|---|---|
| day | hour | 24 | the 24 hours before |
| week | day | 7 | the 7 days before |
| month | day | 30 | the 30 days before |
| year | month | 12 | the 12 months before |

**Reads are bounded by the number of buckets, never by usage**: a miss reads the cache item, then
at once (in parallel) the creator's N bucket items of the period (with the per-content split and
the licensees), the N of the period before (counters only: a projection), the all-time item, the
latest 20 activity entries and the active licenses' count (a COUNT query over the creator's
unexpired licenses), then writes the answer to the cache; a hit reads one item. Top content comes
from the per-content split held in the creator's buckets.

**Trends**: ``changePct = (current − previous) / previous × 100``, rounded half-up to one decimal
(892 → 1,247 is +39.8); none when previous is 0 (growth from nothing has no percentage: the field is
absent from the answer; ``change`` still says how much).

**Cache** (Flow 7 "Caching Strategy": 5 minutes): the computed answer is kept per (creator,
period) for ``CACHE_SECONDS``; a cached answer says when it was computed (``generatedAt``) and how
old it is (``cacheAgeSeconds``). The live stream carries what happens in between.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from marketplace.analytics.models import Bucket, Counters, bucket_key, bucket_start, creator_scope
from marketplace.analytics.ports import AnalyticsStore
from marketplace.errors import ForbiddenError
from marketplace.shared.timefmt import iso

CACHE_SECONDS = 300
PERIODS: dict[str, tuple[Bucket, int]] = {"day": (Bucket.HOUR, 24), "week": (Bucket.DAY, 7),
                                          "month": (Bucket.DAY, 30), "year": (Bucket.MONTH, 12)}
FIGURES = ("uses", "provenUses", "revenue", "payments", "purchases", "sales", "revocations")
TRENDS = ("uses", "provenUses", "revenue", "purchases")
TOP_CONTENT = 10
RECENT = 20


def change_pct(current: int, previous: int) -> float | None:
    if previous == 0:
        return None
    pct = (Decimal(current - previous) * 100 / Decimal(previous)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return float(pct)


def _step(granularity: Bucket, start: datetime, n: int) -> datetime:
    if granularity is Bucket.HOUR:
        return start + timedelta(hours=n)
    if granularity is Bucket.DAY:
        return start + timedelta(days=n)
    months = start.year * 12 + start.month - 1 + n
    return start.replace(year=months // 12, month=months % 12 + 1)


def bucket_keys(granularity: Bucket, now: int, count: int) -> list[str]:
    """The keys of the ``count`` buckets ending with the one holding ``now``, oldest first."""
    current = bucket_start(bucket_key(granularity, now))
    return [bucket_key(granularity, int(_step(granularity, current, i).timestamp())) for i in range(-count + 1, 1)]


def _figures(buckets: list[Counters]) -> dict[str, int]:
    return {f: sum(b.get(f) for b in buckets) for f in FIGURES}


@dataclass
class AnalyticsService:
    store: AnalyticsStore
    clock: Callable[[], float] = time.time
    cache_seconds: int = CACHE_SECONDS

    def creator_analytics(self, caller: str, address: str, period: str) -> dict:
        creator = address.lower()
        if caller.lower() != creator:
            raise ForbiddenError("Only the creator sees their analytics", {"address": address})
        now = self.clock()
        key = f"{creator}|{period}"
        cached = self.store.cached(key)
        if cached is not None and 0 <= now - cached["generatedAtTs"] < self.cache_seconds:
            body = dict(cached)
            generated = body.pop("generatedAtTs")
            return {**body, "cached": True, "cacheAgeSeconds": int(now - generated)}
        body = self.compute(creator, period, int(now))
        self.store.cache(key, {**body, "generatedAtTs": int(now)}, self.cache_seconds)
        return {**body, "cached": False, "cacheAgeSeconds": 0}

    def compute(self, creator: str, period: str, now: int) -> dict:
        granularity, count = PERIODS[period]
        keys = bucket_keys(granularity, now, 2 * count)
        previous_keys, current_keys = keys[:count], keys[count:]
        scope = creator_scope(creator)
        # the five reads at once (each bounded: 2×N buckets, one item, 20 entries, a COUNT)
        with ThreadPoolExecutor(5) as pool:
            now_series = pool.submit(self.store.series, scope, granularity, current_keys[0], current_keys[-1])
            before_series = pool.submit(self.store.series, scope, granularity, previous_keys[0], previous_keys[-1],
                                        counters_only=True)
            totals_f = pool.submit(self.store.totals, scope)
            recent_f = pool.submit(self.store.recent, creator, RECENT)
            active_f = pool.submit(self.store.active_licenses, creator, now)
        found = {b.bucket: b for b in now_series.result()}
        current = [found[k] for k in current_keys if k in found]
        previous = before_series.result()
        now_figures, before = _figures(current), _figures(previous)
        licensees: set[str] = set()
        split: dict[str, dict[str, int]] = {}
        for b in current:
            licensees |= b.licensees
            for short, values in b.split.items():
                acc = split.setdefault(short, {"uses": 0, "provenUses": 0, "revenue": 0})
                for name, value in values.items():
                    acc[name] += value
        totals = totals_f.result()
        names = totals.names if totals else {}
        top = sorted(((names.get(short, short), v) for short, v in split.items()),
                     key=lambda kv: (-kv[1]["revenue"], -kv[1]["uses"], kv[0]))[:TOP_CONTENT]
        all_time = _figures([totals] if totals else [])
        end = _step(granularity, bucket_start(current_keys[-1]), 1)
        return {
            "creator": _checksum(creator),
            "period": period,
            "granularity": str(granularity),
            "start": iso(bucket_start(current_keys[0])),
            "end": iso(end),
            "summary": {**now_figures, "activeLicenses": active_f.result(),
                        "licenseesWithUses": len(licensees)},
            "allTime": all_time,
            "series": [{"start": iso(bucket_start(k)), **_figures([found[k]] if k in found else [])}
                       for k in current_keys],
            "trends": {f: {"current": now_figures[f], "previous": before[f], "change": now_figures[f] - before[f],
                           "changePct": change_pct(now_figures[f], before[f])} for f in TRENDS},
            "topContent": [{"contentId": cid, **values} for cid, values in top],
            "recentActivity": [{**entry, "at": iso(entry["at"])} for entry in recent_f.result()],
            "generatedAt": iso(now),
            "maxAgeSeconds": self.cache_seconds,
        }


def _checksum(address: str) -> str:
    from eth_utils import to_checksum_address

    return to_checksum_address(address)
