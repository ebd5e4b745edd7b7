"""Hostile payment tokens (tests/contracts/fixtures/TestTokens.sol) against a full deployment:
a token that calls back into the receiver (re-entrancy), one that returns false instead of
reverting, one that takes a fee on transfer, one with a blocklist. None may skew the escrow's books,
pay twice, or let one payee that cannot receive block the others. Batches are paid in the
transaction that logs them (real proofs, buyer-signed)."""

from __future__ import annotations

import pytest

from tests.support.chainkit import decode_error
from tests.support.market import HOUR, USDC, Market

pytestmark = [pytest.mark.contracts, pytest.mark.slow]

MINT = 1_000 * USDC


def deploy_with(chain, token_name: str):
    token = chain.deploy(token_name)
    market = Market.deploy(chain, token=token.address)
    for role in ("buyer", "buyer2", "other"):
        chain.send(token.functions.mint(chain.accounts[role], MINT), chain.deployer)
    return market, token


def assert_balanced(market):
    escrow = market.escrow.functions
    assert market.token.functions.balanceOf(market.escrow.address).call() == (
        escrow.totalEscrowed().call() + escrow.totalOwed().call())


def licensed(chain, market, data: bytes, creator: str | None = None):
    content_id = market.register(creator or chain.creator, data)
    return content_id, market.create_terms(chain.creator, content_id, price=USDC, max_uses=10)


class TestReentrantToken:
    def test_payee_cannot_reenter_withdraw_or_the_logging_of_a_batch(self, chain):
        market, token = deploy_with(chain, "ReentrantToken")
        attacker = chain.deploy("Attacker", sender=chain.creator)  # a contract creator, owned by `creator`
        content_id = market.register(attacker.address, b"attacker's content")
        receipt = chain.send(attacker.functions.execute(
            market.manager.address,
            market.manager.encode_abi("createTerms", [content_id, 0, USDC, 10, 0])), chain.creator)
        terms_id = chain.events(market.manager, receipt, "TermsCreated")[0]["termsId"]
        lic = market.purchase(chain.buyer, terms_id)
        chain.advance(2 * HOUR)
        market.log_batch(lic, 3)  # paid at once
        owed = market.escrow.functions.owed(attacker.address).call()
        assert owed == 3 * USDC * 9750 // 10_000

        chain.send(token.functions.setHooked(attacker.address, True), chain.deployer)
        withdraw = market.escrow.encode_abi("withdraw", [])

        def withdraw_reentering(reentry_target, reentry: bytes) -> None:
            """The attacker withdraws; the token's callback re-enters `reentry_target` with `reentry`."""
            chain.send(attacker.functions.arm(reentry_target, reentry), chain.creator)
            chain.send(attacker.functions.execute(market.escrow.address, withdraw), chain.creator)
            assert attacker.functions.lastReentrySucceeded().call() is False
            assert_balanced(market)

        # From inside the withdrawal, withdrawing again is refused by the guard...
        withdraw_reentering(market.escrow.address, withdraw)
        assert decode_error(attacker.functions.lastReentryResult().call())[0] == "ReentrancyGuardReentrantCall"
        assert token.functions.balanceOf(attacker.address).call() == owed
        # ... and a payee cannot settle anything itself (only the LicenseManager can).
        chain.advance(HOUR)
        market.log_batch(lic, 2)
        bid = market.tracker.functions.batchIdOf(lic.license_id, 5).call()
        withdraw_reentering(market.escrow.address,
                            market.escrow.encode_abi("settle", [lic.license_id, content_id, bid, 2]))
        assert decode_error(attacker.functions.lastReentryResult().call())[0] == "Escrow__NotLicenseManager"
        assert attacker.functions.reentryAttempts().call() == 2

        # Each batch paid exactly once, and the attacker holds exactly its share of both.
        assert token.functions.balanceOf(attacker.address).call() == 5 * USDC * 9750 // 10_000
        assert market.escrow.functions.owed(attacker.address).call() == 0

    def test_licensee_cannot_reenter_refund(self, chain):
        market, token = deploy_with(chain, "ReentrantToken")
        _, terms_id = licensed(chain, market, b"refund me twice")
        attacker = chain.deploy("Attacker", sender=chain.buyer)
        chain.send(token.functions.mint(attacker.address, MINT), chain.deployer)
        license_id = market.manager.functions.licenseIdFor(terms_id, attacker.address, 0).call()
        chain.send(attacker.functions.execute(token.address, token.encode_abi("approve", [market.escrow.address, 10 * USDC])),
                   chain.buyer)
        chain.send(attacker.functions.execute(market.manager.address,
                                              market.manager.encode_abi("purchase", [terms_id, 12345, 0])), chain.buyer)
        chain.send(market.manager.functions.revoke(license_id), chain.creator)

        chain.send(token.functions.setHooked(attacker.address, True), chain.deployer)
        chain.send(attacker.functions.arm(market.escrow.address, market.escrow.encode_abi("refund", [license_id])),
                   chain.buyer)
        chain.send(market.escrow.functions.refund(license_id), chain.relayer)  # for the licensee
        assert attacker.functions.lastReentrySucceeded().call() is False
        assert decode_error(attacker.functions.lastReentryResult().call())[0] == "ReentrancyGuardReentrantCall"
        assert token.functions.balanceOf(attacker.address).call() == MINT  # refunded once, in full
        assert_balanced(market)
        chain.expect_revert(market.escrow.functions.refund(license_id), chain.relayer, "Escrow__NothingToRefund")


