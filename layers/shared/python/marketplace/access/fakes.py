"""In-memory access-path ports over the same items as the DynamoDB adapters (apikeys, ratelimits,
licenses tables; tests/contract runs both), and a content store whose outages can be scripted."""

from __future__ import annotations

from marketplace.access.models import (
    Claim,
    ClaimRefused,
    KeyRecord,
    LicenseSnapshot,
    ObjectMissing,
    StorageUnreachable,
)
from marketplace.licensing.models import USABLE, license_state
from marketplace.shared.memory import MemoryTable, MemoryWindowCounter


class MemoryAccessStore:
    """``KeyStore``, ``RateLimiter`` and ``LicenseUses`` (like ``adapters.AccessDynamoStore``)."""

    def __init__(self, *, apikeys: MemoryTable | None = None, ratelimits: MemoryTable | None = None,
                 licenses: MemoryTable | None = None) -> None:
        self.apikeys = apikeys if apikeys is not None else MemoryTable("keyHash")
        self.ratelimits = ratelimits if ratelimits is not None else MemoryTable("pk")
        self.licenses = licenses if licenses is not None else MemoryTable("licenseId")

    def get_key(self, key_hash: str) -> KeyRecord | None:
        k = self.apikeys.get_item({"keyHash": key_hash})
        if k is None:
            return None
        return KeyRecord(key_hash=k["keyHash"], license_id=k["licenseId"], content_id=k["contentId"],
                         commitment=int(k["commitment"]), valid_until=int(k["validUntil"]),
                         object_key=k["objectKey"], revoked_at=k.get("revokedAt"))

    def hit(self, bucket: str, limit: int, expires_at: int) -> int | None:
        return MemoryWindowCounter(self.ratelimits).hit(bucket, limit, expires_at)

    def claim_use(self, license_id: str, content_id: str, now: int) -> Claim:
        def claimable(old):
            return old is not None and license_state(old, now) in USABLE and old["contentId"] == content_id

        def use(item):
            item["usesGranted"] += 1
            item["lastUsedAt"] = now
            item.setdefault("firstUsedAt", now)

        with self.licenses.lock:
            old = self.licenses.get_item({"licenseId": license_id})
            new = self.licenses.update({"licenseId": license_id}, use, condition=claimable)
        if new is None:
            raise ClaimRefused(LicenseSnapshot.from_item(old) if old else None)
        return Claim(seq=new["usesGranted"] - 1, uses=new["usesGranted"], max_uses=new["maxUses"],
                     valid_from=new["validFrom"], valid_until=new["validUntil"],
                     uses_proven=int(new.get("usesProven", 0)))


class MemoryContentStorage:
    """``ContentStorage``: the objects present, and ``unreachable`` probes still to fail."""

    def __init__(self, objects: set[str] | None = None, unreachable: int = 0) -> None:
        self.objects = set(objects or ())
        self.unreachable = unreachable

    def probe(self, object_key: str) -> None:
        if self.unreachable:
            self.unreachable -= 1
            raise StorageUnreachable(object_key)
        if object_key not in self.objects:
            raise ObjectMissing(object_key)

    def presign_get(self, object_key: str, ttl_seconds: int) -> str:
        return f"memory://content/{object_key}?ttl={ttl_seconds}"
