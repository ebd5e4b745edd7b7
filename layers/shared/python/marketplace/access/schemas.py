"""The access response's schema, for the OpenAPI document only (the access path itself never
imports pydantic: it answers ``AccessGranted.body()``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class AccessGrantView(BaseModel):
    url: str = Field(description="presigned GET URL of the content object")
    expiresIn: int
    expiresAt: str
    licenseId: str
    contentId: str
    use: int = Field(description="this use's number (1-based)")
    usesRemaining: int
    licenseStatus: str
