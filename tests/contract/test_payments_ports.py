"""Contract of ``PaymentsStore`` over the in-memory fake and the DynamoDB adapter: every chain event's
effect once (markers), payments along their lifecycle, earnings, withdrawals, listings with
cursors, the refund queue."""

from __future__ import annotations

import pytest
from marketplace.payments.adapters import DynamoPaymentsStore
from marketplace.payments.fakes import MemoryPaymentsStore
from marketplace.payments.models import PaymentState, position

pytestmark = pytest.mark.contract

CREATOR, BUYER, OTHER_BUYER, PLATFORM = "0x" + "c1" * 20, "0x" + "b1" * 20, "0x" + "b2" * 20, "0x" + "f1" * 20
LID, LID2 = "0x" + "11" * 32, "0x" + "12" * 32
CID, CID2 = "0x" + "c0" * 32, "0x" + "c2" * 32


def store(b):
    if b.kind == "memory":
        return MemoryPaymentsStore(b.tables["payments"], clock=lambda: 1_000)
    return DynamoPaymentsStore(b.tables["payments"], clock=lambda: 1_000)


def lic(license_id=LID, content_id=CID, buyer=BUYER, valid_until=5_000, **extra):
    item = {"licenseId": license_id, "contentId": content_id, "termsId": "0x" + "7e" * 32, "buyer": buyer,
            "creator": CREATOR, "amount": 1_000 * 10, "pricePerUse": 1_000, "maxUses": 10, "validFrom": 100,
            "validUntil": valid_until, "txHash": "0x" + "aa" * 32, "position": position(5, 0), **extra}
    if valid_until is not None:
        item.update(refundQueue="open", refundAt=valid_until)
    return item


def payment(block, log_index=1, license_id=LID, content_id=CID, buyer=BUYER, uses=2, amount=1_950, fee=50):
    return {"paymentId": f"0x{block:064x}", "batchId": f"0x{block:064x}", "licenseId": license_id,
            "contentId": content_id, "creator": CREATOR, "buyer": buyer, "uses": uses, "creatorAmount": amount,
            "platformFee": fee, "txHash": f"0x{block:064x}", "blockNumber": block, "blockHash": f"0x{block + 1:064x}",
            "logIndex": log_index, "position": position(block, log_index), "state": "PROCESSING",
            "releasedAt": "2025-01-01T00:00:00Z"}


def test_a_license_is_recorded_once_and_listed_for_its_creator(backend):
    s = store(backend)
    assert s.record_license("tx1:0", lic()) is True
    assert s.record_license("tx1:0", lic()) is False  # the same event again
    assert s.record_license("tx9:0", lic()) is False  # another event for the same license: no second record
    got = s.get_license(LID)
    assert (got["usesPaid"], got["paid"], got["buyer"], got["maxUses"]) == (0, 0, BUYER, 10)
    assert s.applied("tx1:0")["type"] == "LicensePurchased" and s.applied("tx9:0") is None
    assert [x["licenseId"] for x in s.creator_licenses(CREATOR)] == [LID]
    assert s.creator_licenses(BUYER) == []


def test_a_payment_credits_earnings_once_and_moves_along_its_lifecycle(backend):
    s = store(backend)
    s.record_license("tx1:0", lic())
    p = payment(10)
    assert s.record_payment("tx10:1", p, PLATFORM) is True
    assert s.record_payment("tx10:1", p, PLATFORM) is False  # duplicate delivery: no second credit
    total, per_content = s.earnings(CREATOR)
    assert (total["earned"], total["uses"], total["payments"]) == (1_950, 2, 1)
    assert [(c["contentId"], c["earned"], c["uses"]) for c in per_content] == [(CID, 1_950, 2)]
    platform, _ = s.earnings(PLATFORM)
    assert (platform["earned"], platform["fees"]) == (50, 50)
    assert (s.get_license(LID)["usesPaid"], s.get_license(LID)["paid"]) == (2, 2_000)
    pos = p["position"]
    assert s.get_payment(CREATOR, pos)["state"] == "PROCESSING"
    assert s.move_payment(CREATOR, pos, PaymentState.WITHDRAWN, {}) is False  # not from PROCESSING
    assert s.move_payment(CREATOR, pos, PaymentState.COMPLETED, {"completedAt": "t"}) is True
    assert s.move_payment(CREATOR, pos, PaymentState.COMPLETED, {}) is False
    assert s.move_payment(CREATOR, position(99, 0), PaymentState.COMPLETED, {}) is False  # no such payment
    assert s.get_payment(CREATOR, pos)["completedAt"] == "t"


def test_a_payment_of_an_unknown_license_is_still_recorded(backend):
    s = store(backend)
    assert s.record_payment("tx20:1", payment(20, license_id=LID2), None) is True
    assert s.get_license(LID2) is None
    assert s.earnings(CREATOR)[0]["earned"] == 1_950
    assert s.earnings(PLATFORM)[0] is None  # no platform account given: its fee is not tracked


