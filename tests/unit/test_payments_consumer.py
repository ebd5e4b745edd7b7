"""The payments consumer over the fakes: each chain event's effect once, the payment lifecycle
(PROCESSING → COMPLETED on confirmation → WITHDRAWN), withdrawals in either order, notifications
with their exact body, crashes between the effect and the notification, refunds and the API."""

from __future__ import annotations

import pytest
from eth_utils import to_checksum_address
from marketplace.chain.events import ChainEvent
from marketplace.errors import ConflictError, ForbiddenError, NotFoundError
from marketplace.payments.consumer import ChainEventConsumer, NotConfirmedYet, ReorganisedAway
from marketplace.payments.fakes import (
    FakeEscrow,
    MemoryGrantedUses,
    MemoryNotifier,
    MemoryPaymentsStore,
    MemoryRevocations,
)
from marketplace.payments.models import Deposit, Settlement, position
from marketplace.payments.refunds import RefundScheduler
from marketplace.payments.schemas import WithdrawRequest
from marketplace.payments.services import PaymentsApi, creator_share

pytestmark = pytest.mark.unit

CREATOR = "0x742d35Cc6634C0532925a3b844Bc454e4438f44e"
BUYER = "0x" + "b1" * 20
LID, CID, TID = "0x" + "11" * 32, "0x" + "c0" * 32, "0x" + "7e" * 32
PRICE, MAX = 1_000, 10


class World:
    def __init__(self, confirmations: int = 1) -> None:
        self.store = MemoryPaymentsStore(clock=lambda: 1_700_000_000)
        self.chain = FakeEscrow(head_block=50)
        self.chain.deposits[LID] = Deposit(CREATOR, BUYER, PRICE, MAX, 0)
        self.notifier = MemoryNotifier()
        self.revocations = MemoryRevocations(known={LID})
        self.signer_events: list[ChainEvent] = []
        self.consumer = ChainEventConsumer(self.store, self.chain, self.notifier, self.revocations,
                                           confirmations=confirmations, signer_events=self.signer_events.append,
                                           clock=lambda: 1_700_000_000)

    def event(self, name: str, block: int, log_index: int = 0, contract: str = "PaymentEscrow", **args) -> ChainEvent:
        return ChainEvent(contract=contract, event=name, args=args, txHash=f"0x{block:064x}", logIndex=log_index,
                          blockNumber=block, blockHash=self.chain.block_hash(block) or f"0x{block:064x}")

    def purchased(self, block: int = 10, valid_until: int = 1_800_000_000) -> ChainEvent:
        return self.event("LicensePurchased", block, contract="LicenseManager", licenseId=LID, licensee=BUYER,
                          termsId=TID, timestamp=1_700_000_100, contentId=CID, amount=PRICE * MAX,
                          credentialCommitment=7, validUntil=valid_until)

    def released(self, block: int, uses: int = 2, batch: int = 0) -> ChainEvent:
        amount = uses * PRICE
        fee = amount * 250 // 10_000
        return self.event("PaymentReleased", block, 3, licenseId=LID, contentId=CID, payee=CREATOR,
                          batchId=f"0x{batch:064x}", uses=uses, creatorAmount=amount - fee, platformFee=fee)

    def withdrawn(self, block: int, amount: int, account: str = CREATOR) -> ChainEvent:
        return self.event("Withdrawn", block, 0, account=account, amount=amount)


def test_a_purchase_records_the_buyer_side_and_notifies_the_creator():
    w = World()
    out = w.consumer.handle(w.purchased())
    assert out["recorded"] is True
    lic = w.store.get_license(LID)
    assert (lic["creator"], lic["buyer"], lic["maxUses"], lic["pricePerUse"], lic["refundAt"]) == (
        CREATOR.lower(), BUYER, MAX, PRICE, 1_800_000_000)
    assert w.notifier.sent == [{
        "id": f"0x{10:064x}:0:license.purchased", "type": "license.purchased", "creator": CREATOR,
        "data": {"licenseId": LID, "contentId": CID, "termsId": TID,
                 "buyer": to_checksum_address(BUYER),
                 "amount": PRICE * MAX, "validUntil": 1_800_000_000, "txHash": f"0x{10:064x}"},
        "occurredAt": "2023-11-14T22:15:00Z"}]
    w.consumer.handle(w.purchased())  # delivered again
    assert len(w.notifier.sent) == 1


def test_a_released_batch_becomes_one_completed_payment_with_its_exact_notification():
    w = World()
    w.consumer.handle(w.purchased())
    event = w.released(20, uses=4)
    w.consumer.handle(event)
    for _ in range(2):  # a duplicate SQS delivery and a listener re-read: no second effect
        w.consumer.handle(event)
    p = w.store.get_payment(CREATOR, position(20, 3))
    assert p["state"] == "COMPLETED" and p["buyer"] == BUYER
    total, per_content = w.store.earnings(CREATOR)
    assert (total["earned"], total["uses"], total["payments"]) == (3_900, 4, 1)
    assert [(c["contentId"], c["earned"]) for c in per_content] == [(CID, 3_900)]
    assert w.store.earnings(w.chain.platform)[0]["earned"] == 100
    assert (w.store.get_license(LID)["usesPaid"], w.store.get_license(LID)["paid"]) == (4, 4_000)
    completed = [m for m in w.notifier.sent if m["type"] == "payment.completed"]
    assert completed == [{
        "id": f"0x{20:064x}:3:payment.completed", "type": "payment.completed", "creator": CREATOR,
        "data": {"amount": 3_900, "contentId": CID, "licenseId": LID, "batchId": f"0x{0:064x}",
                 "txHash": f"0x{20:064x}", "uses": 4, "platformFee": 100},
        "occurredAt": "2023-11-14T22:17:20Z"}]


