"""The usage log: written once per granted use (access), read in order by the batch prover (Flow 4)."""

from __future__ import annotations

from typing import Protocol

from marketplace.usage.models import UsageEvent


class UsageLog(Protocol):
    def record(self, event: UsageEvent) -> None:
        """Store a new event; a second event at the same ``(license_id, seq)`` is refused
        (``UsageConflict``): a sequence number counts once."""
        ...

    def pending(self, license_id: str, from_seq: int = 0, limit: int = 64) -> list[UsageEvent]:
        """The license's PENDING events with ``seq >= from_seq``, in ``seq`` order, at most ``limit``."""
        ...

    def mark_proven(self, license_id: str, seqs: list[int]) -> int:
        """PENDING → PROVEN for these events; how many moved (an event already PROVEN stays)."""
        ...


class UsageConflict(Exception):
    """An event already exists at this (license, seq)."""
