"""PaymentEscrow: deposits, settlement of buyer-signed batches (paid once, at logging time),
withdrawals, refunds (licensee or relayer only, unused deposit only, after the settlement grace),
fee settings.

Batches are settled here through LicenseManager.recordUsage sent by a test account given
TRACKER_ROLE on the LicenseManager, with the buyer's worker signatures but without proofs, so the
payment and refund rules are checked quickly; tests/contracts/test_usage_tracker.py settles them
through the real UsageTracker with real proofs. `settle` itself is reached directly on a second
escrow whose "license manager" is a test account.
"""

from __future__ import annotations

import pytest

from tests.support.market import HOUR, USDC

DAY = 86400
PRICE = USDC // 2  # the world's terms: 0.5 USDC per use, 100 uses, 30 days
FEE_BPS = 250


def batch_id(n: int) -> bytes:
    return n.to_bytes(32, "big")


@pytest.fixture
def settle(chain, market):
    """settle(lic, n): the license's next n uses, signed by its first worker, recorded and paid
    (LicenseManager.recordUsage from a TRACKER_ROLE test account); the receipt."""
    role = market.manager.functions.TRACKER_ROLE().call()
    chain.send(market.manager.functions.grantRole(role, chain.tracker), chain.deployer)

    def _settle(lic, n: int):
        uses = market.manager.functions.getLicense(lic.license_id).call()[7]
        return chain.send(market.manager.functions.recordUsage(lic.license_id, uses, n, uses + n,
                                                               market.signed_uses(lic, n)), chain.tracker)

    return _settle


@pytest.fixture
def bare_escrow(chain, market):
    """A second escrow whose license manager is the test account `other`: deposit and settle directly."""
    escrow = chain.deploy("PaymentEscrow", chain.deployer, market.token.address, chain.platform)
    chain.send(escrow.functions.setLicenseManager(chain.other), chain.deployer)
    chain.send(market.token.functions.approve(escrow.address, 100 * USDC), chain.buyer)
    return escrow


def assert_solvent(market, licenses=(), accounts=()):
    """token balance == totalEscrowed + totalOwed, and the totals equal the per-item sums."""
    escrow = market.escrow.functions
    balance = market.token.functions.balanceOf(market.escrow.address).call()
    assert balance == escrow.totalEscrowed().call() + escrow.totalOwed().call()
    if licenses:
        assert escrow.totalEscrowed().call() == sum(escrow.remainingDeposit(lic).call() for lic in licenses)
    if accounts:
        assert escrow.totalOwed().call() == sum(escrow.owed(a).call() for a in accounts)


class TestDeposit:
    def test_only_the_license_manager(self, chain, market):
        chain.expect_revert(market.escrow.functions.deposit(b"\x01" * 32, chain.buyer, chain.creator, 1, 1),
                            chain.other, "Escrow__NotLicenseManager")

    def test_one_deposit_per_license(self, chain, market, bare_escrow):
        escrow = bare_escrow
        chain.send(escrow.functions.deposit(b"\x01" * 32, chain.buyer, chain.creator, USDC, 3), chain.other)
        assert escrow.functions.totalEscrowed().call() == 3 * USDC
        chain.expect_revert(escrow.functions.deposit(b"\x01" * 32, chain.buyer, chain.creator, USDC, 3),
                            chain.other, "Escrow__DepositExists")
        chain.expect_revert(escrow.functions.deposit(b"\x02" * 32, "0x" + "00" * 20, chain.creator, USDC, 3),
                            chain.other, "Marketplace__ZeroAddress")

    def test_license_manager_is_set_once_by_the_admin(self, chain, market):
        chain.expect_revert(market.escrow.functions.setLicenseManager(chain.other), chain.deployer,
                            "Escrow__LicenseManagerAlreadySet")
        escrow = chain.deploy("PaymentEscrow", chain.deployer, market.token.address, chain.platform)
        chain.expect_revert(escrow.functions.setLicenseManager(chain.other), chain.other,
                            "AccessControlUnauthorizedAccount")
        chain.expect_revert(escrow.functions.setLicenseManager("0x" + "00" * 20), chain.deployer,
                            "Marketplace__ZeroAddress")
        receipt = chain.send(escrow.functions.setLicenseManager(chain.other), chain.deployer)
        assert chain.events(escrow, receipt, "LicenseManagerSet") == [{"licenseManager": chain.other}]

    def test_constructor(self, chain, market):
        zero = "0x" + "00" * 20
        assert chain.constructor_revert("PaymentEscrow", chain.deployer, zero, chain.platform) == "Marketplace__ZeroAddress"
        assert chain.constructor_revert("PaymentEscrow", chain.deployer, market.token.address, zero) == "Marketplace__ZeroAddress"
        assert market.escrow.functions.platformFeeBps().call() == 250
        assert market.escrow.functions.platformAccount().call() == chain.platform
        assert market.escrow.functions.TOKEN().call() == market.address("Stablecoin")


