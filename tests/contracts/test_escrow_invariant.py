"""Property test: over random sequences of purchases, uses served and signed by the buyers' worker
keys, settlements (each paid at once), forged, replayed and unsigned settlement attempts, signer
and license revocations, refunds (by the licensee, the relayer or a stranger), withdrawals, fee
changes and time jumps, the escrow's books match an independent model and its token balance
equals remaining deposits plus owed balances after every step; no batch is paid twice, no use is
paid that no buyer key signed, and no refund pays a settled use.

Batches are settled through LicenseManager.recordUsage sent by a test account holding
TRACKER_ROLE on the LicenseManager, with real worker signatures (a real usage proof per step would
make the property test impractically slow; test_usage_tracker.py covers the proof path).

Times: durations are k·1000 + 100 s and jumps multiples of 1000 s, so "expiry + grace" and
"signer revocation + grace" (86,400 s) are never within 400 s of the chain's clock, whatever the
few seconds of real time the steps take: the model can tell what is open without reading the chain.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from eth_account import Account
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.chainkit import Reverted
from tests.support.market import worker_key

GRACE = 86_400
BUYERS = ("buyer", "buyer2", "other")


@dataclass
class ModelLicense:
    handle: object  # tests.support.market.LicenseHandle
    payer: str
    price: int
    max_uses: int  # the license's; the deposit's shrinks to `released` on refund
    duration: int  # 0 = no expiry
    bought_at: int  # model clock
    served: list[int] = field(default_factory=list)  # per worker: uses it made and signed (its counter)
    settled: list[int] = field(default_factory=list)  # per worker: settled counter
    revoked_at: list[int | None] = field(default_factory=list)  # per worker: model clock of revocation
    released: int = 0
    refunded: bool = False
    revoked: bool = False
    last_accesses: list[tuple] = field(default_factory=list)

    @property
    def license_id(self) -> bytes:
        return self.handle.license_id

    def deposit_uses(self) -> int:
        return self.released if self.refunded else self.max_uses

    def remaining(self) -> int:
        return (self.deposit_uses() - self.released) * self.price


@dataclass
class Model:
    fee_bps: int = 250
    clock: int = 0
    licenses: list[ModelLicense] = field(default_factory=list)
    owed: dict[str, int] = field(default_factory=dict)
    batches: int = 0

    def refund_open(self, lic: ModelLicense) -> bool:
        return lic.revoked or (lic.duration != 0 and self.clock > lic.bought_at + lic.duration + GRACE)

    def signer_live(self, lic: ModelLicense, w: int) -> bool:
        at = lic.revoked_at[w]
        return at is None or self.clock <= at + GRACE


purchases = st.tuples(st.just("purchase"), st.sampled_from(BUYERS), st.integers(1, 5_000_000), st.integers(1, 60),
                      st.sampled_from([0, 3_100, 90_100]), st.integers(1, 2))
serves = st.tuples(st.just("serve"), st.integers(0, 7), st.integers(0, 1), st.integers(1, 8))
settles = st.tuples(st.just("settle"), st.integers(0, 7), st.sampled_from([(0,), (1,), (0, 1)]))
serve_then_settle = st.tuples(st.just("serve+settle"), st.integers(0, 7), st.integers(0, 1), st.integers(1, 8))
ops = st.one_of(
    purchases, serves, settles, serve_then_settle, serve_then_settle, serve_then_settle,
    st.tuples(st.just("forge"), st.integers(0, 7), st.sampled_from(["unsigned", "platform", "replay", "inflate"])),
    st.tuples(st.just("withdraw"), st.sampled_from(["creator", "platform", "buyer"])),
    st.tuples(st.just("revoke"), st.integers(0, 7)),
    st.tuples(st.just("revoke_signer"), st.integers(0, 7), st.integers(0, 1)),
    st.tuples(st.just("refund"), st.integers(0, 7), st.sampled_from(["payer", "relayer", "other"])),
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
        assert market.manager.functions.getLicense(lic.license_id).call()[7] == lic.released
    for role, amount in model.owed.items():
        assert escrow.owed(chain.accounts[role]).call() == amount


def expect(chain, fn, sender: str, error: str | None) -> dict | None:
    if error is None:
        return chain.send(fn, sender)
    with pytest.raises(Reverted, match=error):
        chain.send(fn, sender)
    return None


def step(chain, market, world, model: Model, op: tuple) -> None:
    if op[0] == "serve+settle":
        step(chain, market, world, model, ("serve", *op[1:]))
        step(chain, market, world, model, ("settle", op[1], (op[2],)))
        return
    escrow, manager, name = market.escrow.functions, market.manager.functions, op[0]
    lic = model.licenses[op[1] % len(model.licenses)] if model.licenses and isinstance(op[1], int) else None
    if name == "purchase":
        _, buyer, price, max_uses, duration, workers = op
        terms_id = market.create_terms(chain.creator, world.content_id, price=price, max_uses=max_uses,
                                       duration=duration)
        handle = market.purchase(chain.accounts[buyer], terms_id, workers=workers)
        model.licenses.append(ModelLicense(handle, buyer, price, max_uses, duration, model.clock,
                                           served=[0] * workers, settled=[0] * workers,
                                           revoked_at=[None] * workers))
    elif name == "serve" and lic:
        w = op[2] % len(lic.served)
        lic.served[w] += op[3]  # the worker's client signs each access; the platform keeps the latest
    elif name == "settle" and lic:
        workers = sorted({w % len(lic.served) for w in op[2]})
        pending = {w: lic.served[w] - lic.settled[w] for w in workers if lic.served[w] > lic.settled[w]}
        count = sum(pending.values())
        if not count:
            return
        accesses = [market.sign_access(lic.handle.workers[w], lic.license_id, lic.served[w]) for w in pending]
        fn = manager.recordUsage(lic.license_id, lic.released, count, lic.released + count, accesses)
        dead = [w for w in pending if not model.signer_live(lic, w)]
        error = ("License__Revoked" if lic.revoked else
                 "License__MaxUsesExceeded" if lic.released + count > lic.max_uses else
                 "License__UsageSignerRevoked" if dead else
                 "Escrow__InsufficientDeposit" if lic.released + count > lic.deposit_uses() else None)
        if expect(chain, fn, chain.tracker, error) is not None:
            amount = count * lic.price
            fee = amount * model.fee_bps // 10_000
            model.owed["creator"] = model.owed.get("creator", 0) + amount - fee
            model.owed["platform"] = model.owed.get("platform", 0) + fee
            lic.released += count
            for w in pending:
                lic.settled[w] = lic.served[w]
            lic.last_accesses = accesses
            model.batches += 1
    elif name == "forge" and lic and not lic.revoked and lic.released < lic.max_uses:
        # The platform tries to bill uses no buyer key signed: every attempt fails, nothing changes.
        kind, n = op[2], min(1 + lic.released % 3, lic.max_uses - lic.released)
        record = manager.recordUsage
        if kind == "unsigned":
            expect(chain, record(lic.license_id, lic.released, n, 1, []), chain.tracker, "License__SignedUsesMismatch")
        elif kind == "platform":
            for key in (Account.from_key(chain.keys["relayer"]), Account.from_key(chain.keys["deployer"]),
                        worker_key("platform", lic.license_id)):
                forged = [market.sign_access(key, lic.license_id, lic.settled[0] + n)]
                expect(chain, record(lic.license_id, lic.released, n, 1, forged), chain.tracker,
                       "License__UnknownUsageSigner")
        elif kind == "replay" and lic.last_accesses:
            replayed = lic.last_accesses[:1]
            expect(chain, record(lic.license_id, lic.released, 1, 1, replayed), chain.tracker,
                   "License__StaleAccessCounter|License__UsageSignerRevoked")
        elif kind == "inflate" and lic.served[0] > lic.settled[0] and model.signer_live(lic, 0):
            # a real signature, billed for one more use than it covers
            signed = lic.served[0] - lic.settled[0]
            access = [market.sign_access(lic.handle.workers[0], lic.license_id, lic.served[0])]
            expect(chain, record(lic.license_id, lic.released, signed + 1, 1, access), chain.tracker,
                   "License__SignedUsesMismatch|License__MaxUsesExceeded")
    elif name == "withdraw":
        role = op[1]
        account = chain.accounts[role]
        amount = model.owed.get(role, 0)
        if amount == 0:
            expect(chain, escrow.withdraw(), account, "Escrow__NothingToWithdraw")
        else:
            before = market.token.functions.balanceOf(account).call()
            chain.send(escrow.withdraw(), account)
            assert market.token.functions.balanceOf(account).call() == before + amount
            model.owed[role] = 0
    elif name == "revoke" and lic and not lic.revoked:
        chain.send(manager.revoke(lic.license_id), chain.creator)
        lic.revoked = True
    elif name == "revoke_signer" and lic and not lic.revoked:
        w = op[2] % len(lic.served)
        signer = lic.handle.workers[w].address
        if lic.revoked_at[w] is None:
            chain.send(manager.revokeUsageSigner(lic.license_id, signer), chain.accounts[lic.payer])
            lic.revoked_at[w] = model.clock
        else:
            expect(chain, manager.revokeUsageSigner(lic.license_id, signer), chain.accounts[lic.payer],
                   "License__UsageSignerNotActive")
    elif name == "refund" and lic:
        sender = chain.accounts[lic.payer] if op[2] == "payer" else chain.accounts[op[2]]
        unused = lic.deposit_uses() - lic.released
        if op[2] == "other" and lic.payer != "other":
            expect(chain, escrow.refund(lic.license_id), sender, "Escrow__NotAuthorized")
        elif not model.refund_open(lic):
            expect(chain, escrow.refund(lic.license_id), sender, "Escrow__RefundNotAvailable")
        elif unused == 0:
            expect(chain, escrow.refund(lic.license_id), sender, "Escrow__NothingToRefund")
        else:
            payer = chain.accounts[lic.payer]
            before = market.token.functions.balanceOf(payer).call()
            chain.send(escrow.refund(lic.license_id), sender)
            assert market.token.functions.balanceOf(payer).call() == before + unused * lic.price
            lic.refunded = True
    elif name == "fee":
        chain.send(escrow.setPlatformFeeBps(op[1]), chain.deployer)
        model.fee_bps = op[1]
    elif name == "advance":
        chain.advance(op[1])
        model.clock += op[1]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=purchases, sequence=st.lists(ops, min_size=4, max_size=24))
def test_escrow_books_always_balance(chain, world, first, sequence):
    market = world.market
    snapshot = chain.snapshot()
    try:
        role = market.manager.functions.TRACKER_ROLE().call()
        chain.send(market.manager.functions.grantRole(role, chain.tracker), chain.deployer)
        model = Model()
        for op in [first, *sequence]:
            step(chain, market, world, model, op)
            check_books(chain, market, model)
        # paid exactly the settled (signed) uses: every PaymentReleased sums to the model
        released = market.escrow.events.PaymentReleased().get_logs(from_block=market.deployment["blockNumber"])
        mine = {lic.license_id for lic in model.licenses}
        assert sum(e["args"]["uses"] for e in released if e["args"]["licenseId"] in mine) == sum(
            lic.released for lic in model.licenses)
        assert len([e for e in released if e["args"]["licenseId"] in mine]) == model.batches
        for lic in model.licenses:  # never more paid than the buyer's workers signed
            assert lic.released == sum(lic.settled) <= sum(lic.served)
        assert market.token.functions.balanceOf(market.escrow.address).call() == (
            market.escrow.functions.totalEscrowed().call() + market.escrow.functions.totalOwed().call())
    finally:
        chain.revert_to(snapshot)
