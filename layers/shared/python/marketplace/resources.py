"""Every AWS resource of the marketplace, declared once.

The CDK app (``infra/``) builds these in AWS; the local stack (``local/``) creates the same in the
moto server; the handlers find them through the environment variable each spec names. Adding a
table, bucket, queue, state machine, secret, function or route means adding it here, nowhere else.

Physical names are ``{prefix}-{name}`` (``prefix`` is the stack's stage name, e.g. ``zkdm-dev``);
each function receives the physical names in its environment under ``spec.env``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Auth = Literal["none", "jwt", "apikey"]
# "jwt" routes pass API Gateway's Lambda authorizer first; "apikey" routes (sk_live_ keys) and
# public routes have no authorizer: an "apikey" handler checks the key itself (hash lookup).
HANDLER_CHECKED_AUTH: tuple[str, ...] = ("none", "apikey")
# The REST API's binaryMediaTypes: request bodies API Gateway hands to Lambda base64-encoded, and
# response bodies (isBase64Encoded, kit.http documents: PNG images, PDF reports) it turns back into
# bytes for a client whose Accept header names the type.
BINARY_MEDIA_TYPES: tuple[str, ...] = ("multipart/form-data", "image/png", "application/pdf")


@dataclass(frozen=True)
class Index:
    name: str
    pk: str
    sk: str | None = None


@dataclass(frozen=True)
class TableSpec:
    name: str
    env: str
    pk: str
    sk: str | None = None
    indexes: tuple[Index, ...] = ()
    ttl: str | None = "ttl"  # the attribute holding an expiry (epoch seconds) for cache-like items
    # attribute types of keys: everything is a string unless listed here as a number
    numeric: tuple[str, ...] = ()
    # a DynamoDB stream of the table's changes (the new item), read by the function whose
    # FunctionSpec.stream names the table (e.g. the usage table -> analytics)
    stream: Literal["NEW_IMAGE"] | None = None


@dataclass(frozen=True)
class BucketSpec:
    name: str
    env: str
    expire_days: int | None = None  # lifecycle expiry (staging buckets)
    cors_post: bool = False  # browsers POST presigned uploads to it
    # the code reads and copies exact object versions (VersionId): versioning is on in AWS (every
    # bucket there) and in the local stack (only these)
    versioned: bool = False


@dataclass(frozen=True)
class QueueSpec:
    name: str
    env: str
    fifo: bool = False
    visibility_timeout: int = 120
    max_receive_count: int = 5  # then to the dead-letter queue "{name}-dlq"
    # functions listing this queue also get its dead-letter queue under this variable (they put
    # messages there themselves, e.g. a webhook delivery that exhausted its retries)
    dlq_env: str | None = None


@dataclass(frozen=True)
class SecretSpec:
    name: str
    env: str
    description: str
    # "random-hex32": generated at deploy (CDK) and at local start; "external": set by ops
    generate: Literal["random-hex32", "external"] = "random-hex32"


@dataclass(frozen=True)
class KeySpec:
    """An AWS KMS key. Only its key id (ARN) reaches a function, under ``env``; the private key
    never leaves KMS. The relayer key signs Ethereum transactions (secp256k1)."""

    name: str
    env: str
    description: str
    key_spec: str = "ECC_SECG_P256K1"
    usage: Literal["SIGN_VERIFY"] = "SIGN_VERIFY"


@dataclass(frozen=True)
class StateMachineSpec:
    name: str
    env: str
    definition: str  # file under statemachines/
    # ASL placeholder -> function name whose ARN fills it (``${RegistrationWorkerArn}``)
    functions: dict[str, str] = field(default_factory=dict)
    express: bool = False


@dataclass(frozen=True)
class WebSocketApiSpec:
    """An API Gateway WebSocket API whose routes all go to ``function`` (``kit.websocket``).

    ``routes`` are route keys: ``$connect``, ``$disconnect``, ``$default`` and actions chosen by the
    message's ``action`` (route selection ``$request.body.action``); action routes and ``$default``
    answer the sender with what the function returns (two-way). Functions that push to its
    connections list it in ``FunctionSpec.websockets``: they get the URL clients connect to under
    ``url_env`` (``wss://…/{stage}``), the Management API endpoint under ``management_env``
    (``https://…/{stage}``) and ``execute-api:ManageConnections`` on exactly this API's stage."""

    name: str
    function: str
    routes: tuple[str, ...]
    url_env: str
    management_env: str


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    auth: Auth = "none"


@dataclass(frozen=True)
class SettingSpec:
    """A non-resource environment variable. Its type and default live in the function's config
    model (``marketplace.config``); ``required`` ones have no default and the stack must set them."""

    env: str
    description: str
    required: bool = False


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    handler: str  # folder under functions/, module handler.py, callable ``handler``
    routes: tuple[Route, ...] = ()
    memory: int = 512
    timeout: int = 29
    tables: tuple[str, ...] = ()
    buckets: tuple[str, ...] = ()  # read: GetObject (and GetObjectVersion on a versioned bucket)
    bucket_writes: tuple[str, ...] = ()  # of ``buckets``, those it also writes: put, delete, multipart
    queues: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    state_machines: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()  # KMS keys it signs with (kms:Sign, kms:GetPublicKey on exactly those)
    invokes: tuple[str, ...] = ()  # functions it invokes synchronously (lambda:InvokeFunction on exactly those)
    invoke_env: str | None = None  # the variable under which its invokers find its name
    chain: bool = False  # needs CHAIN_CONFIG (the deployment)
    prover: bool = False  # needs the proving keys (bigger memory, longer timeout)
    settings: tuple[str, ...] = ()  # SETTINGS this function reads (besides its resources' variables)
    schedule: str | None = None  # EventBridge schedule expression, e.g. "rate(1 minute)"
    consumes: str | None = None  # the QueueSpec whose messages trigger it (event source mapping)
    # the TableSpec (with a stream) whose new items (INSERT records only) trigger it, in batches of batch_size
    stream: str | None = None
    batch_size: int = 10  # messages per invocation when it consumes a queue
    # SES: "verify" (VerifyEmailIdentity, any address), "send" (SendRawEmail as EMAIL_FROM only);
    # both may read verification status
    ses: tuple[Literal["verify", "send"], ...] = ()
    websockets: tuple[str, ...] = ()  # WEBSOCKET_APIS whose connections it pushes to (URLs + ManageConnections)
    websocket_urls: tuple[str, ...] = ()  # WEBSOCKET_APIS whose client URL it shows (url_env only)


TABLES: tuple[TableSpec, ...] = (
    TableSpec("content", "CONTENT_TABLE", pk="contentId",
              indexes=(Index("byHash", "contentHash"), Index("byCreator", "creator", "createdAt"),
                       # browse (GET /content): a sparse key on listed content, removed at archive
                       Index("byListing", "listing", "createdAt"))),
    TableSpec("registrations", "REGISTRATIONS_TABLE", pk="registrationId",
              indexes=(Index("byHash", "contentHash"),)),
    TableSpec("auth", "AUTH_TABLE", pk="pk"),
    TableSpec("terms", "TERMS_TABLE", pk="termsId", indexes=(Index("byContent", "contentId"),)),
    TableSpec("licenses", "LICENSES_TABLE", pk="licenseId",
              indexes=(Index("byBuyer", "buyer"), Index("byContent", "contentId"))),
    TableSpec("apikeys", "API_KEYS_TABLE", pk="keyHash", indexes=(Index("byLicense", "licenseId"),)),
    TableSpec("usage", "USAGE_TABLE", pk="licenseId", sk="seq", numeric=("seq",), stream="NEW_IMAGE"),
    # Flow 4: the worker keys (usage signers) a licensee registered, ACTIVE | REVOKED, with the last
    # counter each was served and that access's signature (marketplace.usage.models.UsageSigner)
    TableSpec("usage-signers", "USAGE_SIGNERS_TABLE", pk="licenseId", sk="signer"),
    # one record per proven usage batch (digest, count, window): compliance and aggregate proofs open them
    TableSpec("batches", "BATCHES_TABLE", pk="licenseId", sk="startIndex", numeric=("startIndex",)),
    # Flows 5-6: cached compliance reports and verification results, recorded proofs, proof jobs
    TableSpec("proofs", "PROOFS_TABLE", pk="pk"),
    TableSpec("ratelimits", "RATE_LIMITS_TABLE", pk="pk"),
    # Flow 2: a pending credential secret per quote (quoteId = its commitment), until purchase or ttl
    TableSpec("quotes", "QUOTES_TABLE", pk="quoteId"),
    TableSpec("idempotency", "IDEMPOTENCY_TABLE", pk="id", ttl="expiration"),
    # the chain gateway (docs/design.md, "Chain gateway"): the relayer's nonce lease per
    # (chainId, address), the journal of every transaction it signs, the event readers' cursors
    TableSpec("chain-nonces", "CHAIN_NONCES_TABLE", pk="pk"),
    TableSpec("chain-txs", "CHAIN_TXS_TABLE", pk="txHash", indexes=(Index("byState", "state", "nonce"),),
              numeric=("nonce",)),
    TableSpec("chain-cursors", "CHAIN_CURSORS_TABLE", pk="name"),
    # Flow 4 payments (marketplace.payments.adapters): payments per creator (by buyer, by license),
    # creator earnings (total, per content), withdrawals, licenses' buyer side and refund queue, and
    # the markers of the chain events applied (one effect per event)
    TableSpec("payments", "PAYMENTS_TABLE", pk="pk", sk="sk",
              indexes=(Index("byBuyer", "buyer", "position"), Index("byLicense", "licenseId", "position"),
                       Index("byCreatorLicense", "licenseCreator", "position"),
                       Index("byRefund", "refundQueue", "refundAt")),
              numeric=("position", "refundAt")),
    # notifications to creators (issue 9): webhooks, one delivery record per (message, webhook)
    # with its attempt log, a creator's notification email
    TableSpec("webhooks", "WEBHOOKS_TABLE", pk="webhookId", indexes=(Index("byCreator", "creator", "createdAt"),)),
    TableSpec("deliveries", "DELIVERIES_TABLE", pk="deliveryId",
              indexes=(Index("byWebhook", "webhookId", "createdAt"),)),
    TableSpec("creator-settings", "CREATOR_SETTINGS_TABLE", pk="creator"),
    # Flow 7 (issue 11): per-content and per-creator counters in hour/day/month buckets, the markers of
    # the changes applied, recent activity, active licenses, the dashboard's 5-minute cache
    # (marketplace.analytics.adapters)
    TableSpec("analytics", "ANALYTICS_TABLE", pk="pk", sk="sk"),
    # Flow 7's live stream: one item per open WebSocket connection (its creator, the content it
    # follows), expiring with API Gateway's 2 h connection limit (marketplace.streaming)
    TableSpec("ws-connections", "WS_CONNECTIONS_TABLE", pk="connectionId", indexes=(Index("byCreator", "creator"),)),
)

BUCKETS: tuple[BucketSpec, ...] = (
    BucketSpec("content", "CONTENT_BUCKET"),
    # versioned: the registration saga copies exactly the version it hashed (marketplace.content.saga)
    BucketSpec("uploads", "UPLOADS_BUCKET", expire_days=1, cors_post=True, versioned=True),
    BucketSpec("reports", "REPORTS_BUCKET"),
)

QUEUES: tuple[QueueSpec, ...] = (
    QueueSpec("chain-events", "CHAIN_EVENTS_QUEUE", fifo=True),
    # the same chain events for analytics (the listener sends each page to both FIFOs)
    QueueSpec("analytics-events", "ANALYTICS_EVENTS_QUEUE", fifo=True),
    QueueSpec("notifications", "NOTIFICATIONS_QUEUE"),
    # one message per webhook delivery attempt (per-message delay = the retry backoff); a delivery
    # that exhausts its schedule is put on the DLQ by the delivery function (alarmed)
    QueueSpec("webhook-deliveries", "WEBHOOK_DELIVERIES_QUEUE", visibility_timeout=360,
              dlq_env="WEBHOOK_DEAD_LETTERS_QUEUE"),
)

SECRETS: tuple[SecretSpec, ...] = (
    SecretSpec("jwt-signing-key", "JWT_SECRET_ID", "HMAC key that signs the API's session JWTs"),
    SecretSpec("identity-key", "IDENTITY_SECRET_ID",
               "key from which creators' identity secrets (authenticity proofs) are derived"),
    SecretSpec("credential-key", "CREDENTIAL_SECRET_ID",
               "key that seals license credential secrets at rest (the usage batch prover unseals them)"),
    SecretSpec("webhook-key", "WEBHOOK_SECRET_KEY_ID",
               "key that seals creators' webhook signing secrets at rest (the delivery function unseals them)"),
)

KEYS: tuple[KeySpec, ...] = (
    KeySpec("relayer-key", "RELAYER_KEY_ID", "the platform relayer's Ethereum account: signs every relayed transaction"),
)

STATE_MACHINES: tuple[StateMachineSpec, ...] = (
    StateMachineSpec("registration-saga", "REGISTRATION_SAGA_ARN", "registration.asl.json",
                     functions={"RegistrationWorkerArn": "registration-worker"}),
    # Flow 4: per license with pending uses, prove a usage batch and log it with the buyer's signatures
    StateMachineSpec("usage-batches", "USAGE_BATCHES_ARN", "usage-batches.asl.json",
                     functions={"UsageBatchWorkerArn": "usage-batch-worker", "UsageBatchProverArn": "usage-batch-prover"}),
    # Flows 5-6: a compliance or aggregate proof too long for one API call (202 + its job)
    StateMachineSpec("proof-jobs", "PROOF_JOBS_ARN", "proof-jobs.asl.json",
                     functions={"ProofsWorkerArn": "proofs-worker"}),
)

SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("PUBLIC_BASE_URL", "public base URL of the API: the SIWE domain and URI, the base of "
                "verificationUrl", required=True),
    SettingSpec("CHAIN_ID", "EVM chain id that sign-in messages must name", required=True),
    SettingSpec("CHAIN_CONFIG", "the deployment JSON ({chainId, rpcUrl, contracts: {Name: address}})",
                required=True),
    SettingSpec("CONTRACTS_ABI_DIR", "folder holding <Name>.json ABIs (packaged in the shared layer); "
                "default <repo>/build/contracts"),
    SettingSpec("JWT_TTL_SECONDS", "lifetime of a session JWT"),
    SettingSpec("NONCE_TTL_SECONDS", "lifetime of a sign-in nonce and of the message it is in"),
    SettingSpec("REGISTRATION_WAIT_SECONDS", "how long POST /content/register waits for the saga before "
                "answering 202"),
    SettingSpec("MAX_INLINE_UPLOAD_BYTES", "largest file accepted in a multipart POST /content/register"),
    SettingSpec("MAX_UPLOAD_BYTES", "largest file accepted through POST /content/uploads"),
    SettingSpec("UPLOAD_URL_TTL_SECONDS", "lifetime of a presigned upload"),
    SettingSpec("HASH_RANGE_BYTES", "bytes of the staged upload one invocation of the registration's hash step reads "
                "at most (whole 256 KiB chunks; default 16 GiB)"),
    SettingSpec("STORE_STEP_SECONDS", "seconds one invocation of the registration's hash or copy step works at most "
                "before it checkpoints and hands over to the next (default 240; the worker's timeout is 300)"),
    SettingSpec("COPY_MULTIPART_BYTES", "above this size the registration copies the upload in UploadPartCopy parts "
                "(default 5 GiB, S3's CopyObject limit)"),
    SettingSpec("COPY_PART_BYTES", "part size of that multipart copy (default 512 MiB)"),
    SettingSpec("TX_TIMEOUT_SECONDS", "how long the registration worker waits for a transaction receipt"),
    SettingSpec("CHAIN_MAX_LOG_RANGE", "most blocks one eth_getLogs call covers (providers cap the range)"),
    SettingSpec("CHAIN_CONFIRMATIONS", "blocks on top of a transaction or log before it counts as confirmed "
                "(1 = mined)"),
    SettingSpec("CHAIN_REORG_DEPTH", "how far back an event reader re-reads when a block it read was reorganised"),
    SettingSpec("TX_STUCK_SECONDS", "after how long without a receipt the chain monitor re-prices a transaction"),
    SettingSpec("RELAYER_MIN_BALANCE_ETH", "the chain monitor publishes the relayer's ETH balance (metric "
                "RelayerBalanceEth); below this it logs an error and the stack's alarm fires"),
    # Flows 2 and 3
    SettingSpec("QUOTE_TTL_SECONDS", "lifetime of a license quote and deadline of its permit"),
    SettingSpec("SIGNATURE_TTL_SECONDS", "deadline of the creator's CreateTerms / RevokeLicense typed data"),
    SettingSpec("ACCESS_RATE_LIMIT", "content access requests allowed per API key per window"),
    SettingSpec("ACCESS_RATE_WINDOW_SECONDS", "the rate-limit window (fixed, aligned on the epoch)"),
    SettingSpec("ACCESS_URL_TTL_SECONDS", "lifetime of a presigned content URL"),
    # what the relayer pays gas for on a caller's behalf (marketplace.chain.quota)
    SettingSpec("RELAY_QUOTA_LIMIT", "relayed operations (registrations, terms, purchases, revocations, usage "
                "signer changes, new recorded proofs) allowed per address per window; past it 429 with Retry-After"),
    SettingSpec("RELAY_QUOTA_WINDOW_SECONDS", "the relay quota's window (fixed, aligned on the epoch)"),
    # Flow 4 (usage batches)
    SettingSpec("USAGE_GAP_SECONDS", "after how long a missing usage seq (a use claimed, never recorded) is "
                "skipped as a gap by the batch prover"),
    SettingSpec("USAGE_BATCH_LICENSES", "most licenses one usage-batches run proves a batch for"),
    # Flows 5-6 (proofs)
    SettingSpec("PROOF_SYNC_MAX_CHUNKS", "most chunk proofs an API call proves itself; more become a job (202)"),
    SettingSpec("REPORT_URL_TTL_SECONDS", "lifetime of a compliance report's presigned download link"),
    # notifications (issue 9)
    SettingSpec("WEBHOOKS_ALLOW_LOOPBACK", "local only: webhooks may use http and loopback addresses "
                "(never private, link-local or metadata ones)"),
    SettingSpec("WEBHOOK_RETRY_SCHEDULE", "seconds between a failed webhook attempt and the next, comma-separated "
                "(default Standard Webhooks': 5,300,1800,7200,18000,36000,36000; then dead-lettered)"),
    SettingSpec("WEBHOOK_TIMEOUT_SECONDS", "time limit of one webhook attempt (connect, send, read)"),
    SettingSpec("WEBHOOK_SECRET_GRACE_SECONDS", "how long a rotated-out webhook secret keeps signing"),
    SettingSpec("EMAIL_FROM", "the SES identity (address) notification emails come from; unset: no email"),
)

WEBSOCKET_APIS: tuple[WebSocketApiSpec, ...] = (
    # Flow 7: a creator's dashboard follows usage, payments and licenses of their content live
    WebSocketApiSpec("analytics-stream", "analytics-stream", ("$connect", "$disconnect", "subscribe", "$default"),
                     url_env="ANALYTICS_STREAM_URL", management_env="ANALYTICS_STREAM_MANAGEMENT_URL"),
)

# What every function that sends relayer transactions through the chain gateway needs
CHAIN_SENDER_TABLES: tuple[str, ...] = ("chain-nonces", "chain-txs")
CHAIN_SENDER_SETTINGS: tuple[str, ...] = ("CHAIN_CONFIG", "CONTRACTS_ABI_DIR", "TX_TIMEOUT_SECONDS",
                                          "CHAIN_MAX_LOG_RANGE")
# What every API function that asks the relayer to send for a caller needs (marketplace.chain.quota)
RELAY_QUOTA_SETTINGS: tuple[str, ...] = ("RELAY_QUOTA_LIMIT", "RELAY_QUOTA_WINDOW_SECONDS")

# What the proofs functions (Flows 5-6) read besides the chain sender's
PROOF_TABLES: tuple[str, ...] = ("proofs", "batches", "licenses", "usage", "content")
PROOF_SETTINGS: tuple[str, ...] = ("PUBLIC_BASE_URL", "PROOF_SYNC_MAX_CHUNKS", "REPORT_URL_TTL_SECONDS")

FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec("auth", "auth", routes=(Route("POST", "/auth/nonce"), Route("POST", "/auth/login")),
                 tables=("auth",), secrets=("jwt-signing-key",), chain=False,
                 settings=("PUBLIC_BASE_URL", "CHAIN_ID", "JWT_TTL_SECONDS", "NONCE_TTL_SECONDS")),
    FunctionSpec("authorizer", "authorizer", secrets=("jwt-signing-key",)),
    FunctionSpec("content-api", "content_api",
                 routes=(Route("POST", "/content/register", "jwt"),
                         Route("POST", "/content/uploads", "jwt"),
                         Route("POST", "/content/uploads/{uploadId}/parts", "jwt"),
                         Route("POST", "/content/uploads/{uploadId}/complete", "jwt"),
                         Route("GET", "/content/registrations/{registrationId}", "jwt"),
                         Route("GET", "/content"),
                         Route("GET", "/content/{contentId}")),
                 memory=1024, tables=("content", "registrations", "ratelimits"), buckets=("uploads",),
                 bucket_writes=("uploads",), state_machines=("registration-saga",),
                 settings=("PUBLIC_BASE_URL", "REGISTRATION_WAIT_SECONDS", "MAX_INLINE_UPLOAD_BYTES",
                           "MAX_UPLOAD_BYTES", "UPLOAD_URL_TTL_SECONDS") + RELAY_QUOTA_SETTINGS),
    FunctionSpec("registration-worker", "registration_worker", memory=3008, timeout=300,
                 tables=("content", "registrations") + CHAIN_SENDER_TABLES, buckets=("content", "uploads"),
                 bucket_writes=("content", "uploads"),
                 secrets=("identity-key",), keys=("relayer-key",), chain=True, prover=True,
                 settings=CHAIN_SENDER_SETTINGS + ("HASH_RANGE_BYTES", "STORE_STEP_SECONDS", "COPY_MULTIPART_BYTES",
                                                   "COPY_PART_BYTES")),
    FunctionSpec("openapi", "openapi", routes=(Route("GET", "/openapi.json"),), settings=("PUBLIC_BASE_URL",)),
    # Flow 2: terms, quotes, purchases (relayed or verified on chain), licenses, keys
    FunctionSpec("license-api", "license_api",
                 routes=(Route("POST", "/content/{contentId}/terms", "jwt"),
                         Route("GET", "/content/{contentId}/terms"),
                         # the creator archives content (ContentRegistry.archiveWithSig, relayed)
                         Route("POST", "/content/{contentId}/archive", "jwt"),
                         Route("POST", "/license/quote", "jwt"),
                         Route("POST", "/license/purchase", "jwt"),
                         Route("GET", "/license/{licenseId}", "jwt"),
                         Route("POST", "/license/{licenseId}/revoke", "jwt"),
                         Route("POST", "/license/{licenseId}/keys", "jwt"),
                         Route("DELETE", "/license/{licenseId}/keys", "jwt"),
                         # Flow 4: the licensee's usage signers (worker keys; marketplace.usage.routes)
                         Route("POST", "/license/{licenseId}/signers", "jwt"),
                         Route("GET", "/license/{licenseId}/signers", "jwt"),
                         Route("DELETE", "/license/{licenseId}/signers/{signer}", "jwt")),
                 tables=("content", "terms", "quotes", "licenses", "apikeys", "ratelimits", "usage-signers"),
                 # the credential key, not the relayer key: its relayed sends go through "relayer"
                 secrets=("credential-key",), invokes=("relayer",), chain=True,
                 settings=CHAIN_SENDER_SETTINGS + ("QUOTE_TTL_SECONDS", "SIGNATURE_TTL_SECONDS") + RELAY_QUOTA_SETTINGS),
    # The relayer key behind its own function: sends the LicenseManager (and ContentRegistry
    # archiveWithSig) calls the license API asks for (each authorised on chain by its signer's signature; marketplace.chain.relay.ALLOWED)
    FunctionSpec("relayer", "relayer", memory=512, timeout=60, tables=CHAIN_SENDER_TABLES, keys=("relayer-key",),
                 chain=True, settings=CHAIN_SENDER_SETTINGS, invoke_env="RELAYER_FUNCTION"),
    # Flow 3: the hot path. The function checks the API key itself (first of its ordered checks),
    # so the route has no authorizer; no chain, no prover, no secrets.
    FunctionSpec("access", "access", routes=(Route("POST", "/content/{contentId}/access", "apikey"),),
                 memory=1024, timeout=10,
                 tables=("apikeys", "ratelimits", "licenses", "usage", "usage-signers", "content"),
                 buckets=("content",), state_machines=("usage-batches",),
                 settings=("ACCESS_RATE_LIMIT", "ACCESS_RATE_WINDOW_SECONDS", "ACCESS_URL_TTL_SECONDS",
                           "CHAIN_CONFIG")),
    # Flow 4: the usage-batches state machine's tasks (gather, prove, submit, confirm, mark), and the
    # schedule that starts it (the access path also starts it for a license with a full batch pending)
    # The worker holds the relayer key, the prover the credential key (never one function both)
    FunctionSpec("usage-batch-worker", "usage_batch_worker", memory=512, timeout=300,
                 tables=("licenses", "usage", "usage-signers", "ratelimits", "batches") + CHAIN_SENDER_TABLES,
                 keys=("relayer-key",), chain=True,
                 settings=CHAIN_SENDER_SETTINGS + ("CHAIN_CONFIRMATIONS", "USAGE_GAP_SECONDS",
                                                   "USAGE_BATCH_LICENSES")),
    FunctionSpec("usage-batch-prover", "usage_batch_prover", memory=3008, timeout=300,
                 tables=("licenses", "usage"), secrets=("credential-key",), chain=True, prover=True,
                 settings=("CHAIN_CONFIG", "CONTRACTS_ABI_DIR")),
    FunctionSpec("usage-batch-scheduler", "usage_batch_scheduler", memory=256, timeout=30,
                 state_machines=("usage-batches",), schedule="rate(10 minutes)"),
    # The chain gateway's monitor: brings the transaction journal up to date, re-broadcasts dropped
    # transactions, re-prices or cancels stuck ones (marketplace.chain.monitor)
    FunctionSpec("chain-monitor", "chain_monitor", memory=512, timeout=120, tables=CHAIN_SENDER_TABLES,
                 keys=("relayer-key",), chain=True, schedule="rate(1 minute)",
                 settings=CHAIN_SENDER_SETTINGS + ("CHAIN_CONFIRMATIONS", "TX_STUCK_SECONDS", "RELAYER_MIN_BALANCE_ETH")),
    # Flow 4: the chain listener (contract logs -> the chain-events FIFO, marketplace.chain.listener),
    # the payments consumer (marketplace.payments.consumer), the payments API and refunds at expiry
    FunctionSpec("chain-listener", "chain_listener", memory=512, timeout=120, tables=("chain-cursors",),
                 queues=("chain-events", "analytics-events"), chain=True, schedule="rate(1 minute)",
                 settings=("CHAIN_CONFIG", "CONTRACTS_ABI_DIR", "CHAIN_MAX_LOG_RANGE", "CHAIN_CONFIRMATIONS",
                           "CHAIN_REORG_DEPTH")),
    FunctionSpec("payments", "payments", memory=512, timeout=20, consumes="chain-events",
                 tables=("payments", "licenses", "usage-signers", "idempotency"), queues=("notifications",),
                 chain=True, settings=("CHAIN_CONFIG", "CONTRACTS_ABI_DIR", "CHAIN_CONFIRMATIONS")),
    FunctionSpec("payments-api", "payments_api",
                 routes=(Route("GET", "/creator/earnings", "jwt"),
                         Route("GET", "/payments", "jwt"),
                         Route("POST", "/creator/withdraw", "jwt")),
                 tables=("payments", "licenses"), chain=True, settings=("CHAIN_CONFIG", "CONTRACTS_ABI_DIR")),
    FunctionSpec("refunds", "refunds", memory=512, timeout=300, tables=("payments",) + CHAIN_SENDER_TABLES,
                 keys=("relayer-key",), chain=True, schedule="rate(5 minutes)", settings=CHAIN_SENDER_SETTINGS),
    # Notifications to creators (issue 9): webhooks (Standard Webhooks) and email (SES)
    FunctionSpec("notifications-api", "notifications_api",
                 routes=(Route("POST", "/webhooks", "jwt"),
                         Route("GET", "/webhooks", "jwt"),
                         Route("DELETE", "/webhooks/{webhookId}", "jwt"),
                         Route("POST", "/webhooks/{webhookId}/rotate", "jwt"),
                         Route("POST", "/webhooks/{webhookId}/test", "jwt"),
                         Route("GET", "/webhooks/{webhookId}/deliveries", "jwt"),
                         Route("POST", "/webhooks/{webhookId}/deliveries/{deliveryId}/replay", "jwt"),
                         Route("PUT", "/creator/notifications/email", "jwt"),
                         Route("GET", "/creator/notifications/email", "jwt")),
                 tables=("webhooks", "deliveries", "creator-settings"), secrets=("webhook-key",), ses=("verify",),
                 settings=("WEBHOOKS_ALLOW_LOOPBACK", "WEBHOOK_TIMEOUT_SECONDS", "WEBHOOK_SECRET_GRACE_SECONDS")),
    # the notifications queue's consumer: one delivery per matching webhook, one email
    FunctionSpec("notifications", "notifications", consumes="notifications", timeout=30,
                 tables=("webhooks", "deliveries", "creator-settings", "idempotency"),
                 queues=("webhook-deliveries",), ses=("send",), settings=("EMAIL_FROM",)),
    # one webhook attempt per message (≤ 10 s each), the next one queued with its backoff
    FunctionSpec("webhook-delivery", "webhook_delivery", consumes="webhook-deliveries", timeout=60, batch_size=4,
                 tables=("webhooks", "deliveries", "idempotency"), queues=("webhook-deliveries",),
                 secrets=("webhook-key",),
                 settings=("WEBHOOKS_ALLOW_LOOPBACK", "WEBHOOK_RETRY_SCHEDULE", "WEBHOOK_TIMEOUT_SECONDS")),
    # Flows 5-6: compliance reports, aggregate proofs, public verification (marketplace.proofs)
    FunctionSpec("proofs-api", "proofs_api",
                 routes=(Route("POST", "/compliance/verify", "jwt"),
                         Route("POST", "/creator/proof/generate", "jwt"),
                         Route("GET", "/proof/jobs/{jobId}", "jwt"),
                         Route("GET", "/verify/proof/{proofId}"),
                         Route("GET", "/verify/proof/{proofId}/files/{name}"),
                         Route("GET", "/verify/{proofId}")),
                 memory=3008, timeout=29, tables=PROOF_TABLES + CHAIN_SENDER_TABLES + ("ratelimits",),
                 buckets=("reports",),
                 bucket_writes=("reports",),  # the report PDF (a compliance report proved within the call)
                 keys=("relayer-key",), chain=True, prover=True, state_machines=("proof-jobs",),
                 settings=CHAIN_SENDER_SETTINGS + PROOF_SETTINGS + RELAY_QUOTA_SETTINGS),
    FunctionSpec("proofs-worker", "proofs_worker", memory=3008, timeout=900,
                 tables=PROOF_TABLES + CHAIN_SENDER_TABLES, buckets=("reports",), bucket_writes=("reports",),
                 keys=("relayer-key",), chain=True, prover=True, settings=CHAIN_SENDER_SETTINGS + PROOF_SETTINGS),
    # Flow 7's live stream (WEBSOCKET_APIS "analytics-stream"): $connect checks the session JWT
    # itself (query ?token= or a "bearer.<jwt>" Sec-WebSocket-Protocol), subscribe to own content
    FunctionSpec("analytics-stream", "analytics_stream", memory=256, timeout=10,
                 tables=("ws-connections", "content"), secrets=("jwt-signing-key",)),
    # Flow 7's dashboard page (marketplace.analytics.dashboard): public GET (a sign-in form), POST with the
    # session JWT in the form body (checked by the function) -> the page rendered with the caller's analytics
    FunctionSpec("dashboard", "dashboard", routes=(Route("GET", "/dashboard"), Route("POST", "/dashboard")),
                 memory=512, tables=("analytics", "content"), secrets=("jwt-signing-key",),
                 websocket_urls=("analytics-stream",)),
)


