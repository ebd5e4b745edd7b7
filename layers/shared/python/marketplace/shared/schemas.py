"""Pydantic pieces every context's HTTP bodies share (not imported by the access hot path)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from marketplace.shared.ids import HEX32_PATTERN

# 0x + 64 hex digits; requests may use either case, the model holds it lowercase
HexId = Annotated[str, StringConstraints(to_lower=True, pattern=HEX32_PATTERN)]



def _checksummed(value: str) -> str:
    from eth_utils import to_checksum_address

    return to_checksum_address(value.lower())  # any case accepted; the checksum is for humans


# an Ethereum address in any case (a mixed-case checksum is not enforced), held EIP-55 checksummed
Address = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{40}$"), AfterValidator(_checksummed)]
# a 65-byte secp256k1 signature (r, s, v), hex
SignatureHex = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{130}$")]


class Strict(BaseModel):
    """A request body: unknown fields are refused. Strings are taken as sent (no stripping), so
    the published schema's lengths and patterns are exactly what is checked."""

    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    error: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)
    supportId: str | None = None
    retryAfter: int | None = None
