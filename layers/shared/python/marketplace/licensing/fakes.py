"""In-memory ``LicensingStore`` over the same items as ``adapters.LicensingDynamoStore`` (the
terms, quotes, licenses, apikeys and ratelimits tables; tests/contract runs both)."""

from __future__ import annotations

from typing import Any

from marketplace.licensing.models import (
    LICENSE_LIFECYCLE,
    QUOTE_LIFECYCLE,
    LicenseState,
    QuoteState,
    license_state,
)
from marketplace.shared.memory import MemoryTable


def _quote_may_move(target: QuoteState):
    sources = {str(s) for s in QUOTE_LIFECYCLE.sources(target)}
    return lambda old: old is not None and old.get("state") in sources


class MemoryLicensingStore:
    def __init__(self, *, terms: MemoryTable | None = None, quotes: MemoryTable | None = None,
                 licenses: MemoryTable | None = None, apikeys: MemoryTable | None = None,
                 ratelimits: MemoryTable | None = None) -> None:
        self.terms = terms if terms is not None else MemoryTable("termsId")
        self.quotes = quotes if quotes is not None else MemoryTable("quoteId")
        self.licenses = licenses if licenses is not None else MemoryTable("licenseId")
        self.apikeys = apikeys if apikeys is not None else MemoryTable("keyHash")
        self.locks = ratelimits if ratelimits is not None else MemoryTable("pk")

    # terms
    def put_terms(self, item: dict[str, Any]) -> bool:
        return self.terms.put(item, condition=lambda old: old is None)

    def get_terms(self, terms_id: str) -> dict[str, Any] | None:
        return self.terms.get_item({"termsId": terms_id})

    def list_terms(self, content_id: str) -> list[dict[str, Any]]:
        return self.terms.query("contentId", content_id)

    # quotes
    def put_quote(self, item: dict[str, Any]) -> None:
        if not self.quotes.put(item, condition=lambda old: old is None):
            raise RuntimeError("quote id collision")

    def get_quote(self, quote_id: str) -> dict[str, Any] | None:
        return self.quotes.get_item({"quoteId": quote_id})

    def move_quote(self, quote_id: str, target: QuoteState) -> bool:
        return self.quotes.update({"quoteId": quote_id}, lambda q: q.update(state=str(target)),
                                  condition=_quote_may_move(target)) is not None

    # locks
    def lock(self, name: str, until: int, now: int) -> bool:
        return self.locks.put({"pk": f"lock#{name}", "ttl": until},
                              condition=lambda old: old is None or old["ttl"] < now)

    def unlock(self, name: str) -> None:
        self.locks.delete({"pk": f"lock#{name}"})

    # licenses and keys
    def save_purchase(self, license_item: dict[str, Any], key_item: dict[str, Any], quote_id: str) -> bool:
        with self.licenses.lock, self.apikeys.lock, self.quotes.lock:  # a transaction: check all, then write
            if (self.get_license(license_item["licenseId"]) is not None
                    or self.apikeys.get_item({"keyHash": key_item["keyHash"]}) is not None
                    or not _quote_may_move(QuoteState.REDEEMED)(self.get_quote(quote_id))):
                return False
            self.licenses.put(license_item)
            self.apikeys.put(key_item)
            self.quotes.update({"quoteId": quote_id}, lambda q: q.update(
                state=str(QuoteState.REDEEMED), licenseId=license_item["licenseId"]))
            return True

    def get_license(self, license_id: str) -> dict[str, Any] | None:
        return self.licenses.get_item({"licenseId": license_id})

    def mark_revoked(self, license_id: str, revoked_at: int, tx_hash: str) -> bool:
        def may_revoke(old):
            # any time serves: whether a license may be revoked does not depend on the clock
            return old is not None and LICENSE_LIFECYCLE.can_transition(
                license_state(old, revoked_at), LicenseState.REVOKED)

        return self.licenses.update({"licenseId": license_id},
                                    lambda lic: lic.update(revokedAt=revoked_at, revokeTxHash=tx_hash),
                                    condition=may_revoke) is not None

    def keys_of(self, license_id: str) -> list[dict[str, Any]]:
        return sorted(self.apikeys.query("licenseId", license_id), key=lambda k: k.get("createdAt", ""))

    def replace_keys(self, license_id: str, new_key: dict[str, Any], now: int) -> None:
        if not self.apikeys.put(new_key, condition=lambda old: old is None):
            raise RuntimeError("api key hash collision")
        self._revoke_keys(license_id, now, keep=new_key["keyHash"])

    def revoke_keys(self, license_id: str, now: int) -> int:
        return self._revoke_keys(license_id, now)

    def _revoke_keys(self, license_id: str, now: int, keep: str | None = None) -> int:
        revoked = 0
        for key in self.keys_of(license_id):
            if key["keyHash"] != keep and key.get("revokedAt") is None:
                revoked += self.apikeys.update({"keyHash": key["keyHash"]}, lambda k: k.update(revokedAt=now),
                                               condition=lambda old: old is not None
                                               and old.get("revokedAt") is None) is not None
        return revoked
