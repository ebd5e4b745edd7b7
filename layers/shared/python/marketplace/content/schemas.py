"""Request and response bodies of Flow 1 (pydantic: validation and the OpenAPI schemas).

What a service returns is one of these; the handler picks the status from its type
(``RegistrationResult`` 201, ``RegistrationAccepted`` 202 + ``Location``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from marketplace.shared.schemas import ErrorBody, HexId
from marketplace.shared.schemas import Strict as _Strict

__all__ = ["ContentView", "ErrorBody", "Metadata", "RegisterUploadRequest", "RegistrationAccepted",
           "RegistrationResult", "RegistrationStatus", "UploadRequest", "UploadResponse"]

# No leading or trailing whitespace (the schema says so with a pattern; nothing is stripped). The
# classes are spelled out: \s differs between Python's and ECMA's (JSON Schema's) regular expressions.
_WS = " \t\n\r\f\v"
Tag = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=f"^[^{_WS}]([\\s\\S]*[^{_WS}])?$")]


class Metadata(_Strict):
    """What a creator says about the content (the ``metadata`` part / field)."""

    title: str = Field(min_length=1, max_length=200, pattern=f"[^{_WS}]", description="not only whitespace")
    description: str = Field("", max_length=5000)
    tags: list[Tag] = Field(default_factory=list, max_length=20)


class UploadRequest(_Strict):
    size: int = Field(ge=1, description="exact size of the file in bytes")
    filename: str = Field(min_length=1, max_length=255)


class UploadResponse(BaseModel):
    uploadId: str
    url: str
    fields: dict[str, str]
    expiresAt: int


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


class RegistrationStatus(BaseModel):
    registrationId: str
    state: str = Field(description="AWAITING_UPLOAD, PENDING, REGISTERED or FAILED")
    stage: str | None = None
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