class TestSettle:
    def test_settles_splits_and_credits(self, chain, market, world, license_, settle):
        lid = license_.license_id
        receipt = settle(license_, 7)
        amount = 7 * PRICE
        fee = amount * FEE_BPS // 10_000
        block_time = chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
        bid = market.tracker.functions.batchIdOf(lid, 0).call()
        assert chain.events(market.escrow, receipt, "PaymentReleased") == [{
            "licenseId": lid, "contentId": world.content_id, "payee": chain.creator, "batchId": bid, "uses": 7,
            "creatorAmount": amount - fee, "platformFee": fee}]
        assert market.escrow.functions.owed(chain.creator).call() == amount - fee
        assert market.escrow.functions.owed(chain.platform).call() == fee
        assert market.escrow.functions.remainingDeposit(lid).call() == 93 * PRICE
        assert list(market.escrow.functions.getBatch(lid, bid).call()) == [7, FEE_BPS, block_time]
        assert list(market.escrow.functions.getDeposit(lid).call())[4] == 7  # releasedUses
        assert_solvent(market, [lid], [chain.creator, chain.platform])

    def test_creator_gets_uses_times_price_less_the_fee(self, chain, market, world, settle):
        """Flow 4's split: creator uses × price × (10000 − feeBps) / 10000 (fee rounded down)."""
        terms_id = market.create_terms(chain.creator, world.content_id, price=333_333, max_uses=64)
        lic = market.purchase(chain.buyer, terms_id)
        settle(lic, 64)
        amount = 64 * 333_333
        assert market.escrow.functions.owed(chain.platform).call() == amount * 250 // 10_000
        assert market.escrow.functions.owed(chain.creator).call() == amount - amount * 250 // 10_000

    def test_only_the_license_manager_settles(self, chain, market, license_):
        lid = license_.license_id
        for sender in (chain.relayer, chain.deployer, chain.tracker, chain.creator):
            chain.expect_revert(market.escrow.functions.settle(lid, b"\x00" * 32, batch_id(1), 1), sender,
                                "Escrow__NotLicenseManager")

    def test_rules(self, chain, market, bare_escrow):
        escrow, lid = bare_escrow.functions, b"\x01" * 32
        chain.send(escrow.deposit(lid, chain.buyer, chain.creator, USDC, 3), chain.other)
        chain.expect_revert(escrow.settle(lid, b"\x00" * 32, batch_id(1), 0), chain.other, "Escrow__ZeroUses")
        chain.expect_revert(escrow.settle(b"\x02" * 32, b"\x00" * 32, batch_id(1), 1), chain.other,
                            "Escrow__UnknownDeposit")
        chain.expect_revert(escrow.settle(lid, b"\x00" * 32, batch_id(1), 4), chain.other,
                            "Escrow__InsufficientDeposit")
        chain.send(escrow.settle(lid, b"\x00" * 32, batch_id(1), 2), chain.other)
        # a batch is released once, whoever asks again
        chain.expect_revert(escrow.settle(lid, b"\x00" * 32, batch_id(1), 1), chain.other, "Escrow__AlreadyReleased")
        chain.expect_revert(escrow.settle(lid, b"\x00" * 32, batch_id(2), 2), chain.other,
                            "Escrow__InsufficientDeposit")
        chain.send(escrow.settle(lid, b"\x00" * 32, batch_id(2), 1), chain.other)
        assert escrow.remainingDeposit(lid).call() == 0

    def test_fee_changes_apply_to_later_batches(self, chain, market, license_, settle):
        receipt = chain.send(market.escrow.functions.setPlatformFeeBps(1000), chain.deployer)
        assert chain.events(market.escrow, receipt, "PlatformFeeUpdated") == [{"previousBps": 250, "newBps": 1000}]
        settle(license_, 10)
        assert market.escrow.functions.owed(chain.platform).call() == 10 * PRICE // 10

    def test_fee_cap_and_admin_only(self, chain, market):
        chain.expect_revert(market.escrow.functions.setPlatformFeeBps(1001), chain.deployer, "Escrow__FeeTooHigh")
        chain.expect_revert(market.escrow.functions.setPlatformFeeBps(10), chain.other,
                            "AccessControlUnauthorizedAccount")

    def test_platform_account(self, chain, market, license_, settle):
        receipt = chain.send(market.escrow.functions.setPlatformAccount(chain.other), chain.deployer)
        assert chain.events(market.escrow, receipt, "PlatformAccountUpdated") == [
            {"previous": chain.platform, "account": chain.other}]
        settle(license_, 4)
        assert market.escrow.functions.owed(chain.other).call() == 4 * PRICE * 250 // 10_000
        chain.expect_revert(market.escrow.functions.setPlatformAccount("0x" + "00" * 20), chain.deployer,
                            "Marketplace__ZeroAddress")
        chain.expect_revert(market.escrow.functions.setPlatformAccount(chain.other), chain.other,
                            "AccessControlUnauthorizedAccount")

    def test_paused(self, chain, market, license_, settle):
        lid = license_.license_id
        settle(license_, 4)
        chain.send(market.manager.functions.revoke(lid), chain.creator)
        chain.send(market.escrow.functions.pause(), chain.deployer)
        for fn, sender in ((market.escrow.functions.withdraw(), chain.creator),
                           (market.escrow.functions.refund(lid), chain.buyer)):
            chain.expect_revert(fn, sender, "EnforcedPause")
        chain.send(market.escrow.functions.unpause(), chain.deployer)
        chain.send(market.escrow.functions.withdraw(), chain.creator)

    def test_settling_moves_no_tokens_and_follows_the_trackers_pause(self, chain, market, world, settle):
        """Settlement only moves balances inside the books, so the escrow's emergency stop (which
        guards token transfers) does not stop it; UsageTracker's pause stops logging."""
        lic = market.purchase(chain.buyer, world.terms_id)
        chain.send(market.escrow.functions.pause(), chain.deployer)
        settle(lic, 2)
        assert market.escrow.functions.owed(chain.creator).call() == 2 * PRICE * 9750 // 10_000


