"""Pydantic pieces every context's HTTP bodies share (not imported by the access hot path)."""

from __future__ import annotations

import typing
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

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

    @field_validator("*", mode="before")
    @classmethod
    def _booleans_only_where_declared(cls, value: Any, info: ValidationInfo) -> Any:
        # JSON Schema keeps booleans and numbers apart; pydantic's lax mode reads true as 1 and
        # 0 as false
        if info.field_name is None:
            return value
        annotation = cls.model_fields[info.field_name].annotation
        declared = set(typing.get_args(annotation)) or {annotation}  # a union's members, or the type
        if isinstance(value, bool) and bool not in declared:
            raise ValueError("a boolean is not accepted here")
        if bool in declared and value is not None and not isinstance(value, bool) and not (declared - {bool, type(None)}):
            raise ValueError("a boolean is required here")
        return value


class ErrorBody(BaseModel):
    error: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)
    supportId: str | None = None
    retryAfter: int | None = None
