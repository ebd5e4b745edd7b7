"""Request and response bodies of sign-in (pydantic: validation and the OpenAPI schemas)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from marketplace.shared.schemas import Address, SignatureHex
from marketplace.shared.schemas import Strict as _Strict


class NonceRequest(_Strict):
    address: Address = Field(description="the Ethereum address that will sign in (any case)",
                             examples=["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"])


class NonceResponse(BaseModel):
    nonce: str
    message: str = Field(description="the EIP-4361 message to sign with personal_sign")


class LoginRequest(_Strict):
    message: str
    signature: SignatureHex = Field(description="65-byte personal_sign signature, hex")


class LoginResponse(BaseModel):
    token: str
    expiresAt: int = Field(description="unix seconds")
