"""Property test: over random sequences of purchases, batch records, releases, withdrawals,
revocations, refunds, fee changes and time jumps, the escrow's books match an independent model
and its token balance equals remaining deposits plus owed balances after every step; no batch is
paid twice and no refund pays recorded uses.

Batches are recorded by a test account holding TRACKER_ROLE on the escrow (a real usage proof per
step would make the property test impractically slow; test_usage_tracker.py covers that path).

Times: durations are k·1000 + 100 s and jumps multiples of 1000 s, so "expiry + settlement day"
(86,400 s) is never within 400 s of the chain's clock, whatever the few seconds of real time the
steps take: the model can tell whether a refund is open without reading the chain.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.chainkit import Reverted

pytestmark = [pytest.mark.contracts, pytest.mark.slow]

SETTLEMENT = 86_400
BUYERS = ("buyer", "buyer2", "other")


@dataclass
class ModelLicense:
    license_id: bytes
    payer: str
    price: int
    max_uses: int
    duration: int  # 0 = no expiry
    bought_at: int  # model clock
    recorded: int = 0
    released: int = 0
    revoked: bool = False

    def remaining(self) -> int:
        return (self.max_uses - self.released) * self.price


@dataclass
class Model:
    fee_bps: int = 250
    clock: int = 0
    licenses: list[ModelLicense] = field(default_factory=list)
    batches: dict[bytes, tuple[int, int, bool]] = field(default_factory=dict)  # id -> (license idx, uses, released)
    owed: dict[str, int] = field(default_factory=dict)

    def refund_open(self, lic: ModelLicense) -> bool:
        return lic.revoked or (lic.duration != 0 and self.clock > lic.bought_at + lic.duration + SETTLEMENT)


ops = st.one_of(
    st.tuples(st.just("purchase"), st.sampled_from(BUYERS), st.integers(1, 5_000_000), st.integers(1, 40),
              st.sampled_from([0, 3_100, 90_100])),
    st.tuples(st.just("record"), st.integers(0, 7), st.integers(1, 64)),
    st.tuples(st.just("release"), st.integers(0, 15)),
    st.tuples(st.just("withdraw"), st.sampled_from(["creator", "platform", "buyer"])),
    st.tuples(st.just("revoke"), st.integers(0, 7)),
    st.tuples(st.just("refund"), st.integers(0, 7)),
    st.tuples(st.just("fee"), st.integers(0, 1_000)),
    st.tuples(st.just("advance"), st.sampled_from([1_000, 50_000, 200_000])),
)


def check_books(chain, market, model: Model) -> None:
    escrow = market.escrow.functions
    balance = market.token.functions.balanceOf(market.escrow.address).call()
    escrowed, owed_total = escrow.totalEscrowed().call(), escrow.totalOwed().call()
    assert balance == escrowed + owed_total, "token balance != remaining deposits + owed"
    assert escrowed == sum(lic.remaining() for lic in model.licenses)
    assert owed_total == sum(model.owed.values())
    for lic in model.licenses:
        assert escrow.remainingDeposit(lic.license_id).call() == lic.remaining()
    for role, amount in model.owed.items():
        assert escrow.owed(chain.accounts[role]).call() == amount


def step(chain, market, world, model: Model, op: tuple, tracker: str, batch_seq: list[int]) -> None:
    escrow, name = market.escrow.functions, op[0]
    if name == "purchase":
        _, buyer, price, max_uses, duration = op
        terms_id = market.create_terms(chain.creator, world.content_id, price=price, max_uses=max_uses,
                                       duration=duration)
        lic = market.purchase(chain.accounts[buyer], terms_id)
        model.licenses.append(ModelLicense(lic.license_id, buyer, price, max_uses, duration, model.clock))
    elif name == "record" and model.licenses:
        lic = model.licenses[op[1] % len(model.licenses)]
        batch_seq[0] += 1
        bid = batch_seq[0].to_bytes(32, "big")
        if lic.recorded + op[2] > lic.max_uses:
            with pytest.raises(Reverted, match="Escrow__InsufficientDeposit"):
                chain.send(escrow.recordBatch(lic.license_id, bid, op[2]), tracker)
        else:
            chain.send(escrow.recordBatch(lic.license_id, bid, op[2]), tracker)
            lic.recorded += op[2]
            model.batches[bid] = (model.licenses.index(lic), op[2], False)
    elif name == "release" and model.batches:
        bid = list(model.batches)[op[1] % len(model.batches)]
        index, uses, released = model.batches[bid]
        lic = model.licenses[index]
        if released:
            with pytest.raises(Reverted, match="Escrow__AlreadyReleased"):
                chain.send(escrow.release(lic.license_id, bid, uses), chain.other)
        else:
            chain.send(escrow.release(lic.license_id, bid, uses), chain.other)
            amount = uses * lic.price
            fee = amount * model.fee_bps // 10_000
            model.owed["creator"] = model.owed.get("creator", 0) + amount - fee
            model.owed["platform"] = model.owed.get("platform", 0) + fee
            lic.released += uses
            model.batches[bid] = (index, uses, True)
    elif name == "withdraw":
        role = op[1]
        account = chain.accounts[role]
        amount = model.owed.get(role, 0)
        if amount == 0:
            with pytest.raises(Reverted, match="Escrow__NothingToWithdraw"):
                chain.send(escrow.withdraw(), account)
        else:
            before = market.token.functions.balanceOf(account).call()
            chain.send(escrow.withdraw(), account)
            assert market.token.functions.balanceOf(account).call() == before + amount
            model.owed[role] = 0
    elif name == "revoke" and model.licenses:
        lic = model.licenses[op[1] % len(model.licenses)]
        if not lic.revoked:
            chain.send(market.manager.functions.revoke(lic.license_id), chain.creator)
            lic.revoked = True
    elif name == "refund" and model.licenses:
        lic = model.licenses[op[1] % len(model.licenses)]
        unused = lic.max_uses - lic.recorded
        if not model.refund_open(lic):
            with pytest.raises(Reverted, match="Escrow__RefundNotAvailable"):
                chain.send(escrow.refund(lic.license_id), chain.other)
        elif unused == 0:
            with pytest.raises(Reverted, match="Escrow__NothingToRefund"):
                chain.send(escrow.refund(lic.license_id), chain.other)
        else:
            payer = chain.accounts[lic.payer]
            before = market.token.functions.balanceOf(payer).call()
            chain.send(escrow.refund(lic.license_id), chain.other)
            assert market.token.functions.balanceOf(payer).call() == before + unused * lic.price
            lic.max_uses = lic.recorded
    elif name == "fee":
        chain.send(escrow.setPlatformFeeBps(op[1]), chain.deployer)
        model.fee_bps = op[1]
    elif name == "advance":
        chain.advance(op[1])
        model.clock += op[1]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=st.lists(ops, min_size=4, max_size=24))
def test_escrow_books_always_balance(chain, world, sequence):
    market = world.market
    snapshot = chain.snapshot()
    try:
        role = market.escrow.functions.TRACKER_ROLE().call()
        chain.send(market.escrow.functions.grantRole(role, chain.tracker), chain.deployer)
        model, batch_seq = Model(), [0]
        for op in sequence:
            step(chain, market, world, model, op, chain.tracker, batch_seq)
            check_books(chain, market, model)
        # every recorded batch can still be paid exactly once, whatever happened before
        for bid, (index, uses, released) in model.batches.items():
            if not released:
                chain.send(market.escrow.functions.release(model.licenses[index].license_id, bid, uses), chain.other)
        for bid, (index, uses, _) in model.batches.items():
            with pytest.raises(Reverted, match="Escrow__AlreadyReleased"):
                chain.send(market.escrow.functions.release(model.licenses[index].license_id, bid, uses), chain.other)
        assert market.token.functions.balanceOf(market.escrow.address).call() == (
            market.escrow.functions.totalEscrowed().call() + market.escrow.functions.totalOwed().call())
    finally:
        chain.revert_to(snapshot)
