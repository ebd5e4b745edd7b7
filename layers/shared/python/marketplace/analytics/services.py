"""The creator's dashboard (Flow 7 "Dashboard initial load"): ``GET /creator/{address}/analytics``.

Periods are rolling windows of whole buckets ending with the current (partial) one:

| period | granularity | buckets | previous period |
|---|---|---|---|
| day | hour | 24 | the 24 hours before |
| week | day | 7 | the 7 days before |
| month | day | 30 | the 30 days before |
| year | month | 12 | the 12 months before |

**Reads are bounded by the number of buckets, never by usage or content**: a request reads one
item, the creator's main rollup (``rollup``): its cached answer for the period and the figures per
bucket, all-time, the 20 newest activity entries, and the parts the feeders computed for the
period's current window (top content, licensees with uses, the active licenses' count). On a miss
the answer is computed from it and written back to the same item. Only when the window moved since
the creator's last change (a new hour, day or month without a change yet) or a license expired
since does a miss also read the rollup's detail item (the per-content split, the licensees' latest
uses, the expiries: bounded by the content items and licensees of the current periods) and
compute those parts itself, exactly as the feeders would.

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
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from marketplace.analytics.models import bucket_start
from marketplace.analytics.ports import AnalyticsStore
from marketplace.analytics.rollup import (
    ACTIVITY_DAYS,
    FIGURES,
    PERIODS,
    RECENT,
    Main,
    active_parts,
    bucket_keys,
    fresh,
    period_parts,
    step,
    window,
)
from marketplace.errors import ForbiddenError
from marketplace.shared.timefmt import iso

__all__ = ["CACHE_SECONDS", "PERIODS", "AnalyticsService", "bucket_keys", "change_pct"]

CACHE_SECONDS = 300
TRENDS = ("uses", "provenUses", "revenue", "purchases")


def change_pct(current: int, previous: int) -> float | None:
    if previous == 0:
        return None
    pct = (Decimal(current - previous) * 100 / Decimal(previous)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return float(pct)


def _figures(points: list[list[int]]) -> dict[str, int]:
    return {f: sum(p[i] for p in points) for i, f in enumerate(FIGURES)}


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
        view = self.store.view(creator, period)
        cached = view.cached
        if cached is not None and 0 <= now - cached["generatedAtTs"] < self.cache_seconds:
            body = dict(cached)
            generated = body.pop("generatedAtTs")
            return {**body, "cached": True, "cacheAgeSeconds": int(now - generated)}
        body = self.compute(creator, period, int(now), view.main)
        self.store.cache(f"{creator}|{period}", {**body, "generatedAtTs": int(now)}, self.cache_seconds)
        return {**body, "cached": False, "cacheAgeSeconds": 0}

    def compute(self, creator: str, period: str, now: int, main: Main | None = None) -> dict:
        """The answer at ``now`` from the creator's rollup (``main``: read here if not given)."""
        if main is None:
            main = self.store.view(creator, period).main
        granularity, _ = PERIODS[period]
        previous_keys, current_keys = window(period, now)
        points = main.series.get(str(granularity), {})
        zero = [0] * len(FIGURES)
        current = [points.get(k, zero) for k in current_keys]
        now_figures, before = _figures(current), _figures([points.get(k, zero) for k in previous_keys])
        if fresh(main, period, now):
            parts, active = main.periods[period], main.active["count"]
        else:  # the window moved (or a license expired) since the last change: from the detail item
            detail = self.store.detail(creator)
            parts, active = period_parts(detail, period, now), active_parts(detail, now)["count"]
        oldest = now - ACTIVITY_DAYS * 86_400
        recent = [entry for key, entry in main.recent if int(key[:10]) >= oldest][:RECENT]
        end = step(granularity, bucket_start(current_keys[-1]), 1)
        return {
            "creator": _checksum(creator),
            "period": period,
            "granularity": str(granularity),
            "start": iso(bucket_start(current_keys[0])),
            "end": iso(end),
            "summary": {**now_figures, "activeLicenses": active, "licenseesWithUses": parts["licensees"]},
            "allTime": dict(zip(FIGURES, main.all_time, strict=True)),
            "series": [{"start": iso(bucket_start(k)), **_figures([p])} for k, p in zip(current_keys, current,
                                                                                      strict=True)],
            "trends": {f: {"current": now_figures[f], "previous": before[f], "change": now_figures[f] - before[f],
                           "changePct": change_pct(now_figures[f], before[f])} for f in TRENDS},
            "topContent": [{"contentId": cid, "uses": u, "provenUses": p, "revenue": r}
                           for cid, u, p, r in parts["top"]],
            "recentActivity": [{**entry, "at": iso(entry["at"])} for entry in recent],
            "generatedAt": iso(now),
            "maxAgeSeconds": self.cache_seconds,
        }


def _checksum(address: str) -> str:
    from eth_utils import to_checksum_address

    return to_checksum_address(address)
