"""What the access path reads, decides and answers (dataclasses: no pydantic on the hot path)."""

from __future__ import annotations

from dataclasses import dataclass

from marketplace.shared.timefmt import iso

URL_TTL_SECONDS = 3600


@dataclass(frozen=True)
class KeyRecord:
    """An API key as stored (apikeys table), with the static facts of its license."""

    key_hash: str
    license_id: str
    content_id: str
    commitment: int
    valid_until: int  # unix seconds, exclusive
    object_key: str  # the content object in the content bucket
    revoked_at: int | None = None


@dataclass(frozen=True)
class LicenseSnapshot:
    """A license item as a refused claim saw it (for diagnosing the refusal)."""

    license_id: str
    content_id: str
    uses: int  # usesGranted: proven on chain + pending a batch
    max_uses: int
    valid_until: int
    revoked_at: int | None = None

    @classmethod
    def from_item(cls, item: dict) -> LicenseSnapshot:
        return cls(license_id=item["licenseId"], content_id=item["contentId"], uses=item["usesGranted"],
                   max_uses=item["maxUses"], valid_until=item["validUntil"], revoked_at=item.get("revokedAt"))


@dataclass(frozen=True)
class Claim:
    seq: int  # this use's sequence number (0-based)
    uses: int  # usesGranted after this use
    max_uses: int
    valid_from: int
    valid_until: int
    uses_proven: int = 0  # the license's usesProven (the batch prover's progress) at the claim


class ClaimRefused(Exception):
    """The claim's condition failed; ``state`` is the item it failed on (None: no item)."""

    def __init__(self, state: LicenseSnapshot | None) -> None:
        super().__init__("claim refused")
        self.state = state


class StorageUnreachable(Exception):
    """The content store did not answer (timeout, connection error, 5xx)."""


class ObjectMissing(Exception):
    """The content store answered: no such object."""


@dataclass(frozen=True)
class AccessSettings:
    rate_limit: int = 300  # requests per key per window (5 per second sustained)
    rate_window_seconds: int = 60
    url_ttl_seconds: int = URL_TTL_SECONDS
    storage_retries: int = 3  # after the first attempt
    storage_backoff_seconds: float = 0.1  # doubled each retry
    storage_retry_after: int = 60  # seconds, told to the client on 503
    # the LicenseManager's EIP-712 domain separator (AccessRequest signatures); from CHAIN_CONFIG
    domain_separator: bytes = b""
    batch_size: int = 64  # a license with this many uses pending a proof nudges the batch prover


@dataclass(frozen=True)
class AccessRequest:
    content_id: str
    authorization: str | None
    endpoint: str
    method: str
    ip: str
    request_id: str
    # the worker's signed AccessRequest, as the X-Usage-* headers carry it (None: header missing)
    usage_signer: str | None = None
    usage_counter: str | None = None
    usage_request_hash: str | None = None
    usage_signature: str | None = None


@dataclass(frozen=True)
class RateLimitStatus:
    limit: int
    remaining: int
    reset: int  # seconds until the window ends

    def headers(self) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining),
                "X-RateLimit-Reset": str(self.reset)}


@dataclass(frozen=True)
class AccessGranted:
    """One use granted: the presigned URL and where the license stands."""

    url: str
    expires_in: int
    expires_at: int  # unix seconds
    license_id: str
    content_id: str
    use: int  # this use's number (1-based)
    uses_remaining: int
    license_status: str
    rate: RateLimitStatus

    def body(self) -> dict:
        """The response body (``schemas.AccessGrantView``)."""
        return {"url": self.url, "expiresIn": self.expires_in, "expiresAt": iso(self.expires_at),
                "licenseId": self.license_id, "contentId": self.content_id, "use": self.use,
                "usesRemaining": self.uses_remaining, "licenseStatus": self.license_status}
