"""An access world for the Flow 3 tests: the shared in-memory fakes (``marketplace.access.fakes``,
``usage.fakes``; the same contract as the DynamoDB adapters, tests/contract), one license with its
key, credential and a registered worker key (usage signer) that signs accesses, and a record of
which port was called in which order."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from marketplace.access.fakes import MemoryAccessStore, MemoryContentStorage
from marketplace.access.ports import AccessDeps
from marketplace.licensing import credential as cred
from marketplace.usage import client_signing
from marketplace.usage.access_signature import domain_separator
from marketplace.usage.fakes import MemoryUsageLog, MemoryUsageSigners

NOW = 1_750_000_000
CONTENT = "0x" + "c0" * 32
OTHER_CONTENT = "0x" + "c1" * 32
LICENSE = "0x" + "11" * 32
OBJECT = "Qmobject"
CHAIN_ID = 31337
MANAGER = "0x" + "4d" * 20
SEPARATOR = domain_separator(CHAIN_ID, MANAGER)


@dataclass(frozen=True)
class Lic:
    """A license item, as the tests read and change it."""

    license_id: str
    content_id: str
    uses: int
    max_uses: int
    valid_from: int
    valid_until: int
    revoked_at: int | None = None

    @classmethod
    def from_item(cls, i: dict) -> Lic:
        return cls(i["licenseId"], i["contentId"], i["usesGranted"], i["maxUses"], i["validFrom"], i["validUntil"],
                   i.get("revokedAt"))

    def item(self) -> dict:
        return {"licenseId": self.license_id, "contentId": self.content_id, "usesGranted": self.uses,
                "maxUses": self.max_uses, "validFrom": self.valid_from, "validUntil": self.valid_until,
                "revokedAt": self.revoked_at}


class Licenses:
    """The licenses table as ``Lic`` values: ``fakes.licenses[id] = replace(fakes.licenses[id], ...)``."""

    def __init__(self, store: MemoryAccessStore) -> None:
        self.table = store.licenses

    def __getitem__(self, license_id: str) -> Lic:
        return Lic.from_item(self.table.get_item({"licenseId": license_id}))

    def __setitem__(self, license_id: str, lic: Lic) -> None:
        self.table.put(lic.item())


class Fakes:
    """Every access port, recording the order of the calls (``calls``)."""

    def __init__(self) -> None:
        self.store = MemoryAccessStore()
        self.usage = MemoryUsageLog()
        self.signers = MemoryUsageSigners(usage=self.usage)
        self.storage = MemoryContentStorage({OBJECT})
        self.licenses = Licenses(self.store)
        self.calls: list[str] = []
        self.activated: list[str] = []

    @property
    def events(self):
        return self.usage.events

    @property
    def storage_failures(self) -> int:
        return self.storage.unreachable

    @storage_failures.setter
    def storage_failures(self, n: int) -> None:
        self.storage.unreachable = n

    @property
    def missing(self) -> bool:
        return OBJECT not in self.storage.objects

    @missing.setter
    def missing(self, value: bool) -> None:
        self.storage.objects = set() if value else {OBJECT}

    # KeyStore, RateLimiter, LicenseUses
    def get_key(self, key_hash):
        self.calls.append("key")
        return self.store.get_key(key_hash)

    def hit(self, bucket, limit, expires_at):
        self.calls.append("rate")
        return self.store.hit(bucket, limit, expires_at)

    def claim_use(self, license_id, content_id, now):
        self.calls.append("claim")
        return self.store.claim_use(license_id, content_id, now)

    # UsageLog
    def record(self, event):
        self.calls.append("usage")
        self.usage.record(event)

    # UsageSigners (the access path reads one signer and records the signed use)
    def get(self, license_id, signer):
        self.calls.append("signer")
        return self.signers.get(license_id, signer)

    def record_signed_use(self, event):
        self.calls.append("usage")
        self.signers.record_signed_use(event)

    # ContentStorage
    def probe(self, object_key):
        self.calls.append("probe")
        self.storage.probe(object_key)

    def presign_get(self, object_key, ttl):
        return f"https://bucket.example/{object_key}?ttl={ttl}"

    # ContentActivation
    def activate_content(self, content_id):
        self.calls.append("activate")
        self.activated.append(content_id)

    def deps(self) -> AccessDeps:
        return AccessDeps(keys=self, limiter=self, licenses=self, usage=self, storage=self, signers=self,
                          content=self)


@dataclass
class World:
    fakes: Fakes
    api_key: str
    token: str
    secret: int
    worker: client_signing.WorkerKey = field(default_factory=client_signing.new_worker_key)
    served: int = 0  # the worker's served uses (its last counter)

    def signed(self, counter: int | None = None, key: client_signing.WorkerKey | None = None,
               license_id: str = LICENSE) -> dict[str, str]:
        """The X-Usage-* headers of the worker's next access (or of ``counter``)."""
        return client_signing.access_headers(key or self.worker, license_id,
                                             self.served + 1 if counter is None else counter, CHAIN_ID, MANAGER)

    def fields(self, headers: dict[str, str]) -> dict[str, str]:
        """The headers as ``AccessRequest`` fields."""
        return {"usage_signer": headers["X-Usage-Signer"], "usage_counter": headers["X-Usage-Counter"],
                "usage_request_hash": headers["X-Usage-Request-Hash"],
                "usage_signature": headers["X-Usage-Signature"]}


def make_world(max_uses=3, valid_for=3600, **key_overrides) -> World:
    f = Fakes()
    secret = cred.new_secret()
    k = cred.new_api_key()
    commitment = cred.commitment(secret, LICENSE)
    key = {"keyHash": k.key_hash, "licenseId": LICENSE, "contentId": CONTENT, "commitment": str(commitment),
           "validUntil": NOW + valid_for, "objectKey": OBJECT}
    names = {"content_id": "contentId", "valid_until": "validUntil", "object_key": "objectKey",
             "revoked_at": "revokedAt", "commitment": "commitment", "license_id": "licenseId"}
    key.update({names[n]: v for n, v in key_overrides.items()})
    f.store.apikeys.put(key)
    f.licenses[LICENSE] = Lic(LICENSE, CONTENT, uses=0, max_uses=max_uses, valid_from=NOW - 10,
                              valid_until=NOW + valid_for)
    w = World(f, k.key, cred.encode_token(LICENSE, secret), secret)
    f.signers.add(LICENSE, w.worker.address, NOW - 5, None)
    return w


__all__ = ["CHAIN_ID", "CONTENT", "LICENSE", "MANAGER", "NOW", "OTHER_CONTENT", "SEPARATOR", "Fakes", "Lic", "World",
           "make_world", "replace"]
