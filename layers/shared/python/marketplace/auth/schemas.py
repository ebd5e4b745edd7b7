"""Request and response bodies of sign-in (pydantic: validation and the OpenAPI schemas)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from marketplace.shared.schemas import Strict as _Strict


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
