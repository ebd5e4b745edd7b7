"""DynamoDB stores of Flow 2 (terms, quotes, licenses, API keys, purchase locks); the items of Flow 3 too.

Items (all ids lowercase 0x-hex; commitments, which exceed DynamoDB's 38 digits, as decimal strings):

- terms ``termsId``: contentId (index byContent), creator, type, pricePerUse, maxUses,
  durationSeconds, amount, active, txHash, createdAt.
- quotes ``quoteId`` (= the credential commitment, 32 bytes hex): buyer, termsId, nonce (the
  purchase's uint256 nonce, a decimal string), licenseId (= licenseIdFor(termsId, buyer, nonce)),
  commitment, sealedSecret, amount, deadline, state OPEN | SENDING | REDEEMED, ttl.
- licenses ``licenseId``: termsId, contentId, creator, buyer (index byBuyer), type, pricePerUse,
  maxUses, amount, validFrom, validUntil (unix seconds), commitment, sealedSecret, usesGranted
  (every use granted: proven + pending), usesProven (advanced by the batch prover), revokedAt,
  txHash, purchasedAt, objectKey, firstUsedAt, lastUsedAt.
- apikeys ``keyHash``: licenseId (index byLicense), display, buyer, and the license's static facts
  the access path checks without reading the license (contentId, commitment, validUntil,
  objectKey), createdAt, revokedAt.
- usage ``licenseId`` + ``seq`` (the use's index): ts, contentId, endpoint, method, ip,
  requestId, callHash, batch = "PENDING" until the batch prover logs it.
- ratelimits ``pk``: ``key#<keyHash>#<windowStart>`` counters (``n``) and ``lock#<name>`` locks,
  both with ``ttl``.

A license item stores no state: ``license_in`` writes "the item is in one of these license
states" as a condition on its attributes, from the lifecycle's precedence (``licensing.models``);
quote conditions come from ``QUOTE_LIFECYCLE``. The access path's calls are in
``access.adapters``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from marketplace.adapters.dynamodb import Table, transact
from marketplace.licensing.models import LICENSE_LIFECYCLE, QUOTE_LIFECYCLE, LicenseState, QuoteState
from marketplace.shared.lifecycle import state_in

# The settled license states in the contract's precedence, each with the condition that holds when
# an item (not in an earlier one) is not in it. ``:now`` is the caller's unix time.
_SETTLED: tuple[tuple[LicenseState, str], ...] = (
    (LicenseState.REVOKED, "attribute_not_exists(revokedAt)"),
    (LicenseState.EXHAUSTED, "usesGranted < maxUses"),
    (LicenseState.EXPIRED, "validUntil > :now"),
)


def license_in(states: Iterable[LicenseState]) -> str:
    """A condition: the license item is in one of ``states`` (PURCHASED and IN_USE among them).
    The settled states left out must be a prefix of the precedence (REVOKED, then EXHAUSTED, then
    EXPIRED): each test then only holds for items past the earlier ones."""
    wanted = set(states)
    if not {LicenseState.PURCHASED, LicenseState.IN_USE} <= wanted:
        raise ValueError("a license condition keeps PURCHASED and IN_USE")
    left_out = [state for state, _ in _SETTLED if state not in wanted]
    if left_out != [state for state, _ in _SETTLED][:len(left_out)]:
        raise ValueError(f"cannot test for {sorted(wanted)} without the states before them")
    return " AND ".join(test for state, test in _SETTLED if state not in wanted) or "attribute_exists(licenseId)"


def _quote_moving(target: QuoteState) -> dict[str, Any]:
    condition, values = state_in(QUOTE_LIFECYCLE.sources(target))
    return {"condition": f"attribute_exists(quoteId) AND {condition}", "values": values, "names": {"#st": "state"}}


# --------------------------------------------------------------------------------------------
# Flow 2
# --------------------------------------------------------------------------------------------


class LicensingDynamoStore:
    def __init__(self, *, terms: str, quotes: str, licenses: str, apikeys: str, ratelimits: str) -> None:
        self.terms = Table(terms)
        self.quotes = Table(quotes)
        self.licenses = Table(licenses)
        self.apikeys = Table(apikeys)
        self.locks = Table(ratelimits)

    # terms
    def put_terms(self, item: dict[str, Any]) -> bool:
        return self.terms.put(item, condition="attribute_not_exists(termsId)")

    def get_terms(self, terms_id: str) -> dict[str, Any] | None:
        return self.terms.get({"termsId": terms_id})

    def list_terms(self, content_id: str) -> list[dict[str, Any]]:
        return self.terms.query("byContent", "contentId", content_id, limit=100)

    # quotes
    def put_quote(self, item: dict[str, Any]) -> None:
        if not self.quotes.put(item, condition="attribute_not_exists(quoteId)"):
            raise RuntimeError("quote id collision")  # a 254-bit random commitment: not expected

    def get_quote(self, quote_id: str) -> dict[str, Any] | None:
        return self.quotes.get({"quoteId": quote_id})

    def move_quote(self, quote_id: str, target: QuoteState) -> bool:
        if not QUOTE_LIFECYCLE.sources(target):  # nothing moves there (OPEN: a quote starts OPEN)
            return False
        return self.quotes.update({"quoteId": quote_id}, {"state": str(target)}, **_quote_moving(target))

    # locks (in the ratelimits table: short-lived coordination items)
    def lock(self, name: str, until: int, now: int) -> bool:
        return self.locks.put({"pk": f"lock#{name}", "ttl": until},
                              condition="attribute_not_exists(pk) OR #ttl < :now",
                              values={":now": now}, names={"#ttl": "ttl"})

    def unlock(self, name: str) -> None:
        self.locks.delete({"pk": f"lock#{name}"})

    # licenses and keys
    def save_purchase(self, license_item: dict[str, Any], key_item: dict[str, Any], quote_id: str) -> bool:
        """License, its first key and the quote's redemption, all or nothing; False if the license
        or the redemption already exists."""
        return transact(
            self.licenses.tx_put(license_item, condition="attribute_not_exists(licenseId)"),
            self.apikeys.tx_put(key_item, condition="attribute_not_exists(keyHash)"),
            self.quotes.tx_update({"quoteId": quote_id},
                                  {"state": str(QuoteState.REDEEMED), "licenseId": license_item["licenseId"]},
                                  **_quote_moving(QuoteState.REDEEMED)),
        )

    def get_license(self, license_id: str) -> dict[str, Any] | None:
        return self.licenses.get({"licenseId": license_id})

    def mark_revoked(self, license_id: str, revoked_at: int, tx_hash: str) -> bool:
        """→ REVOKED from any state that may move there; False if it may not (or no such license)."""
        condition = license_in(LICENSE_LIFECYCLE.sources(LicenseState.REVOKED))
        return self.licenses.update({"licenseId": license_id}, {"revokedAt": revoked_at, "revokeTxHash": tx_hash},
                                    condition=f"attribute_exists(licenseId) AND {condition}")

    def keys_of(self, license_id: str) -> list[dict[str, Any]]:
        return sorted(self.apikeys.query("byLicense", "licenseId", license_id, limit=100),
                      key=lambda k: k.get("createdAt", ""))

    def replace_keys(self, license_id: str, new_key: dict[str, Any], now: int) -> None:
        if not self.apikeys.put(new_key, condition="attribute_not_exists(keyHash)"):
            raise RuntimeError("api key hash collision")
        self._revoke_keys(license_id, now, keep=new_key["keyHash"])

    def revoke_keys(self, license_id: str, now: int) -> int:
        return self._revoke_keys(license_id, now)

    def _revoke_keys(self, license_id: str, now: int, keep: str | None = None) -> int:
        revoked = 0
        for key in self.keys_of(license_id):
            if key["keyHash"] != keep and key.get("revokedAt") is None:
                revoked += self.apikeys.update({"keyHash": key["keyHash"]}, {"revokedAt": now},
                                               condition="attribute_not_exists(revokedAt)")
        return revoked
