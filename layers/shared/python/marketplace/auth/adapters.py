"""Sign-in nonces in DynamoDB (the auth table): ``pk = "nonce#<nonce>"``, single use, ``ttl``."""

from __future__ import annotations

from marketplace.adapters.dynamodb import Table


class DynamoNonceStore:
    def __init__(self, table: str) -> None:
        self.table = Table(table)

    def save_nonce(self, nonce: str, address: str, expires_at: int) -> None:
        if not self.table.put({"pk": f"nonce#{nonce}", "address": address, "ttl": expires_at},
                              condition="attribute_not_exists(pk)"):
            raise RuntimeError("nonce collision")  # 100 bits of randomness: not expected

    def consume_nonce(self, nonce: str, address: str, now: int) -> bool:
        old = self.table.delete({"pk": f"nonce#{nonce}"},
                                condition="attribute_exists(pk) AND address = :a AND #ttl > :now",
                                values={":a": address, ":now": now}, names={"#ttl": "ttl"})
        return bool(old)
