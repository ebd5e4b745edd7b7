"""A creator's rollup: what the dashboard needs, kept by the feeders so a cache miss reads one item.

Two items per creator (pk ``rollup#<address>``), written together by every change in the change's
own transaction (``adapters.DynamoAnalyticsStore.apply``: read both, apply, write both conditional
on the version read; a concurrent change makes the condition fail and the change is re-read and
retried; the marker in the same transaction keeps it one effect):

- **main** (sk ``main``, read by every dashboard request): ``v`` (version), ``m`` (zlib JSON), and
  the cached answers ``cache_<period>``. ``m`` holds the 7 figures per bucket (hour: the 48 hours a
  day's view and its previous period need, plus ``MARGIN``; day: 60 + margin; month: 24 + margin),
  the all-time figures, the 20 newest activity entries, and per period (day, week, month, year)
  the answer's parts that depend on more than the buckets: the top 10 content and the licensees
  with uses, computed by the writer for the window ending at the writer's current bucket
  (``end``); and the active licenses' count at the writer's time with the next expiry after it.
  Its size is bounded by buckets, 10, 20 and 4: never by uses, content items or licensees (about
  5 KB compressed).
- **detail** (sk ``detail``): the per-content split (uses, proven uses, revenue) of each bucket of
  the current periods (hour: 24 + margin, day: 30 + margin, month: 12 + margin), the full content
  ids of the short ids it uses, each licensee's latest use, each active license's expiry. It
  grows with content items and licensees. Read by every change (the writer recomputes the
  per-period parts) and by a dashboard request only when the window moved since the last change
  (a new hour, day or month with no change yet) or a license expired since: then the parts are
  computed from it, exactly as the writer would.

So a miss is exact: the same figures as the buckets (``series``, ``totals``) give.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from marketplace.analytics.models import Bucket, Change, bucket_key, bucket_start, licensee_key, short_id

FIGURES = ("uses", "provenUses", "revenue", "payments", "purchases", "sales", "revocations")
SPLIT_FIGURES = ("uses", "provenUses", "revenue")
PERIODS: dict[str, tuple[Bucket, int]] = {"day": (Bucket.HOUR, 24), "week": (Bucket.DAY, 7),
                                          "month": (Bucket.DAY, 30), "year": (Bucket.MONTH, 12)}
LONGEST = {g: max(n for gg, n in PERIODS.values() if gg is g) for g in Bucket}  # buckets of the longest period
MARGIN = {Bucket.HOUR: 2, Bucket.DAY: 2, Bucket.MONTH: 1}  # buckets kept beyond (clock skew between writers)
RECENT = 20
TOP_CONTENT = 10
ACTIVITY_DAYS = 90
EXPIRED_KEPT = 3600  # an expired license leaves the detail item an hour after its expiry
_NO_EXPIRY = 9_999_999_999


def step(granularity: Bucket, start, n: int):
    if granularity is Bucket.HOUR:
        return start + timedelta(hours=n)
    if granularity is Bucket.DAY:
        return start + timedelta(days=n)
    months = start.year * 12 + start.month - 1 + n
    return start.replace(year=months // 12, month=months % 12 + 1)


def bucket_keys(granularity: Bucket, now: int, count: int) -> list[str]:
    """The keys of the ``count`` buckets ending with the one holding ``now``, oldest first."""
    current = bucket_start(bucket_key(granularity, now))
    return [bucket_key(granularity, int(step(granularity, current, i).timestamp())) for i in range(-count + 1, 1)]


def window(period: str, now: int) -> tuple[list[str], list[str]]:
    """(previous keys, current keys) of a period at ``now``."""
    granularity, count = PERIODS[period]
    keys = bucket_keys(granularity, now, 2 * count)
    return keys[:count], keys[count:]


def _pack(value: Any) -> bytes:
    return zlib.compress(json.dumps(value, separators=(",", ":")).encode(), 6)


def _unpack(blob: bytes | None) -> dict:
    return json.loads(zlib.decompress(blob)) if blob else {}


@dataclass
class Main:
    series: dict[str, dict[str, list[int]]] = field(default_factory=dict)  # granularity -> key -> FIGURES
    all_time: list[int] = field(default_factory=lambda: [0] * len(FIGURES))
    recent: list[list[Any]] = field(default_factory=list)  # [sort key "<at:010d>#<event id>", entry], newest first
    periods: dict[str, dict[str, Any]] = field(default_factory=dict)  # period -> {end, top, licensees}
    active: dict[str, int] = field(default_factory=dict)  # {at, count, next}: the writer's active-license count

    @classmethod
    def decode(cls, blob: bytes | None) -> Main:
        d = _unpack(blob)
        return cls(d.get("s", {}), d.get("a", [0] * len(FIGURES)), d.get("r", []), d.get("p", {}), d.get("x", {}))

    def encode(self) -> bytes:
        return _pack({"s": self.series, "a": self.all_time, "r": self.recent, "p": self.periods, "x": self.active})


@dataclass
class Detail:
    split: dict[str, dict[str, dict[str, list[int]]]] = field(default_factory=dict)  # g -> key -> short -> 3
    names: dict[str, str] = field(default_factory=dict)  # short id -> content id
    last_use: dict[str, int] = field(default_factory=dict)  # licensee key -> latest use (unix s)
    expiries: dict[str, int] = field(default_factory=dict)  # license (first 16 hex digits) -> validUntil

    @classmethod
    def decode(cls, blob: bytes | None) -> Detail:
        d = _unpack(blob)
        return cls(d.get("s", {}), d.get("n", {}), d.get("l", {}), d.get("e", {}))

    def encode(self) -> bytes:
        return _pack({"s": self.split, "n": self.names, "l": self.last_use, "e": self.expiries})


def apply(main: Main, detail: Detail, change: Change) -> None:
    """Add one change to a creator's rollup (both parts; ``prune`` and ``refresh`` follow)."""
    values = [int(change.deltas.get(f, 0)) for f in FIGURES]
    split = [int(change.deltas.get(f, 0)) for f in SPLIT_FIGURES]
    short = short_id(change.content_id)
    for g in Bucket:
        key = bucket_key(g, change.at)
        if any(values):
            point = main.series.setdefault(str(g), {}).setdefault(key, [0] * len(FIGURES))
            for i, v in enumerate(values):
                point[i] += v
        if any(split):
            acc = detail.split.setdefault(str(g), {}).setdefault(key, {}).setdefault(short, [0, 0, 0])
            for i, v in enumerate(split):
                acc[i] += v
    if any(split):
        detail.names[short] = change.content_id
    main.all_time = [a + v for a, v in zip(main.all_time, values, strict=True)]
    if change.licensee and change.deltas.get("uses"):
        key = licensee_key(change.licensee)
        detail.last_use[key] = max(detail.last_use.get(key, 0), change.at)
    if change.activity is not None:
        entry = [f"{change.at:010d}#{change.event_id}", change.activity]
        main.recent = sorted([*main.recent, entry], key=lambda e: e[0], reverse=True)[:RECENT]
    if change.license_id and change.kind == "purchase":
        detail.expiries[change.license_id.removeprefix("0x")[:16]] = min(int(change.valid_until or 0), _NO_EXPIRY)
    if change.license_id and change.kind == "revocation":
        detail.expiries.pop(change.license_id.removeprefix("0x")[:16], None)


