"""PaymentEscrow: deposits, batch records, release (once), withdrawals, refunds, fee settings.

Batches are recorded here by a test account given TRACKER_ROLE on the escrow, so release and refund
rules are checked without proofs; tests/contracts/test_usage_tracker.py records them through the
real UsageTracker with real proofs.
"""

from __future__ import annotations

import pytest

from tests.support.market import USDC

pytestmark = [pytest.mark.contracts]

DAY = 86400
PRICE = USDC // 2  # the world's terms: 0.5 USDC per use, 100 uses, 30 days


def batch_id(n: int) -> bytes:
    return n.to_bytes(32, "big")


@pytest.fixture
def tracker(chain, market):
    role = market.escrow.functions.TRACKER_ROLE().call()
    chain.send(market.escrow.functions.grantRole(role, chain.tracker), chain.deployer)
    return chain.tracker


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

    def test_one_deposit_per_license(self, chain, market):
        # A fresh escrow whose "license manager" is a test account, to reach deposit directly.
        escrow = chain.deploy("PaymentEscrow", chain.deployer, market.token.address, chain.platform)
        chain.send(escrow.functions.setLicenseManager(chain.other), chain.deployer)
        chain.send(market.token.functions.approve(escrow.address, 10 * USDC), chain.buyer)
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
        assert market.escrow.functions.TOKEN().call() == market.token.address


class TestRecordBatch:
    def test_records(self, chain, market, license_, tracker):
        lid = license_.license_id
        chain.send(market.escrow.functions.recordBatch(lid, batch_id(1), 30), tracker)
        assert list(market.escrow.functions.getBatch(lid, batch_id(1)).call()) == [30, False]
        assert list(market.escrow.functions.getDeposit(lid).call())[4] == 30  # recordedUses

    def test_rules(self, chain, market, license_, tracker):
        lid = license_.license_id
        chain.expect_revert(market.escrow.functions.recordBatch(lid, batch_id(1), 1), chain.relayer,
                            "AccessControlUnauthorizedAccount")
        chain.expect_revert(market.escrow.functions.recordBatch(lid, batch_id(1), 0), tracker, "Escrow__ZeroUses")
        chain.expect_revert(market.escrow.functions.recordBatch(b"\x01" * 32, batch_id(1), 1), tracker,
                            "Escrow__UnknownDeposit")
        chain.expect_revert(market.escrow.functions.recordBatch(lid, batch_id(1), 101), tracker,
                            "Escrow__InsufficientDeposit")
        chain.send(market.escrow.functions.recordBatch(lid, batch_id(1), 100), tracker)
        chain.expect_revert(market.escrow.functions.recordBatch(lid, batch_id(1), 1), tracker,
                            "Escrow__BatchAlreadyRecorded")
        chain.expect_revert(market.escrow.functions.recordBatch(lid, batch_id(2), 1), tracker,
                            "Escrow__InsufficientDeposit")


class TestRelease:
    def test_release_splits_and_credits(self, chain, market, license_, tracker):
        lid = license_.license_id
        chain.send(market.escrow.functions.recordBatch(lid, batch_id(1), 7), tracker)
        receipt = chain.send(market.escrow.functions.release(lid, batch_id(1), 7), chain.other)  # anyone
        amount = 7 * PRICE
        fee = amount * 250 // 10_000
        assert chain.events(market.escrow, receipt, "PaymentReleased") == [{
            "licenseId": lid, "batchId": batch_id(1), "payee": chain.creator, "uses": 7,
            "creatorAmount": amount - fee, "platformFee": fee}]
        assert market.escrow.functions.owed(chain.creator).call() == amount - fee
        assert market.escrow.functions.owed(chain.platform).call() == fee
        assert market.escrow.functions.remainingDeposit(lid).call() == 93 * PRICE
        assert list(market.escrow.functions.getBatch(lid, batch_id(1)).call()) == [7, True]
        assert_solvent(market, [lid], [chain.creator, chain.platform])

    def test_only_recorded_batches_once(self, chain, market, license_, tracker):
        lid = license_.license_id
        chain.expect_revert(market.escrow.functions.release(lid, batch_id(1), 7), chain.other,
                            "Escrow__BatchNotRecorded")
        chain.send(market.escrow.functions.recordBatch(lid, batch_id(1), 7), tracker)
        assert chain.expect_revert(market.escrow.functions.release(lid, batch_id(1), 8), chain.other,
                                   "Escrow__UsesMismatch") == (7,)
        # the batch belongs to its license only
        other = market.purchase(chain.buyer2, license_.terms_id)
        chain.expect_revert(market.escrow.functions.release(other.license_id, batch_id(1), 7), chain.other,
                            "Escrow__BatchNotRecorded")
        chain.send(market.escrow.functions.release(lid, batch_id(1), 7), chain.other)
        chain.expect_revert(market.escrow.functions.release(lid, batch_id(1), 7), chain.other,
                            "Escrow__AlreadyReleased")

    def test_fee_changes_apply_to_later_releases(self, chain, market, license_, tracker):
        lid = license_.license_id
        receipt = chain.send(market.escrow.functions.setPlatformFeeBps(1000), chain.deployer)
        assert chain.events(market.escrow, receipt, "PlatformFeeUpdated") == [{"previousBps": 250, "newBps": 1000}]
        chain.send(market.escrow.functions.recordBatch(lid, batch_id(1), 10), tracker)
        chain.send(market.escrow.functions.release(lid, batch_id(1), 10), chain.other)
        assert market.escrow.functions.owed(chain.platform).call() == 10 * PRICE // 10

    def test_fee_cap_and_admin_only(self, chain, market):
        chain.expect_revert(market.escrow.functions.setPlatformFeeBps(1001), chain.deployer, "Escrow__FeeTooHigh")
        chain.expect_revert(market.escrow.functions.setPlatformFeeBps(10), chain.other,
                            "AccessControlUnauthorizedAccount")

    def test_platform_account(self, chain, market, license_, tracker):
        lid = license_.license_id
        receipt = chain.send(market.escrow.functions.setPlatformAccount(chain.other), chain.deployer)
        assert chain.events(market.escrow, receipt, "PlatformAccountUpdated") == [
            {"previous": chain.platform, "account": chain.other}]
        chain.send(market.escrow.functions.recordBatch(lid, batch_id(1), 4), tracker)
        chain.send(market.escrow.functions.release(lid, batch_id(1), 4), chain.other)
        assert market.escrow.functions.owed(chain.other).call() == 4 * PRICE * 250 // 10_000
        chain.expect_revert(market.escrow.functions.setPlatformAccount("0x" + "00" * 20), chain.deployer,
                            "Marketplace__ZeroAddress")
        chain.expect_revert(market.escrow.functions.setPlatformAccount(chain.other), chain.other,
                            "AccessControlUnauthorizedAccount")

    def test_paused(self, chain, market, license_, tracker):
        lid = license_.license_id
        chain.send(market.escrow.functions.recordBatch(lid, batch_id(1), 4), tracker)
        chain.send(market.escrow.functions.release(lid, batch_id(1), 4), chain.other)
        chain.send(market.manager.functions.revoke(lid), chain.creator)
        chain.send(market.escrow.functions.pause(), chain.deployer)
        for fn, sender in ((market.escrow.functions.release(lid, batch_id(1), 4), chain.other),
                           (market.escrow.functions.withdraw(), chain.creator),
                           (market.escrow.functions.refund(lid), chain.buyer)):
            chain.expect_revert(fn, sender, "EnforcedPause")
        # Recording a proven batch moves no tokens: only UsageTracker's own pause stops it.
        chain.send(market.escrow.functions.recordBatch(lid, batch_id(2), 4), tracker)
        chain.send(market.escrow.functions.unpause(), chain.deployer)
        chain.send(market.escrow.functions.withdraw(), chain.creator)