def test_a_payment_waits_for_its_confirmations_and_refuses_a_vanished_block():
    w = World(confirmations=3)
    w.consumer.handle(w.purchased())
    w.chain.head_block = 20
    with pytest.raises(NotConfirmedYet):
        w.consumer.handle(w.released(20))
    assert w.store.get_payment(CREATOR, position(20, 3))["state"] == "PROCESSING"  # recorded, not confirmed
    assert not [m for m in w.notifier.sent if m["type"] == "payment.completed"]
    w.chain.head_block = 22
    w.consumer.handle(w.released(20))  # the message again, later
    assert w.store.get_payment(CREATOR, position(20, 3))["state"] == "COMPLETED"
    assert w.store.earnings(CREATOR)[0]["payments"] == 1  # still one effect
    # a payment whose block was replaced by a reorg past the depth is not completed
    event = w.released(30, batch=1)
    w.chain.head_block = 40
    w.chain.hashes[30] = "0x" + "99" * 32
    with pytest.raises(ReorganisedAway):
        w.consumer.handle(event)
    assert w.store.get_payment(CREATOR, position(30, 3))["state"] == "PROCESSING"


def test_a_withdrawal_moves_the_earlier_completed_payments_whichever_arrives_first():
    w = World()
    w.consumer.handle(w.purchased())
    w.consumer.handle(w.released(20, batch=0))
    w.consumer.handle(w.released(21, batch=2))
    w.consumer.handle(w.withdrawn(22, 2 * 1_950))
    w.consumer.handle(w.withdrawn(22, 2 * 1_950))  # again
    states = {p["blockNumber"]: p["state"] for p in w.store.list_payments(creator=CREATOR)[0]}
    assert states == {20: "WITHDRAWN", 21: "WITHDRAWN"}
    total, _ = w.store.earnings(CREATOR)
    assert (total["earned"] - total["withdrawn"], total["withdrawn"]) == (0, 3_900)
    # a release logged before the withdrawal but processed after it (another message group)
    late = w.released(21, batch=4)
    late = late.model_copy(update={"logIndex": 5})
    w.consumer.handle(late)
    assert w.store.get_payment(CREATOR, position(21, 5))["state"] == "WITHDRAWN"
    # a release after the withdrawal stays COMPLETED
    w.consumer.handle(w.released(23, batch=6))
    assert w.store.get_payment(CREATOR, position(23, 3))["state"] == "COMPLETED"


def test_a_crash_between_the_effect_and_the_notification_has_one_effect_and_one_notification():
    w = World()
    w.consumer.handle(w.purchased())
    w.notifier.fail_next = 1
    event = w.released(20)
    with pytest.raises(ConnectionError):
        w.consumer.handle(event)  # the effect is stored; the message is not deleted
    assert w.store.earnings(CREATOR)[0]["payments"] == 1
    w.consumer.handle(event)  # redelivered
    w.consumer.handle(event)
    assert w.store.earnings(CREATOR)[0]["payments"] == 1
    assert [m["type"] for m in w.notifier.sent].count("payment.completed") == 1


def test_usage_logged_notifies_and_a_revocation_marks_the_license_cache():
    w = World()
    w.consumer.handle(w.purchased())
    logged = w.event("UsageLogged", 20, 4, contract="UsageTracker", licenseId=LID, contentId=CID,
                     batchId=f"0x{0:064x}", startIndex=0, count=2, windowStart=1, windowEnd=3601, chainNew=5)
    w.consumer.handle(logged)
    w.consumer.handle(logged)
    batch = [m for m in w.notifier.sent if m["type"] == "usage.batch_logged"]
    assert len(batch) == 1 and batch[0]["data"]["count"] == 2 and batch[0]["creator"] == CREATOR
    revoked = w.event("LicenseRevoked", 30, 0, contract="LicenseManager", licenseId=LID, contentId=CID,
                      timestamp=1_700_000_500)
    out = w.consumer.handle(revoked)
    assert out["revoked"] is True and w.revocations.revoked[LID] == (1_700_000_500, f"0x{30:064x}")
    assert w.consumer.handle(revoked)["revoked"] is False  # once
    assert [c["licenseId"] for c in w.store.refund_candidates(0)] == [LID]  # a refund is open at once
    notes = [m for m in w.notifier.sent if m["type"] == "license.revoked"]
    assert len(notes) == 1 and notes[0]["data"]["revokedAt"] == "2023-11-14T22:21:40Z"


