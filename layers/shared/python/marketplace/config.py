"""One pydantic model per function's environment, validated before the handler does anything.

Field aliases are the environment variable names declared in ``marketplace.resources`` (the
resources' ``env`` and ``SETTINGS``); a unit test checks that every model reads exactly what its
``FunctionSpec`` declares. Defaults live here and only here; a variable without a default must be
set by the stack (a missing one fails the first invocation with a clear validation error).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, Json, field_validator

REPO_ROOT = Path(__file__).resolve().parents[4]
DEFAULT_ABI_DIR = REPO_ROOT / "build" / "contracts"
MiB = 1024 * 1024


class ChainDeployment(BaseModel):
    """The deployment JSON written by ``contracts/deploy.py`` (docs/design.md, Contracts)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    chainId: int
    rpcUrl: str
    contracts: dict[str, str]
    blockNumber: int = 0  # the deployment's block: event scans start there

    def address(self, name: str) -> str:
        try:
            return self.contracts[name]
        except KeyError:
            raise ValueError(f"CHAIN_CONFIG has no address for contract {name}") from None


class _EnvConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None):
        return cls.model_validate(dict(os.environ if env is None else env))


class _PublicUrl(_EnvConfig):
    public_base_url: str = Field(alias="PUBLIC_BASE_URL")

    @field_validator("public_base_url")
    @classmethod
    def _absolute(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an absolute http(s) URL")
        return v.rstrip("/")

    @property
    def siwe_domain(self) -> str:
        """RFC 3986 authority of the public URL (host[:port]): the domain SIWE messages name."""
        return urlsplit(self.public_base_url).netloc


class AuthConfig(_PublicUrl):
    auth_table: str = Field(alias="AUTH_TABLE")
    jwt_secret_id: str = Field(alias="JWT_SECRET_ID")
    chain_id: int = Field(alias="CHAIN_ID", gt=0)
    jwt_ttl_seconds: int = Field(3600, alias="JWT_TTL_SECONDS", gt=0, le=24 * 3600)
    nonce_ttl_seconds: int = Field(300, alias="NONCE_TTL_SECONDS", gt=0, le=3600)


class _RelayQuota(_EnvConfig):
    """An API function whose callers the relayer sends for: the per-address quota of relayed work
    (``marketplace.chain.quota``) in the ratelimits table."""

    rate_limits_table: str = Field(alias="RATE_LIMITS_TABLE")
    relay_quota_limit: int = Field(100, alias="RELAY_QUOTA_LIMIT", ge=1, le=1_000_000)
    relay_quota_window_seconds: int = Field(3600, alias="RELAY_QUOTA_WINDOW_SECONDS", ge=1, le=30 * 24 * 3600)

    def relay_quota(self):
        from marketplace.adapters.dynamodb import WindowCounter
        from marketplace.chain.quota import RelayQuota, RelayQuotaSettings

        return RelayQuota(WindowCounter(self.rate_limits_table),
                          RelayQuotaSettings(self.relay_quota_limit, self.relay_quota_window_seconds))


class AuthorizerConfig(_EnvConfig):
    jwt_secret_id: str = Field(alias="JWT_SECRET_ID")


class ContentApiConfig(_PublicUrl, _RelayQuota):
    content_table: str = Field(alias="CONTENT_TABLE")
    registrations_table: str = Field(alias="REGISTRATIONS_TABLE")
    uploads_bucket: str = Field(alias="UPLOADS_BUCKET")
    registration_saga_arn: str = Field(alias="REGISTRATION_SAGA_ARN")
    # API Gateway gives an integration 29 s; leave room for the answer.
    registration_wait_seconds: float = Field(25, alias="REGISTRATION_WAIT_SECONDS", ge=0, le=28)
    max_inline_upload_bytes: int = Field(5 * MiB, alias="MAX_INLINE_UPLOAD_BYTES", gt=0)
    max_upload_bytes: int = Field(50 * 1024 * MiB, alias="MAX_UPLOAD_BYTES", gt=0)
    upload_url_ttl_seconds: int = Field(900, alias="UPLOAD_URL_TTL_SECONDS", gt=0, le=7 * 24 * 3600)


class _ChainSender(_EnvConfig):
    """A function that sends transactions as the platform relayer through the chain gateway: the
    relayer's KMS key, its nonce lease table and the transaction journal (docs/design.md, "Chain
    gateway")."""

    relayer_key_id: str = Field(alias="RELAYER_KEY_ID")
    nonces_table: str = Field(alias="CHAIN_NONCES_TABLE")
    txs_table: str = Field(alias="CHAIN_TXS_TABLE")
    chain: Json[ChainDeployment] = Field(alias="CHAIN_CONFIG")
    contracts_abi_dir: Path = Field(DEFAULT_ABI_DIR, alias="CONTRACTS_ABI_DIR")
    tx_timeout_seconds: float = Field(120, alias="TX_TIMEOUT_SECONDS", gt=0)
    max_log_range: int = Field(2000, alias="CHAIN_MAX_LOG_RANGE", ge=1, le=100_000)

    def gateway_settings(self, **extra: Any):
        from marketplace.chain.gateway import GatewaySettings

        return GatewaySettings(abi_dir=str(self.contracts_abi_dir), tx_timeout=self.tx_timeout_seconds,
                               relayer_key_id=self.relayer_key_id, nonces_table=self.nonces_table,
                               txs_table=self.txs_table, max_log_range=self.max_log_range, **extra)


class _ChainReader(_EnvConfig):
    """A function that reads the chain through a read-only gateway (no relayer key)."""

    chain: Json[ChainDeployment] = Field(alias="CHAIN_CONFIG")
    contracts_abi_dir: Path = Field(DEFAULT_ABI_DIR, alias="CONTRACTS_ABI_DIR")

    def gateway_settings(self, **extra: Any):
        from marketplace.chain.gateway import GatewaySettings

        return GatewaySettings(abi_dir=str(self.contracts_abi_dir), **extra)


class ChainMonitorConfig(_ChainSender):
    confirmations: int = Field(3, alias="CHAIN_CONFIRMATIONS", ge=1, le=1000)
    stuck_seconds: float = Field(90, alias="TX_STUCK_SECONDS", gt=0)
    # the relayer balance alarm's threshold (infra reads this default too)
    min_balance_eth: float = Field(0.5, alias="RELAYER_MIN_BALANCE_ETH", ge=0)


class RegistrationWorkerConfig(_ChainSender):
    content_table: str = Field(alias="CONTENT_TABLE")
    registrations_table: str = Field(alias="REGISTRATIONS_TABLE")
    content_bucket: str = Field(alias="CONTENT_BUCKET")
    uploads_bucket: str = Field(alias="UPLOADS_BUCKET")
    identity_secret_id: str = Field(alias="IDENTITY_SECRET_ID")
    # the store stage in pieces (marketplace.content.staged): one hash invocation reads at most
    # HASH_RANGE_BYTES (whole 256 KiB chunks) and works at most STORE_STEP_SECONDS, as does a copy
    # invocation; objects above COPY_MULTIPART_BYTES are copied in COPY_PART_BYTES parts
    hash_range_bytes: int = Field(16 << 30, alias="HASH_RANGE_BYTES", ge=1 << 18)
    store_step_seconds: float = Field(240.0, alias="STORE_STEP_SECONDS", gt=0, le=840)
    copy_multipart_bytes: int = Field(5 << 30, alias="COPY_MULTIPART_BYTES", ge=5 << 20, le=5 << 30)
    copy_part_bytes: int = Field(512 << 20, alias="COPY_PART_BYTES", ge=5 << 20, le=5 << 30)


class OpenApiConfig(_PublicUrl):
    pass


# -- Flows 2 and 3 (license-api; the access function's environment is read without pydantic, see
# functions/access/handler.py: its module must import in under 300 ms) ----------------------------


class LicenseApiConfig(_ChainReader, _RelayQuota):
    """Holds the credential key, never the relayer key: relayed sends go through the relayer
    function (``marketplace.chain.relay``)."""

    relayer_function: str = Field(alias="RELAYER_FUNCTION")
    tx_timeout_seconds: float = Field(120, alias="TX_TIMEOUT_SECONDS", gt=0)
    max_log_range: int = Field(2000, alias="CHAIN_MAX_LOG_RANGE", ge=1, le=100_000)
    content_table: str = Field(alias="CONTENT_TABLE")
    terms_table: str = Field(alias="TERMS_TABLE")
    quotes_table: str = Field(alias="QUOTES_TABLE")
    licenses_table: str = Field(alias="LICENSES_TABLE")
    api_keys_table: str = Field(alias="API_KEYS_TABLE")
    rate_limits_table: str = Field(alias="RATE_LIMITS_TABLE")
    usage_signers_table: str = Field(alias="USAGE_SIGNERS_TABLE")
    credential_secret_id: str = Field(alias="CREDENTIAL_SECRET_ID")
    quote_ttl_seconds: int = Field(900, alias="QUOTE_TTL_SECONDS", ge=60, le=7 * 24 * 3600)
    signature_ttl_seconds: int = Field(900, alias="SIGNATURE_TTL_SECONDS", ge=60, le=7 * 24 * 3600)

    def gateway_settings(self, **extra: Any):
        return super().gateway_settings(tx_timeout=self.tx_timeout_seconds, max_log_range=self.max_log_range, **extra)


class RelayerConfig(_ChainSender):
    """The relayer function: the relayer key, sending the calls other functions ask for."""


# -- notifications (issue 9) ------------------------------------------------------------------------


def _retry_schedule(value: object) -> object:
    if isinstance(value, str):
        return tuple(int(v) for v in value.replace(" ", "").split(",") if v)
    return value


class _Webhooks(_EnvConfig):
    allow_loopback: bool = Field(False, alias="WEBHOOKS_ALLOW_LOOPBACK")
    webhook_timeout_seconds: float = Field(10, alias="WEBHOOK_TIMEOUT_SECONDS", gt=0, le=10)

    def notification_settings(self, **extra: Any):
        from marketplace.notifications.services import NotificationSettings

        return NotificationSettings(allow_loopback=self.allow_loopback, timeout=self.webhook_timeout_seconds, **extra)


class NotificationsApiConfig(_Webhooks):
    webhooks_table: str = Field(alias="WEBHOOKS_TABLE")
    deliveries_table: str = Field(alias="DELIVERIES_TABLE")
    creator_settings_table: str = Field(alias="CREATOR_SETTINGS_TABLE")
    webhook_secret_key_id: str = Field(alias="WEBHOOK_SECRET_KEY_ID")
    secret_grace_seconds: int = Field(24 * 3600, alias="WEBHOOK_SECRET_GRACE_SECONDS", ge=0, le=30 * 24 * 3600)


class NotificationsConsumerConfig(_EnvConfig):
    webhooks_table: str = Field(alias="WEBHOOKS_TABLE")
    deliveries_table: str = Field(alias="DELIVERIES_TABLE")
    creator_settings_table: str = Field(alias="CREATOR_SETTINGS_TABLE")
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE")
    deliveries_queue: str = Field(alias="WEBHOOK_DELIVERIES_QUEUE")
    dead_letters_queue: str = Field(alias="WEBHOOK_DEAD_LETTERS_QUEUE")
    email_from: str | None = Field(None, alias="EMAIL_FROM")


class WebhookDeliveryConfig(_Webhooks):
    webhooks_table: str = Field(alias="WEBHOOKS_TABLE")
    deliveries_table: str = Field(alias="DELIVERIES_TABLE")
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE")
    deliveries_queue: str = Field(alias="WEBHOOK_DELIVERIES_QUEUE")
    dead_letters_queue: str = Field(alias="WEBHOOK_DEAD_LETTERS_QUEUE")
    webhook_secret_key_id: str = Field(alias="WEBHOOK_SECRET_KEY_ID")
    retry_schedule: tuple[int, ...] = Field((5, 300, 1800, 7200, 18000, 36000, 36000), alias="WEBHOOK_RETRY_SCHEDULE")

    @field_validator("retry_schedule", mode="before")
    @classmethod
    def _schedule(cls, v: object) -> object:
        return _retry_schedule(v)

    @field_validator("retry_schedule")
    @classmethod
    def _non_negative(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if any(d < 0 for d in v):
            raise ValueError("delays are seconds >= 0")
        return v


# -- Flow 4: usage batches -------------------------------------------------------------------------


class UsageBatchWorkerConfig(_ChainSender):
    licenses_table: str = Field(alias="LICENSES_TABLE")
    usage_table: str = Field(alias="USAGE_TABLE")
    usage_signers_table: str = Field(alias="USAGE_SIGNERS_TABLE")
    rate_limits_table: str = Field(alias="RATE_LIMITS_TABLE")  # the per-license batch lock
    batches_table: str = Field(alias="BATCHES_TABLE")  # one record per proven batch (Flows 5-6 open them)
    confirmations: int = Field(3, alias="CHAIN_CONFIRMATIONS", ge=1, le=1000)
    # a claimed use is recorded within the access function's 10 s timeout, or never
    gap_seconds: int = Field(300, alias="USAGE_GAP_SECONDS", ge=1, le=7 * 24 * 3600)
    batch_licenses: int = Field(100, alias="USAGE_BATCH_LICENSES", ge=1, le=1000)


class UsageBatchProverConfig(_ChainReader):
    """The usage-batches state machine's prove step: the credential key, no relayer key."""

    licenses_table: str = Field(alias="LICENSES_TABLE")
    usage_table: str = Field(alias="USAGE_TABLE")
    credential_secret_id: str = Field(alias="CREDENTIAL_SECRET_ID")


class UsageBatchSchedulerConfig(_EnvConfig):
    usage_batches_arn: str = Field(alias="USAGE_BATCHES_ARN")


# -- Flow 4: chain listener, payments, refunds --------------------------------------------------------


class ChainListenerConfig(_ChainReader):
    cursors_table: str = Field(alias="CHAIN_CURSORS_TABLE")
    chain_events_queue: str = Field(alias="CHAIN_EVENTS_QUEUE")
    analytics_events_queue: str = Field(alias="ANALYTICS_EVENTS_QUEUE")  # the same events for analytics
    max_log_range: int = Field(2000, alias="CHAIN_MAX_LOG_RANGE", ge=1, le=100_000)
    confirmations: int = Field(3, alias="CHAIN_CONFIRMATIONS", ge=1, le=1000)
    reorg_depth: int = Field(12, alias="CHAIN_REORG_DEPTH", ge=1, le=1000)

    def gateway_settings(self, **extra: Any):
        return super().gateway_settings(cursors_table=self.cursors_table, max_log_range=self.max_log_range,
                                        confirmations=self.confirmations, reorg_depth=self.reorg_depth, **extra)


class PaymentsConsumerConfig(_ChainReader):
    payments_table: str = Field(alias="PAYMENTS_TABLE")
    licenses_table: str = Field(alias="LICENSES_TABLE")  # the license cache a revocation marks
    usage_signers_table: str = Field(alias="USAGE_SIGNERS_TABLE")  # UsageSigner* events (usage.chain_events)
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE")
    notifications_queue: str = Field(alias="NOTIFICATIONS_QUEUE")
    confirmations: int = Field(3, alias="CHAIN_CONFIRMATIONS", ge=1, le=1000)


class PaymentsApiConfig(_ChainReader):
    payments_table: str = Field(alias="PAYMENTS_TABLE")
    licenses_table: str = Field(alias="LICENSES_TABLE")  # usesGranted: the pending figure


class RefundsConfig(_ChainSender):
    payments_table: str = Field(alias="PAYMENTS_TABLE")


# -- Flows 5-6: proofs ---------------------------------------------------------------------------------


class ProofsWorkerConfig(_ChainSender, _PublicUrl):
    proofs_table: str = Field(alias="PROOFS_TABLE")
    batches_table: str = Field(alias="BATCHES_TABLE")
    licenses_table: str = Field(alias="LICENSES_TABLE")
    usage_table: str = Field(alias="USAGE_TABLE")  # served uses (counted, never shown one by one)
    content_table: str = Field(alias="CONTENT_TABLE")
    reports_bucket: str = Field(alias="REPORTS_BUCKET")
    # ~1 s per chunk on 2 cores (bench/results/proofs.json): 8 leave room in API Gateway's 29 s
    sync_max_chunks: int = Field(8, alias="PROOF_SYNC_MAX_CHUNKS", ge=0, le=20)
    report_url_ttl_seconds: int = Field(3600, alias="REPORT_URL_TTL_SECONDS", gt=0, le=7 * 24 * 3600)


class ProofsApiConfig(ProofsWorkerConfig, _RelayQuota):
    proof_jobs_arn: str = Field(alias="PROOF_JOBS_ARN")


# -- Flow 7: the live stream and the dashboard ------------------------------------------------------


class LiveStreamPush(_EnvConfig):
    """A function that pushes to the analytics stream's connections (``analytics.live.LiveStream``):
    the connections table and the WebSocket API's Management endpoint."""

    ws_connections_table: str = Field(alias="WS_CONNECTIONS_TABLE")
    analytics_stream_url: str = Field(alias="ANALYTICS_STREAM_URL")
    analytics_stream_management_url: str = Field(alias="ANALYTICS_STREAM_MANAGEMENT_URL")


class AnalyticsStreamConfig(_EnvConfig):
    ws_connections_table: str = Field(alias="WS_CONNECTIONS_TABLE")
    content_table: str = Field(alias="CONTENT_TABLE")  # subscribe: is the content the caller's
    jwt_secret_id: str = Field(alias="JWT_SECRET_ID")


class DashboardConfig(_EnvConfig):
    analytics_table: str = Field(alias="ANALYTICS_TABLE")
    content_table: str = Field(alias="CONTENT_TABLE")  # titles of the top content
    jwt_secret_id: str = Field(alias="JWT_SECRET_ID")  # the posted session JWT
    analytics_stream_url: str = Field(alias="ANALYTICS_STREAM_URL")  # where the page's script connects


# -- Flow 7 (issue 11): the analytics aggregates' feeders and the dashboard API ---------------------


class AnalyticsUsageConfig(LiveStreamPush):
    """The usage table's stream consumer (``functions/analytics_usage``); pushes to the live stream."""

    analytics_table: str = Field(alias="ANALYTICS_TABLE")
    licenses_table: str = Field(alias="LICENSES_TABLE")  # a use's licensee and creator


class AnalyticsEventsConfig(_ChainReader, LiveStreamPush):
    """The ``analytics-events`` FIFO's consumer (``functions/analytics_events``); pushes to the live stream."""

    analytics_table: str = Field(alias="ANALYTICS_TABLE")
    content_table: str = Field(alias="CONTENT_TABLE")  # an event's creator (by contentId)
    licenses_table: str = Field(alias="LICENSES_TABLE")
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE")


class AnalyticsApiConfig(_EnvConfig):
    analytics_table: str = Field(alias="ANALYTICS_TABLE")


C = TypeVar("C", bound=_EnvConfig)


@functools.cache
def load(model: type[C]) -> C:
    """The validated environment of this process for ``model`` (read once, then cached)."""
    return model.from_env()


def field_aliases(model: type[BaseModel]) -> dict[str, Any]:
    """Environment variable name -> field info (for the consistency test with resources.py)."""
    return {f.alias: f for f in model.model_fields.values() if f.alias}


# function name (resources.FUNCTIONS) -> its environment model
MODELS: dict[str, type[_EnvConfig]] = {
    "auth": AuthConfig,
    "authorizer": AuthorizerConfig,
    "content-api": ContentApiConfig,
    "registration-worker": RegistrationWorkerConfig,
    "openapi": OpenApiConfig,
    "license-api": LicenseApiConfig,
    "relayer": RelayerConfig,
    "chain-monitor": ChainMonitorConfig,
    "chain-listener": ChainListenerConfig,
    "payments": PaymentsConsumerConfig,
    "payments-api": PaymentsApiConfig,
    "refunds": RefundsConfig,
    "usage-batch-worker": UsageBatchWorkerConfig,
    "usage-batch-prover": UsageBatchProverConfig,
    "usage-batch-scheduler": UsageBatchSchedulerConfig,
    "proofs-api": ProofsApiConfig,
    "proofs-worker": ProofsWorkerConfig,
    "notifications-api": NotificationsApiConfig,
    "notifications": NotificationsConsumerConfig,
    "webhook-delivery": WebhookDeliveryConfig,
    "analytics-usage": AnalyticsUsageConfig,
    "analytics-events": AnalyticsEventsConfig,
    "analytics-api": AnalyticsApiConfig,
    "analytics-stream": AnalyticsStreamConfig,
    "dashboard": DashboardConfig,
}
