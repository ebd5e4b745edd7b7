"""HTTP bodies of the proofs API (Flows 5 and 6)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, field_validator

from marketplace.shared.schemas import HexId, Strict

Claim = Literal["totalUses", "totalRevenue", "uniqueLicensees", "dateRange"]
ALL_CLAIMS: list[Claim] = ["totalUses", "totalRevenue", "uniqueLicensees", "dateRange"]


def _text_only(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("a date (YYYY-MM-DD) or an RFC 3339 date-time string is required")  # noqa: TRY004 - pydantic reports ValueError only
    return value


# a JSON string in the format the schema states (date-time or date), never a number
IsoTime = Annotated[datetime | date, BeforeValidator(_text_only)]


class Period(Strict):
    from_: IsoTime | None = Field(None, alias="from", description="a date or date-time (UTC if no zone); default: "
                                  "the license's validFrom")
    to: IsoTime | None = Field(None, description="a date or date-time; default: now (or validUntil, if earlier). A "
                               "period that ends before it starts lists no batch")


class ComplianceRequest(Strict):
    licenseId: HexId
    period: Period | None = Field(None, description="the reporting period: the report lists the proven uses "
                                  "whose batch windows overlap it; the checks and the proof cover every proven "
                                  "batch of the license (a proof opens the license's whole chain)")


class CheckView(BaseModel):
    name: Literal["usage_limit", "validity", "payment"]
    title: str
    passed: bool
    detail: str
    sources: list[str] = Field(description="what the check rests on: proof, chain or platform records")
    figures: dict[str, int]


class PeriodView(BaseModel):
    model_config = {"populate_by_name": True}

    from_: str = Field(alias="from", serialization_alias="from")
    to: str


class ComplianceReportView(BaseModel):
    reportId: str
    licenseId: HexId
    contentId: HexId
    period: dict[str, str]
    compliant: bool
    checks: list[CheckView]
    violations: list[str]
    totals: dict[str, int]
    proofId: HexId
    txHash: HexId
    reportUrl: str = Field(description="presigned download link of the PDF report")
    reportCid: str = Field(description="the PDF's content address (CIDv1, as `ipfs add --cid-version 1`)")
    verificationUrl: str
    cached: bool = Field(description="the report of the same license, period and chain state was returned")


class GenerateRequest(Strict):
    contentId: HexId
    proofType: Literal["aggregate_usage"] = Field(
        "aggregate_usage", description="aggregate_usage: total uses, revenue, licensees with uses and date range "
        "over every proven batch of every license of the content")
    claims: list[Claim] = Field(
        default_factory=lambda: list(ALL_CLAIMS), min_length=1, max_length=4, json_schema_extra={"uniqueItems": True},
        description="the aggregates to show in the answer and on the verification page. The proof commits to all "
        "of them (its public signals on chain); claims choose what is presented, not what is proven")

    @field_validator("claims")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("claims must not repeat")
        return v


class QrLinks(BaseModel):
    png: str
    svg: str


class ProofGeneratedView(BaseModel):
    proofId: HexId
    txHash: HexId
    contentId: HexId
    proofType: str
    claims: list[str]
    outputs: dict[str, int]
    chunks: int
    verificationUrl: str
    qrCode: QrLinks
    filesUrl: str


class JobView(BaseModel):
    jobId: str
    kind: Literal["compliance", "aggregate"]
    state: Literal["QUEUED", "RUNNING", "SUCCEEDED", "FAILED"]
    stage: str
    chunksProven: int
    chunksTotal: int
    createdAt: str
    location: str
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


class ContentRef(BaseModel):
    contentId: HexId | None = None
    title: str | None = None
    creator: str | None = None


class PublicProofView(BaseModel):
    proofId: HexId
    kind: Literal["compliance", "aggregate"]
    subject: HexId = Field(description="the licenseId (compliance) or contentId (aggregate)")
    verified: bool = Field(description="every chunk proof verified (py_ecc) against the chain state it was "
                           "recorded with, and the chunks link")
    outputs: dict[str, int]
    claims: list[str]
    txHash: HexId
    blockNumber: int
    recordedAt: str
    confirmations: int
    content: ContentRef
    chunks: int
    cached: bool
    verificationUrl: str
    files: dict[str, str]
    howToVerify: list[str]


class JobIn(BaseModel):
    jobId: str = Field(pattern=r"^job_[0-9a-f]{20}$")


class JobFailedIn(BaseModel):
    model_config = {"extra": "ignore"}

    jobId: str
    error: dict = Field(default_factory=dict)


class JobDone(BaseModel):
    jobId: str
    state: str