class TestWithdraw:
    def test_withdraw_pays_the_whole_balance_once(self, chain, market, license_, tracker):
        lid = license_.license_id
        chain.send(market.escrow.functions.recordBatch(lid, batch_id(1), 20), tracker)
        chain.send(market.escrow.functions.release(lid, batch_id(1), 20), chain.other)
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
    def test_after_revocation(self, chain, market, license_, tracker):
        lid = license_.license_id
        chain.send(market.escrow.functions.recordBatch(lid, batch_id(1), 30), tracker)
        chain.expect_revert(market.escrow.functions.refund(lid), chain.buyer, "Escrow__RefundNotAvailable")
        assert market.escrow.functions.refundable(lid).call() == 0
        chain.send(market.manager.functions.revoke(lid), chain.creator)
        assert market.escrow.functions.refundable(lid).call() == 70 * PRICE
        before = market.token.functions.balanceOf(chain.buyer).call()
        receipt = chain.send(market.escrow.functions.refund(lid), chain.other)  # anyone; paid to the licensee
        assert chain.events(market.escrow, receipt, "Refunded") == [
            {"licenseId": lid, "payer": chain.buyer, "uses": 70, "amount": 70 * PRICE}]
        assert market.token.functions.balanceOf(chain.buyer).call() == before + 70 * PRICE
        # the recorded batch is still paid; nothing more can be recorded or refunded
        chain.send(market.escrow.functions.release(lid, batch_id(1), 30), chain.other)
        chain.expect_revert(market.escrow.functions.recordBatch(lid, batch_id(2), 1), tracker,
                            "Escrow__InsufficientDeposit")
        chain.expect_revert(market.escrow.functions.refund(lid), chain.buyer, "Escrow__NothingToRefund")
        assert market.escrow.functions.remainingDeposit(lid).call() == 0
        assert_solvent(market, [lid], [chain.creator, chain.platform])

    def test_after_expiry_and_the_settlement_period(self, chain, market, license_, tracker):
        lid = license_.license_id
        chain.advance(30 * DAY + 3600)  # expired, inside the settlement day
        chain.expect_revert(market.escrow.functions.refund(lid), chain.buyer, "Escrow__RefundNotAvailable")
        chain.send(market.escrow.functions.recordBatch(lid, batch_id(1), 5), tracker)  # late batch still lands
        chain.advance(DAY)
        receipt = chain.send(market.escrow.functions.refund(lid), chain.buyer)
        assert chain.events(market.escrow, receipt, "Refunded")[0]["amount"] == 95 * PRICE

    def test_exhausted_has_nothing_to_refund(self, chain, market, license_, tracker):
        lid = license_.license_id
        chain.send(market.escrow.functions.recordBatch(lid, batch_id(1), 100), tracker)
        chain.send(market.manager.functions.revoke(lid), chain.creator)
        chain.expect_revert(market.escrow.functions.refund(lid), chain.buyer, "Escrow__NothingToRefund")

    def test_unknown_deposit(self, chain, market):
        chain.expect_revert(market.escrow.functions.refund(b"\x01" * 32), chain.buyer, "Escrow__UnknownDeposit")
