"""The API's request and response models, generated from its OpenAPI document by
datamodel-code-generator (sdk/tools/generate_models.py). Do not edit: regenerate."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, RootModel


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


class Type(StrEnum):
    license_purchased = 'license.purchased'
    license_revoked = 'license.revoked'
    usage_proven = 'usage.proven'
    payment_released = 'payment.released'


class Activity(BaseModel):
    at: Annotated[str, Field(title='At')]
    contentId: Annotated[str, Field(title='Contentid')]
    delta: Annotated[dict[str, int], Field(title='Delta')]
    """
    what the event added, e.g. {"revenue": 500, "payments": 1}
    """
    licenseId: Annotated[str | None, Field(title='Licenseid')] = None
    txHash: Annotated[str | None, Field(title='Txhash')] = None
    type: Annotated[Type, Field(title='Type')]


class ArchiveRequest1(BaseModel):
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


class TxHash(RootModel[str]):
    root: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Txhash')] = None


class ArchiveRequest2(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    deadline: Annotated[Deadline | None, Field(title='Deadline')] = None
    """
    the deadline of the signed typed data
    """
    signature: Annotated[Signature | None, Field(title='Signature')] = None
    txHash: Annotated[TxHash | None, Field(title='Txhash')] = None


class ArchiveRequest3(ArchiveRequest1, ArchiveRequest2):
    model_config = ConfigDict(
        extra='forbid',
    )
    deadline: Annotated[Deadline | None, Field(title='Deadline')]
    """
    the deadline of the signed typed data
    """
    signature: Annotated[Signature | None, Field(title='Signature')] = None
    txHash: Annotated[TxHash | None, Field(title='Txhash')] = None


class ArchiveRequest(RootModel[ArchiveRequest3]):
    root: Annotated[ArchiveRequest3, Field(title='ArchiveRequest')]


class TxHash2(RootModel[str]):
    root: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Txhash')]
    """
    the archiving transaction (none when the chain had it archived already and only the platform's record followed)
    """


class ArchivedView(BaseModel):
    archivedAt: Annotated[str, Field(title='Archivedat')]
    contentId: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Contentid')]
    state: Annotated[str, Field(title='State')]
    """
    ARCHIVED
    """
    txHash: Annotated[TxHash2 | None, Field(title='Txhash')] = None
    """
    the archiving transaction (none when the chain had it archived already and only the platform's record followed)
    """


class Trigger(StrEnum):
    scheduled = 'scheduled'
    replay = 'replay'
    test = 'test'


class AttemptView(BaseModel):
    at: Annotated[str, Field(title='At')]
    durationMs: Annotated[int, Field(title='Durationms')]
    error: Annotated[str | None, Field(title='Error')] = None
    n: Annotated[int, Field(title='N')]
    ok: Annotated[bool, Field(title='Ok')]
    scheduled: Annotated[int | None, Field(title='Scheduled')] = None
    status: Annotated[int | None, Field(title='Status')] = None
    trigger: Annotated[Trigger, Field(title='Trigger')]


class Name(StrEnum):
    usage_limit = 'usage_limit'
    validity = 'validity'
    payment = 'payment'


class CheckView(BaseModel):
    detail: Annotated[str, Field(title='Detail')]
    figures: Annotated[dict[str, int], Field(title='Figures')]
    name: Annotated[Name, Field(title='Name')]
    passed: Annotated[bool, Field(title='Passed')]
    sources: Annotated[list[str], Field(title='Sources')]
    """
    what the check rests on: proof, chain or platform records
    """
    title: Annotated[str, Field(title='Title')]


class CompletedPart(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    etag: Annotated[str, Field(max_length=200, min_length=1, title='Etag')]
    """
    the ETag S3 answered to the part's PUT
    """
    partNumber: Annotated[int, Field(ge=1, le=1000, title='Partnumber')]


class ComplianceReportView(BaseModel):
    cached: Annotated[bool, Field(title='Cached')]
    """
    the report of the same license, period and chain state was returned
    """
    checks: Annotated[list[CheckView], Field(title='Checks')]
    compliant: Annotated[bool, Field(title='Compliant')]
    contentId: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Contentid')]
    licenseId: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Licenseid')]
    period: Annotated[dict[str, str], Field(title='Period')]
    proofId: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Proofid')]
    reportCid: Annotated[str, Field(title='Reportcid')]
    """
    the PDF's content address (CIDv1, as `ipfs add --cid-version 1`)
    """
    reportId: Annotated[str, Field(title='Reportid')]
    reportUrl: Annotated[str, Field(title='Reporturl')]
    """
    presigned download link of the PDF report
    """
    totals: Annotated[dict[str, int], Field(title='Totals')]
    txHash: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Txhash')]
    verificationUrl: Annotated[str, Field(title='Verificationurl')]
    violations: Annotated[list[str], Field(title='Violations')]


class ContentEarnings(BaseModel):
    contentId: Annotated[str, Field(title='Contentid')]
    earned: Annotated[int, Field(title='Earned')]
    """
    creator's share of every batch paid for this content
    """
    payments: Annotated[int, Field(title='Payments')]
    """
    batches paid
    """
    pending: Annotated[int, Field(title='Pending')]
    """
    creator's share (at the current fee) of uses served but not logged yet
    """
    pendingUses: Annotated[int, Field(title='Pendinguses')]
    uses: Annotated[int, Field(title='Uses')]
    """
    uses paid
    """


class ContentId(RootModel[str]):
    root: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Contentid')]


class ContentRef(BaseModel):
    contentId: Annotated[ContentId | None, Field(title='Contentid')] = None
    creator: Annotated[str | None, Field(title='Creator')] = None
    title: Annotated[str | None, Field(title='Title')] = None


class ArchiveTxHash(RootModel[str]):
    root: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Archivetxhash')]
    """
    the transaction that archived it on chain
    """


class ContentView(BaseModel):
    archiveTxHash: Annotated[ArchiveTxHash | None, Field(title='Archivetxhash')] = None
    """
    the transaction that archived it on chain
    """
    archivedAt: Annotated[str | None, Field(title='Archivedat')] = None
    """
    when its creator archived it (state ARCHIVED)
    """
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


class Granularity(StrEnum):
    """
    bucket size of the series: day → hours, week and month → days, year → months
    """

    hour = 'hour'
    day = 'day'
    month = 'month'


class Period1(StrEnum):
    day = 'day'
    week = 'week'
    month = 'month'
    year = 'year'


class State(StrEnum):
    PENDING = 'PENDING'
    RETRYING = 'RETRYING'
    DELIVERED = 'DELIVERED'
    FAILED = 'FAILED'
    CANCELLED = 'CANCELLED'


class DeliveryView(BaseModel):
    attempts: Annotated[list[AttemptView], Field(title='Attempts')]
    createdAt: Annotated[str, Field(title='Createdat')]
    deliveryId: Annotated[str, Field(title='Deliveryid')]
    messageId: Annotated[str, Field(title='Messageid')]
    state: Annotated[State, Field(title='State')]
    type: Annotated[str, Field(title='Type')]
    webhookId: Annotated[str, Field(title='Webhookid')]


class EarningsView(BaseModel):
    account: Annotated[str, Field(title='Account')]
    earned: Annotated[int, Field(title='Earned')]
    """
    creator's share of every batch paid
    """
    lastWithdrawal: Annotated[str | None, Field(title='Lastwithdrawal')] = None
    """
    txHash of the latest withdrawal
    """
    owed: Annotated[int, Field(title='Owed')]
    """
    what withdraw() would pay now, from the payments the listener recorded (earned − withdrawn)
    """
    owedOnChain: Annotated[int, Field(title='Owedonchain')]
    """
    PaymentEscrow.owed(account) now (equal to owed once the listener caught up)
    """
    payments: Annotated[int, Field(title='Payments')]
    """
    batches paid
    """
    pending: Annotated[int, Field(title='Pending')]
    """
    creator's share (at the current fee) of uses served and not yet logged in a batch: paid when the batch prover logs them
    """
    pendingUses: Annotated[int, Field(title='Pendinguses')]
    perContent: Annotated[list[ContentEarnings], Field(title='Percontent')]
    platformFeeBps: Annotated[int, Field(title='Platformfeebps')]
    """
    the escrow's current fee, basis points
    """
    uses: Annotated[int, Field(title='Uses')]
    """
    uses paid
    """
    withdrawn: Annotated[int, Field(title='Withdrawn')]


class EmailRequest(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    email: Annotated[
        str,
        Field(
            max_length=254,
            pattern="^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$",
            title='Email',
        ),
    ]


class EmailView(BaseModel):
    """
    The creator's notification address; only a verified one (``status`` Success) gets mail.
    """

    email: Annotated[str, Field(title='Email')]
    status: Annotated[str, Field(title='Status')]
    updatedAt: Annotated[str, Field(title='Updatedat')]
    verified: Annotated[bool, Field(title='Verified')]


class ErrorBody(BaseModel):
    details: Annotated[dict[str, Any] | None, Field(title='Details')] = None
    error: Annotated[str, Field(title='Error')]
    message: Annotated[str, Field(title='Message')]
    retryAfter: Annotated[int | None, Field(title='Retryafter')] = None
    supportId: Annotated[str | None, Field(title='Supportid')] = None


class Figures(BaseModel):
    payments: Annotated[int, Field(title='Payments')]
    """
    batches paid
    """
    provenUses: Annotated[int, Field(title='Provenuses')]
    """
    uses logged on chain in proven batches (UsageLogged counts)
    """
    purchases: Annotated[int, Field(title='Purchases')]
    """
    licenses bought
    """
    revenue: Annotated[int, Field(title='Revenue')]
    """
    the creator's share paid (PaymentReleased.creatorAmount), base units
    """
    revocations: Annotated[int, Field(title='Revocations')]
    """
    licenses revoked
    """
    sales: Annotated[int, Field(title='Sales')]
    """
    deposits of the licenses bought, base units
    """
    uses: Annotated[int, Field(title='Uses')]
    """
    uses served (each access the platform granted)
    """


class Claim(StrEnum):
    totalUses = 'totalUses'
    totalRevenue = 'totalRevenue'
    uniqueLicensees = 'uniqueLicensees'
    dateRange = 'dateRange'


class GenerateRequest(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    claims: Annotated[
        list[Claim] | None, Field(max_length=4, min_length=1, title='Claims')
    ] = None
    """
    the aggregates to show in the answer and on the verification page. The proof commits to all of them (its public signals on chain); claims choose what is presented, not what is proven
    """
    contentId: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Contentid')]
    proofType: Annotated[Literal['aggregate_usage'], Field(title='Prooftype')] = (
        'aggregate_usage'
    )
    """
    aggregate_usage: total uses, revenue, licensees with uses and date range over every proven batch of every license of the content
    """


class Kind(StrEnum):
    compliance = 'compliance'
    aggregate = 'aggregate'


class State1(StrEnum):
    QUEUED = 'QUEUED'
    RUNNING = 'RUNNING'
    SUCCEEDED = 'SUCCEEDED'
    FAILED = 'FAILED'


class JobView(BaseModel):
    chunksProven: Annotated[int, Field(title='Chunksproven')]
    chunksTotal: Annotated[int, Field(title='Chunkstotal')]
    createdAt: Annotated[str, Field(title='Createdat')]
    error: Annotated[dict[str, Any] | None, Field(title='Error')] = None
    jobId: Annotated[str, Field(title='Jobid')]
    kind: Annotated[Kind, Field(title='Kind')]
    location: Annotated[str, Field(title='Location')]
    result: Annotated[dict[str, Any] | None, Field(title='Result')] = None
    stage: Annotated[str, Field(title='Stage')]
    state: Annotated[State1, Field(title='State')]


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
    paid: Annotated[int | None, Field(title='Paid')] = None
    """
    released from the deposit to creator and platform (base units)
    """
    pricePerUse: Annotated[int, Field(title='Priceperuse')]
    purchasedAt: Annotated[str, Field(title='Purchasedat')]
    refundOpensAt: Annotated[int | None, Field(title='Refundopensat')] = None
    """
    unix seconds from which the unused deposit may be refunded (0: revoked, at once); null: never (no expiry, not revoked)
    """
    refundable: Annotated[int | None, Field(title='Refundable')] = None
    """
    what a refund would return to the buyer now (base units)
    """
    revokedAt: Annotated[str | None, Field(title='Revokedat')] = None
    status: Annotated[str, Field(title='Status')]
    """
    PURCHASED, IN_USE, EXHAUSTED, EXPIRED or REVOKED
    """
    termsId: Annotated[str, Field(title='Termsid')]
    txHash: Annotated[str, Field(title='Txhash')]
    type: Annotated[str | None, Field(title='Type')] = None
    uses: Annotated[int, Field(title='Uses')]
    usesProven: Annotated[int | None, Field(title='Usesproven')] = None
    """
    uses in batches logged on chain (paid)
    """
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


class TxHash3(RootModel[str]):
    root: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Txhash')]
    """
    a purchase transaction you sent yourself
    """


class Status(StrEnum):
    PENDING = 'PENDING'
    PROCESSING = 'PROCESSING'
    COMPLETED = 'COMPLETED'
    WITHDRAWN = 'WITHDRAWN'
    FAILED = 'FAILED'


class PaymentView(BaseModel):
    amount: Annotated[int, Field(title='Amount')]
    """
    the creator's share (creatorAmount)
    """
    batchId: Annotated[str, Field(title='Batchid')]
    blockNumber: Annotated[int, Field(title='Blocknumber')]
    buyer: Annotated[str, Field(title='Buyer')]
    completedAt: Annotated[str | None, Field(title='Completedat')] = None
    contentId: Annotated[str, Field(title='Contentid')]
    creator: Annotated[str, Field(title='Creator')]
    licenseId: Annotated[str, Field(title='Licenseid')]
    paymentId: Annotated[str, Field(title='Paymentid')]
    """
    the batch's id: keccak256(abi.encode(licenseId, startIndex))
    """
    platformFee: Annotated[int, Field(title='Platformfee')]
    releasedAt: Annotated[str, Field(title='Releasedat')]
    status: Annotated[Status, Field(title='Status')]
    txHash: Annotated[str, Field(title='Txhash')]
    """
    the logUsageBatch transaction that paid the batch
    """
    uses: Annotated[int, Field(title='Uses')]
    withdrawTxHash: Annotated[str | None, Field(title='Withdrawtxhash')] = None
    withdrawnAt: Annotated[str | None, Field(title='Withdrawnat')] = None


class Period(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    from_: Annotated[AwareDatetime | date | None, Field(alias='from', title='From')] = (
        None
    )
    """
    a date or date-time (UTC if no zone); default: the license's validFrom
    """
    to: Annotated[AwareDatetime | date | None, Field(title='To')] = None
    """
    a date or date-time; default: now (or validUntil, if earlier). A period that ends before it starts lists no batch
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


class PublicProofView(BaseModel):
    blockNumber: Annotated[int, Field(title='Blocknumber')]
    cached: Annotated[bool, Field(title='Cached')]
    chunks: Annotated[int, Field(title='Chunks')]
    claims: Annotated[list[str], Field(title='Claims')]
    confirmations: Annotated[int, Field(title='Confirmations')]
    content: ContentRef
    files: Annotated[dict[str, str], Field(title='Files')]
    howToVerify: Annotated[list[str], Field(title='Howtoverify')]
    kind: Annotated[Kind, Field(title='Kind')]
    outputs: Annotated[dict[str, int], Field(title='Outputs')]
    proofId: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Proofid')]
    recordedAt: Annotated[str, Field(title='Recordedat')]
    subject: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Subject')]
    """
    the licenseId (compliance) or contentId (aggregate)
    """
    txHash: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Txhash')]
    verificationUrl: Annotated[str, Field(title='Verificationurl')]
    verified: Annotated[bool, Field(title='Verified')]
    """
    every chunk proof verified (py_ecc) against the chain state it was recorded with, and the chunks link
    """


class QuoteId(RootModel[str]):
    root: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Quoteid')]
    """
    from POST /license/quote: required with payment.permit; with payment.txHash unless the transaction records the quote's commitment
    """


class QrLinks(BaseModel):
    png: Annotated[str, Field(title='Png')]
    svg: Annotated[str, Field(title='Svg')]


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


class RegistrationProgress(BaseModel):
    """
    How far the store stage is: bytes of the staged upload hashed (SHA-256 and CID) and copied
    into the content bucket, of its size; the hash step's invocations so far.
    """

    bytesCopied: Annotated[int | None, Field(title='Bytescopied')] = None
    bytesHashed: Annotated[int, Field(ge=0, title='Byteshashed')]
    hashInvocations: Annotated[int | None, Field(title='Hashinvocations')] = None
    totalBytes: Annotated[int, Field(ge=0, title='Totalbytes')]


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
    progress: RegistrationProgress | None = None
    """
    while PENDING, once the store stage has started: bytes hashed and copied of the total
    """
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


class TxHash5(RootModel[str]):
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
    txHash: Annotated[TxHash5 | None, Field(title='Txhash')] = None


class RevokeRequest3(RevokeRequest1, RevokeRequest2):
    model_config = ConfigDict(
        extra='forbid',
    )
    deadline: Annotated[Deadline | None, Field(title='Deadline')]
    """
    the deadline of the signed typed data
    """
    signature: Annotated[Signature | None, Field(title='Signature')] = None
    txHash: Annotated[TxHash5 | None, Field(title='Txhash')] = None


class RevokeRequest(RootModel[RevokeRequest3]):
    root: Annotated[RevokeRequest3, Field(title='RevokeRequest')]


class SecretRotated(BaseModel):
    """
    The new signing secret (shown once); the previous one signs alongside it until
    ``previousSecretExpiresAt``.
    """

    previousSecretExpiresAt: Annotated[str, Field(title='Previoussecretexpiresat')]
    secret: Annotated[str, Field(title='Secret')]
    webhookId: Annotated[str, Field(title='Webhookid')]


class SeriesPoint(BaseModel):
    payments: Annotated[int, Field(title='Payments')]
    """
    batches paid
    """
    provenUses: Annotated[int, Field(title='Provenuses')]
    """
    uses logged on chain in proven batches (UsageLogged counts)
    """
    purchases: Annotated[int, Field(title='Purchases')]
    """
    licenses bought
    """
    revenue: Annotated[int, Field(title='Revenue')]
    """
    the creator's share paid (PaymentReleased.creatorAmount), base units
    """
    revocations: Annotated[int, Field(title='Revocations')]
    """
    licenses revoked
    """
    sales: Annotated[int, Field(title='Sales')]
    """
    deposits of the licenses bought, base units
    """
    start: Annotated[str, Field(title='Start')]
    """
    the bucket's first second (RFC 3339 UTC)
    """
    uses: Annotated[int, Field(title='Uses')]
    """
    uses served (each access the platform granted)
    """


class SignerRequest1(BaseModel):
    deadline: int


class Deadline4(RootModel[int]):
    root: Annotated[int, Field(ge=0, le=1099511627775, title='Deadline')]
    """
    the deadline of the signed typed data
    """


class Signature4(RootModel[str]):
    root: Annotated[str, Field(pattern='^0x[0-9a-fA-F]{130}$', title='Signature')]


class TxHash7(RootModel[str]):
    root: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Txhash')]


class SignerRequest2(BaseModel):
    """
    Register a worker key as a usage signer of your license (the licensee).

    Without ``signature``/``txHash``: 200 with the EIP-712 ``AddUsageSigner`` typed data to sign
    with the licensee's wallet; again with ``signature`` + ``deadline``: the platform relays
    ``addUsageSignerWithSig``; or send ``addUsageSigner(licenseId, signer)`` yourself and give its
    ``txHash``. The worker keeps the key's private half: the platform never sees it.
    """

    model_config = ConfigDict(
        extra='forbid',
    )
    deadline: Annotated[Deadline4 | None, Field(title='Deadline')] = None
    """
    the deadline of the signed typed data
    """
    signature: Annotated[Signature4 | None, Field(title='Signature')] = None
    signer: Annotated[str, Field(pattern='^0x[0-9a-fA-F]{40}$', title='Signer')]
    """
    the worker key's address
    """
    txHash: Annotated[TxHash7 | None, Field(title='Txhash')] = None


class SignerRequest3(SignerRequest1, SignerRequest2):
    """
    Register a worker key as a usage signer of your license (the licensee).

    Without ``signature``/``txHash``: 200 with the EIP-712 ``AddUsageSigner`` typed data to sign
    with the licensee's wallet; again with ``signature`` + ``deadline``: the platform relays
    ``addUsageSignerWithSig``; or send ``addUsageSigner(licenseId, signer)`` yourself and give its
    ``txHash``. The worker keeps the key's private half: the platform never sees it.
    """

    model_config = ConfigDict(
        extra='forbid',
    )
    deadline: Annotated[Deadline4 | None, Field(title='Deadline')]
    """
    the deadline of the signed typed data
    """
    signature: Annotated[Signature4 | None, Field(title='Signature')] = None
    signer: Annotated[str, Field(pattern='^0x[0-9a-fA-F]{40}$', title='Signer')]
    """
    the worker key's address
    """
    txHash: Annotated[TxHash7 | None, Field(title='Txhash')] = None


class SignerRequest(RootModel[SignerRequest3]):
    """
    Register a worker key as a usage signer of your license (the licensee).

    Without ``signature``/``txHash``: 200 with the EIP-712 ``AddUsageSigner`` typed data to sign
    with the licensee's wallet; again with ``signature`` + ``deadline``: the platform relays
    ``addUsageSignerWithSig``; or send ``addUsageSigner(licenseId, signer)`` yourself and give its
    ``txHash``. The worker keeps the key's private half: the platform never sees it.
    """

    root: Annotated[SignerRequest3, Field(title='SignerRequest')]
    """
    Register a worker key as a usage signer of your license (the licensee).

    Without ``signature``/``txHash``: 200 with the EIP-712 ``AddUsageSigner`` typed data to sign
    with the licensee's wallet; again with ``signature`` + ``deadline``: the platform relays
    ``addUsageSignerWithSig``; or send ``addUsageSigner(licenseId, signer)`` yourself and give its
    ``txHash``. The worker keeps the key's private half: the platform never sees it.
    """


class SignerRevokeRequest1(BaseModel):
    deadline: int


class Deadline6(RootModel[int]):
    root: Annotated[int, Field(ge=0, le=1099511627775, title='Deadline')] = None
    """
    the deadline of the signed typed data
    """


class Signature6(RootModel[str]):
    root: Annotated[str, Field(pattern='^0x[0-9a-fA-F]{130}$', title='Signature')] = (
        None
    )


class TxHash9(RootModel[str]):
    root: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Txhash')] = None


class SignerRevokeRequest2(BaseModel):
    """
    Revoke a usage signer (the licensee): the same three ways, ``RevokeUsageSigner`` typed data.
    """

    model_config = ConfigDict(
        extra='forbid',
    )
    deadline: Annotated[Deadline6 | None, Field(title='Deadline')] = None
    """
    the deadline of the signed typed data
    """
    signature: Annotated[Signature6 | None, Field(title='Signature')] = None
    txHash: Annotated[TxHash9 | None, Field(title='Txhash')] = None


class SignerRevokeRequest3(SignerRevokeRequest1, SignerRevokeRequest2):
    """
    Revoke a usage signer (the licensee): the same three ways, ``RevokeUsageSigner`` typed data.
    """

    model_config = ConfigDict(
        extra='forbid',
    )
    deadline: Annotated[Deadline6 | None, Field(title='Deadline')]
    """
    the deadline of the signed typed data
    """
    signature: Annotated[Signature6 | None, Field(title='Signature')] = None
    txHash: Annotated[TxHash9 | None, Field(title='Txhash')] = None


class SignerRevokeRequest(RootModel[SignerRevokeRequest3]):
    """
    Revoke a usage signer (the licensee): the same three ways, ``RevokeUsageSigner`` typed data.
    """

    root: Annotated[SignerRevokeRequest3, Field(title='SignerRevokeRequest')]
    """
    Revoke a usage signer (the licensee): the same three ways, ``RevokeUsageSigner`` typed data.
    """


class SignerView(BaseModel):
    addedAt: Annotated[int | None, Field(title='Addedat')] = None
    lastCounter: Annotated[int, Field(title='Lastcounter')]
    """
    the last counter this key was served (its served uses)
    """
    licenseId: Annotated[str, Field(title='Licenseid')]
    revokedAt: Annotated[int | None, Field(title='Revokedat')] = None
    signer: Annotated[str, Field(title='Signer')]
    """
    lowercase address
    """
    state: Annotated[str, Field(title='State')]
    """
    ACTIVE or REVOKED
    """
    txHash: Annotated[str | None, Field(title='Txhash')] = None


class Summary(BaseModel):
    activeLicenses: Annotated[int, Field(title='Activelicenses')]
    """
    licenses of the creator's content bought, not revoked, not expired now
    """
    licenseesWithUses: Annotated[int, Field(title='Licenseeswithuses')]
    """
    distinct licensees with at least one use served in the period
    """
    payments: Annotated[int, Field(title='Payments')]
    """
    batches paid
    """
    provenUses: Annotated[int, Field(title='Provenuses')]
    """
    uses logged on chain in proven batches (UsageLogged counts)
    """
    purchases: Annotated[int, Field(title='Purchases')]
    """
    licenses bought
    """
    revenue: Annotated[int, Field(title='Revenue')]
    """
    the creator's share paid (PaymentReleased.creatorAmount), base units
    """
    revocations: Annotated[int, Field(title='Revocations')]
    """
    licenses revoked
    """
    sales: Annotated[int, Field(title='Sales')]
    """
    deposits of the licenses bought, base units
    """
    uses: Annotated[int, Field(title='Uses')]
    """
    uses served (each access the platform granted)
    """


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


class Deadline8(RootModel[int]):
    root: Annotated[int, Field(ge=0, le=1099511627775, title='Deadline')]
    """
    the deadline of the signed typed data
    """


class Signature8(RootModel[str]):
    root: Annotated[str, Field(pattern='^0x[0-9a-fA-F]{130}$', title='Signature')]


class TxHash11(RootModel[str]):
    root: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Txhash')]


class Type1(StrEnum):
    per_use = 'per_use'
    subscription = 'subscription'
    research = 'research'
    commercial = 'commercial'


class TermsRequest2(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    deadline: Annotated[Deadline8 | None, Field(title='Deadline')] = None
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
    signature: Annotated[Signature8 | None, Field(title='Signature')] = None
    txHash: Annotated[TxHash11 | None, Field(title='Txhash')] = None
    type: Annotated[Type1 | None, Field(title='Type')] = 'per_use'


class TermsRequest3(TermsRequest1, TermsRequest2):
    model_config = ConfigDict(
        extra='forbid',
    )
    deadline: Annotated[Deadline8 | None, Field(title='Deadline')]
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
    signature: Annotated[Signature8 | None, Field(title='Signature')] = None
    txHash: Annotated[TxHash11 | None, Field(title='Txhash')] = None
    type: Annotated[Type1 | None, Field(title='Type')] = 'per_use'


class TermsRequest(RootModel[TermsRequest3]):
    root: Annotated[TermsRequest3, Field(title='TermsRequest')]


class MinPricePerUse(RootModel[int]):
    root: Annotated[int, Field(ge=0, title='Minpriceperuse')]
    """
    the cheapest terms' price per use (token units), none without terms
    """


class TermsSummary(BaseModel):
    activeTerms: Annotated[int, Field(ge=0, title='Activeterms')]
    """
    license terms on offer
    """
    minPricePerUse: Annotated[MinPricePerUse | None, Field(title='Minpriceperuse')] = (
        None
    )
    """
    the cheapest terms' price per use (token units), none without terms
    """
    token: Annotated[dict[str, Any] | None, Field(title='Token')] = None
    """
    the token prices are in: address, symbol, decimals
    """


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


class TopContent(BaseModel):
    contentId: Annotated[str, Field(title='Contentid')]
    provenUses: Annotated[int, Field(title='Provenuses')]
    """
    uses logged on chain in the period
    """
    revenue: Annotated[int, Field(title='Revenue')]
    """
    the creator's share paid in the period, base units
    """
    uses: Annotated[int, Field(title='Uses')]
    """
    uses served in the period
    """


class Trend(BaseModel):
    change: Annotated[int, Field(title='Change')]
    """
    current − previous
    """
    changePct: Annotated[float | None, Field(title='Changepct')] = None
    """
    (current − previous) / previous × 100, rounded half-up to one decimal (892 → 1,247: 39.8); absent when previous is 0 (no base to compare)
    """
    current: Annotated[int, Field(title='Current')]
    previous: Annotated[int, Field(title='Previous')]
    """
    the same figure over the period just before (same number of buckets)
    """


class Trends(BaseModel):
    provenUses: Trend
    purchases: Trend
    revenue: Trend
    uses: Trend


class TypedDataChallenge(BaseModel):
    deadline: Annotated[int, Field(title='Deadline')]
    signatureRequired: Annotated[bool | None, Field(title='Signaturerequired')] = True
    typedData: Annotated[dict[str, Any], Field(title='Typeddata')]


class UnsignedTransaction(BaseModel):
    args: Annotated[list[Any], Field(title='Args')]
    chainId: Annotated[int, Field(title='Chainid')]
    data: Annotated[str, Field(title='Data')]
    """
    the calldata
    """
    function: Annotated[str, Field(title='Function')]
    """
    the call's signature
    """
    to: Annotated[str, Field(title='To')]
    """
    the PaymentEscrow
    """
    value: Annotated[str | None, Field(title='Value')] = '0'


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


class WebhookCreated(BaseModel):
    """
    The new webhook with its signing secret (``whsec_``…): shown this once, store it now.
    """

    createdAt: Annotated[str, Field(title='Createdat')]
    description: Annotated[str | None, Field(title='Description')] = None
    events: Annotated[list[str], Field(title='Events')]
    previousSecretExpiresAt: Annotated[
        str | None, Field(title='Previoussecretexpiresat')
    ] = None
    secret: Annotated[str, Field(title='Secret')]
    url: Annotated[str, Field(title='Url')]
    webhookId: Annotated[str, Field(title='Webhookid')]


class Description(RootModel[str]):
    root: Annotated[str, Field(max_length=200, title='Description')]


class Event(StrEnum):
    payment_completed = 'payment.completed'
    license_purchased = 'license.purchased'
    usage_batch_logged = 'usage.batch_logged'
    license_revoked = 'license.revoked'
    refund_completed = 'refund.completed'


class WebhookRequest(BaseModel):
    """
    A webhook to register: an https URL (refused with 403 when it resolves to a private,
    loopback, link-local or metadata address) and the event types it receives.
    """

    model_config = ConfigDict(
        extra='forbid',
    )
    description: Annotated[Description | None, Field(title='Description')] = None
    events: Annotated[list[Event], Field(max_length=5, min_length=1, title='Events')]
    url: Annotated[
        str,
        Field(
            max_length=2048, pattern='^https?://[^\\s/?#@]+(?:[/?#]\\S*)?$', title='Url'
        ),
    ]


class WebhookView(BaseModel):
    createdAt: Annotated[str, Field(title='Createdat')]
    description: Annotated[str | None, Field(title='Description')] = None
    events: Annotated[list[str], Field(title='Events')]
    previousSecretExpiresAt: Annotated[
        str | None, Field(title='Previoussecretexpiresat')
    ] = None
    url: Annotated[str, Field(title='Url')]
    webhookId: Annotated[str, Field(title='Webhookid')]


class WithdrawChallenge(BaseModel):
    note: Annotated[str, Field(title='Note')]
    """
    why the platform cannot send it for you
    """
    owed: Annotated[int, Field(title='Owed')]
    """
    what the transaction would withdraw now
    """
    transaction: UnsignedTransaction
    transactionRequired: Annotated[
        Literal[True], Field(title='Transactionrequired')
    ] = True


class TxHash13(RootModel[str]):
    root: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Txhash')] = None
    """
    your own withdraw() transaction, verified on chain
    """


class WithdrawRequest(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    txHash: Annotated[TxHash13 | None, Field(title='Txhash')] = None
    """
    your own withdraw() transaction, verified on chain
    """


class WithdrawView(BaseModel):
    account: Annotated[str, Field(title='Account')]
    amount: Annotated[int, Field(title='Amount')]
    """
    what the transaction withdrew
    """
    owed: Annotated[int, Field(title='Owed')]
    """
    owed after the withdrawal (the payments the listener recorded)
    """
    txHash: Annotated[str, Field(title='Txhash')]
    withdrawn: Annotated[int, Field(title='Withdrawn')]
    """
    total withdrawn
    """


class ArchiveAnswer(RootModel[TypedDataChallenge | ArchivedView]):
    root: Annotated[TypedDataChallenge | ArchivedView, Field(title='ArchiveAnswer')]
    """
    TypedDataChallenge or ArchivedView
    """


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


class ComplianceRequest(BaseModel):
    model_config = ConfigDict(
        extra='forbid',
    )
    licenseId: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Licenseid')]
    period: Period | None = None
    """
    the reporting period: the report lists the proven uses whose batch windows overlap it; the checks and the proof cover every proven batch of the license (a proof opens the license's whole chain)
    """


class ContentSummary(BaseModel):
    contentId: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Contentid')]
    createdAt: Annotated[str, Field(title='Createdat')]
    creator: Annotated[str, Field(title='Creator')]
    size: Annotated[int, Field(title='Size')]
    state: Annotated[str, Field(title='State')]
    tags: Annotated[list[str], Field(title='Tags')]
    terms: TermsSummary
    title: Annotated[str, Field(title='Title')]


class CreatorAnalytics(BaseModel):
    allTime: Figures
    """
    since the first event (reconciles with the chain: provenUses = Σ UsageLogged.count, revenue = Σ PaymentReleased.creatorAmount of the creator's content)
    """
    cacheAgeSeconds: Annotated[int, Field(title='Cacheageseconds')]
    """
    seconds since generatedAt (0: computed for this request)
    """
    cached: Annotated[bool, Field(title='Cached')]
    """
    served from the 5-minute cache
    """
    creator: Annotated[str, Field(title='Creator')]
    end: Annotated[str, Field(title='End')]
    """
    first second after the period's last bucket (the current one, partial)
    """
    generatedAt: Annotated[str, Field(title='Generatedat')]
    """
    when these figures were read from the aggregates
    """
    granularity: Annotated[Granularity, Field(title='Granularity')]
    """
    bucket size of the series: day → hours, week and month → days, year → months
    """
    maxAgeSeconds: Annotated[int, Field(title='Maxageseconds')]
    """
    how old a cached answer may be
    """
    period: Annotated[Period1, Field(title='Period')]
    recentActivity: Annotated[list[Activity], Field(title='Recentactivity')]
    """
    latest purchases, revocations, proven batches, payments (at most 20, newest first; single uses are in the series)
    """
    series: Annotated[list[SeriesPoint], Field(title='Series')]
    """
    one point per bucket of the period, oldest first, zeros included
    """
    start: Annotated[str, Field(title='Start')]
    """
    first second of the period's first bucket
    """
    summary: Summary
    topContent: Annotated[list[TopContent], Field(title='Topcontent')]
    """
    the period's content by revenue, then uses (at most 10)
    """
    trends: Trends


class DeliveryList(BaseModel):
    deliveries: Annotated[list[DeliveryView], Field(title='Deliveries')]


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
    txHash: Annotated[TxHash3 | None, Field(title='Txhash')] = None
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
    txHash: Annotated[TxHash3 | None, Field(title='Txhash')]
    """
    a purchase transaction you sent yourself
    """


class Payment(RootModel[Payment1 | Payment2]):
    root: Annotated[Payment1 | Payment2, Field(title='Payment')]


class PaymentList(BaseModel):
    cursor: Annotated[str | None, Field(title='Cursor')] = None
    """
    pass as ?cursor= for the next page; absent at the end
    """
    payments: Annotated[list[PaymentView], Field(title='Payments')]


class ProofGeneratedView(BaseModel):
    chunks: Annotated[int, Field(title='Chunks')]
    claims: Annotated[list[str], Field(title='Claims')]
    contentId: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Contentid')]
    filesUrl: Annotated[str, Field(title='Filesurl')]
    outputs: Annotated[dict[str, int], Field(title='Outputs')]
    proofId: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Proofid')]
    proofType: Annotated[str, Field(title='Prooftype')]
    qrCode: QrLinks
    txHash: Annotated[str, Field(pattern='^0x[0-9a-f]{64}$', title='Txhash')]
    verificationUrl: Annotated[str, Field(title='Verificationurl')]


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
    the license credential secret (the buyer's copy; access does not use it: every access is signed by a usage signer, see POST /license/{licenseId}/signers)
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


class SignerAnswer(RootModel[TypedDataChallenge | SignerView]):
    root: Annotated[TypedDataChallenge | SignerView, Field(title='SignerAnswer')]
    """
    TypedDataChallenge or SignerView
    """


class SignerList(BaseModel):
    licenseId: Annotated[str, Field(title='Licenseid')]
    signers: Annotated[list[SignerView], Field(title='Signers')]


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


class WebhookList(BaseModel):
    webhooks: Annotated[list[WebhookView], Field(title='Webhooks')]


class WithdrawAnswer(RootModel[WithdrawChallenge | WithdrawView]):
    root: Annotated[WithdrawChallenge | WithdrawView, Field(title='WithdrawAnswer')]
    """
    WithdrawChallenge or WithdrawView
    """


class ContentList(BaseModel):
    cursor: Annotated[str | None, Field(title='Cursor')] = None
    """
    give it back as ?cursor= for the next page; none at the end
    """
    items: Annotated[list[ContentSummary], Field(title='Items')]
