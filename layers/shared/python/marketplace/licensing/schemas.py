"""Request and response bodies of Flow 2 (pydantic: validation and the OpenAPI schemas).

What a service returns is one of these; the handler picks the status from its type (e.g.
``TypedDataChallenge`` 200, ``TermsCreated`` 201, ``TermsView`` 200 for terms recorded before).

Integers bound by the contract's storage types are bounded here too, so a value the chain would
truncate or refuse is a 422 before any transaction: ``pricePerUse`` uint96, ``maxUses`` uint32
(at least 1), ``durationSeconds`` uint40 (0: no expiry).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from marketplace.licensing.models import LICENSE_TYPES
from marketplace.shared.schemas import HexId
from marketplace.shared.schemas import Strict as _Strict

Signature = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{130}$")]
LicenseType = Literal["per_use", "subscription", "research", "commercial"]
if LICENSE_TYPES != get_args(LicenseType):  # one list, in the contract's enum order
    raise RuntimeError("LicenseType and licensing.models.LICENSE_TYPES differ")

UINT96_MAX = (1 << 96) - 1
# The API's one bound on a price: JSON's safe integer (exact in every client's numbers, and in the
# schema checkers' floats). A license's amount, price × maxUses < 2^85, then fits the contract's
# uint96 and DynamoDB's 38 digits, so nothing is refused after a transaction was sent.
MAX_SAFE_INT = (1 << 53) - 1
UINT32_MAX = (1 << 32) - 1
UINT40_MAX = (1 << 40) - 1


def _given(field: str, json_type: str) -> dict[str, Any]:
    """JSON Schema: ``field`` is present and not null."""
    return {"required": [field], "properties": {field: {"type": json_type}}}


# The model validators below, as JSON Schema, so the published document admits exactly what the
# API accepts (schemathesis checks both ways).
_ONE_WAY_SCHEMA: dict[str, Any] = {"allOf": [
    {"not": {"allOf": [_given("signature", "string"), _given("txHash", "string")]}},
    {"anyOf": [{"not": _given("signature", "string")}, _given("deadline", "integer")]},
]}
_PAYMENT_SCHEMA: dict[str, Any] = {"oneOf": [_given("permit", "object"), _given("txHash", "string")]}
# a relayed (permit) purchase names its quote: the buyer signed that quote's commitment and nonce
_PURCHASE_SCHEMA: dict[str, Any] = {"anyOf": [
    {"not": {"required": ["payment"], "properties": {"payment": _given("permit", "object")}}},
    _given("quoteId", "string")]}


class CreatorAuthorization(_Strict):
    """How a creator authorises an on-chain action the API performs for them (terms, revocation).

    Neither field: the API answers 200 with the EIP-712 typed data to sign (``eth_signTypedData_v4``)
    and its ``deadline``; send the request again with ``signature`` and that ``deadline`` and the
    platform's relayer submits it (the creator pays no gas). Or send the transaction yourself and
    give its ``txHash``: the API verifies it on chain and records the result.
    """

    model_config = ConfigDict(json_schema_extra=_ONE_WAY_SCHEMA)

    signature: Signature | None = None
    deadline: int | None = Field(None, ge=0, le=UINT40_MAX, description="the deadline of the signed typed data")
    txHash: HexId | None = None

    @model_validator(mode="after")
    def _one_way(self):
        if self.txHash and self.signature:
            raise ValueError("give either signature (relayed) or txHash (sent yourself), not both")
        if self.signature and self.deadline is None:
            raise ValueError("a signature needs the deadline it signed")
        return self


class TermsRequest(CreatorAuthorization):
    type: LicenseType = "per_use"
    pricePerUse: int = Field(ge=1, le=MAX_SAFE_INT, description="token base units (6 decimals) per use")
    maxUses: int = Field(ge=1, le=UINT32_MAX)
    durationSeconds: int = Field(0, ge=0, le=UINT40_MAX, description="validity after purchase; 0: no expiry")


class RevokeRequest(CreatorAuthorization):
    pass


class ArchiveRequest(CreatorAuthorization):
    pass


class ArchivedView(BaseModel):
    contentId: HexId
    state: str = Field(description="ARCHIVED")
    archivedAt: str
    txHash: HexId | None = Field(None, description="the archiving transaction (none when the chain had it archived "
                                                   "already and only the platform's record followed)")


class QuoteRequest(_Strict):
    termsId: HexId


class PermitPayment(_Strict):
    signature: Signature = Field(description="the buyer's eth_signTypedData_v4 signature of permit.typedData")
    purchaseSignature: Signature = Field(
        description="the buyer's eth_signTypedData_v4 signature of purchase.typedData from the quote: it names "
                    "the terms, credential commitment, nonce and deadline, so the relayer can buy nothing else")
    deadline: int = Field(ge=0, le=UINT40_MAX, description="the permit's deadline, as in the typed data")
    value: int | None = Field(None, ge=0, description="the permit's value, if you want it checked (= amount)")


class Payment(_Strict):
    model_config = ConfigDict(json_schema_extra=_PAYMENT_SCHEMA)

    permit: PermitPayment | None = None
    txHash: HexId | None = Field(None, description="a purchase transaction you sent yourself")
    amount: int | None = Field(None, ge=0, description="what you intend to pay, checked against the price")

    @model_validator(mode="after")
    def _one_way(self):
        if (self.permit is None) == (self.txHash is None):
            raise ValueError("give exactly one of permit (relayed by the platform) or txHash (sent yourself)")
        return self


class PurchaseRequest(_Strict):
    model_config = ConfigDict(json_schema_extra=_PURCHASE_SCHEMA)

    termsId: HexId
    quoteId: HexId | None = Field(None, description="from POST /license/quote: required with payment.permit; with "
                                  "payment.txHash unless the transaction records the quote's commitment")
    payment: Payment

    @model_validator(mode="after")
    def _relayed_needs_quote(self):
        if self.payment.permit is not None and self.quoteId is None:
            raise ValueError("a relayed purchase (payment.permit) needs the quoteId whose purchase typed data "
                             "the buyer signed")
        return self


class TermsView(BaseModel):
    termsId: str
    contentId: str
    type: str
    pricePerUse: int
    maxUses: int
    durationSeconds: int
    amount: int = Field(description="what a purchase pays: pricePerUse × maxUses")
    active: bool
    txHash: str | None = None
    createdAt: str | None = None


class TermsCreated(TermsView):
    """Terms just created on chain (201)."""


class TypedDataChallenge(BaseModel):
    signatureRequired: bool = True
    typedData: dict[str, Any]
    deadline: int


class QuoteView(BaseModel):
    quoteId: str
    termsId: str
    amount: int
    token: dict[str, Any]
    licenseId: str = Field(description="the id the purchase will get: keccak256(termsId, buyer, nonce)")
    nonce: str = Field(description="the purchase nonce (uint256, decimal) the purchase passes")
    credentialCommitment: str
    expiresAt: int
    permit: dict[str, Any] = Field(description="typedData (EIP-2612 Permit, spender = the escrow) and deadline")
    purchase: dict[str, Any] = Field(description="typedData (LicenseManager Purchase: terms, credential commitment, "
                                     "nonce, deadline) the buyer signs so the platform may relay exactly this purchase")
    transaction: dict[str, Any] = Field(description="to buy with your own transaction: approve, then purchase")


class PurchaseView(BaseModel):
    licenseId: str
    accessToken: str = Field(description="the license credential secret (the buyer's copy; access does not use it: "
                             "every access is signed by a usage signer, see POST /license/{licenseId}/signers)")
    apiKey: str = Field(description="shown once")
    txHash: str
    terms: TermsView
    validFrom: int
    validUntil: int
    status: str = "PURCHASED"


class LicenseView(BaseModel):
    licenseId: str
    contentId: str
    termsId: str
    type: str | None = None
    status: str = Field(description="PURCHASED, IN_USE, EXHAUSTED, EXPIRED or REVOKED")
    uses: int
    maxUses: int
    pricePerUse: int
    amount: int
    validFrom: int
    validUntil: int
    purchasedAt: str
    txHash: str
    revokedAt: str | None = None
    buyer: str | None = None
    apiKeys: list[dict[str, Any]] | None = None
    # Flow 4, from the chain (absent when it could not be read)
    usesProven: int | None = Field(None, description="uses in batches logged on chain (paid)")
    paid: int | None = Field(None, description="released from the deposit to creator and platform (base units)")
    refundable: int | None = Field(None, description="what a refund would return to the buyer now (base units)")
    refundOpensAt: int | None = Field(None, description="unix seconds from which the unused deposit may be "
                                      "refunded (0: revoked, at once); null: never (no expiry, not revoked)")


class TermsList(BaseModel):
    contentId: str
    terms: list[TermsView]


class NewKeyView(BaseModel):
    licenseId: str
    apiKey: str = Field(description="shown once; the license's other keys are revoked")
    accessToken: str = Field(description="the license credential, again")


class KeysRevokedView(BaseModel):
    licenseId: str
    revoked: int
