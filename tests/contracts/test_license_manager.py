"""LicenseManager: terms (direct and EIP-712 relayed; amount bound), purchase (approve, and
EIP-2612 permit relayed only with the buyer's EIP-712 Purchase signature), credential
commitments bound per license (no front-running by copying), revocation, the buyer's usage
signers, license states, the tracker-only usage record (buyer-signed) and the settlement grace."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import keccak
from marketplace.licensing.services import license_id_for
from marketplace.zk.field import P
from marketplace.zk.inputs import credential_commitment

from tests.support.market import HOUR, USDC, worker_key

pytestmark = [pytest.mark.contracts]

PER_USE, SUBSCRIPTION, RESEARCH, COMMERCIAL = range(4)
NONE, PURCHASED, IN_USE, EXHAUSTED, EXPIRED, REVOKED = range(6)
NO_EXPIRY = 2**40 - 1
DAY = 86400

CREATE_TERMS_TYPES = {"CreateTerms": [
    {"name": "contentId", "type": "bytes32"}, {"name": "licenseType", "type": "uint8"},
    {"name": "pricePerUse", "type": "uint96"}, {"name": "maxUses", "type": "uint32"},
    {"name": "durationSeconds", "type": "uint40"}, {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"}]}
REVOKE_TYPES = {"RevokeLicense": [
    {"name": "licenseId", "type": "bytes32"}, {"name": "nonce", "type": "uint256"},
    {"name": "deadline", "type": "uint256"}]}


def eip712_domain(chain, manager) -> dict:
    return {"name": "LicenseManager", "version": "1", "chainId": chain.w3.eth.chain_id,
            "verifyingContract": manager.address}


def sign_create_terms(chain, market, signer: str, content_id, terms=(RESEARCH, 2 * USDC, 10, 7 * DAY),
                      deadline=None, nonce=None):
    creator = chain.accounts[signer]
    message = {"contentId": content_id, "licenseType": terms[0], "pricePerUse": terms[1], "maxUses": terms[2],
               "durationSeconds": terms[3],
               "nonce": market.manager.functions.nonces(creator).call() if nonce is None else nonce,
               "deadline": deadline or chain.now() + 3600}
    sig = chain.sign_typed(signer, eip712_domain(chain, market.manager), CREATE_TERMS_TYPES, "CreateTerms", message)
    return (content_id, *terms, message["deadline"], sig)


def sign_revoke(chain, market, signer: str, license_id, deadline=None):
    creator = chain.accounts[signer]
    message = {"licenseId": license_id, "nonce": market.manager.functions.nonces(creator).call(),
               "deadline": deadline or chain.now() + 3600}
    sig = chain.sign_typed(signer, eip712_domain(chain, market.manager), REVOKE_TYPES, "RevokeLicense", message)
    return license_id, message["deadline"], sig


class TestCreateTerms:
    def test_creator_creates_terms(self, chain, market, world):
        receipt = chain.send(market.manager.functions.createTerms(world.content_id, SUBSCRIPTION, 3 * USDC, 50, 0),
                             chain.creator)
        terms_id = keccak(encode(["bytes32", "uint256"], [world.content_id, 1]))
        assert chain.events(market.manager, receipt, "TermsCreated") == [{
            "termsId": terms_id, "contentId": world.content_id, "licenseType": SUBSCRIPTION,
            "pricePerUse": 3 * USDC, "maxUses": 50, "durationSeconds": 0}]
        assert list(market.manager.functions.getTerms(terms_id).call()) == [world.content_id, 3 * USDC, 50, 0,
                                                                            SUBSCRIPTION, True, 1]
        assert market.manager.functions.termsCount(world.content_id).call() == 2
        assert market.manager.functions.termsIdAt(world.content_id, 0).call() == world.terms_id
        assert market.manager.functions.termsIdAt(world.content_id, 1).call() == terms_id
        assert market.manager.functions.quote(terms_id).call() == 150 * USDC

    def test_only_the_creator(self, chain, market, world):
        chain.expect_revert(market.manager.functions.createTerms(world.content_id, PER_USE, USDC, 1, 0),
                            chain.other, "License__NotCreator")

    def test_unknown_or_archived_content(self, chain, market, world):
        chain.expect_revert(market.manager.functions.createTerms(b"\x07" * 32, PER_USE, USDC, 1, 0),
                            chain.creator, "License__ContentNotAvailable")
        chain.send(market.registry.functions.archive(world.content_id), chain.creator)
        chain.expect_revert(market.manager.functions.createTerms(world.content_id, PER_USE, USDC, 1, 0),
                            chain.creator, "License__ContentNotAvailable")

    @pytest.mark.parametrize("price,max_uses", [(0, 10), (USDC, 0)])
    def test_price_and_uses_must_be_positive(self, chain, market, world, price, max_uses):
        chain.expect_revert(market.manager.functions.createTerms(world.content_id, PER_USE, price, max_uses, 0),
                            chain.creator, "License__InvalidTerms")

    def test_amount_fits_38_digits(self, chain, market, world):
        """pricePerUse × maxUses is at most 10^30, so every amount the backend stores (and sums of
        up to 10^8 of them) fits DynamoDB's 38 digits."""
        create = market.manager.functions.createTerms
        chain.send(create(world.content_id, PER_USE, 10**21, 10**9, 0), chain.creator)  # exactly 10^30
        assert chain.expect_revert(create(world.content_id, PER_USE, 10**21, 10**9 + 1, 0), chain.creator,
                                   "License__AmountTooLarge") == (10**30 + 10**21, 10**30)
        assert chain.expect_revert(create(world.content_id, PER_USE, 2**96 - 1, 2**32 - 1, 0), chain.creator,
                                   "License__AmountTooLarge") == ((2**96 - 1) * (2**32 - 1), 10**30)
        chain.send(create(world.content_id, PER_USE, 2**96 - 1, 12, 0), chain.creator)  # the largest price fits
        assert len(str(10**30)) <= 38 and len(str((2**96 - 1) * 12)) <= 38

    def test_terms_index_out_of_range(self, chain, market, world):
        chain.expect_revert(market.manager.functions.termsIdAt(world.content_id, 1), chain.other,
                            "License__UnknownTerms")
        chain.expect_revert(market.manager.functions.quote(b"\x00" * 32), chain.other, "License__UnknownTerms")

    def test_paused(self, chain, market, world):
        chain.send(market.manager.functions.pause(), chain.deployer)
        chain.expect_revert(market.manager.functions.createTerms(world.content_id, PER_USE, USDC, 1, 0),
                            chain.creator, "EnforcedPause")


