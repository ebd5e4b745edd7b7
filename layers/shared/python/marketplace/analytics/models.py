"""The analytics aggregates' model: buckets, counters, and the change one event makes.

Time buckets (UTC): ``hour`` ``2026-11-30T08``, ``day`` ``2026-11-30``, ``month`` ``2026-11``; plus
``all`` (all-time). A scope is ``creator#<address>`` or ``content#<contentId>`` (lowercase). Every
change adds its counters to the 4 buckets of both scopes.

Counters (integers; amounts in the payment token's base units):

- ``uses``: uses served (one per usage record the access path wrote: the usage table's stream);
- ``provenUses``: uses logged on chain in proven batches (``UsageLogged.count``);
- ``revenue``: the creator's share paid (``PaymentReleased.creatorAmount``); ``platformFees`` the fee;
- ``payments``: batches paid; ``purchases``: licenses bought (``LicensePurchased``), ``sales`` their
  deposits (``amount``); ``revocations``: licenses revoked (``LicenseRevoked``).

A creator's buckets also hold the per-content split of uses, proven uses and revenue (attributes
``cu#<short>``, ``cp#…``, ``cr#…``: the dashboard's top content without reading per-content items) and the licensees
with uses in that bucket (``licensees``, a string set). Both are kept small, since a period's query
reads them for every bucket: ``short`` is the content id's first 16 hex digits (64 bits; the
creator's all-time item maps each back to its full id, ``id#<short>``), a licensee is the first 12
hex digits of SHA-256 of its address (48 bits: a distinct count, collisions negligible).

No pydantic here: the stream consumer stays light.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

COUNTERS: tuple[str, ...] = ("uses", "provenUses", "revenue", "platformFees", "payments", "purchases", "sales",
                             "revocations")
# per-content split kept in a creator's buckets: counter -> attribute prefix
SPLIT: dict[str, str] = {"uses": "cu#", "provenUses": "cp#", "revenue": "cr#"}
NAME = "id#"  # a creator's all-time item: id#<short> -> the full content id


def short_id(content_id: str) -> str:
    return content_id.lower().removeprefix("0x")[:16]


def licensee_key(address: str) -> str:
    return hashlib.sha256(address.lower().encode()).hexdigest()[:12]


class Bucket(StrEnum):
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"


_FORMATS = {Bucket.HOUR: "%Y-%m-%dT%H", Bucket.DAY: "%Y-%m-%d", Bucket.MONTH: "%Y-%m"}
_PREFIX = {Bucket.HOUR: "h#", Bucket.DAY: "d#", Bucket.MONTH: "m#"}
ALL = "all"


def bucket_key(granularity: Bucket, at: int) -> str:
    """The bucket of ``at`` (unix seconds, UTC), e.g. ``d#2026-11-30``."""
    return _PREFIX[granularity] + datetime.fromtimestamp(at, UTC).strftime(_FORMATS[granularity])


def bucket_start(key: str) -> datetime:
    prefix, value = key[:2], key[2:]
    granularity = next(g for g, p in _PREFIX.items() if p == prefix)
    return datetime.strptime(value, _FORMATS[granularity]).replace(tzinfo=UTC)


def creator_scope(creator: str) -> str:
    return f"creator#{creator.lower()}"


def content_scope(content_id: str) -> str:
    return f"content#{content_id.lower()}"


ChangeKind = Literal["usage", "proven", "payment", "purchase", "revocation"]


@dataclass(frozen=True)
class Change:
    """One event's effect on the aggregates, applied once (its marker ``event_id``)."""

    event_id: str  # use#<licenseId>#<seq> for a use served; <txHash>:<logIndex> for a chain event
    kind: ChangeKind
    creator: str  # lowercase 0x address
    content_id: str  # lowercase 0x-hex
    at: int  # unix seconds: the use's time, the event's block time
    deltas: dict[str, int]  # counter -> increment (COUNTERS only)
    licensee: str | None = None  # a use's licensee (the buckets' licensees-with-uses sets)
    license_id: str | None = None
    valid_until: int | None = None  # a purchase's expiry (active licenses)
    activity: dict | None = None  # the creator's recent-activity entry, if this change makes one

    def __post_init__(self) -> None:
        unknown = set(self.deltas) - set(COUNTERS)
        if unknown:
            raise ValueError(f"unknown counters {sorted(unknown)}")


@dataclass
class Counters:
    """One bucket of one scope."""

    scope: str
    bucket: str  # h#…, d#…, m#…, or "all"
    values: dict[str, int] = field(default_factory=dict)
    split: dict[str, dict[str, int]] = field(default_factory=dict)  # short id -> {uses, provenUses, revenue}
    licensees: frozenset[str] = frozenset()  # licensee keys
    names: dict[str, str] = field(default_factory=dict)  # short id -> content id (a creator's all-time item)

    def get(self, name: str) -> int:
        return int(self.values.get(name, 0))

    @classmethod
    def from_item(cls, item: dict) -> Counters:
        values = {c: int(item[c]) for c in COUNTERS if c in item}
        split: dict[str, dict[str, int]] = {}
        names: dict[str, str] = {}
        for key, value in item.items():
            if key.startswith(NAME):
                names[key[len(NAME):]] = value
            for counter, prefix in SPLIT.items():
                if key.startswith(prefix):
                    split.setdefault(key[len(prefix):], {})[counter] = int(value)
        return cls(scope=item["pk"], bucket=item["sk"], values=values, split=split,
                   licensees=frozenset(item.get("licensees") or ()), names=names)