# Flow 7 (issue 11): the aggregates' feeders (the usage table's stream; the chain events' second FIFO)
# and the creator's dashboard data (marketplace.analytics)
FUNCTIONS += (
    # both push what they applied to the dashboards following it (marketplace.analytics.live)
    FunctionSpec("analytics-usage", "analytics_usage", memory=512, timeout=60, stream="usage", batch_size=100,
                 tables=("analytics", "licenses", "ws-connections"), websockets=("analytics-stream",)),
    FunctionSpec("analytics-events", "analytics_events", memory=512, timeout=30, consumes="analytics-events",
                 tables=("analytics", "content", "licenses", "idempotency", "ws-connections"),
                 websockets=("analytics-stream",), chain=True, settings=("CHAIN_CONFIG", "CONTRACTS_ABI_DIR")),
    FunctionSpec("analytics-api", "analytics_api", routes=(Route("GET", "/creator/{address}/analytics", "jwt"),),
                 tables=("analytics",)),
)


# Every path answers a method it does not declare with 405 + Allow (RFC 9110), in AWS as locally:
# an ANY method on each resource (API Gateway prefers an explicit method) goes to this function.
METHOD_NOT_ALLOWED = "method-not-allowed"
FUNCTIONS += (FunctionSpec(
    METHOD_NOT_ALLOWED, "method_not_allowed", memory=256, timeout=5,
    routes=tuple(Route("ANY", p) for p in sorted({r.path for f in FUNCTIONS for r in f.routes}))),)


