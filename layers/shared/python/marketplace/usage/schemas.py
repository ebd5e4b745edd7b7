"""Request and response bodies of the usage-signer routes (pydantic: the API document)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from marketplace.licensing.schemas import _ONE_WAY_SCHEMA, CreatorAuthorization

Address = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{40}$")]


class SignerRequest(CreatorAuthorization):
    """Register a worker key as a usage signer of your license (the licensee).

    Without ``signature``/``txHash``: 200 with the EIP-712 ``AddUsageSigner`` typed data to sign
    with the licensee's wallet; again with ``signature`` + ``deadline``: the platform relays
    ``addUsageSignerWithSig``; or send ``addUsageSigner(licenseId, signer)`` yourself and give its
    ``txHash``. The worker keeps the key's private half: the platform never sees it.
    """

    model_config = ConfigDict(json_schema_extra=_ONE_WAY_SCHEMA)

    signer: Address = Field(description="the worker key's address")


class SignerRevokeRequest(CreatorAuthorization):
    """Revoke a usage signer (the licensee): the same three ways, ``RevokeUsageSigner`` typed data."""


class SignerView(BaseModel):
    licenseId: str
    signer: str = Field(description="lowercase address")
    state: str = Field(description="ACTIVE or REVOKED")
    lastCounter: int = Field(description="the last counter this key was served (its served uses)")
    addedAt: int | None = None
    revokedAt: int | None = None
    txHash: str | None = None


class SignerList(BaseModel):
    licenseId: str
    signers: list[SignerView]
