"""In-memory ``NonceStore`` over the auth table's items (same contract as ``adapters.DynamoNonceStore``)."""

from __future__ import annotations

from marketplace.shared.memory import MemoryTable


class MemoryNonceStore:
    def __init__(self, table: MemoryTable | None = None) -> None:
        self.table = table if table is not None else MemoryTable("pk")

    def save_nonce(self, nonce: str, address: str, expires_at: int) -> None:
        if not self.table.put({"pk": f"nonce#{nonce}", "address": address, "ttl": expires_at},
                              condition=lambda old: old is None):
            raise RuntimeError("nonce collision")

    def consume_nonce(self, nonce: str, address: str, now: int) -> bool:
        old = self.table.delete({"pk": f"nonce#{nonce}"}, condition=lambda old: old is not None
                                and old["address"] == address and old["ttl"] > now)
        return bool(old)
