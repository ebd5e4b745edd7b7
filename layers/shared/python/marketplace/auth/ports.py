"""What sign-in needs from storage."""

from __future__ import annotations

from typing import Protocol


class NonceStore(Protocol):
    def save_nonce(self, nonce: str, address: str, expires_at: int) -> None:
        """Keep a fresh nonce issued to ``address`` until ``expires_at`` (unix seconds)."""
        ...

    def consume_nonce(self, nonce: str, address: str, now: int) -> bool:
        """Delete the nonce if it was issued to ``address`` and is live at ``now``: True once,
        False when unknown, expired, used already or issued to someone else."""
        ...
