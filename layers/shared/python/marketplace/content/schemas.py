"""Request and response bodies of Flow 1 (pydantic: validation and the OpenAPI schemas).

What a service returns is one of these; the handler picks the status from its type
(``RegistrationResult`` 201, ``RegistrationAccepted`` 202 + ``Location``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from marketplace.shared.schemas import ErrorBody, HexId
from marketplace.shared.schemas import Strict as _Strict

__all__ = ["CompleteUploadRequest", "CompletedPart", "ContentList", "ContentSummary", "ContentView", "ErrorBody", "Metadata", "MultipartUploadResponse", "PartUrl",
           "RegisterUploadRequest", "RegistrationAccepted", "RegistrationProgress", "RegistrationResult", "RegistrationStatus",
           "TermsSummary", "UploadCompleted", "UploadPartsRequest", "UploadPartsView", "UploadRequest",
           "UploadResponse", "UploadedPart"]

MiB = 1024 * 1024
GiB = 1024 * MiB
# S3's multipart limits: parts of 5 MiB to 5 GiB (the last may be smaller), at most 10,000 parts;
# the API keeps an upload to MAX_PARTS parts so its part URLs fit one answer.
MIN_PART_SIZE = 5 * MiB
MAX_PART_SIZE = 5 * GiB
MAX_PARTS = 1000
# the largest file one presigned POST (S3's PutObject) can take
MAX_POST_BYTES = 5 * GiB

# Taken as sent: no stripping and no pattern (regular expressions differ between Python and ECMA,
# JSON Schema's dialect), so the schema's lengths are exactly what is checked.
Tag = Annotated[str, StringConstraints(min_length=1, max_length=50)]


class Metadata(_Strict):
    """What a creator says about the content (the ``metadata`` part / field)."""

    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    tags: list[Tag] = Field(default_factory=list, max_length=20)


class UploadRequest(_Strict):
    size: int = Field(ge=1, description="exact size of the file in bytes")
    filename: str = Field(min_length=1, max_length=255)
    multipart: bool | None = Field(
        None, description="true: an S3 multipart upload (part URLs, parallel and resumable parts); false or absent: "
        "one presigned POST, which S3 caps at 5 GiB (larger files are always multipart)")
    partSize: int | None = Field(None, ge=MIN_PART_SIZE, le=MAX_PART_SIZE,
                                 description="bytes per part of a multipart upload (default: 64 MiB, or more so "
                                             "that the file has at most 1,000 parts)")


class UploadResponse(BaseModel):
    """One presigned POST for the whole file."""

    uploadId: str
    multipart: Literal[False] = False
    url: str
    fields: dict[str, str]
    expiresAt: int


class PartUrl(BaseModel):
    partNumber: int = Field(ge=1, le=MAX_PARTS)
    url: str = Field(description="presigned PUT of this part; send Content-MD5 (S3 checks it) and keep the ETag")
    size: int = Field(description="exact bytes of this part")


class MultipartUploadResponse(BaseModel):
    """An S3 multipart upload: PUT each part to its URL (in any order, in parallel), then
    POST /content/uploads/{uploadId}/complete with the parts' ETags, then register the uploadId."""

    uploadId: str
    multipart: Literal[True] = True
    size: int
    partSize: int
    partCount: int
    parts: list[PartUrl]
    expiresAt: int = Field(description="when the part URLs expire (POST .../parts for fresh ones)")


class UploadPartsRequest(_Strict):
    partNumbers: list[Annotated[int, Field(ge=1, le=MAX_PARTS)]] = Field(
        default_factory=list, max_length=MAX_PARTS, description="parts to get fresh URLs for (none: only the list)")


class UploadedPart(BaseModel):
    partNumber: int
    size: int
    etag: str = Field(description="S3's ETag of the part (the hex MD5 of its bytes, quoted)")


class UploadPartsView(BaseModel):
    """What S3 holds of a multipart upload, and fresh URLs for the parts asked for (to resume)."""

    uploadId: str
    size: int
    partSize: int
    partCount: int
    uploaded: list[UploadedPart]
    parts: list[PartUrl]
    expiresAt: int


class CompletedPart(_Strict):
    partNumber: int = Field(ge=1, le=MAX_PARTS)
    etag: str = Field(min_length=1, max_length=200, description="the ETag S3 answered to the part's PUT")


class CompleteUploadRequest(_Strict):
    parts: list[CompletedPart] = Field(min_length=1, max_length=MAX_PARTS, description="every part, in order")


class UploadCompleted(BaseModel):
    uploadId: str
    size: int
    etag: str | None = Field(None, description="S3's ETag of the assembled object (absent when it was completed "
                                               "by an earlier call)")


class RegisterUploadRequest(_Strict):
    uploadId: str = Field(pattern=r"^[0-9a-f]{32}$")
    metadata: Metadata


class RegistrationResult(BaseModel):
    registrationId: str
    contentId: HexId
    ipfsCid: str
    cidV1: str
    contentHash: HexId
    txHash: HexId
    blockNumber: int
    verificationUrl: str


class RegistrationAccepted(BaseModel):
    """The saga is still running: poll ``location`` (also the ``Location`` header)."""

    registrationId: str
    state: str = Field(description="PENDING")
    location: str


class RegistrationProgress(BaseModel):
    """How far the store stage is: bytes of the staged upload hashed (SHA-256 and CID) and copied
    into the content bucket, of its size; the hash step's invocations so far."""

    bytesHashed: int = Field(ge=0)
    totalBytes: int = Field(ge=0)
    hashInvocations: int | None = None
    bytesCopied: int | None = None


class RegistrationStatus(BaseModel):
    registrationId: str
    state: str = Field(description="AWAITING_UPLOAD, PENDING, REGISTERED or FAILED")
    stage: str | None = None
    progress: RegistrationProgress | None = Field(
        None, description="while PENDING, once the store stage has started: bytes hashed and copied of the total")
    createdAt: str
    updatedAt: str | None = None
    metadata: Metadata | None = None
    result: RegistrationResult | None = None
    error: dict[str, Any] | None = None


class ContentView(BaseModel):
    contentId: HexId
    state: str
    creator: str
    ipfsCid: str
    cidV1: str
    contentHash: HexId
    size: int
    title: str
    description: str
    tags: list[str]
    txHash: HexId
    blockNumber: int
    createdAt: str
    verificationUrl: str
    archivedAt: str | None = Field(None, description="when its creator archived it (state ARCHIVED)")
    archiveTxHash: HexId | None = Field(None, description="the transaction that archived it on chain")


class TermsSummary(BaseModel):
    activeTerms: int = Field(ge=0, description="license terms on offer")
    minPricePerUse: int | None = Field(None, ge=0, description="the cheapest terms' price per use (token units), "
                                                               "none without terms")
    token: dict[str, Any] | None = Field(None, description="the token prices are in: address, symbol, decimals")


class ContentSummary(BaseModel):
    contentId: HexId
    state: str
    creator: str
    title: str
    tags: list[str]
    size: int
    createdAt: str
    terms: TermsSummary


class ContentList(BaseModel):
    items: list[ContentSummary]
    cursor: str | None = Field(None, description="give it back as ?cursor= for the next page; none at the end")
