"""HTTP bodies of the analytics API (``GET /creator/{address}/analytics``). Amounts are integers in
the payment token's base units; addresses EIP-55 checksummed; ids 0x-hex lowercase; times RFC 3339 UTC."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Period = Literal["day", "week", "month", "year"]
Granularity = Literal["hour", "day", "month"]


class Figures(BaseModel):
    uses: int = Field(description="uses served (each access the platform granted)")
    provenUses: int = Field(description="uses logged on chain in proven batches (UsageLogged counts)")
    revenue: int = Field(description="the creator's share paid (PaymentReleased.creatorAmount), base units")
    payments: int = Field(description="batches paid")
    purchases: int = Field(description="licenses bought")
    sales: int = Field(description="deposits of the licenses bought, base units")
    revocations: int = Field(description="licenses revoked")


class Summary(Figures):
    activeLicenses: int = Field(description="licenses of the creator's content bought, not revoked, not expired now")
    licenseesWithUses: int = Field(description="distinct licensees with at least one use served in the period")


class SeriesPoint(Figures):
    start: str = Field(description="the bucket's first second (RFC 3339 UTC)")


class Trend(BaseModel):
    current: int
    previous: int = Field(description="the same figure over the period just before (same number of buckets)")
    change: int = Field(description="current − previous")
    changePct: float | None = Field(None, description="(current − previous) / previous × 100, rounded half-up to one "
                                    "decimal (892 → 1,247: 39.8); absent when previous is 0 (no base to compare)")


class Trends(BaseModel):
    uses: Trend
    provenUses: Trend
    revenue: Trend
    purchases: Trend


class TopContent(BaseModel):
    contentId: str
    uses: int = Field(description="uses served in the period")
    provenUses: int = Field(description="uses logged on chain in the period")
    revenue: int = Field(description="the creator's share paid in the period, base units")


class Activity(BaseModel):
    type: Literal["license.purchased", "license.revoked", "usage.proven", "payment.released"]
    contentId: str
    at: str
    licenseId: str | None = None
    txHash: str | None = None
    delta: dict[str, int] = Field(description="what the event added, e.g. {\"revenue\": 500, \"payments\": 1}")


class CreatorAnalytics(BaseModel):
    creator: str
    period: Period
    granularity: Granularity = Field(description="bucket size of the series: day → hours, week and month → days, "
                                     "year → months")
    start: str = Field(description="first second of the period's first bucket")
    end: str = Field(description="first second after the period's last bucket (the current one, partial)")
    summary: Summary
    allTime: Figures = Field(description="since the first event (reconciles with the chain: provenUses = Σ "
                             "UsageLogged.count, revenue = Σ PaymentReleased.creatorAmount of the creator's content)")
    series: list[SeriesPoint] = Field(description="one point per bucket of the period, oldest first, zeros included")
    trends: Trends
    topContent: list[TopContent] = Field(description="the period's content by revenue, then uses (at most 10)")
    recentActivity: list[Activity] = Field(description="latest purchases, revocations, proven batches, payments "
                                           "(at most 20, newest first; single uses are in the series)")
    generatedAt: str = Field(description="when these figures were read from the aggregates")
    cacheAgeSeconds: int = Field(description="seconds since generatedAt (0: computed for this request)")
    cached: bool = Field(description="served from the 5-minute cache")
    maxAgeSeconds: int = Field(description="how old a cached answer may be")
