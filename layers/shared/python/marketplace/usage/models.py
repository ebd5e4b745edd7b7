"""A usage event: one granted use of a license, with what the usage_batch circuit needs.

Stored in the usage table keyed by ``(licenseId, seq)``: ``seq`` is ``usesGranted`` before the
use (the on-chain index ``startIndex + i``, so ``nullifier = Poseidon(secret, seq)``), ``ts`` unix
seconds, the call-hash inputs and ``callHash`` (a decimal string: it exceeds DynamoDB's numbers),
``batch`` PENDING until the batch prover logs it on chain (PROVEN, with ``batchId``, ``txHash`` and
``index``, the on-chain use number). Each event also carries the worker's signed access that
authorised it (``signer``, ``counter``, ``requestHash``, ``signature``): settlement sends, per
signer, the signature of its highest counter in the batch. A crash between a claim and its event
leaves a gap at that ``seq``; the prover treats a long-missing ``seq`` as a known gap (skipped: it
consumed no signer counter, see docs/design.md "Usage batches").

``UsageSigner``: a worker key the licensee registered for a license (``usage-signers`` table, pk
``licenseId``, sk ``signer`` lowercase), ``ACTIVE`` → ``REVOKED``, with the last counter it was
served and that access's signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from marketplace.shared.lifecycle import Lifecycle


class BatchState(StrEnum):
    PENDING = "PENDING"  # granted, not yet in a proven batch
    PROVEN = "PROVEN"  # covered by a usage batch logged on chain


BATCH_LIFECYCLE = Lifecycle("usage event", BatchState, {BatchState.PENDING: (BatchState.PROVEN,)},
                            initial=(BatchState.PENDING,))


class SignerState(StrEnum):
    ACTIVE = "ACTIVE"  # registered by the licensee on chain: its signed accesses are served
    REVOKED = "REVOKED"  # revoked by the licensee (the contract still settles its past uses for the grace)


# a revoked signer cannot be registered again (the contract refuses it), so REVOKED is terminal
SIGNER_LIFECYCLE = Lifecycle("usage signer", SignerState, {SignerState.ACTIVE: (SignerState.REVOKED,)},
                             initial=(SignerState.ACTIVE, SignerState.REVOKED))


@dataclass(frozen=True)
class UsageSigner:
    license_id: str
    signer: str  # lowercase 0x address
    state: SignerState
    last_counter: int = 0  # the signer's last served counter (0: none yet)
    last_signature: str | None = None  # 0x + 65 bytes (r, s, v) of that access
    last_request_hash: str | None = None
    added_at: int | None = None
    revoked_at: int | None = None
    tx_hash: str | None = None

    @classmethod
    def from_item(cls, item: dict) -> UsageSigner:
        return cls(license_id=item["licenseId"], signer=item["signer"], state=SignerState(item["state"]),
                   last_counter=int(item.get("lastCounter", 0)), last_signature=item.get("lastSignature"),
                   last_request_hash=item.get("lastRequestHash"),
                   added_at=None if item.get("addedAt") is None else int(item["addedAt"]),
                   revoked_at=None if item.get("revokedAt") is None else int(item["revokedAt"]),
                   tx_hash=item.get("txHash"))


@dataclass(frozen=True)
class SignedAccess:
    """A worker's EIP-712 ``AccessRequest(licenseId, counter, requestHash)`` and its signature."""

    signer: str  # lowercase 0x address (recovered from the signature)
    counter: int
    request_hash: str  # 0x + 32 bytes
    signature: str  # 0x + 65 bytes (r, s, v)


@dataclass(frozen=True)
class UsageEvent:
    license_id: str
    seq: int
    timestamp: int  # unix seconds (the circuit range-checks 40 bits)
    content_id: str
    endpoint: str
    method: str
    ip: str
    request_id: str
    call_hash: int
    batch: BatchState = BatchState.PENDING
    access: SignedAccess | None = None  # the worker's signed access that authorised this use
    batch_id: str | None = None  # set when PROVEN
    tx_hash: str | None = None
    index: int | None = None  # the use's on-chain index (startIndex + i): seq minus the gaps before it

    def to_item(self) -> dict:
        item = {"licenseId": self.license_id, "seq": self.seq, "ts": self.timestamp, "contentId": self.content_id,
                "endpoint": self.endpoint, "method": self.method, "ip": self.ip, "requestId": self.request_id,
                "callHash": str(self.call_hash), "batch": str(self.batch)}
        if self.access is not None:
            item.update(signer=self.access.signer, counter=self.access.counter,
                        requestHash=self.access.request_hash, signature=self.access.signature)
        for key, value in (("batchId", self.batch_id), ("txHash", self.tx_hash), ("index", self.index)):
            if value is not None:
                item[key] = value
        return item

    @classmethod
    def from_item(cls, item: dict) -> UsageEvent:
        return cls(license_id=item["licenseId"], seq=int(item["seq"]), timestamp=int(item["ts"]),
                   content_id=item["contentId"], endpoint=item["endpoint"], method=item["method"], ip=item["ip"],
                   request_id=item["requestId"], call_hash=int(item["callHash"]), batch=BatchState(item["batch"]),
                   access=SignedAccess(item["signer"], int(item["counter"]), item["requestHash"], item["signature"])
                   if item.get("signer") else None,
                   batch_id=item.get("batchId"), tx_hash=item.get("txHash"),
                   index=None if item.get("index") is None else int(item["index"]))