def test_withdrawals_add_up_and_completed_before_is_strict(backend):
    s = store(backend)
    for block in (10, 11, 12):
        s.record_payment(f"tx{block}:1", payment(block), PLATFORM)
        s.move_payment(CREATOR, position(block, 1), PaymentState.COMPLETED, {})
    w = {"account": CREATOR, "amount": 3_900, "txHash": "0x" + "d1" * 32, "position": position(12, 0),
         "withdrawnAt": "t"}
    assert s.record_withdrawal("txw:0", w) is True
    assert s.record_withdrawal("txw:0", w) is False
    total, _ = s.earnings(CREATOR)
    assert (total["earned"], total["withdrawn"], total["withdrawnThrough"], total["lastWithdrawal"]) == (
        3 * 1_950, 3_900, position(12, 0), "0x" + "d1" * 32)
    assert [p["blockNumber"] for p in s.completed_before(CREATOR, position(12, 0))] == [10, 11]
    for p in s.completed_before(CREATOR, position(12, 0)):
        assert s.move_payment(CREATOR, p["position"], PaymentState.WITHDRAWN, {"withdrawTxHash": "0xd1"})
    assert s.completed_before(CREATOR, position(12, 0)) == []
    assert [p["blockNumber"] for p in s.completed_before(CREATOR, position(13, 0))] == [12]


def test_listings_page_newest_first_with_filters(backend):
    s = store(backend)
    for block in range(10, 17):  # 7 payments: two licenses, two buyers, two contents
        odd = block % 2
        s.record_payment(f"tx{block}:1", payment(block, license_id=LID2 if odd else LID,
                                                  content_id=CID2 if odd else CID, buyer=OTHER_BUYER if odd else BUYER),
                         PLATFORM)
    s.move_payment(CREATOR, position(12, 1), PaymentState.COMPLETED, {})

    def every(**query):
        out, cursor, pages = [], None, 0
        while True:
            items, cursor = s.list_payments(cursor=cursor, limit=2, **query)
            out += [i["blockNumber"] for i in items]
            pages += 1
            if cursor is None or pages > 10:
                return out

    assert every(creator=CREATOR) == [16, 15, 14, 13, 12, 11, 10]
    first, cursor = s.list_payments(creator=CREATOR, limit=3)
    assert [i["blockNumber"] for i in first] == [16, 15, 14] and cursor is not None
    assert every(buyer=BUYER) == [16, 14, 12, 10]
    assert every(buyer=OTHER_BUYER, license_id=LID2) == [15, 13, 11]
    assert every(buyer=BUYER, license_id=LID2) == []
    assert every(license_id=LID) == [16, 14, 12, 10]
    assert every(creator=CREATOR, content_id=CID2) == [15, 13, 11]
    assert every(creator=CREATOR, status="COMPLETED") == [12]
    assert every(creator=BUYER) == []
    with pytest.raises(ValueError):
        s.list_payments(creator=CREATOR, cursor="not-a-cursor")


def test_the_refund_queue(backend):
    s = store(backend)
    s.record_license("tx1:0", lic(LID, valid_until=5_000))
    s.record_license("tx2:0", lic(LID2, valid_until=None, validUntil=2**40 - 1))  # no expiry: not queued
    assert s.refund_candidates(4_999) == []
    assert [c["licenseId"] for c in s.refund_candidates(5_000)] == [LID]
    s.defer_refund(LID, 9_000)  # inside the settlement grace
    assert s.refund_candidates(8_999) == [] and len(s.refund_candidates(9_000)) == 1
    # a revocation opens the refund at once
    assert s.record_revocation("tx3:0", LID2, 200, "0x" + "ab" * 32) is True
    assert s.record_revocation("tx3:0", LID2, 200, "0x" + "ab" * 32) is False
    assert s.get_license(LID2)["revokedAt"] == 200
    assert [c["licenseId"] for c in s.refund_candidates(100)] == [LID2]
    refund = {"amount": 8_000, "uses": 8, "txHash": "0x" + "ef" * 32, "refundedAt": "t"}
    assert s.record_refund("tx4:0", LID2, refund) is True
    assert s.record_refund("tx4:0", LID2, refund) is False
    got = s.get_license(LID2)
    assert (got["refundedAmount"], got["refundedUses"], "refundQueue" in got) == (8_000, 8, False)
    s.close_refund(LID, "nothing to refund")
    assert s.refund_candidates(10**12) == []
    # a revocation after the refund does not queue it again
    s.record_revocation("tx5:0", LID2, 300, "0x" + "ac" * 32)
    assert s.refund_candidates(10**12) == []


def test_markers_and_notified(backend):
    s = store(backend)
    assert s.applied("e:1") is None
    assert s.record_event("e:1", "UsageLogged") is True and s.record_event("e:1", "UsageLogged") is False
    assert not s.applied("e:1").get("notified")
    s.mark_notified("e:1")
    assert s.applied("e:1")["notified"] is True
    s.mark_notified("e:unknown")  # no marker: nothing to note
    assert s.applied("e:unknown") is None
