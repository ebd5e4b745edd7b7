"""The API's request and response models, generated from its OpenAPI document by
datamodel-code-generator (sdk/tools/generate_models.py). Do not edit: regenerate."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel


class AccessGrantView(BaseModel):
    contentId: Annotated[str, Field(title='Contentid')]
    expiresAt: Annotated[str, Field(title='Expiresat')]
    expiresIn: Annotated[int, Field(title='Expiresin')]
    licenseId: Annotated[str, Field(title='Licenseid')]
    licenseStatus: Annotated[str, Field(title='Licensestatus')]
    url: Annotated[str, Field(title='Url')]
    """
    presigned GET URL of the content object
    """
    use: Annotated[int, Field(title='Use')]
    """
    this use's number (1-based)
    """
    usesRemaining: Annotated[int, Field(title='Usesremaining')]


class CompletedPart(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    etag: Annotated[str, Field(max_length=200, min_length=1, title='Etag')]
    """
    the ETag S3 answered to the part's PUT
    """
    partNumber: Annotated[int, Field(ge=1, le=1000, title='Partnumber')]


class ContentView(BaseModel):
    blockNumber: Annotated[int, Field(title='Blocknumber')]
    cidV1: Annotated[str, Field(title='Cidv1')]
    contentHash: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Contenthash')]
    contentId: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Contentid')]
    createdAt: Annotated[str, Field(title='Createdat')]
    creator: Annotated[str, Field(title='Creator')]
    description: Annotated[str, Field(title='Description')]
    ipfsCid: Annotated[str, Field(title='Ipfscid')]
    size: Annotated[int, Field(title='Size')]
    state: Annotated[str, Field(title='State')]
    tags: Annotated[list[str], Field(title='Tags')]
    title: Annotated[str, Field(title='Title')]
    txHash: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Txhash')]
    verificationUrl: Annotated[str, Field(title='Verificationurl')]


class ErrorBody(BaseModel):
    details: Annotated[dict[str, Any] | None, Field(title='Details')] = None
    error: Annotated[str, Field(title='Error')]
    message: Annotated[str, Field(title='Message')]
    retryAfter: Annotated[int | None, Field(title='Retryafter')] = None
    supportId: Annotated[str | None, Field(title='Supportid')] = None


class KeysRevokedView(BaseModel):
    licenseId: Annotated[str, Field(title='Licenseid')]
    revoked: Annotated[int, Field(title='Revoked')]


class LicenseView(BaseModel):
    amount: Annotated[int, Field(title='Amount')]
    apiKeys: Annotated[list[dict[str, Any]] | None, Field(title='Apikeys')] = None
    buyer: Annotated[str | None, Field(title='Buyer')] = None
    contentId: Annotated[str, Field(title='Contentid')]
    licenseId: Annotated[str, Field(title='Licenseid')]
    maxUses: Annotated[int, Field(title='Maxuses')]
    pricePerUse: Annotated[int, Field(title='Priceperuse')]
    purchasedAt: Annotated[str, Field(title='Purchasedat')]
    revokedAt: Annotated[str | None, Field(title='Revokedat')] = None
    status: Annotated[str, Field(title='Status')]
    """
    PURCHASED, IN_USE, EXHAUSTED, EXPIRED or REVOKED
    """
    termsId: Annotated[str, Field(title='Termsid')]
    txHash: Annotated[str, Field(title='Txhash')]
    type: Annotated[str | None, Field(title='Type')] = None
    uses: Annotated[int, Field(title='Uses')]
    validFrom: Annotated[int, Field(title='Validfrom')]
    validUntil: Annotated[int, Field(title='Validuntil')]


class LoginRequest(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    message: Annotated[str, Field(title='Message')]
    signature: Annotated[str, Field(pattern='^0x[0-9a-fA-F]{130}$', title='Signature')]
    """
    65-byte personal_sign signature, hex
    """


class LoginResponse(BaseModel):
    expiresAt: Annotated[int, Field(title='Expiresat')]
    """
    unix seconds
    """
    token: Annotated[str, Field(title='Token')]


class Tag(RootModel[str]):
    root: Annotated[str, Field(max_length=50, min_length=1)]


class Metadata(BaseModel):
    """
    What a creator says about the content (the ``metadata`` part / field).
    """

    model_config = ConfigDict(
        extra='forbid',
    )
    description: Annotated[str | None, Field(max_length=5000, title='Description')] = ''
    tags: Annotated[list[Tag] | None, Field(max_length=20, title='Tags')] = None
    title: Annotated[str, Field(max_length=200, min_length=1, title='Title')]


class NewKeyView(BaseModel):
    accessToken: Annotated[str, Field(title='Accesstoken')]
    """
    the license credential, again
    """
    apiKey: Annotated[str, Field(title='Apikey')]
    """
    shown once; the license's other keys are revoked
    """
    licenseId: Annotated[str, Field(title='Licenseid')]


class NonceRequest(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    address: Annotated[
        str,
        Field(
            examples=['0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'],
            pattern='^0x[0-9a-fA-F]{40}$',
            title='Address',
        ),
    ]
    """
    the Ethereum address that will sign in (any case)
    """


class NonceResponse(BaseModel):
    message: Annotated[str, Field(title='Message')]
    """
    the EIP-4361 message to sign with personal_sign
    """
    nonce: Annotated[str, Field(title='Nonce')]


class OpenApiDocument(BaseModel):
    """
    An OpenAPI 3.1 document.
    """

    model_config = ConfigDict(
        extra='allow',
    )


class PartUrl(BaseModel):
    partNumber: Annotated[int, Field(ge=1, le=1000, title='Partnumber')]
    size: Annotated[int, Field(title='Size')]
    """
    exact bytes of this part
    """
    url: Annotated[str, Field(title='Url')]
    """
    presigned PUT of this part; send Content-MD5 (S3 checks it) and keep the ETag
    """


class Amount(RootModel[int]):
    root: Annotated[int, Field(ge=0, title='Amount')]
    """
    what you intend to pay, checked against the price
    """


class TxHash(RootModel[str]):
    root: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Txhash')]
    """
    a purchase transaction you sent yourself
    """


class Value(RootModel[int]):
    root: Annotated[int, Field(ge=0, title='Value')]
    """
    the permit's value, if you want it checked (= amount)
    """


class PermitPayment(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    deadline: Annotated[int, Field(ge=0, le=1099511627775, title='Deadline')]
    """
    the permit's deadline, as in the typed data
    """
    purchaseSignature: Annotated[
        str, Field(pattern='^0x[0-9a-fA-F]{130}$', title='Purchasesignature')
    ]
    """
    the buyer's eth_signTypedData_v4 signature of purchase.typedData from the quote: it names the terms, credential commitment, nonce and deadline, so the relayer can buy nothing else
    """
    signature: Annotated[str, Field(pattern='^0x[0-9a-fA-F]{130}$', title='Signature')]
    """
    the buyer's eth_signTypedData_v4 signature of permit.typedData
    """
    value: Annotated[Value | None, Field(title='Value')] = None
    """
    the permit's value, if you want it checked (= amount)
    """


class QuoteId(RootModel[str]):
    root: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Quoteid')]
    """
    from POST /license/quote: required with payment.permit; with payment.txHash unless the transaction records the quote's commitment
    """


class QuoteRequest(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    termsId: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Termsid')]


class QuoteView(BaseModel):
    amount: Annotated[int, Field(title='Amount')]
    credentialCommitment: Annotated[str, Field(title='Credentialcommitment')]
    expiresAt: Annotated[int, Field(title='Expiresat')]
    licenseId: Annotated[str, Field(title='Licenseid')]
    """
    the id the purchase will get: keccak256(termsId, buyer, nonce)
    """
    nonce: Annotated[str, Field(title='Nonce')]
    """
    the purchase nonce (uint256, decimal) the purchase passes
    """
    permit: Annotated[dict[str, Any], Field(title='Permit')]
    """
    typedData (EIP-2612 Permit, spender = the escrow) and deadline
    """
    purchase: Annotated[dict[str, Any], Field(title='Purchase')]
    """
    typedData (LicenseManager Purchase: terms, credential commitment, nonce, deadline) the buyer signs so the platform may relay exactly this purchase
    """
    quoteId: Annotated[str, Field(title='Quoteid')]
    termsId: Annotated[str, Field(title='Termsid')]
    token: Annotated[dict[str, Any], Field(title='Token')]
    transaction: Annotated[dict[str, Any], Field(title='Transaction')]
    """
    to buy with your own transaction: approve, then purchase
    """


class RegisterUploadRequest(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    metadata: Metadata
    uploadId: Annotated[str, Field(pattern='^[0-9a-f]{32}$', title='Uploadid')]


class RegistrationAccepted(BaseModel):
    """
    The saga is still running: poll ``location`` (also the ``Location`` header).
    """

    location: Annotated[str, Field(title='Location')]
    registrationId: Annotated[str, Field(title='Registrationid')]
    state: Annotated[str, Field(title='State')]
    """
    PENDING
    """


class RegistrationResult(BaseModel):
    blockNumber: Annotated[int, Field(title='Blocknumber')]
    cidV1: Annotated[str, Field(title='Cidv1')]
    contentHash: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Contenthash')]
    contentId: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Contentid')]
    ipfsCid: Annotated[str, Field(title='Ipfscid')]
    registrationId: Annotated[str, Field(title='Registrationid')]
    txHash: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Txhash')]
    verificationUrl: Annotated[str, Field(title='Verificationurl')]


class RegistrationStatus(BaseModel):
    createdAt: Annotated[str, Field(title='Createdat')]
    error: Annotated[dict[str, Any] | None, Field(title='Error')] = None
    metadata: Metadata | None = None
    registrationId: Annotated[str, Field(title='Registrationid')]
    result: RegistrationResult | None = None
    stage: Annotated[str | None, Field(title='Stage')] = None
    state: Annotated[str, Field(title='State')]
    """
    AWAITING_UPLOAD, PENDING, REGISTERED or FAILED
    """
    updatedAt: Annotated[str | None, Field(title='Updatedat')] = None


class RevokeRequest1(BaseModel):
    deadline: int


class Deadline(RootModel[int]):
    root: Annotated[int, Field(ge=0, le=1099511627775, title='Deadline')] = None
    """
    the deadline of the signed typed data
    """


class Signature(RootModel[str]):
    root: Annotated[str, Field(pattern='^0x[0-9a-fA-F]{130}$', title='Signature')] = (
        None
    )


class TxHash2(RootModel[str]):
    root: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Txhash')] = None


class RevokeRequest2(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    deadline: Annotated[Deadline | None, Field(title='Deadline')] = None
    """
    the deadline of the signed typed data
    """
    signature: Annotated[Signature | None, Field(title='Signature')] = None
    txHash: Annotated[TxHash2 | None, Field(title='Txhash')] = None


class RevokeRequest3(RevokeRequest1, RevokeRequest2):
    model_config = ConfigDict(
        extra='forbid',
    )
    deadline: Annotated[Deadline | None, Field(title='Deadline')]
    """
    the deadline of the signed typed data
    """
    signature: Annotated[Signature | None, Field(title='Signature')] = None
    txHash: Annotated[TxHash2 | None, Field(title='Txhash')] = None


class RevokeRequest(RootModel[RevokeRequest3]):
    root: Annotated[RevokeRequest3, Field(title='RevokeRequest')]


class TermsCreated(BaseModel):
    """
    Terms just created on chain (201).
    """

    active: Annotated[bool, Field(title='Active')]
    amount: Annotated[int, Field(title='Amount')]
    """
    what a purchase pays: pricePerUse × maxUses
    """
    contentId: Annotated[str, Field(title='Contentid')]
    createdAt: Annotated[str | None, Field(title='Createdat')] = None
    durationSeconds: Annotated[int, Field(title='Durationseconds')]
    maxUses: Annotated[int, Field(title='Maxuses')]
    pricePerUse: Annotated[int, Field(title='Priceperuse')]
    termsId: Annotated[str, Field(title='Termsid')]
    txHash: Annotated[str | None, Field(title='Txhash')] = None
    type: Annotated[str, Field(title='Type')]


class TermsRequest1(BaseModel):
    deadline: int


class Deadline2(RootModel[int]):
    root: Annotated[int, Field(ge=0, le=1099511627775, title='Deadline')]
    """
    the deadline of the signed typed data
    """


class Signature2(RootModel[str]):
    root: Annotated[str, Field(pattern='^0x[0-9a-fA-F]{130}$', title='Signature')]


class TxHash4(RootModel[str]):
    root: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Txhash')]


class Type(StrEnum):
    per_use = 'per_use'
    subscription = 'subscription'
    research = 'research'
    commercial = 'commercial'


class TermsRequest2(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    deadline: Annotated[Deadline2 | None, Field(title='Deadline')] = None
    """
    the deadline of the signed typed data
    """
    durationSeconds: Annotated[
        int | None, Field(ge=0, le=1099511627775, title='Durationseconds')
    ] = 0
    """
    validity after purchase; 0: no expiry
    """
    maxUses: Annotated[int, Field(ge=1, le=4294967295, title='Maxuses')]
    pricePerUse: Annotated[int, Field(ge=1, le=9007199254740991, title='Priceperuse')]
    """
    token base units (6 decimals) per use
    """
    signature: Annotated[Signature2 | None, Field(title='Signature')] = None
    txHash: Annotated[TxHash4 | None, Field(title='Txhash')] = None
    type: Annotated[Type | None, Field(title='Type')] = 'per_use'


class TermsRequest3(TermsRequest1, TermsRequest2):
    model_config = ConfigDict(
        extra='forbid',
    )
    deadline: Annotated[Deadline2 | None, Field(title='Deadline')]
    """
    the deadline of the signed typed data
    """
    durationSeconds: Annotated[
        int | None, Field(ge=0, le=1099511627775, title='Durationseconds')
    ] = 0
    """
    validity after purchase; 0: no expiry
    """
    maxUses: Annotated[int, Field(ge=1, le=4294967295, title='Maxuses')]
    pricePerUse: Annotated[int, Field(ge=1, le=9007199254740991, title='Priceperuse')]
    """
    token base units (6 decimals) per use
    """
    signature: Annotated[Signature2 | None, Field(title='Signature')] = None
    txHash: Annotated[TxHash4 | None, Field(title='Txhash')] = None
    type: Annotated[Type | None, Field(title='Type')] = 'per_use'


class TermsRequest(RootModel[TermsRequest3]):
    root: Annotated[TermsRequest3, Field(title='TermsRequest')]


class TermsView(BaseModel):
    active: Annotated[bool, Field(title='Active')]
    amount: Annotated[int, Field(title='Amount')]
    """
    what a purchase pays: pricePerUse × maxUses
    """
    contentId: Annotated[str, Field(title='Contentid')]
    createdAt: Annotated[str | None, Field(title='Createdat')] = None
    durationSeconds: Annotated[int, Field(title='Durationseconds')]
    maxUses: Annotated[int, Field(title='Maxuses')]
    pricePerUse: Annotated[int, Field(title='Priceperuse')]
    termsId: Annotated[str, Field(title='Termsid')]
    txHash: Annotated[str | None, Field(title='Txhash')] = None
    type: Annotated[str, Field(title='Type')]


class TypedDataChallenge(BaseModel):
    deadline: Annotated[int, Field(title='Deadline')]
    signatureRequired: Annotated[bool | None, Field(title='Signaturerequired')] = True
    typedData: Annotated[dict[str, Any], Field(title='Typeddata')]


class UploadCompleted(BaseModel):
    etag: Annotated[str | None, Field(title='Etag')] = None
    """
    S3's ETag of the assembled object (absent when it was completed by an earlier call)
    """
    size: Annotated[int, Field(title='Size')]
    uploadId: Annotated[str, Field(title='Uploadid')]


class PartNumber(RootModel[int]):
    root: Annotated[int, Field(ge=1, le=1000)]


class UploadPartsRequest(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    partNumbers: Annotated[
        list[PartNumber] | None, Field(max_length=1000, title='Partnumbers')
    ] = None
    """
    parts to get fresh URLs for (none: only the list)
    """


class PartSize(RootModel[int]):
    root: Annotated[int, Field(ge=5242880, le=5368709120, title='Partsize')]
    """
    bytes per part of a multipart upload (default: 64 MiB, or more so that the file has at most 1,000 parts)
    """


class UploadRequest(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    filename: Annotated[str, Field(max_length=255, min_length=1, title='Filename')]
    multipart: Annotated[bool | None, Field(title='Multipart')] = None
    """
    true: an S3 multipart upload (part URLs, parallel and resumable parts); false or absent: one presigned POST, which S3 caps at 5 GiB (larger files are always multipart)
    """
    partSize: Annotated[PartSize | None, Field(title='Partsize')] = None
    """
    bytes per part of a multipart upload (default: 64 MiB, or more so that the file has at most 1,000 parts)
    """
    size: Annotated[int, Field(ge=1, title='Size')]
    """
    exact size of the file in bytes
    """


class UploadResponse(BaseModel):
    """
    One presigned POST for the whole file.
    """

    expiresAt: Annotated[int, Field(title='Expiresat')]
    fields: Annotated[dict[str, str], Field(title='Fields')]
    multipart: Annotated[Literal[False], Field(title='Multipart')] = False
    uploadId: Annotated[str, Field(title='Uploadid')]
    url: Annotated[str, Field(title='Url')]


class UploadedPart(BaseModel):
    etag: Annotated[str, Field(title='Etag')]
    """
    S3's ETag of the part (the hex MD5 of its bytes, quoted)
    """
    partNumber: Annotated[int, Field(title='Partnumber')]
    size: Annotated[int, Field(title='Size')]


class CompleteUploadRequest(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    parts: Annotated[
        list[CompletedPart], Field(max_length=1000, min_length=1, title='Parts')
    ]
    """
    every part, in order
    """


class MultipartUploadResponse(BaseModel):
    """
    An S3 multipart upload: PUT each part to its URL (in any order, in parallel), then
    POST /content/uploads/{uploadId}/complete with the parts' ETags, then register the uploadId.
    """

    expiresAt: Annotated[int, Field(title='Expiresat')]
    """
    when the part URLs expire (POST .../parts for fresh ones)
    """
    multipart: Annotated[Literal[True], Field(title='Multipart')] = True
    partCount: Annotated[int, Field(title='Partcount')]
    partSize: Annotated[int, Field(title='Partsize')]
    parts: Annotated[list[PartUrl], Field(title='Parts')]
    size: Annotated[int, Field(title='Size')]
    uploadId: Annotated[str, Field(title='Uploadid')]


class Payment1(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    amount: Annotated[Amount | None, Field(title='Amount')] = None
    """
    what you intend to pay, checked against the price
    """
    permit: PermitPayment | None
    txHash: Annotated[TxHash | None, Field(title='Txhash')] = None
    """
    a purchase transaction you sent yourself
    """


class Payment2(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    amount: Annotated[Amount | None, Field(title='Amount')] = None
    """
    what you intend to pay, checked against the price
    """
    permit: PermitPayment | None = None
    txHash: Annotated[TxHash | None, Field(title='Txhash')]
    """
    a purchase transaction you sent yourself
    """


class Payment(RootModel[Payment1 | Payment2]):
    root: Annotated[Payment1 | Payment2, Field(title='Payment')]


class PurchaseRequest1(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    payment: Payment
    quoteId: Annotated[QuoteId | None, Field(title='Quoteid')] = None
    """
    from POST /license/quote: required with payment.permit; with payment.txHash unless the transaction records the quote's commitment
    """
    termsId: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Termsid')]


class PurchaseRequest2(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    payment: Payment
    quoteId: Annotated[QuoteId | None, Field(title='Quoteid')]
    """
    from POST /license/quote: required with payment.permit; with payment.txHash unless the transaction records the quote's commitment
    """
    termsId: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Termsid')]


class PurchaseRequest(RootModel[PurchaseRequest1 | PurchaseRequest2]):
    root: Annotated[PurchaseRequest1 | PurchaseRequest2, Field(title='PurchaseRequest')]


class PurchaseView(BaseModel):
    accessToken: Annotated[str, Field(title='Accesstoken')]
    """
    the license credential (X-License-Token)
    """
    apiKey: Annotated[str, Field(title='Apikey')]
    """
    shown once
    """
    licenseId: Annotated[str, Field(title='Licenseid')]
    status: Annotated[str | None, Field(title='Status')] = 'PURCHASED'
    terms: TermsView
    txHash: Annotated[str, Field(title='Txhash')]
    validFrom: Annotated[int, Field(title='Validfrom')]
    validUntil: Annotated[int, Field(title='Validuntil')]


class RevokeAnswer(RootModel[TypedDataChallenge | LicenseView]):
    root: Annotated[TypedDataChallenge | LicenseView, Field(title='RevokeAnswer')]
    """
    TypedDataChallenge or LicenseView
    """


class TermsAnswer(RootModel[TypedDataChallenge | TermsView]):
    root: Annotated[TypedDataChallenge | TermsView, Field(title='TermsAnswer')]
    """
    TypedDataChallenge or TermsView
    """


class TermsList(BaseModel):
    contentId: Annotated[str, Field(title='Contentid')]
    terms: Annotated[list[TermsView], Field(title='Terms')]


class UploadAnswer(RootModel[UploadResponse | MultipartUploadResponse]):
    root: Annotated[
        UploadResponse | MultipartUploadResponse, Field(title='UploadAnswer')
    ]
    """
    UploadResponse or MultipartUploadResponse
    """


class UploadPartsView(BaseModel):
    """
    What S3 holds of a multipart upload, and fresh URLs for the parts asked for (to resume).
    """

    expiresAt: Annotated[int, Field(title='Expiresat')]
    partCount: Annotated[int, Field(title='Partcount')]
    partSize: Annotated[int, Field(title='Partsize')]
    parts: Annotated[list[PartUrl], Field(title='Parts')]
    size: Annotated[int, Field(title='Size')]
    uploadId: Annotated[str, Field(title='Uploadid')]
    uploaded: Annotated[list[UploadedPart], Field(title='Uploaded')]
