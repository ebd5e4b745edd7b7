"""DynamoDB stores of Flows 2 and 3 (terms, quotes, licenses, API keys, usage, rate limits).

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

The access path's four calls are ``AccessStore.get_key``, ``hit``, ``claim_use`` and ``record``.
"""

from __future__ import annotations

from typing import Any

from marketplace.adapters.aws import client, error_code
from marketplace.adapters.dynamodb import CONDITION_FAILED, Table, from_ddb, to_ddb, transact
from marketplace.logic.access import Claim, ClaimRefused, KeyRecord, LicenseState, UsageEvent

# --------------------------------------------------------------------------------------------
# Flow 2
# --------------------------------------------------------------------------------------------


class LicensingDynamoStore:
    def __init__(self, *, content: str, terms: str, quotes: str, licenses: str, apikeys: str,
                 ratelimits: str) -> None:
        self.content = Table(content)
        self.terms = Table(terms)
        self.quotes = Table(quotes)
        self.licenses = Table(licenses)
        self.apikeys = Table(apikeys)
        self.locks = Table(ratelimits)

    # content (Flow 1's table: only the lifecycle moves here)
    def get_content(self, content_id: str) -> dict[str, Any] | None:
        return self.content.get({"contentId": content_id})

    def mark_licensed(self, content_id: str) -> None:
        """REGISTERED → LICENSED (no-op in any other state)."""
        self.content.update({"contentId": content_id}, {"state": "LICENSED"}, condition="#st = :r",
                            values={":r": "REGISTERED"}, names={"#st": "state"})

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

    def set_quote_state(self, quote_id: str, state: str, expected: tuple[str, ...]) -> bool:
        values = {f":e{i}": s for i, s in enumerate(expected)}
        return self.quotes.update({"quoteId": quote_id}, {"state": state},
                                  condition=f"#st IN ({', '.join(values)})", values=values, names={"#st": "state"})

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
            self.quotes.tx_update({"quoteId": quote_id}, {"state": "REDEEMED", "licenseId": license_item["licenseId"]},
                                  condition="attribute_exists(quoteId) AND #st <> :r",
                                  values={":r": "REDEEMED"}, names={"#st": "state"}),
        )

    def get_license(self, license_id: str) -> dict[str, Any] | None:
        return self.licenses.get({"licenseId": license_id})

    def mark_revoked(self, license_id: str, revoked_at: int, tx_hash: str) -> None:
        self.licenses.update({"licenseId": license_id}, {"revokedAt": revoked_at, "revokeTxHash": tx_hash},
                             condition="attribute_exists(licenseId) AND attribute_not_exists(revokedAt)")

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


# --------------------------------------------------------------------------------------------
# Flow 3: the access path
# --------------------------------------------------------------------------------------------


class AccessDynamoStore:
    """``KeyStore``, ``RateLimiter``, ``LicenseStore`` and ``UsageLog`` of ``logic.access``: one
    DynamoDB call each, on the low-level client (no resource layer, no extra reads)."""

    def __init__(self, *, apikeys: str, ratelimits: str, licenses: str, usage: str, content: str) -> None:
        self.apikeys, self.ratelimits, self.licenses, self.usage, self.content = (
            apikeys, ratelimits, licenses, usage, content)

    @property
    def _ddb(self):
        return client("dynamodb")

    def get_key(self, key_hash: str) -> KeyRecord | None:
        item = self._ddb.get_item(TableName=self.apikeys, Key={"keyHash": {"S": key_hash}},
                                  ConsistentRead=True).get("Item")
        if not item:
            return None
        k = from_ddb(item)
        return KeyRecord(key_hash=k["keyHash"], license_id=k["licenseId"], content_id=k["contentId"],
                         commitment=int(k["commitment"]), valid_until=int(k["validUntil"]),
                         object_key=k["objectKey"], revoked_at=k.get("revokedAt"))

    def hit(self, bucket: str, limit: int, expires_at: int) -> int | None:
        try:
            out = self._ddb.update_item(
                TableName=self.ratelimits, Key={"pk": {"S": bucket}},
                UpdateExpression="ADD #n :one SET #ttl = if_not_exists(#ttl, :exp)",
                ConditionExpression="attribute_not_exists(#n) OR #n < :limit",
                ExpressionAttributeNames={"#n": "n", "#ttl": "ttl"},
                ExpressionAttributeValues={":one": {"N": "1"}, ":limit": {"N": str(limit)},
                                           ":exp": {"N": str(expires_at)}},
                ReturnValues="UPDATED_NEW",
            )
        except Exception as exc:
            if error_code(exc) in CONDITION_FAILED:
                return None
            raise
        return int(out["Attributes"]["n"]["N"])

    def claim_use(self, license_id: str, content_id: str, now: int) -> Claim:
        try:
            out = self._ddb.update_item(
                TableName=self.licenses, Key={"licenseId": {"S": license_id}},
                UpdateExpression="SET usesGranted = usesGranted + :one, lastUsedAt = :now, "
                                 "firstUsedAt = if_not_exists(firstUsedAt, :now)",
                ConditionExpression="attribute_exists(licenseId) AND attribute_not_exists(revokedAt) "
                                    "AND validUntil > :now AND usesGranted < maxUses AND contentId = :cid",
                ExpressionAttributeValues={":one": {"N": "1"}, ":now": {"N": str(now)}, ":cid": {"S": content_id}},
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except Exception as exc:
            if error_code(exc) not in CONDITION_FAILED:
                raise
            old = getattr(exc, "response", {}).get("Item")
            raise ClaimRefused(_license_state(from_ddb(old)) if old else None) from None
        new = from_ddb(out["Attributes"])
        return Claim(seq=new["usesGranted"] - 1, uses=new["usesGranted"], max_uses=new["maxUses"],
                     valid_from=new["validFrom"], valid_until=new["validUntil"])

    def record(self, event: UsageEvent) -> None:
        self._ddb.put_item(TableName=self.usage, Item=to_ddb({
            "licenseId": event.license_id, "seq": event.seq, "ts": event.timestamp, "contentId": event.content_id,
            "endpoint": event.endpoint, "method": event.method, "ip": event.ip, "requestId": event.request_id,
            "callHash": str(event.call_hash), "batch": "PENDING",
        }), ConditionExpression="attribute_not_exists(seq)")

    def activate_content(self, content_id: str) -> None:
        """LICENSED → ACTIVE (the content's first access; a no-op after)."""
        try:
            self._ddb.update_item(
                TableName=self.content, Key={"contentId": {"S": content_id}},
                UpdateExpression="SET #st = :a", ConditionExpression="#st = :l",
                ExpressionAttributeNames={"#st": "state"},
                ExpressionAttributeValues={":a": {"S": "ACTIVE"}, ":l": {"S": "LICENSED"}},
            )
        except Exception as exc:
            if error_code(exc) not in CONDITION_FAILED:
                raise


def _license_state(item: dict[str, Any]) -> LicenseState:
    return LicenseState(license_id=item["licenseId"], content_id=item["contentId"], uses=item["usesGranted"],
                        max_uses=item["maxUses"], valid_until=item["validUntil"],
                        revoked_at=item.get("revokedAt"))
