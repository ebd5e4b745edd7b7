"""Pydantic pieces every context's HTTP bodies share (not imported by the access hot path)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from marketplace.shared.ids import HEX32_PATTERN

# 0x + 64 hex digits; requests may use either case, the model holds it lowercase
HexId = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=HEX32_PATTERN)]


class Strict(BaseModel):
    """A request body: unknown fields are refused, strings stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ErrorBody(BaseModel):
    error: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)
    supportId: str | None = None
    retryAfter: int | None = None