class TestWithdraw:
    def test_withdraw_pays_the_whole_balance_once(self, chain, market, license_, settle):
        lid = license_.license_id
        settle(license_, 20)
        owed = market.escrow.functions.owed(chain.creator).call()
        before = market.token.functions.balanceOf(chain.creator).call()
        receipt = chain.send(market.escrow.functions.withdraw(), chain.creator)
        assert chain.events(market.escrow, receipt, "Withdrawn") == [{"account": chain.creator, "amount": owed}]
        assert market.token.functions.balanceOf(chain.creator).call() == before + owed
        assert market.escrow.functions.owed(chain.creator).call() == 0
        chain.expect_revert(market.escrow.functions.withdraw(), chain.creator, "Escrow__NothingToWithdraw")
        chain.send(market.escrow.functions.withdraw(), chain.platform)
        assert_solvent(market, [lid], [chain.creator, chain.platform])

    def test_nothing_owed(self, chain, market):
        chain.expect_revert(market.escrow.functions.withdraw(), chain.other, "Escrow__NothingToWithdraw")


class TestRefund:
    def test_after_revocation(self, chain, market, world, license_, settle):
        lid = license_.license_id
        settle(license_, 30)
        chain.expect_revert(market.escrow.functions.refund(lid), chain.buyer, "Escrow__RefundNotAvailable")
        assert market.escrow.functions.refundable(lid).call() == 0
        chain.send(market.manager.functions.revoke(lid), chain.creator)
        assert market.escrow.functions.refundable(lid).call() == 70 * PRICE
        assert market.escrow.functions.refundOpensAt(lid).call() == 0
        before = market.token.functions.balanceOf(chain.buyer).call()
        receipt = chain.send(market.escrow.functions.refund(lid), chain.relayer)  # the relayer, for the buyer
        assert chain.events(market.escrow, receipt, "Refunded") == [
            {"licenseId": lid, "contentId": world.content_id, "payer": chain.buyer, "uses": 70, "amount": 70 * PRICE}]
        assert market.token.functions.balanceOf(chain.buyer).call() == before + 70 * PRICE
        chain.expect_revert(market.escrow.functions.refund(lid), chain.buyer, "Escrow__NothingToRefund")
        assert market.escrow.functions.remainingDeposit(lid).call() == 0
        assert_solvent(market, [lid], [chain.creator, chain.platform])

    def test_only_the_licensee_or_the_relayer(self, chain, market, license_):
        """Before: anyone could refund a day after expiry. Now a stranger, the creator or the admin
        cannot trigger it; the money only ever goes to the licensee."""
        lid = license_.license_id
        chain.advance(32 * DAY)
        for sender in (chain.other, chain.creator, chain.deployer, chain.platform):
            chain.expect_revert(market.escrow.functions.refund(lid), sender, "Escrow__NotAuthorized")
        chain.send(market.escrow.functions.refund(lid), chain.buyer)

    def test_unused_deposit_only_after_expiry_and_the_grace(self, chain, market, license_, settle):
        """The buyer used 100 of 100 uses; 60 were logged before expiry, 40 are served but not yet
        logged when the license expires. Within the grace the buyer cannot refund; the platform
        logs the 40; after the grace the refund returns exactly the unused deposit: nothing."""
        lid = license_.license_id
        valid_until = market.manager.functions.getLicense(lid).call()[3]
        settle(license_, 60)
        chain.advance(30 * DAY + HOUR)  # expired, inside the grace
        assert chain.now() > valid_until
        assert market.escrow.functions.refundOpensAt(lid).call() == valid_until + DAY + 1
        for sender in (chain.buyer, chain.relayer):
            chain.expect_revert(market.escrow.functions.refund(lid), sender, "Escrow__RefundNotAvailable")
        assert market.escrow.functions.refundable(lid).call() == 0
        settle(license_, 40)  # the served uses land within the grace
        chain.advance(DAY)
        chain.expect_revert(market.escrow.functions.refund(lid), chain.buyer, "Escrow__NothingToRefund")
        assert market.escrow.functions.owed(chain.creator).call() == 100 * PRICE * 9750 // 10_000

    def test_refund_returns_exactly_the_unused_deposit(self, chain, market, license_, settle):
        lid = license_.license_id
        settle(license_, 5)
        chain.advance(31 * DAY + 1)
        assert market.escrow.functions.refundable(lid).call() == 95 * PRICE
        before = market.token.functions.balanceOf(chain.buyer).call()
        receipt = chain.send(market.escrow.functions.refund(lid), chain.buyer)
        assert chain.events(market.escrow, receipt, "Refunded")[0]["amount"] == 95 * PRICE
        assert market.token.functions.balanceOf(chain.buyer).call() == before + 95 * PRICE
        # nothing more can be settled against it: the deposit shrank to the paid uses
        args = (lid, 5, 1, 6, market.signed_uses(license_, 1))
        chain.expect_revert(market.manager.functions.recordUsage(*args), chain.tracker, "Escrow__InsufficientDeposit")
        assert market.escrow.functions.remainingDeposit(lid).call() == 0
        assert_solvent(market, [lid])

    def test_the_grace_is_the_license_managers_setting(self, chain, market, license_):
        lid = license_.license_id
        valid_until = market.manager.functions.getLicense(lid).call()[3]
        chain.send(market.manager.functions.setSettlementGrace(3 * DAY), chain.deployer)
        assert market.escrow.functions.refundOpensAt(lid).call() == valid_until + 3 * DAY + 1
        chain.advance(32 * DAY)
        chain.expect_revert(market.escrow.functions.refund(lid), chain.buyer, "Escrow__RefundNotAvailable")
        chain.advance(2 * DAY)
        chain.send(market.escrow.functions.refund(lid), chain.buyer)

    def test_no_expiry_refunds_only_after_revocation(self, chain, market, world):
        terms_id = market.create_terms(chain.creator, world.content_id, duration=0)
        lic = market.purchase(chain.buyer, terms_id)
        assert market.escrow.functions.refundOpensAt(lic.license_id).call() == 2**256 - 1
        chain.advance(400 * DAY)
        chain.expect_revert(market.escrow.functions.refund(lic.license_id), chain.buyer, "Escrow__RefundNotAvailable")

    def test_exhausted_has_nothing_to_refund(self, chain, market, license_, settle):
        lid = license_.license_id
        settle(license_, 64)
        settle(license_, 36)
        chain.send(market.manager.functions.revoke(lid), chain.creator)
        chain.expect_revert(market.escrow.functions.refund(lid), chain.buyer, "Escrow__NothingToRefund")

    def test_unknown_deposit(self, chain, market):
        chain.expect_revert(market.escrow.functions.refund(b"\x01" * 32), chain.buyer, "Escrow__UnknownDeposit")
        assert market.escrow.functions.refundOpensAt(b"\x01" * 32).call() == 2**256 - 1
