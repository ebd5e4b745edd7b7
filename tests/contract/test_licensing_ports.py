"""Contract of ``LicensingStore`` (terms, quotes, locks, purchases, revocation, keys) and of the
sign-in ``NonceStore``."""

from __future__ import annotations

import pytest
from marketplace.auth.adapters import DynamoNonceStore
from marketplace.auth.fakes import MemoryNonceStore
from marketplace.licensing.adapters import LicensingDynamoStore
from marketplace.licensing.fakes import MemoryLicensingStore
from marketplace.licensing.models import QuoteState

pytestmark = pytest.mark.contract

LID, TID, QID = "0x" + "11" * 32, "0x" + "22" * 32, "0x" + "33" * 32


def store(b):
    names = ("terms", "quotes", "licenses", "apikeys", "ratelimits")
    if b.kind == "memory":
        return MemoryLicensingStore(**{n: b.tables[n] for n in names})
    return LicensingDynamoStore(**{n: b.tables[n] for n in names})


def license_item(**extra):
    return {"licenseId": LID, "termsId": TID, "contentId": "0xc", "buyer": "0xb", "usesGranted": 0, "maxUses": 2,
            "validFrom": 0, "validUntil": 100, "commitment": "7", **extra}


def key_item(key_hash, created="t1"):
    return {"keyHash": key_hash, "licenseId": LID, "display": "sk_live_…", "createdAt": created}


def test_terms_put_once_and_listed_by_content(backend):
    s = store(backend)
    assert s.put_terms({"termsId": TID, "contentId": "0xc", "amount": 5}) is True
    assert s.put_terms({"termsId": TID, "contentId": "0xc", "amount": 6}) is False
    s.put_terms({"termsId": "0x" + "44" * 32, "contentId": "0xd"})
    assert s.get_terms(TID)["amount"] == 5 and s.get_terms("0x" + "55" * 32) is None
    assert [t["termsId"] for t in s.list_terms("0xc")] == [TID]


def test_quotes_move_along_their_lifecycle(backend):
    s = store(backend)
    s.put_quote({"quoteId": QID, "state": "OPEN", "nonce": str(2**255)})
    with pytest.raises(RuntimeError):
        s.put_quote({"quoteId": QID, "state": "OPEN"})
    assert s.get_quote(QID)["nonce"] == str(2**255)
    assert s.move_quote(QID, QuoteState.SENDING) is True
    assert s.move_quote(QID, QuoteState.SENDING) is True  # a retried relayed purchase
    assert s.move_quote(QID, QuoteState.OPEN) is False  # nothing moves back
    assert s.move_quote("0x" + "99" * 32, QuoteState.SENDING) is False
    assert s.get_quote(QID)["state"] == "SENDING"


def test_locks_exclude_until_they_expire(backend):
    s = store(backend)
    assert s.lock("purchase#q", until=110, now=100) is True
    assert s.lock("purchase#q", until=120, now=105) is False
    assert s.lock("purchase#q", until=130, now=111) is True  # the holder's lease ran out
    s.unlock("purchase#q")
    assert s.lock("purchase#q", until=140, now=112) is True


def test_a_purchase_is_saved_all_or_nothing_and_redeems_its_quote_once(backend):
    s = store(backend)
    s.put_quote({"quoteId": QID, "state": "SENDING"})
    assert s.save_purchase(license_item(), key_item("k1"), QID) is True
    assert s.get_quote(QID)["state"] == "REDEEMED" and s.get_quote(QID)["licenseId"] == LID
    assert s.get_license(LID)["maxUses"] == 2 and [k["keyHash"] for k in s.keys_of(LID)] == ["k1"]
    s.put_quote({"quoteId": "0x" + "44" * 32, "state": "OPEN"})
    other = license_item(licenseId="0x" + "55" * 32)
    assert s.save_purchase(other, key_item("k2"), QID) is False  # the quote is redeemed already
    assert s.get_license(other["licenseId"]) is None and len(s.keys_of(LID)) == 1
    assert s.save_purchase(license_item(), key_item("k3"), "0x" + "44" * 32) is False  # license exists
    assert s.get_quote("0x" + "44" * 32)["state"] == "OPEN"


def test_revocation_once(backend):
    s = store(backend)
    backend.put("licenses", license_item(usesGranted=2))  # exhausted: may still be revoked
    assert s.mark_revoked(LID, 50, "0xtx") is True
    assert s.mark_revoked(LID, 60, "0xtx2") is False
    assert s.get_license(LID)["revokedAt"] == 50 and s.get_license(LID)["revokeTxHash"] == "0xtx"
    assert s.mark_revoked("0x" + "66" * 32, 50, "0x") is False


def test_keys_replaced_and_revoked(backend):
    s = store(backend)
    backend.put("apikeys", key_item("k1", "t1"))
    backend.put("apikeys", key_item("k2", "t2"))
    s.replace_keys(LID, key_item("k3", "t3"), now=70)
    keys = {k["keyHash"]: k for k in s.keys_of(LID)}
    assert [k["keyHash"] for k in s.keys_of(LID)] == ["k1", "k2", "k3"]
    assert keys["k1"]["revokedAt"] == keys["k2"]["revokedAt"] == 70 and "revokedAt" not in keys["k3"]
    with pytest.raises(RuntimeError):
        s.replace_keys(LID, key_item("k3"), now=71)
    assert s.revoke_keys(LID, now=80) == 1
    assert s.revoke_keys(LID, now=90) == 0


def test_nonces_are_single_use_for_their_address_until_expiry(backend):
    s = MemoryNonceStore(backend.tables["auth"]) if backend.kind == "memory" else DynamoNonceStore(
        backend.tables["auth"])
    s.save_nonce("n1", "0xA", expires_at=100)
    with pytest.raises(RuntimeError):
        s.save_nonce("n1", "0xB", expires_at=100)
    assert s.consume_nonce("n1", "0xB", now=50) is False
    assert s.consume_nonce("n1", "0xA", now=100) is False  # expired
    assert s.consume_nonce("n1", "0xA", now=99) is True
    assert s.consume_nonce("n1", "0xA", now=99) is False
    assert s.consume_nonce("unknown", "0xA", now=1) is False
