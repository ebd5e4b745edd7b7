"""The usage log: written once per granted use (access), read in order by the batch prover (Flow 4)."""

from __future__ import annotations

from typing import Protocol

from marketplace.usage.models import UsageEvent, UsageSigner


class UsageLog(Protocol):
    def record(self, event: UsageEvent) -> None:
        """Store a new event; a second event at the same ``(license_id, seq)`` is refused
        (``UsageConflict``): a sequence number counts once."""
        ...

    def pending(self, license_id: str, from_seq: int = 0, limit: int = 64) -> list[UsageEvent]:
        """The license's PENDING events with ``seq >= from_seq``, in ``seq`` order, at most ``limit``."""
        ...

    def mark_proven(self, license_id: str, seqs: list[int], *, batch_id: str | None = None,
                    tx_hash: str | None = None, first_index: int | None = None) -> int:
        """PENDING → PROVEN for these events (with the batch id, its transaction and each event's
        on-chain index ``first_index + position``); how many moved (an event already PROVEN stays)."""
        ...

    def events_from(self, license_id: str, from_seq: int, limit: int) -> list[UsageEvent]:
        """The license's events (any state) with ``seq >= from_seq``, in ``seq`` order, at most ``limit``."""
        ...


class BatchRecords(Protocol):
    """One record per proven usage batch (table ``batches``: ``licenseId`` + numeric ``startIndex``):
    ``(digest, count, windowStart, windowEnd)``, what compliance and aggregate proofs open against
    the license's on-chain chain value (a record that disagrees with the chain fails the proof)."""

    def put(self, license_id: str, start_index: int, record: dict, *, batch_id: str, tx_hash: str | None) -> None:
        """Store the record of the batch at ``start_index`` (``record``: ``BatchRecord.to_dict()``);
        writing the same batch again is a no-op (a recovered run)."""
        ...

    def list(self, license_id: str) -> list[dict]:
        """The license's records in ``startIndex`` order: ``{startIndex, digest, count, window_start,
        window_end, batchId, txHash}`` (numbers as ints)."""
        ...


class UsageSigners(Protocol):
    """The licenses' usage signers (worker keys) and the last access each was served."""

    def get(self, license_id: str, signer: str) -> UsageSigner | None: ...

    def list(self, license_id: str) -> list[UsageSigner]:
        """The license's signers, in address order."""
        ...

    def add(self, license_id: str, signer: str, at: int, tx_hash: str | None) -> bool:
        """Record the signer ACTIVE; False (nothing changed) if it is recorded already, in any state."""
        ...

    def revoke(self, license_id: str, signer: str, at: int, tx_hash: str | None) -> bool:
        """ACTIVE (or unknown) → REVOKED; False if it is REVOKED already."""
        ...

    def record_signed_use(self, event: UsageEvent) -> None:
        """Store ``event`` and advance its signer's ``last_counter`` to ``event.access.counter``
        (keeping that access's signature and request hash), all or nothing, only if the signer is
        ACTIVE and its last counter is ``counter - 1``: else ``SignerRefused`` with the signer as it
        is (None: unknown). A second event at the same seq is ``UsageConflict``."""
        ...


class SignerRefused(Exception):
    """A signed use was refused by the signer's record (unknown, revoked, or another counter)."""

    def __init__(self, current: UsageSigner | None) -> None:
        super().__init__("signer refused")
        self.current = current


class UsageConflict(Exception):
    """An event already exists at this (license, seq)."""


class UsageContended(Exception):
    """The signed use was not written: its transaction lost to concurrent writes of the same items
    (DynamoDB's TransactionConflict, or throttling) through every retry. Nothing was consumed: the
    same counter may be sent again."""