class TestFalseReturningToken:
    def test_failed_pull_leaves_no_license(self, chain):
        market, token = deploy_with(chain, "FalseReturnToken")
        _, terms_id = licensed(chain, market, b"false pull")
        chain.send(token.functions.setFailures(False, True), chain.deployer)
        chain.send(token.functions.approve(market.escrow.address, 10 * USDC), chain.buyer)
        chain.expect_revert(market.manager.functions.purchase(terms_id, 5, 0), chain.buyer, "SafeERC20FailedOperation")
        license_id = market.manager.functions.licenseIdFor(terms_id, chain.buyer, 0).call()
        assert market.manager.functions.licenseState(license_id).call() == 0  # NONE
        assert market.escrow.functions.totalEscrowed().call() == 0

    def test_failed_payout_keeps_the_balance_owed(self, chain):
        market, token = deploy_with(chain, "FalseReturnToken")
        _, terms_id = licensed(chain, market, b"false push")
        lic = market.purchase(chain.buyer, terms_id)
        chain.advance(2 * HOUR)
        market.log_batch(lic, 4)  # paid at once
        owed = market.escrow.functions.owed(chain.creator).call()
        chain.send(market.manager.functions.revoke(lic.license_id), chain.creator)

        chain.send(token.functions.setFailures(True, False), chain.deployer)
        chain.expect_revert(market.escrow.functions.withdraw(), chain.creator, "SafeERC20FailedOperation")
        chain.expect_revert(market.escrow.functions.refund(lic.license_id), chain.buyer, "SafeERC20FailedOperation")
        assert market.escrow.functions.owed(chain.creator).call() == owed
        assert market.escrow.functions.refundable(lic.license_id).call() == 6 * USDC
        assert_balanced(market)

        chain.send(token.functions.setFailures(False, False), chain.deployer)
        chain.send(market.escrow.functions.withdraw(), chain.creator)
        chain.send(market.escrow.functions.refund(lic.license_id), chain.buyer)
        assert token.functions.balanceOf(chain.creator).call() == owed
        assert token.functions.balanceOf(chain.buyer).call() == MINT - 4 * USDC
        assert_balanced(market)