def allowed_methods(path: str) -> tuple[str, ...]:
    """The methods ``path`` (a resource template) declares."""
    return tuple(sorted({r.method for f in FUNCTIONS for r in f.routes if r.path == path and r.method != "ANY"}))


def by_name(specs, name: str, key: str = "name"):
    for s in specs:
        if getattr(s, key) == name:
            return s
    raise KeyError(name)


def env_names(spec: FunctionSpec) -> tuple[str, ...]:
    """Every environment variable a function reads: its resources' variables, then its settings."""
    names = [by_name(TABLES, t).env for t in spec.tables]
    names += [by_name(BUCKETS, b).env for b in spec.buckets]
    names += [by_name(QUEUES, q).env for q in spec.queues]
    names += [e for q in spec.queues if (e := by_name(QUEUES, q).dlq_env)]
    names += [by_name(SECRETS, s).env for s in spec.secrets]
    names += [by_name(KEYS, k).env for k in spec.keys]
    names += [by_name(STATE_MACHINES, m).env for m in spec.state_machines]
    names += [e for f in spec.invokes if (e := by_name(FUNCTIONS, f).invoke_env)]
    names += [by_name(SETTINGS, s, key="env").env for s in spec.settings]
    for w in spec.websockets:
        ws = by_name(WEBSOCKET_APIS, w)
        names += [ws.url_env, ws.management_env]
    names += [by_name(WEBSOCKET_APIS, w).url_env for w in spec.websocket_urls]
    return tuple(names)


def physical_name(prefix: str, name: str, *, fifo: bool = False) -> str:
    return f"{prefix}-{name}" + (".fifo" if fifo else "")
