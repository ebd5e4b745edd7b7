"""What the access path needs; the usage log is the usage context's port."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from marketplace.access.models import Claim, KeyRecord
from marketplace.usage.ports import UsageLog, UsageSigners


class KeyStore(Protocol):
    def get_key(self, key_hash: str) -> KeyRecord | None: ...


class RateLimiter(Protocol):
    def hit(self, bucket: str, limit: int, expires_at: int) -> int | None:
        """Count one request in ``bucket`` if fewer than ``limit`` are counted and return the new
        count; None (nothing counted) if ``limit`` are counted already."""
        ...


class LicenseUses(Protocol):
    def claim_use(self, license_id: str, content_id: str, now: int) -> Claim:
        """Atomically count one use if the license is usable for this content at ``now``, else
        raise ``ClaimRefused`` with the item as it was."""
        ...


class ContentActivation(Protocol):
    def activate_content(self, content_id: str) -> None:
        """LICENSED → ACTIVE (no-op in any other state)."""
        ...


class ContentStorage(Protocol):
    def probe(self, object_key: str) -> None:
        """Raise StorageUnreachable or ObjectMissing, else return (one attempt, no retries)."""
        ...

    def presign_get(self, object_key: str, ttl_seconds: int) -> str: ...


class BatchNudge(Protocol):
    def nudge(self, license_id: str, seq: int) -> None:
        """Ask the batch prover to run for this license now (a full batch is pending)."""
        ...


@dataclass(frozen=True)
class AccessDeps:
    keys: KeyStore
    limiter: RateLimiter
    licenses: LicenseUses
    usage: UsageLog
    storage: ContentStorage
    signers: UsageSigners  # records each use with its signed access (usage table + usage-signers)
    content: ContentActivation | None = None
    batches: BatchNudge | None = None