class TestCreateTermsWithSig:
    def test_relayer_creates_with_the_creators_signature(self, chain, market, world):
        args = sign_create_terms(chain, market, "creator", world.content_id)
        receipt = chain.send(market.manager.functions.createTermsWithSig(*args), chain.relayer)
        (event,) = chain.events(market.manager, receipt, "TermsCreated")
        assert (event["licenseType"], event["pricePerUse"], event["maxUses"], event["durationSeconds"]) == args[1:5]
        assert market.manager.functions.nonces(chain.creator).call() == 1

    def test_signature_cannot_be_replayed(self, chain, market, world):
        args = sign_create_terms(chain, market, "creator", world.content_id)
        chain.send(market.manager.functions.createTermsWithSig(*args), chain.relayer)
        chain.expect_revert(market.manager.functions.createTermsWithSig(*args), chain.relayer,
                            "License__InvalidSignature")

    def test_signature_by_someone_else(self, chain, market, world):
        args = sign_create_terms(chain, market, "other", world.content_id,
                                 nonce=market.manager.functions.nonces(chain.creator).call())
        chain.expect_revert(market.manager.functions.createTermsWithSig(*args), chain.relayer,
                            "License__InvalidSignature")

    def test_altered_terms(self, chain, market, world):
        args = list(sign_create_terms(chain, market, "creator", world.content_id))
        args[2] = 1  # price the creator did not sign
        chain.expect_revert(market.manager.functions.createTermsWithSig(*args), chain.relayer,
                            "License__InvalidSignature")

    def test_expired(self, chain, market, world):
        args = sign_create_terms(chain, market, "creator", world.content_id, deadline=chain.now() - 1)
        chain.expect_revert(market.manager.functions.createTermsWithSig(*args), chain.relayer,
                            "License__SignatureExpired")

    def test_only_relayer_and_known_content(self, chain, market, world):
        args = sign_create_terms(chain, market, "creator", world.content_id)
        chain.expect_revert(market.manager.functions.createTermsWithSig(*args), chain.other,
                            "AccessControlUnauthorizedAccount")
        args = sign_create_terms(chain, market, "creator", b"\x09" * 32)
        chain.expect_revert(market.manager.functions.createTermsWithSig(*args), chain.relayer,
                            "License__ContentNotAvailable")

    def test_domain_separator(self, chain, market):
        from eth_account.messages import encode_typed_data

        domain = eip712_domain(chain, market.manager)
        expected = encode_typed_data(domain_data=domain, message_types=REVOKE_TYPES,
                                     message_data={"licenseId": b"\x00" * 32, "nonce": 0, "deadline": 0}).header
        assert market.manager.functions.DOMAIN_SEPARATOR().call() == expected


