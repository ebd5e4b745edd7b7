"""What the analytics services need, and what they offer the live stream.

``AnalyticsStore``: the aggregates (``adapters.DynamoAnalyticsStore`` on the ``analytics`` table,
``fakes.MemoryAnalyticsStore`` in memory over the same items; tests/contract runs one suite over
both). ``apply`` is the only writer of counters: one change (``Change``: a use served, a batch of
uses proven, a payment, a license bought or revoked) adds its deltas to every bucket it falls in
(hour, day, month; per content and per creator) **and** writes the marker of the event it comes
from, in one transaction conditional on that marker's absence: a replayed stream record or a
redelivered chain event answers False and changes nothing. The same transaction writes the
creator's rollup (``rollup``: what a dashboard request reads, one item), read just before and
conditional on its version (a concurrent change of the creator: read again and retried).

``LiveFeed``: after each applied change, the feeders publish one ``LiveUpdate`` per change (not for
a replay) to the live stream (H4's ``marketplace.analytics.live``: the connections table and API
Gateway's Management API; ``fakes.RecordingLiveFeed`` in tests). A failing feed never undoes or
repeats an applied change (the feeder logs it: the dashboard's next load is exact anyway).
"""

from __future__ import annotations

from typing import Literal, Protocol

from pydantic import BaseModel, Field

from marketplace.analytics.models import Bucket, Change, Counters
from marketplace.analytics.rollup import Detail, View

UpdateType = Literal["usage", "payment", "license"]


class LiveUpdate(BaseModel):
    """One applied change as the dashboard's live stream pushes it (Flow 7 "PUBLISH analytics:updates")."""

    contentId: str = Field(description="0x-hex, lowercase")
    creator: str = Field(description="the content's creator, 0x address lowercase (whose dashboard shows it)")
    type: UpdateType = Field(description="usage: uses served; payment: a batch proven and paid; license: bought/revoked")
    delta: dict[str, int] = Field(description='e.g. {"uses": 1} / {"revenue": 500, "provenUses": 64} / '
                                  '{"licenses": 1} (a revocation: {"licenses": -1}); revenue in token base units')
    at: int = Field(0, description="unix seconds of the change (the use, the block)")


class LiveFeed(Protocol):
    def publish(self, updates: list[LiveUpdate]) -> None: ...


class AnalyticsStore(Protocol):
    def apply(self, change: Change) -> bool:
        """Add ``change``'s counters to its buckets (content and creator; hour, day, month; all-time)
        and note its activity, with its marker, all at once; False (nothing written) if the marker
        exists."""
        ...

    def applied(self, event_id: str) -> bool: ...

    def license(self, license_id: str) -> dict | None:
        """A bought license as the purchase recorded it: creator, contentId, licensee, validUntil."""
        ...

    def series(self, scope: str, granularity: Bucket, first: str, last: str, *, counters_only: bool = False
               ) -> list[Counters]:
        """The buckets of ``scope`` (``creator#<address>`` or ``content#<contentId>``) of one
        granularity from ``first`` to ``last`` (bucket keys, inclusive), oldest first; buckets
        without any change are absent. One query: as many items as buckets. ``counters_only``:
        without the per-content split and the licensees (a projection: smaller reads)."""
        ...

    def totals(self, scope: str) -> Counters | None:
        """All-time counters of a scope."""
        ...

    def recent(self, creator: str, limit: int) -> list[dict]:
        """The creator's latest activity entries (newest first), at most ``limit``."""
        ...

    def active_licenses(self, creator: str, now: int) -> int:
        """Licenses of the creator's content bought, not revoked and not expired at ``now``."""
        ...

    # the dashboard's reads (``rollup``): the main item (with the cached answers), the detail item
    def view(self, creator: str, period: str) -> View:
        """One read of the creator's main rollup item: the cached answer of ``period`` (if any) and
        the main part (figures per bucket, all-time, activity, the writer's per-period parts)."""
        ...

    def detail(self, creator: str) -> Detail:
        """The creator's rollup detail (per-content split, licensees' latest uses, expiries)."""
        ...

    # the response cache (5 minutes, Flow 7 "Caching Strategy") on the main rollup item; key "<creator>|<period>"
    def cached(self, key: str) -> dict | None: ...

    def cache(self, key: str, body: dict, ttl_seconds: int) -> None: ...


class Directory(Protocol):
    """Who a use or an event concerns: the content's creator, a license's licensee and creator
    (the content and licenses tables; their fields never change, so adapters may cache them)."""

    def creator_of(self, content_id: str) -> str | None: ...

    def license_of(self, license_id: str) -> dict | None:
        """``{"creator", "buyer", "contentId"}`` lowercase, or None if unknown."""
        ...


class BlockClock(Protocol):
    def block_time(self, number: int) -> int: ...
