"""Request and response bodies of auth and Flow 1 (pydantic: validation and the OpenAPI schemas)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
HexId = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-f]{64}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Metadata(_Strict):
    """What a creator says about the content (the ``metadata`` part / field)."""

    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    tags: list[Tag] = Field(default_factory=list, max_length=20)


class NonceRequest(_Strict):
    address: str = Field(description="the Ethereum address that will sign in", examples=["0xf39F…2266"])


class NonceResponse(BaseModel):
    nonce: str
    message: str = Field(description="the EIP-4361 message to sign with personal_sign")


class LoginRequest(_Strict):
    message: str
    signature: str = Field(description="65-byte personal_sign signature, hex")


class LoginResponse(BaseModel):
    token: str
    expiresAt: int = Field(description="unix seconds")


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


class ErrorBody(BaseModel):
    error: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)
    supportId: str | None = None
    retryAfter: int | None = None