class TestSetTermsActive:
    def test_deactivate_and_reactivate(self, chain, market, world):
        receipt = chain.send(market.manager.functions.setTermsActive(world.terms_id, False), chain.creator)
        assert chain.events(market.manager, receipt, "TermsStatusChanged") == [
            {"termsId": world.terms_id, "active": False}]
        chain.expect_revert(market.manager.functions.purchase(world.terms_id, 1, 0), chain.buyer,
                            "License__TermsInactive")
        chain.send(market.manager.functions.setTermsActive(world.terms_id, True), chain.creator)
        market.purchase(chain.buyer, world.terms_id)

    def test_only_creator_and_known_terms(self, chain, market, world):
        chain.expect_revert(market.manager.functions.setTermsActive(world.terms_id, False), chain.other,
                            "License__NotCreator")
        chain.expect_revert(market.manager.functions.setTermsActive(b"\x05" * 32, False), chain.creator,
                            "License__UnknownTerms")


class TestPurchase:
    def test_approve_path(self, chain, market, world):
        amount = market.manager.functions.quote(world.terms_id).call()
        assert amount == 50 * USDC  # 0.5 USDC x 100 uses
        buyer_before = market.token.functions.balanceOf(chain.buyer).call()
        lic = market.purchase(chain.buyer, world.terms_id)

        assert lic.license_id == keccak(encode(["bytes32", "address", "uint256"], [world.terms_id, chain.buyer,
                                                                                   lic.nonce]))
        assert market.token.functions.balanceOf(chain.buyer).call() == buyer_before - amount
        assert market.token.functions.balanceOf(market.escrow.address).call() == amount
        stored = list(market.manager.functions.getLicense(lic.license_id).call())
        commitment = credential_commitment(lic.secret, lic.license_id)
        assert stored[0:2] == [world.content_id, chain.buyer]
        assert stored[3] == stored[2] + 30 * DAY
        assert stored[4:] == [False, commitment, 0, 0, 100, USDC // 2, 0]  # ..., termsIndex 0
        assert market.manager.functions.licenseTermsId(lic.license_id).call() == world.terms_id
        assert market.manager.functions.licenseState(lic.license_id).call() == PURCHASED
        assert list(market.escrow.functions.getDeposit(lic.license_id).call()) == [
            chain.creator, USDC // 2, chain.buyer, 100, 0]

    def test_events(self, chain, market, world):
        amount = market.manager.functions.quote(world.terms_id).call()
        chain.send(market.token.functions.approve(market.escrow.address, amount), chain.buyer)
        nonce = 2**256 - 1  # any uint256
        license_id = market.manager.functions.licenseIdFor(world.terms_id, chain.buyer, nonce).call()
        receipt = chain.send(market.manager.functions.purchase(world.terms_id, 42, nonce), chain.buyer)
        (event,) = chain.events(market.manager, receipt, "LicensePurchased")
        block_time = chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
        assert event == {"licenseId": license_id, "licensee": chain.buyer, "termsId": world.terms_id,
                         "timestamp": block_time, "contentId": world.content_id, "amount": amount,
                         "credentialCommitment": 42, "validUntil": block_time + 30 * DAY}
        assert chain.events(market.escrow, receipt, "Deposited") == [
            {"licenseId": license_id, "payer": chain.buyer, "payee": chain.creator, "amount": amount}]

    def test_license_id_is_the_hash_of_terms_buyer_and_nonce(self, chain, market, world):
        for nonce in (0, 1, 2**128 + 7, 2**256 - 1):
            expected = keccak(encode(["bytes32", "address", "uint256"], [world.terms_id, chain.buyer, nonce]))
            assert market.manager.functions.licenseIdFor(world.terms_id, chain.buyer, nonce).call() == expected
            # the backend computes it off chain, the same way
            assert license_id_for("0x" + world.terms_id.hex(), chain.buyer, nonce) == "0x" + expected.hex()

    @pytest.mark.parametrize("order", [(0, 1), (1, 0)])
    def test_purchases_land_on_the_ids_predicted_before_either_was_sent(self, chain, market, world, order):
        """The quote-then-purchase race: both credentials are made (ids predicted, commitments
        bound to them) before anything is sent; whichever purchase lands first, each license gets
        its predicted id and a commitment that opens for it."""
        predicted = [market.new_credential(chain.buyer, world.terms_id, nonce) for nonce in (11, 2**200 + 3)]
        assert predicted[0].license_id != predicted[1].license_id
        for i in order:
            market.purchase(chain.buyer, world.terms_id, lic=predicted[i])  # asserts the event's licenseId
        for lic in predicted:
            stored = market.manager.functions.getLicense(lic.license_id).call()
            assert stored[1] == chain.buyer
            assert stored[5] == credential_commitment(lic.secret, lic.license_id)
            assert market.manager.functions.licenseState(lic.license_id).call() == PURCHASED

    def test_own_purchase_between_quote_and_relayed_permit_purchase(self, chain, market, world):
        """The buyer's own purchase lands between the relayed purchase's quote and its sending:
        the relayed one still gets the id its commitment was drawn for."""
        quoted = market.new_credential(chain.buyer, world.terms_id, nonce=2**255 + 1)  # the quote
        own = market.purchase(chain.buyer, world.terms_id, lic=market.new_credential(chain.buyer, world.terms_id,
                                                                                     nonce=5))
        args, _ = market.relayed_purchase_args("buyer", world.terms_id, quoted)
        receipt = chain.send(market.manager.functions.purchaseWithPermit(*args), chain.relayer)
        assert chain.events(market.manager, receipt, "LicensePurchased")[0]["licenseId"] == quoted.license_id
        for lic in (own, quoted):
            assert market.manager.functions.getLicense(lic.license_id).call()[5] == lic.commitment

    def test_a_used_nonce_is_refused(self, chain, market, world):
        lic = market.purchase(chain.buyer, world.terms_id)
        chain.send(market.token.functions.approve(market.escrow.address, 2**255), chain.buyer)
        # the same purchase again, or a fresh commitment with the used nonce: the same license id
        for commitment in (lic.commitment, 1001):
            assert chain.expect_revert(market.manager.functions.purchase(world.terms_id, commitment, lic.nonce),
                                       chain.buyer, "License__LicenseExists") == ()
        reused = market.new_credential(chain.buyer, world.terms_id, nonce=lic.nonce)
        args, _ = market.relayed_purchase_args("buyer", world.terms_id, reused)
        chain.expect_revert(market.manager.functions.purchaseWithPermit(*args), chain.relayer, "License__LicenseExists")
        # the nonce is the buyer's under these terms only: another buyer, or other terms, may use it
        chain.send(market.token.functions.approve(market.escrow.address, 2**255), chain.buyer2)
        chain.send(market.manager.functions.purchase(world.terms_id, 1002, lic.nonce), chain.buyer2)
        terms_id = market.create_terms(chain.creator, world.content_id)
        chain.send(market.manager.functions.purchase(terms_id, 1003, lic.nonce), chain.buyer)

    def test_no_expiry_terms(self, chain, market, world):
        terms_id = market.create_terms(chain.creator, world.content_id, duration=0)
        lic = market.purchase(chain.buyer, terms_id)
        assert list(market.manager.functions.getLicense(lic.license_id).call())[3] == NO_EXPIRY

    def test_without_allowance(self, chain, market, world):
        chain.expect_revert(market.manager.functions.purchase(world.terms_id, 7, 0), chain.buyer,
                            "ERC20InsufficientAllowance")

    def test_unknown_terms_and_archived_content(self, chain, market, world):
        chain.expect_revert(market.manager.functions.purchase(b"\x03" * 32, 7, 0), chain.buyer,
                            "License__UnknownTerms")
        chain.send(market.registry.functions.archive(world.content_id), chain.creator)
        chain.expect_revert(market.manager.functions.purchase(world.terms_id, 7, 0), chain.buyer,
                            "License__ContentNotAvailable")

    @pytest.mark.parametrize("commitment", [0, P, 2**256 - 1])
    def test_commitment_must_be_a_nonzero_field_element(self, chain, market, world, commitment):
        chain.send(market.token.functions.approve(market.escrow.address, 2**255), chain.buyer)
        chain.expect_revert(market.manager.functions.purchase(world.terms_id, commitment, 0), chain.buyer,
                            "License__InvalidCommitment")

    def test_copying_a_pending_commitment_cannot_block_the_purchase(self, chain, market, world):
        """Front-running: `other` copies the commitment of the buyer's pending purchase into a cheap
        purchase of its own terms, mined first. Commitments are bound to their license, not
        globally unique, so the buyer's purchase still lands (it reverted before, every time)."""
        victim = market.new_credential(chain.buyer, world.terms_id)
        content_id = market.register(chain.other, b"the front-runner's own content")
        cheap = market.create_terms(chain.other, content_id, price=1, max_uses=1)
        chain.send(market.token.functions.approve(market.escrow.address, 2), chain.other)
        chain.send(market.manager.functions.purchase(cheap, victim.commitment, 0), chain.other)
        market.purchase(chain.buyer, world.terms_id, lic=victim)  # asserts the predicted licenseId
        stored = market.manager.functions.getLicense(victim.license_id).call()
        assert stored[1] == chain.buyer and stored[5] == victim.commitment
        # and through the relayer too (the quote's path)
        relayed = market.new_credential(chain.buyer2, world.terms_id)
        chain.send(market.manager.functions.purchase(cheap, relayed.commitment, 1), chain.other)
        args, _ = market.relayed_purchase_args("buyer2", world.terms_id, relayed)
        chain.send(market.manager.functions.purchaseWithPermit(*args), chain.relayer)
        assert market.manager.functions.getLicense(relayed.license_id).call()[5] == relayed.commitment

    def test_paused(self, chain, market, world):
        chain.send(market.manager.functions.pause(), chain.deployer)
        chain.expect_revert(market.manager.functions.purchase(world.terms_id, 7, 0), chain.buyer, "EnforcedPause")


class TestPurchaseWithPermit:
    def permit_args(self, chain, market, world, nonce=3, deadline=None, sign=True):
        lic = market.new_credential(chain.buyer, world.terms_id, nonce)
        args, _ = market.relayed_purchase_args("buyer", world.terms_id, lic, deadline=deadline, sign=sign)
        return args, market.manager.functions.quote(world.terms_id).call()

    def test_relayed_with_permit(self, chain, market, world):
        args, amount = self.permit_args(chain, market, world)
        receipt = chain.send(market.manager.functions.purchaseWithPermit(*args), chain.relayer)
        (event,) = chain.events(market.manager, receipt, "LicensePurchased")
        assert event["licensee"] == chain.buyer and event["amount"] == amount
        assert event["licenseId"] == market.manager.functions.licenseIdFor(world.terms_id, chain.buyer, 3).call()
        assert market.token.functions.balanceOf(market.escrow.address).call() == amount
        assert market.token.functions.allowance(chain.buyer, market.escrow.address).call() == 0

    def test_front_run_permit_still_purchases(self, chain, market, world):
        args, amount = self.permit_args(chain, market, world)
        _, buyer, _, _, deadline, v, r, s, _ = args
        # Someone copies the permit from the mempool and submits it to the token first.
        chain.send(market.token.functions.permit(buyer, market.escrow.address, amount, deadline, v, r, s), chain.other)
        receipt = chain.send(market.manager.functions.purchaseWithPermit(*args), chain.relayer)
        assert chain.events(market.manager, receipt, "LicensePurchased")[0]["licensee"] == chain.buyer

    def test_buyer_may_send_it_themself_without_a_purchase_signature(self, chain, market, world):
        args, _ = self.permit_args(chain, market, world, sign=False)
        chain.send(market.manager.functions.purchaseWithPermit(*args), chain.buyer)

    def test_stranger_cannot_spend_a_buyers_permit(self, chain, market, world):
        args, _ = self.permit_args(chain, market, world)
        chain.expect_revert(market.manager.functions.purchaseWithPermit(*args), chain.other,
                            "License__NotAuthorized")

    def test_invalid_permit_without_allowance(self, chain, market, world):
        args, amount = self.permit_args(chain, market, world)
        args = list(args)
        args[6] = b"\x01" * 32  # a permit that does not verify; the purchase signature does
        assert chain.expect_revert(market.manager.functions.purchaseWithPermit(*args), chain.relayer,
                                   "License__InsufficientAllowance") == (0, amount)

    def test_relayer_cannot_spend_an_allowance_on_purchases_the_buyer_did_not_sign(self, chain, market, world):
        """The buyer approved the escrow for far more than one quote. The relayer, with every key it
        holds, can buy nothing the buyer did not sign: not without a signature, not other terms, not
        its own credential, not another nonce, not with its own or the deployer's signature, and the
        buyer's signed purchase only once."""
        chain.send(market.token.functions.approve(market.escrow.address, 2**255), chain.buyer)
        relayed = market.manager.functions.purchaseWithPermit
        lic = market.new_credential(chain.buyer, world.terms_id, 3)
        deadline = chain.now() + HOUR
        signed = market.sign_purchase("buyer", world.terms_id, lic.commitment, lic.nonce, deadline)
        no_permit = (27, b"\x00" * 32, b"\x00" * 32)  # the allowance is there: no permit needed
        other_terms = market.create_terms(chain.creator, world.content_id)  # same price
        attempts = {
            "no signature": (world.terms_id, lic.commitment, lic.nonce, deadline, b""),
            "other terms": (other_terms, lic.commitment, lic.nonce, deadline, signed),
            "relayer's credential": (world.terms_id, 4242, lic.nonce, deadline, signed),
            "other nonce": (world.terms_id, lic.commitment, lic.nonce + 1, deadline, signed),
            "later deadline": (world.terms_id, lic.commitment, lic.nonce, deadline + 1, signed),
        }
        for role in ("relayer", "deployer", "platform"):
            attempts[f"signed by {role}"] = (world.terms_id, 4242, 9, deadline,
                                             market.sign_purchase(role, world.terms_id, 4242, 9, deadline))
        for label, (terms_id, commitment, nonce, dl, sig) in attempts.items():
            name, _ = chain.revert_of(relayed(terms_id, chain.buyer, commitment, nonce, dl, *no_permit, sig),
                                      chain.relayer)
            assert name == "License__InvalidSignature", label
        expired = market.sign_purchase("buyer", world.terms_id, lic.commitment, lic.nonce, chain.now() - 1)
        chain.expect_revert(relayed(world.terms_id, chain.buyer, lic.commitment, lic.nonce, chain.now() - 1,
                                    *no_permit, expired), chain.relayer, "License__SignatureExpired")
        # what the buyer signed goes through, once
        chain.send(relayed(world.terms_id, chain.buyer, lic.commitment, lic.nonce, deadline, *no_permit, signed),
                   chain.relayer)
        chain.expect_revert(relayed(world.terms_id, chain.buyer, lic.commitment, lic.nonce, deadline, *no_permit,
                                    signed), chain.relayer, "License__LicenseExists")
        assert market.escrow.functions.totalEscrowed().call() == market.manager.functions.quote(world.terms_id).call()


class TestRevoke:
    def test_creator_revokes(self, chain, market, world, license_):
        receipt = chain.send(market.manager.functions.revoke(license_.license_id), chain.creator)
        (event,) = chain.events(market.manager, receipt, "LicenseRevoked")
        assert event["licenseId"] == license_.license_id and event["contentId"] == world.content_id
        assert event["timestamp"] == chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
        assert market.manager.functions.licenseState(license_.license_id).call() == REVOKED

    def test_only_creator_once_known(self, chain, market, license_):
        chain.expect_revert(market.manager.functions.revoke(license_.license_id), chain.buyer, "License__NotCreator")
        chain.send(market.manager.functions.revoke(license_.license_id), chain.creator)
        chain.expect_revert(market.manager.functions.revoke(license_.license_id), chain.creator,
                            "License__AlreadyRevoked")
        chain.expect_revert(market.manager.functions.revoke(b"\x02" * 32), chain.creator, "License__UnknownLicense")
        chain.expect_revert(market.manager.functions.licenseTermsId(b"\x02" * 32), chain.creator,
                            "License__UnknownLicense")

    def test_relayed_revocation(self, chain, market, license_):
        args = sign_revoke(chain, market, "creator", license_.license_id)
        chain.expect_revert(market.manager.functions.revokeWithSig(*args), chain.other,
                            "AccessControlUnauthorizedAccount")
        receipt = chain.send(market.manager.functions.revokeWithSig(*args), chain.relayer)
        assert chain.events(market.manager, receipt, "LicenseRevoked")[0]["licenseId"] == license_.license_id

    def test_relayed_revocation_needs_the_creators_fresh_signature(self, chain, market, license_):
        args = sign_revoke(chain, market, "buyer", license_.license_id)
        chain.expect_revert(market.manager.functions.revokeWithSig(*args), chain.relayer, "License__InvalidSignature")
        args = sign_revoke(chain, market, "creator", license_.license_id, deadline=chain.now() - 1)
        chain.expect_revert(market.manager.functions.revokeWithSig(*args), chain.relayer, "License__SignatureExpired")


class TestUsageSigners:
    def test_the_licensee_adds_and_revokes_signers(self, chain, market, license_):
        lid, manager = license_.license_id, market.manager.functions
        key = worker_key("laptop")
        receipt = chain.send(manager.addUsageSigner(lid, key.address), chain.buyer)
        assert chain.events(market.manager, receipt, "UsageSignerAdded") == [{"licenseId": lid, "signer": key.address}]
        assert list(manager.usageSigner(lid, key.address).call()) == [True, 0, 0]
        receipt = chain.send(manager.revokeUsageSigner(lid, key.address), chain.buyer)
        revoked_at = chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
        assert chain.events(market.manager, receipt, "UsageSignerRevoked") == [
            {"licenseId": lid, "signer": key.address, "effectiveAt": revoked_at + DAY}]
        assert list(manager.usageSigner(lid, key.address).call()) == [True, revoked_at, 0]
        # revoked for good: neither revoked again nor registered again
        chain.expect_revert(manager.revokeUsageSigner(lid, key.address), chain.buyer, "License__UsageSignerNotActive")
        chain.expect_revert(manager.addUsageSigner(lid, key.address), chain.buyer, "License__InvalidUsageSigner")

    def test_rules(self, chain, market, license_):
        lid, manager = license_.license_id, market.manager.functions
        key = worker_key("rules")
        for sender in (chain.creator, chain.relayer, chain.deployer, chain.other):
            chain.expect_revert(manager.addUsageSigner(lid, key.address), sender, "License__NotLicensee")
        chain.expect_revert(manager.addUsageSigner(lid, "0x" + "00" * 20), chain.buyer, "License__InvalidUsageSigner")
        chain.expect_revert(manager.addUsageSigner(lid, license_.workers[0].address), chain.buyer,
                            "License__InvalidUsageSigner")  # already registered
        chain.expect_revert(manager.addUsageSigner(b"\x01" * 32, key.address), chain.buyer, "License__UnknownLicense")
        chain.expect_revert(manager.revokeUsageSigner(lid, key.address), chain.buyer, "License__UsageSignerNotActive")
        chain.expect_revert(manager.revokeUsageSigner(lid, license_.workers[0].address), chain.relayer,
                            "License__NotLicensee")
        chain.send(manager.revoke(lid), chain.creator)
        chain.expect_revert(manager.addUsageSigner(lid, key.address), chain.buyer, "License__Revoked")
        chain.send(manager.pause(), chain.deployer)
        chain.expect_revert(manager.revokeUsageSigner(lid, license_.workers[0].address), chain.buyer, "EnforcedPause")

    def test_relayed_with_the_licensees_signature(self, chain, market, license_):
        lid, manager = license_.license_id, market.manager.functions
        key = worker_key("relayed")
        args = market.sign_signer_change("buyer", "AddUsageSigner", lid, key.address)
        receipt = chain.send(manager.addUsageSignerWithSig(*args), chain.relayer)
        assert chain.events(market.manager, receipt, "UsageSignerAdded")[0]["signer"] == key.address
        assert manager.nonces(chain.buyer).call() == 1
        chain.expect_revert(manager.addUsageSignerWithSig(*args), chain.relayer, "License__InvalidSignature")  # replay
        # signed by anyone but the licensee, or expired: refused
        other_key = worker_key("not the buyer's")
        for role in ("relayer", "creator", "deployer"):
            bad = market.sign_signer_change(role, "AddUsageSigner", lid, other_key.address)
            chain.expect_revert(manager.addUsageSignerWithSig(lid, other_key.address, bad[2], bad[3]), chain.relayer,
                                "License__InvalidSignature")
        late = market.sign_signer_change("buyer", "AddUsageSigner", lid, other_key.address, deadline=chain.now() - 1)
        chain.expect_revert(manager.addUsageSignerWithSig(*late), chain.relayer, "License__SignatureExpired")
        # a signature to add one key does not add another
        swapped = market.sign_signer_change("buyer", "AddUsageSigner", lid, other_key.address)
        chain.expect_revert(manager.addUsageSignerWithSig(lid, worker_key("swap").address, *swapped[2:]),
                            chain.relayer, "License__InvalidSignature")
        args = market.sign_signer_change("buyer", "RevokeUsageSigner", lid, key.address)
        receipt = chain.send(manager.revokeUsageSignerWithSig(*args), chain.other)  # anyone may relay it
        assert chain.events(market.manager, receipt, "UsageSignerRevoked")[0]["signer"] == key.address
        forged = market.sign_signer_change("relayer", "RevokeUsageSigner", lid, license_.workers[0].address)
        chain.expect_revert(manager.revokeUsageSignerWithSig(*forged), chain.relayer, "License__InvalidSignature")

    def test_access_digest(self, chain, market, license_):
        """The digest a worker signs is EIP-712 over the LicenseManager's domain (what clients make)."""
        from eth_account.messages import encode_typed_data

        from tests.support.market import ACCESS_TYPES

        message = {"licenseId": license_.license_id, "counter": 7, "requestHash": b"\x09" * 32}
        signable = encode_typed_data(domain_data=market.domain(), message_types=ACCESS_TYPES, message_data=message)
        expected = keccak(b"\x19\x01" + signable.header + signable.body)
        assert market.manager.functions.accessDigest(license_.license_id, 7, b"\x09" * 32).call() == expected


class TestSettlementGrace:
    def test_admin_sets_it_within_bounds(self, chain, market):
        manager = market.manager.functions
        assert manager.settlementGrace().call() == DAY
        receipt = chain.send(manager.setSettlementGrace(2 * DAY), chain.deployer)
        assert chain.events(market.manager, receipt, "SettlementGraceUpdated") == [{"previous": DAY, "grace": 2 * DAY}]
        for bad in (HOUR - 1, 30 * DAY + 1):
            chain.expect_revert(manager.setSettlementGrace(bad), chain.deployer, "License__InvalidSettlementGrace")
        chain.expect_revert(manager.setSettlementGrace(HOUR), chain.relayer, "AccessControlUnauthorizedAccount")


class TestStatesAndUsageRecord:
    @pytest.fixture
    def tracker(self, chain, market):
        """A test account holding TRACKER_ROLE on the LicenseManager (the real one is UsageTracker)."""
        role = market.manager.functions.TRACKER_ROLE().call()
        chain.send(market.manager.functions.grantRole(role, chain.tracker), chain.deployer)
        return chain.tracker

    def test_lifecycle(self, chain, market, world, license_, tracker):
        lid = license_.license_id
        assert market.manager.functions.licenseState(lid).call() == PURCHASED
        chain.send(market.manager.functions.recordUsage(lid, 0, 40, 111, market.signed_uses(license_, 40)), tracker)
        assert market.manager.functions.licenseState(lid).call() == IN_USE
        assert list(market.manager.functions.getLicense(lid).call())[6:8] == [111, 40]
        chain.advance(31 * DAY)
        assert market.manager.functions.licenseState(lid).call() == EXPIRED
        chain.send(market.manager.functions.recordUsage(lid, 40, 60, 222, market.signed_uses(license_, 60)), tracker)
        assert market.manager.functions.licenseState(lid).call() == EXHAUSTED
        chain.send(market.manager.functions.revoke(lid), chain.creator)
        assert market.manager.functions.licenseState(lid).call() == REVOKED
        assert market.manager.functions.licenseState(b"\x00" * 32).call() == NONE

    def test_usage_record_rules(self, chain, market, license_, tracker):
        lid = license_.license_id
        one = market.signed_uses(license_, 1)

        def record(license_id, start, count):
            return market.manager.functions.recordUsage(license_id, start, count, 5, one)

        chain.expect_revert(record(lid, 0, 1), chain.relayer, "AccessControlUnauthorizedAccount")
        chain.expect_revert(record(lid, 1, 1), tracker, "License__UsageOutOfOrder")
        chain.expect_revert(record(lid, 0, 101), tracker, "License__MaxUsesExceeded")
        chain.expect_revert(record(b"\x01" * 32, 0, 1), tracker, "License__UnknownLicense")
        assert chain.expect_revert(record(lid, 0, 2), tracker, "License__SignedUsesMismatch") == (1, 2)
        receipt = chain.send(record(lid, 0, 1), tracker)  # settles with the escrow at once
        assert chain.events(market.escrow, receipt, "PaymentReleased")[0]["uses"] == 1
        chain.send(market.manager.functions.revoke(lid), chain.creator)
        chain.expect_revert(record(lid, 1, 1), tracker, "License__Revoked")

    def test_usage_context(self, chain, market, world, license_):
        ctx = list(market.manager.functions.usageContext(license_.license_id).call())
        lic = list(market.manager.functions.getLicense(license_.license_id).call())
        assert ctx == [world.content_id, lic[5], 0, 0, 100, USDC // 2, lic[2], lic[3], False]
        assert list(market.manager.functions.usageContext(b"\x01" * 32).call())[6] == 0  # unknown: validFrom 0

    def test_constructor_rejects_zero_addresses(self, chain, market):
        zero = "0x" + "00" * 20
        args = [chain.deployer, chain.relayer, market.registry.address, market.escrow.address]
        for i in range(4):
            bad = list(args)
            bad[i] = zero
            assert chain.constructor_revert("LicenseManager", *bad) == "Marketplace__ZeroAddress"