def prune(main: Main, detail: Detail, now: int) -> None:
    """Drop what no period can ask for any more at ``now`` (or later)."""
    for g in Bucket:
        first = bucket_keys(g, now, 2 * LONGEST[g] + MARGIN[g])[0]
        main.series[str(g)] = {k: v for k, v in main.series.get(str(g), {}).items() if k >= first}
        first = bucket_keys(g, now, LONGEST[g] + MARGIN[g])[0]
        detail.split[str(g)] = {k: v for k, v in detail.split.get(str(g), {}).items() if k >= first}
    used = {s for by_key in detail.split.values() for shorts in by_key.values() for s in shorts}
    detail.names = {s: c for s, c in detail.names.items() if s in used}
    oldest = int(bucket_start(bucket_keys(Bucket.MONTH, now, LONGEST[Bucket.MONTH] + MARGIN[Bucket.MONTH])[0])
                 .timestamp())
    detail.last_use = {k: t for k, t in detail.last_use.items() if t >= oldest}
    detail.expiries = {k: t for k, t in detail.expiries.items() if t >= now - EXPIRED_KEPT}


def period_parts(detail: Detail, period: str, now: int) -> dict[str, Any]:
    """The parts of a period's answer at ``now`` that the buckets' figures do not give: top content
    (by revenue, then uses, then id; 10) and the licensees with uses (their latest use in the window)."""
    granularity, _ = PERIODS[period]
    _, current = window(period, now)
    split: dict[str, list[int]] = {}
    by_key = detail.split.get(str(granularity), {})
    for key in current:
        for short, values in by_key.get(key, {}).items():
            acc = split.setdefault(short, [0, 0, 0])
            for i, v in enumerate(values):
                acc[i] += v
    top = sorted(((detail.names.get(s, s), v) for s, v in split.items()), key=lambda kv: (-kv[1][2], -kv[1][0], kv[0]))
    start = int(bucket_start(current[0]).timestamp())
    return {"end": current[-1], "top": [[cid, *v] for cid, v in top[:TOP_CONTENT]],
            "licensees": sum(1 for t in detail.last_use.values() if t >= start)}


def active_parts(detail: Detail, now: int) -> dict[str, int]:
    """Active licenses at ``now`` (validUntil > now) and the next expiry after ``now``."""
    later = [t for t in detail.expiries.values() if t > now]
    return {"at": now, "count": len(later), "next": min(later, default=_NO_EXPIRY + 1)}


def refresh(main: Main, detail: Detail, now: int) -> None:
    """Prune both parts and recompute the per-period parts and the active count at ``now``."""
    prune(main, detail, now)
    main.periods = {p: period_parts(detail, p, now) for p in PERIODS}
    main.active = active_parts(detail, now)


def fresh(main: Main, period: str, now: int) -> bool:
    """Whether the writer's parts answer ``period`` at ``now`` (same window, no expiry since)."""
    parts, granularity = main.periods.get(period), PERIODS[period][0]
    active = main.active
    return bool(parts and active and parts["end"] == bucket_key(granularity, now)
                and active["at"] <= now < active["next"])


@dataclass
class View:
    """One read of a creator's main rollup item: the cached answer of one period (if any) and the
    main part, decoded only when asked (a cache hit never decodes it)."""

    cached: dict | None
    blob: bytes | None = None

    @property
    def main(self) -> Main:
        return Main.decode(self.blob)