class TestFeeOnTransferToken:
    def test_short_deposit_is_refused(self, chain):
        market, token = deploy_with(chain, "FeeOnTransferToken")
        _, terms_id = licensed(chain, market, b"fee on deposit")
        chain.send(token.functions.setFeeBps(100), chain.deployer)
        chain.send(token.functions.approve(market.escrow.address, 10 * USDC), chain.buyer)
        args = chain.expect_revert(market.manager.functions.purchase(terms_id, 5, 0), chain.buyer,
                                   "Escrow__TransferAmountMismatch")
        assert args == (10 * USDC, 10 * USDC * 99 // 100)
        assert market.escrow.functions.totalEscrowed().call() == 0

    def test_fee_on_the_way_out_does_not_skew_the_books(self, chain):
        market, token = deploy_with(chain, "FeeOnTransferToken")
        _, terms_id = licensed(chain, market, b"fee on refund")
        lic = market.purchase(chain.buyer, terms_id)  # no fee yet
        chain.send(token.functions.setFeeBps(100), chain.deployer)
        chain.send(market.manager.functions.revoke(lic.license_id), chain.creator)
        before = token.functions.balanceOf(chain.buyer).call()
        chain.send(market.escrow.functions.refund(lic.license_id), chain.buyer)
        # The escrow paid out exactly the refund; the token's fee came out of what the buyer received.
        assert token.functions.balanceOf(market.escrow.address).call() == 0
        assert token.functions.balanceOf(chain.buyer).call() == before + 10 * USDC * 99 // 100
        assert_balanced(market)

    def test_a_payout_that_costs_the_escrow_more_is_refused(self, chain):
        """A token that debits the sender a fee on top: paying out would take more from the escrow
        than the books release, so the payout reverts and the books stay whole."""
        market, token = deploy_with(chain, "FeeOnTransferToken")
        _, terms_id = licensed(chain, market, b"sender pays the fee")
        lic = market.purchase(chain.buyer, terms_id)
        chain.send(market.manager.functions.revoke(lic.license_id), chain.creator)
        chain.send(token.functions.setFeeBps(100), chain.deployer)
        chain.send(token.functions.setSenderPays(True), chain.deployer)
        # The escrow holds exactly the deposit, so the extra fee cannot even be paid...
        chain.expect_revert(market.escrow.functions.refund(lic.license_id), chain.buyer, "ERC20InsufficientBalance")
        # ... and with a stray surplus to pay it from, the exact-amount check refuses it.
        chain.send(token.functions.mint(market.escrow.address, USDC), chain.deployer)
        args = chain.expect_revert(market.escrow.functions.refund(lic.license_id), chain.buyer,
                                   "Escrow__TransferAmountMismatch")
        assert args == (10 * USDC, 10 * USDC * 101 // 100)
        assert market.escrow.functions.refundable(lic.license_id).call() == 10 * USDC
        assert market.escrow.functions.totalEscrowed().call() == 10 * USDC


class TestBlocklistToken:
    def test_a_payee_that_cannot_receive_blocks_no_one_else(self, chain):
        """The creator is on the token's blocklist: its withdrawal fails and its balance stays
        owed, while the platform's withdrawal, the other batch's release and the licensee's refund
        all go through (pull payments, one payee per transfer)."""
        market, token = deploy_with(chain, "BlocklistToken")
        _, terms_id = licensed(chain, market, b"blocked creator")
        lic = market.purchase(chain.buyer, terms_id)
        chain.advance(2 * HOUR)
        market.log_batch(lic, 3)

        chain.send(token.functions.setBlocked(chain.creator, True), chain.deployer)
        (blocked,) = chain.expect_revert(market.escrow.functions.withdraw(), chain.creator, "Blocked")
        assert blocked.lower() == chain.creator.lower()
        creator_owed = market.escrow.functions.owed(chain.creator).call()
        assert creator_owed == 3 * USDC * 9750 // 10_000

        chain.advance(HOUR)
        market.log_batch(lic, 2)  # the next batch is still logged and paid
        chain.send(market.escrow.functions.withdraw(), chain.platform)
        assert token.functions.balanceOf(chain.platform).call() == 5 * USDC * 250 // 10_000
        chain.send(market.manager.functions.revoke(lic.license_id), chain.creator)
        chain.send(market.escrow.functions.refund(lic.license_id), chain.buyer)
        assert token.functions.balanceOf(chain.buyer).call() == MINT - 5 * USDC
        assert market.escrow.functions.owed(chain.creator).call() == 5 * USDC * 9750 // 10_000
        assert_balanced(market)
