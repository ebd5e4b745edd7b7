"""A usage event: one granted use of a license, with what the usage_batch circuit needs.

Stored in the usage table keyed by ``(licenseId, seq)``: ``seq`` is ``usesGranted`` before the
use (the on-chain index ``startIndex + i``, so ``nullifier = Poseidon(secret, seq)``), ``ts`` unix
seconds, the call-hash inputs and ``callHash`` (a decimal string: it exceeds DynamoDB's numbers),
``batch`` PENDING until the batch prover logs it on chain (PROVEN). A crash between a claim and
its event leaves a gap at that ``seq``; the prover treats a long-missing ``seq`` as a known gap.
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

    def to_item(self) -> dict:
        return {"licenseId": self.license_id, "seq": self.seq, "ts": self.timestamp, "contentId": self.content_id,
                "endpoint": self.endpoint, "method": self.method, "ip": self.ip, "requestId": self.request_id,
                "callHash": str(self.call_hash), "batch": str(self.batch)}

    @classmethod
    def from_item(cls, item: dict) -> UsageEvent:
        return cls(license_id=item["licenseId"], seq=int(item["seq"]), timestamp=int(item["ts"]),
                   content_id=item["contentId"], endpoint=item["endpoint"], method=item["method"], ip=item["ip"],
                   request_id=item["requestId"], call_hash=int(item["callHash"]), batch=BatchState(item["batch"]))