def test_a_refund_is_recorded_and_notified_and_signer_events_go_to_the_usage_context():
    w = World()
    w.consumer.handle(w.purchased())
    refunded = w.event("Refunded", 40, 1, licenseId=LID, contentId=CID, payer=BUYER, uses=8, amount=8_000)
    w.consumer.handle(refunded)
    w.consumer.handle(refunded)
    lic = w.store.get_license(LID)
    assert (lic["refundedAmount"], lic["refundedUses"], "refundQueue" in lic) == (8_000, 8, False)
    notes = [m for m in w.notifier.sent if m["type"] == "refund.completed"]
    assert len(notes) == 1 and notes[0]["data"]["amount"] == 8_000 and notes[0]["data"]["uses"] == 8
    added = w.event("UsageSignerAdded", 41, 0, contract="LicenseManager", licenseId=LID, signer=BUYER)
    w.consumer.handle(added)
    assert w.signer_events == [added]
    assert w.consumer.handle(w.event("Deposited", 42))["ignored"] is True


def test_refunds_at_expiry_defer_inside_the_grace_send_the_unused_deposit_and_close_the_rest():
    w = World()
    w.consumer.handle(w.purchased(valid_until=1_000))
    sched = RefundScheduler(w.store, w.chain, w.chain, clock=lambda: 2_000)
    w.chain.head_block = 0  # block time 1_700_000_000: past validUntil
    w.chain.settlements[LID] = Settlement(uses_proven=2, paid=2_000, refundable=0, refund_opens_at=1_800_000_000)
    report = sched.run()
    assert (report.deferred, w.chain.refunded) == (1, [])  # inside the settlement grace
    assert w.store.refund_candidates(1_799_999_999) == []
    w.chain.head_block = 10**7  # block time past the grace
    w.chain.settlements[LID] = Settlement(uses_proven=2, paid=2_000, refundable=8_000, refund_opens_at=1_800_000_000)
    report = sched.run()
    assert w.chain.refunded == [LID] and report.sent[0]["amount"] == 8_000
    w.chain.settlements[LID] = Settlement(uses_proven=2, paid=2_000, refundable=0, refund_opens_at=1_800_000_000)
    sched.run()  # the Refunded event not consumed yet: nothing left, out of the queue, not sent twice
    assert w.chain.refunded == [LID] and w.store.refund_candidates(10**12) == []


def test_the_api_answers_earnings_with_pending_uses_payments_and_withdrawals():
    w = World()
    w.consumer.handle(w.purchased())
    w.consumer.handle(w.released(20, uses=4))
    granted = MemoryGrantedUses({LID: 7})
    api = PaymentsApi(w.store, w.chain, granted, clock=lambda: 1_700_000_000)
    w.chain.owed_by[CREATOR.lower()] = 3_900
    e = api.earnings(CREATOR.lower())
    assert (e.owed, e.owedOnChain, e.earned, e.withdrawn, e.pendingUses) == (3_900, 3_900, 3_900, 0, 3)
    assert e.pending == creator_share(3, PRICE, 250) == 2_925
    assert [(c.contentId, c.earned, c.pendingUses) for c in e.perContent] == [(CID, 3_900, 3)]
    mine = api.payments(CREATOR.lower())
    assert [p.status for p in mine.payments] == ["COMPLETED"] and mine.payments[0].amount == 3_900
    assert api.payments(BUYER, role="buyer").payments[0].buyer.lower() == BUYER
    assert api.payments(CREATOR.lower(), role="buyer").payments == []
    assert api.payments(CREATOR.lower(), license_id=LID).payments[0].licenseId == LID
    with pytest.raises(NotFoundError):
        api.payments(CREATOR.lower(), cursor="nope")
    challenge = api.withdraw(CREATOR.lower(), WithdrawRequest())
    assert challenge.transaction.data == "0x3ccfd60b" and challenge.owed == 3_900
    tx = "0x" + "ab" * 32
    w.chain.receipts[tx] = {"status": 1, "from": CREATOR, "blockNumber": 30, "blockHash": f"0x{30:064x}",
                            "withdrawals": [{"account": CREATOR, "amount": 3_900, "logIndex": 2}]}
    done = api.withdraw(CREATOR.lower(), WithdrawRequest(txHash=tx))
    assert (done.amount, done.withdrawn, done.owed) == (3_900, 3_900, 0)
    # the listener's Withdrawn message for the same log finds it applied
    w.consumer.handle(w.event("Withdrawn", 30, 2, account=CREATOR, amount=3_900).model_copy(update={"txHash": tx}))
    assert w.store.earnings(CREATOR)[0]["withdrawn"] == 3_900
    assert api.payments(CREATOR.lower()).payments[0].status == "WITHDRAWN"
    w.chain.owed_by[CREATOR.lower()] = 0
    with pytest.raises(ConflictError):
        api.withdraw(CREATOR.lower(), WithdrawRequest())
    with pytest.raises(ForbiddenError):
        api.withdraw(BUYER, WithdrawRequest(txHash=tx))
    with pytest.raises(ConflictError):
        api.withdraw(CREATOR.lower(), WithdrawRequest(txHash="0x" + "cd" * 32))
