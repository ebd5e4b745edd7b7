"""In-memory ``UsageLog`` over the usage table's items (same contract as ``DynamoUsageLog``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marketplace.shared.memory import MemoryTable
from marketplace.usage.models import (
    BATCH_LIFECYCLE,
    SIGNER_LIFECYCLE,
    BatchState,
    SignerState,
    UsageEvent,
    UsageSigner,
)
from marketplace.usage.ports import SignerRefused, UsageConflict


def _mark_proven(extra: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    """The change that marks one usage item PROVEN with its batch, tx and index (``extra``)."""
    return lambda item: item.update(batch=str(BatchState.PROVEN), **extra)


class MemoryUsageLog:
    def __init__(self, table: MemoryTable | None = None) -> None:
        self.table = table if table is not None else MemoryTable("licenseId", "seq")

    def record(self, event: UsageEvent) -> None:
        BATCH_LIFECYCLE.transition(None, event.batch)
        if not self.table.put(event.to_item(), condition=lambda old: old is None):
            raise UsageConflict(f"{event.license_id}#{event.seq}")

    def pending(self, license_id: str, from_seq: int = 0, limit: int = 64) -> list[UsageEvent]:
        items = sorted((i for i in self.table.query("licenseId", license_id)
                        if i["seq"] >= from_seq and i["batch"] == BatchState.PENDING), key=lambda i: i["seq"])
        return [UsageEvent.from_item(i) for i in items[:limit]]

    def events_from(self, license_id: str, from_seq: int, limit: int) -> list[UsageEvent]:
        items = sorted((i for i in self.table.query("licenseId", license_id) if i["seq"] >= from_seq),
                       key=lambda i: i["seq"])
        return [UsageEvent.from_item(i) for i in items[:limit]]

    def mark_proven(self, license_id: str, seqs: list[int], *, batch_id: str | None = None,
                    tx_hash: str | None = None, first_index: int | None = None) -> int:
        sources = {str(s) for s in BATCH_LIFECYCLE.sources(BatchState.PROVEN)}
        moved = 0
        for position, seq in enumerate(seqs):
            extra = {k: v for k, v in (("batchId", batch_id), ("txHash", tx_hash),
                                       ("index", None if first_index is None else first_index + position))
                     if v is not None}
            moved += self.table.update({"licenseId": license_id, "seq": seq},
                                       _mark_proven(extra),
                                       condition=lambda old: old is not None and old["batch"] in sources) is not None
        return moved

    @property
    def events(self) -> list[UsageEvent]:
        """Every event, in (license, seq) order."""
        return [UsageEvent.from_item(i) for i in sorted(self.table.values(), key=lambda i: (i["licenseId"], i["seq"]))]


class MemoryUsageSigners:
    """``UsageSigners`` over the usage-signers table's items (like ``adapters.DynamoUsageSigners``);
    ``record_signed_use`` writes the event to ``usage`` (a ``MemoryUsageLog``) under both tables' locks."""

    def __init__(self, table: MemoryTable | None = None, usage: MemoryUsageLog | None = None) -> None:
        self.table = table if table is not None else MemoryTable("licenseId", "signer")
        self.usage = usage if usage is not None else MemoryUsageLog()

    def get(self, license_id: str, signer: str) -> UsageSigner | None:
        item = self.table.get_item({"licenseId": license_id, "signer": signer.lower()})
        return UsageSigner.from_item(item) if item else None

    def list(self, license_id: str) -> list[UsageSigner]:
        return sorted((UsageSigner.from_item(i) for i in self.table.query("licenseId", license_id)),
                      key=lambda s: s.signer)

    def add(self, license_id: str, signer: str, at: int, tx_hash: str | None) -> bool:
        SIGNER_LIFECYCLE.transition(None, SignerState.ACTIVE)
        return self.table.put({"licenseId": license_id, "signer": signer.lower(), "state": str(SignerState.ACTIVE),
                               "lastCounter": 0, "addedAt": at, "txHash": tx_hash},
                              condition=lambda old: old is None)

    def revoke(self, license_id: str, signer: str, at: int, tx_hash: str | None) -> bool:
        sources = {str(s) for s in SIGNER_LIFECYCLE.sources(SignerState.REVOKED)}

        def change(item):
            item.update(state=str(SignerState.REVOKED), revokedAt=at, revokeTx=tx_hash)
            item.setdefault("lastCounter", 0)

        return self.table.update({"licenseId": license_id, "signer": signer.lower()}, change,
                                 condition=lambda old: old is None or old["state"] in sources) is not None

    def record_signed_use(self, event: UsageEvent) -> None:
        access = event.access
        if access is None:
            raise ValueError("a signed use needs its access")
        BATCH_LIFECYCLE.transition(None, event.batch)
        key = {"licenseId": event.license_id, "signer": access.signer}
        with self.table.lock, self.usage.table.lock:
            if self.usage.table.get_item({"licenseId": event.license_id, "seq": event.seq}) is not None:
                raise UsageConflict(f"{event.license_id}#{event.seq}")
            old = self.table.get_item(key)
            if old is None or old["state"] != SignerState.ACTIVE or old.get("lastCounter", 0) != access.counter - 1:
                raise SignerRefused(UsageSigner.from_item(old) if old else None)
            self.table.update(key, lambda i: i.update(lastCounter=access.counter, lastSignature=access.signature,
                                                      lastRequestHash=access.request_hash, lastSeq=event.seq))
            self.usage.record(event)


class MemoryBatchRecords:
    """In-memory ``BatchRecords`` (same contract as ``DynamoBatchRecords``)."""

    def __init__(self, table: MemoryTable | None = None) -> None:
        self.table = table if table is not None else MemoryTable("licenseId", "startIndex")

    def put(self, license_id: str, start_index: int, record: dict, *, batch_id: str, tx_hash: str | None) -> None:
        self.table.put({"licenseId": license_id, "startIndex": start_index, "digest": int(record["digest"]),
                        "count": int(record["count"]), "window_start": int(record["window_start"]),
                        "window_end": int(record["window_end"]), "batchId": batch_id, "txHash": tx_hash},
                       condition=lambda old: old is None)

    def list(self, license_id: str) -> list[dict]:
        items = ({"txHash": None, **{k: v for k, v in i.items() if k != "licenseId"}}
                 for i in self.table.query("licenseId", license_id))
        return sorted(items, key=lambda i: i["startIndex"])
