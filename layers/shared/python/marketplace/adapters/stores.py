"""The tables of auth and Flow 1 as the logic sees them: methods named after what they mean.

- auth table: sign-in nonces, ``pk = "nonce#<nonce>"``, single use (deleted on login), ``ttl``.
- registrations table: one item per registration (``registrationId``). It is the saga's journal:
  ``state`` AWAITING_UPLOAD (presigned upload issued) → PENDING → REGISTERED | FAILED, the
  ``stage`` reached, what each step produced (hash, CIDs, content id, tx) and ``error``.
- content table: one item per content id. ``state`` CREATED is a registration's claim on a content
  hash (taken before anything is stored, so two registrations of one file cannot both proceed);
  the cache step turns it into REGISTERED with the public metadata.
"""

from __future__ import annotations

from typing import Any

from marketplace.adapters.dynamodb import Table, transact

AWAITING_UPLOAD, PENDING, REGISTERED, FAILED = "AWAITING_UPLOAD", "PENDING", "REGISTERED", "FAILED"
CREATED = "CREATED"  # content claimed by a registration in progress


class AuthStore:
    def __init__(self, table: str) -> None:
        self.table = Table(table)

    def save_nonce(self, nonce: str, address: str, expires_at: int) -> None:
        if not self.table.put({"pk": f"nonce#{nonce}", "address": address, "ttl": expires_at},
                              condition="attribute_not_exists(pk)"):
            raise RuntimeError("nonce collision")  # 100 bits of randomness: not expected

    def consume_nonce(self, nonce: str, address: str, now: int) -> bool:
        """Delete the nonce if it was issued to ``address`` and has not expired; False otherwise
        (unknown, already used, expired, or issued to someone else)."""
        old = self.table.delete({"pk": f"nonce#{nonce}"},
                                condition="attribute_exists(pk) AND address = :a AND #ttl > :now",
                                values={":a": address, ":now": now}, names={"#ttl": "ttl"})
        return bool(old)


class RegistrationStore:
    def __init__(self, table: str) -> None:
        self.table = Table(table)

    @staticmethod
    def _key(registration_id: str) -> dict[str, str]:
        return {"registrationId": registration_id}

    def create(self, item: dict[str, Any]) -> bool:
        return self.table.put(item, condition="attribute_not_exists(registrationId)")

    def get(self, registration_id: str) -> dict[str, Any] | None:
        return self.table.get(self._key(registration_id))

    def start_uploaded(self, registration_id: str, creator: str, changes: dict[str, Any]) -> bool:
        """AWAITING_UPLOAD → PENDING for its creator only, once (False otherwise); drops the ttl."""
        return self.table.update(self._key(registration_id), {**changes, "state": PENDING}, remove=("ttl",),
                                 condition="#st = :awaiting AND creator = :c",
                                 values={":awaiting": AWAITING_UPLOAD, ":c": creator}, names={"#st": "state"})

    def update(self, registration_id: str, changes: dict[str, Any]) -> None:
        """Journal what a step did (only while the registration is PENDING)."""
        self.table.update(self._key(registration_id), changes, condition="#st = :p",
                          values={":p": PENDING}, names={"#st": "state"})

    def fail(self, registration_id: str, error: dict[str, Any], now: str) -> bool:
        """PENDING → FAILED with the error record; False if it was not PENDING."""
        return self.table.update(self._key(registration_id),
                                 {"state": FAILED, "error": error, "updatedAt": now},
                                 condition="#st = :p", values={":p": PENDING}, names={"#st": "state"})

    def tx_registered(self, registration_id: str, result: dict[str, Any], now: str) -> dict[str, Any]:
        return self.table.tx_update(self._key(registration_id),
                                    {"state": REGISTERED, "result": result, "updatedAt": now},
                                    condition="#st = :p", values={":p": PENDING}, names={"#st": "state"})


class ContentStore:
    def __init__(self, table: str) -> None:
        self.table = Table(table)

    def get(self, content_id: str) -> dict[str, Any] | None:
        return self.table.get({"contentId": content_id})

    def claim(self, item: dict[str, Any]) -> dict[str, Any] | None:
        """Put a CREATED claim unless the content id has an item; that item if it has (else None)."""
        claim = {**item, "state": CREATED}
        if self.table.put(claim, condition="attribute_not_exists(contentId)"):
            return None
        existing = self.get(item["contentId"])
        if existing is None:  # deleted between the two calls: try once more
            return None if self.table.put(claim, condition="attribute_not_exists(contentId)") else self.get(
                item["contentId"])
        return existing

    def release(self, content_id: str, registration_id: str) -> bool:
        """Delete the claim if it is still this registration's CREATED claim."""
        return bool(self.table.delete({"contentId": content_id}, condition="#st = :c AND registrationId = :r",
                                      values={":c": CREATED, ":r": registration_id}, names={"#st": "state"}))

    def tx_registered(self, content_id: str, registration_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        return self.table.tx_update({"contentId": content_id}, {**fields, "state": REGISTERED},
                                    condition="#st = :c AND registrationId = :r",
                                    values={":c": CREATED, ":r": registration_id}, names={"#st": "state"})


def commit(*operations: dict[str, Any]) -> bool:
    """Apply ``tx_*`` operations of these stores atomically; False if a condition failed."""
    return transact(*operations)
