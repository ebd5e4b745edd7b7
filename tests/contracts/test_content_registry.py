"""ContentRegistry: registration with a real authenticity proof, creator enrolment, archive, pause."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import keccak
from marketplace.zk.field import domain as field_domain

pytestmark = [pytest.mark.contracts]

REGISTERED, ARCHIVED = 1, 2
ARCHIVE_TYPES = {"Archive": [{"name": "contentId", "type": "bytes32"}, {"name": "deadline", "type": "uint256"}]}


def sign_archive(chain, market, signer: str, content_id, deadline=None):
    domain = {"name": "ContentRegistry", "version": "1", "chainId": chain.w3.eth.chain_id,
              "verifyingContract": market.registry.address}
    deadline = deadline or chain.now() + 3600
    message = {"contentId": content_id, "deadline": deadline}
    return content_id, deadline, chain.sign_typed(signer, domain, ARCHIVE_TYPES, "Archive", message)


class TestRegisterContent:
    def test_relayer_registers_for_an_enrolled_creator(self, chain, market, world):
        args = market.registration_args(chain.creator, b"second item")
        receipt = chain.send(market.registry.functions.registerContent(*args), chain.relayer)

        digest, cid_digest, creator, _, ts_commitment, _, _, _ = args
        content_id = keccak(encode(["uint256", "address", "bytes32"],
                                   [chain.w3.eth.chain_id, market.registry.address, digest]))
        (event,) = chain.events(market.registry, receipt, "ContentRegistered")
        assert event == {"contentId": content_id, "creator": creator, "contentHash": digest,
                         "cidDigest": cid_digest, "timestampCommitment": ts_commitment}
        assert chain.events(market.registry, receipt, "CreatorEnrolled") == []  # enrolled by the world's item
        stored = list(market.registry.functions.getContent(content_id).call())
        assert stored[0] == creator and stored[2] == REGISTERED
        assert stored[3:] == [digest, cid_digest, ts_commitment]
        assert market.registry.functions.creatorAndState(content_id).call() == [creator, REGISTERED]
        assert market.registry.functions.contentIdOf(digest).call() == content_id

    def test_first_registration_enrols_the_creator(self, chain, market):
        args = market.registration_args(chain.creator2, b"creator2's first item")
        receipt = chain.send(market.registry.functions.registerContent(*args), chain.relayer)
        (enrolled,) = chain.events(market.registry, receipt, "CreatorEnrolled")
        assert enrolled == {"creator": chain.creator2, "creatorCommitment": args[3]}
        assert market.registry.functions.creatorCommitmentOf(chain.creator2).call() == args[3]
        assert market.registry.functions.creatorOfCommitment(args[3]).call() == chain.creator2

    def test_enrolled_creator_registers_themself(self, chain, market):
        args = market.registration_args(chain.creator, b"self-registered")
        receipt = chain.send(market.registry.functions.registerContent(*args), chain.creator)
        assert chain.events(market.registry, receipt, "ContentRegistered")[0]["creator"] == chain.creator

    def test_first_registration_by_the_creator_themself_is_refused(self, chain, market):
        args = market.registration_args(chain.creator2, b"not enrolled yet")
        chain.expect_revert(market.registry.functions.registerContent(*args), chain.creator2,
                            "Registry__CreatorNotEnrolled")

    def test_a_copied_first_registration_cannot_claim_the_content(self, chain, market):
        # A pending relayed registration seen in the mempool, resent with the copier as creator.
        args = list(market.registration_args(chain.creator2, b"front-run me"))
        args[2] = chain.other
        chain.expect_revert(market.registry.functions.registerContent(*args), chain.other,
                            "Registry__CreatorNotEnrolled")

    def test_stranger_cannot_register_for_a_creator(self, chain, market):
        args = market.registration_args(chain.creator, b"by a stranger")
        chain.expect_revert(market.registry.functions.registerContent(*args), chain.other,
                            "Registry__NotAuthorized")

    def test_zero_creator(self, chain, market):
        args = list(market.registration_args(chain.creator, b"zero creator"))
        args[2] = "0x" + "00" * 20
        chain.expect_revert(market.registry.functions.registerContent(*args), chain.relayer,
                            "Registry__ZeroCreator")

    def test_duplicate_hash(self, chain, market, world):
        args = market.registration_args(chain.creator, b"sunset photo collection")
        (content_id,) = chain.expect_revert(market.registry.functions.registerContent(*args), chain.relayer,
                                            "Registry__AlreadyRegistered")
        assert content_id == world.content_id

    def test_commitment_must_match_the_recorded_one(self, chain, market):
        args = market.registration_args(chain.creator, b"other identity", secret=12345)
        chain.expect_revert(market.registry.functions.registerContent(*args), chain.relayer,
                            "Registry__CommitmentMismatch")

    def test_commitment_of_another_creator_cannot_be_enrolled(self, chain, market):
        # creator2 (not enrolled) presents creator's identity: a valid proof, but a taken commitment.
        args = market.registration_args(chain.creator2, b"borrowed identity",
                                        secret=market.creator_secret(chain.creator))
        chain.expect_revert(market.registry.functions.registerContent(*args), chain.relayer,
                            "Registry__CommitmentTaken")

    @pytest.mark.parametrize("word", [0, 3, 7])
    def test_tampered_proof_is_rejected(self, chain, market, word):
        args = list(market.registration_args(chain.creator, b"tampered proof"))
        proof = list(args[7])
        proof[word] = (proof[word] + 1) % 2**256
        args[7] = proof
        chain.expect_revert(market.registry.functions.registerContent(*args), chain.relayer,
                            "Registry__InvalidProof")

    def test_proof_is_bound_to_its_public_signals(self, chain, market):
        args = list(market.registration_args(chain.creator, b"signals"))
        args[4] += 1  # timestampCommitment
        chain.expect_revert(market.registry.functions.registerContent(*args), chain.relayer,
                            "Registry__InvalidProof")
        args = list(market.registration_args(chain.creator, b"signals"))
        args[0] = keccak(b"another hash")  # the proof commits to another content hash
        chain.expect_revert(market.registry.functions.registerContent(*args), chain.relayer,
                            "Registry__InvalidProof")

    def test_proof_for_another_registry_is_rejected(self, chain, market):
        # Same chain, another ContentRegistry: the domain public input differs.
        other = chain.deploy("ContentRegistry", chain.deployer, chain.relayer,
                             market.address("AuthenticityVerifier"))
        args = market.registration_args(chain.creator, b"domain bound")
        chain.expect_revert(other.functions.registerContent(*args), chain.relayer, "Registry__InvalidProof")
        chain.send(market.registry.functions.registerContent(*args), chain.relayer)

    def test_domain_matches_the_python_encoding(self, chain, market):
        assert market.registry.functions.domain().call() == field_domain(chain.w3.eth.chain_id,
                                                                        market.registry.address)

    def test_paused(self, chain, market):
        chain.send(market.registry.functions.pause(), chain.deployer)
        args = market.registration_args(chain.creator, b"while paused")
        chain.expect_revert(market.registry.functions.registerContent(*args), chain.relayer, "EnforcedPause")
        chain.send(market.registry.functions.unpause(), chain.deployer)
        chain.send(market.registry.functions.registerContent(*args), chain.relayer)


MAX_SKEW = 3600  # Constants.sol REGISTRATION_MAX_SKEW


def set_next_block_time(chain, t: int) -> None:
    """The next block's time is ``t``. Pending-block calls (expect_revert) see it; gas estimation
    does not, so transactions after it are sent with an explicit gas limit (GAS)."""
    chain.node.rpc("evm_setNextBlockTimestamp", [t])


GAS = 1_000_000


class TestTimestampBinding:
    """The committed timestamp is inside the public window [notBefore, notAfter] (the circuit),
    and the registry accepts the window only inside [block.timestamp − 1 hour, block.timestamp]."""

    def test_window_edges_at_the_block_time(self, chain, market):
        block_time = chain.now() + 100
        # notBefore exactly maxSkew before the block, notAfter exactly at it: accepted.
        args = market.registration_args(chain.creator, b"edges", timestamp=block_time - MAX_SKEW,
                                        window=(block_time - MAX_SKEW, block_time))
        set_next_block_time(chain, block_time)
        receipt = chain.send(market.registry.functions.registerContent(*args), chain.relayer, gas=GAS)
        assert chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"] == block_time

    def test_a_timestamp_after_the_block_is_refused(self, chain, market):
        block_time = chain.now() + 100
        args = market.registration_args(chain.creator, b"from the future", timestamp=block_time + 1)
        set_next_block_time(chain, block_time)
        assert chain.expect_revert(market.registry.functions.registerContent(*args), chain.relayer,
                                   "Registry__TimestampOutOfRange") == (block_time + 1, block_time + 1, block_time)
        # the same proof lands once the chain's time reaches it
        set_next_block_time(chain, block_time + 1)
        chain.send(market.registry.functions.registerContent(*args), chain.relayer, gas=GAS)

    def test_a_timestamp_more_than_max_skew_old_is_refused(self, chain, market):
        block_time = chain.now() + 100
        stale = market.registration_args(chain.creator, b"stale", timestamp=block_time - MAX_SKEW - 1)
        set_next_block_time(chain, block_time)
        chain.expect_revert(market.registry.functions.registerContent(*stale), chain.relayer,
                            "Registry__TimestampOutOfRange")
        # a window reaching a second too far back is refused too, whatever the timestamp inside it
        wide = market.registration_args(chain.creator, b"stale", timestamp=block_time - 10,
                                        window=(block_time - MAX_SKEW - 1, block_time - 10))
        chain.expect_revert(market.registry.functions.registerContent(*wide), chain.relayer,
                            "Registry__TimestampOutOfRange")

    def test_an_empty_window_is_refused(self, chain, market):
        args = list(market.registration_args(chain.creator, b"empty window"))
        args[5], args[6] = args[5], args[5] - 1
        chain.expect_revert(market.registry.functions.registerContent(*args), chain.relayer,
                            "Registry__TimestampOutOfRange")

    def test_the_window_is_a_public_signal_of_the_proof(self, chain, market):
        # Moving either bound (still a window the registry accepts) breaks the proof: the registry
        # passes the window it checked to the verifier.
        t = chain.now() - 600
        args = list(market.registration_args(chain.creator, b"window bound", timestamp=t, window=(t - 10, t)))
        for index, value in ((5, t - 11), (6, t + 1)):
            moved = list(args)
            moved[index] = value
            chain.expect_revert(market.registry.functions.registerContent(*moved), chain.relayer,
                                "Registry__InvalidProof")
        receipt = chain.send(market.registry.functions.registerContent(*args), chain.relayer)
        assert chain.events(market.registry, receipt, "ContentRegistered")[0]["timestampCommitment"] == args[4]


class TestArchive:
    def test_creator_archives(self, chain, market, world):
        receipt = chain.send(market.registry.functions.archive(world.content_id), chain.creator)
        assert chain.events(market.registry, receipt, "ContentArchived") == [
            {"contentId": world.content_id, "creator": chain.creator}]
        assert list(market.registry.functions.getContent(world.content_id).call())[2] == ARCHIVED

    def test_only_the_creator(self, chain, market, world):
        chain.expect_revert(market.registry.functions.archive(world.content_id), chain.relayer,
                            "Registry__NotCreator")

    def test_twice_or_unknown(self, chain, market, world):
        chain.send(market.registry.functions.archive(world.content_id), chain.creator)
        chain.expect_revert(market.registry.functions.archive(world.content_id), chain.creator,
                            "Registry__NotRegistered")
        chain.expect_revert(market.registry.functions.archive(b"\x01" * 32), chain.creator,
                            "Registry__NotRegistered")


class TestArchiveWithSig:
    def test_relayer_archives_with_the_creators_signature(self, chain, market, world):
        args = sign_archive(chain, market, "creator", world.content_id)
        receipt = chain.send(market.registry.functions.archiveWithSig(*args), chain.relayer)
        assert chain.events(market.registry, receipt, "ContentArchived") == [
            {"contentId": world.content_id, "creator": chain.creator}]
        assert market.registry.functions.creatorAndState(world.content_id).call() == [chain.creator, ARCHIVED]

    def test_typehash_is_the_documented_type(self, market):
        assert market.registry.functions.ARCHIVE_TYPEHASH().call() == keccak(
            text="Archive(bytes32 contentId,uint256 deadline)")

    def test_signature_by_someone_else(self, chain, market, world):
        args = sign_archive(chain, market, "other", world.content_id)
        chain.expect_revert(market.registry.functions.archiveWithSig(*args), chain.relayer,
                            "Registry__InvalidSignature")
        assert market.registry.functions.creatorAndState(world.content_id).call()[1] == REGISTERED

    def test_signature_over_another_content(self, chain, market, world):
        other_id = market.registry.functions.contentIdOf(b"\x07" * 32).call()
        _, deadline, sig = sign_archive(chain, market, "creator", other_id)
        chain.expect_revert(market.registry.functions.archiveWithSig(world.content_id, deadline, sig), chain.relayer,
                            "Registry__InvalidSignature")

    def test_expired_deadline(self, chain, market, world):
        args = sign_archive(chain, market, "creator", world.content_id, deadline=chain.now() - 1)
        chain.expect_revert(market.registry.functions.archiveWithSig(*args), chain.relayer,
                            "Registry__SignatureExpired")

    def test_replay_is_refused(self, chain, market, world):
        args = sign_archive(chain, market, "creator", world.content_id)
        chain.send(market.registry.functions.archiveWithSig(*args), chain.relayer)
        chain.expect_revert(market.registry.functions.archiveWithSig(*args), chain.relayer,
                            "Registry__NotRegistered")

    def test_relayer_only(self, chain, market, world):
        args = sign_archive(chain, market, "creator", world.content_id)
        chain.expect_revert(market.registry.functions.archiveWithSig(*args), chain.creator,
                            "AccessControlUnauthorizedAccount")

    def test_archived_content_refuses_terms_and_purchases_but_licenses_run(self, chain, market, world, license_):
        chain.send(market.registry.functions.archiveWithSig(*sign_archive(chain, market, "creator", world.content_id)),
                   chain.relayer)
        chain.expect_revert(market.manager.functions.createTerms(world.content_id, 0, 1, 1, 0), chain.creator,
                            "License__ContentNotAvailable")
        chain.send(market.token.functions.approve(market.escrow.address, 10**12), chain.buyer)
        chain.expect_revert(market.manager.functions.purchase(world.terms_id, 5, 999), chain.buyer,
                            "License__ContentNotAvailable")
        assert market.manager.functions.licenseState(license_.license_id).call() in (1, 2)  # PURCHASED or IN_USE


class TestRolesAndPause:
    def test_only_pauser_pauses(self, chain, market):
        for contract in (market.registry, market.manager, market.escrow, market.tracker):
            chain.expect_revert(contract.functions.pause(), chain.other, "AccessControlUnauthorizedAccount")
            chain.send(contract.functions.pause(), chain.deployer)
            assert contract.functions.paused().call()
            chain.expect_revert(contract.functions.unpause(), chain.other, "AccessControlUnauthorizedAccount")
            chain.send(contract.functions.unpause(), chain.deployer)

    def test_constructor_rejects_zero_addresses(self, chain, market):
        zero = "0x" + "00" * 20
        verifier = market.address("AuthenticityVerifier")
        assert chain.constructor_revert("ContentRegistry", zero, chain.relayer, verifier) == "Marketplace__ZeroAddress"
        assert chain.constructor_revert("ContentRegistry", chain.deployer, zero, verifier) == "Marketplace__ZeroAddress"
        assert chain.constructor_revert("ContentRegistry", chain.deployer, chain.relayer, zero) == "Marketplace__ZeroAddress"

    def test_pause_stops_every_state_changing_entry_point(self, chain, market, world, license_):
        """Each contract's pause stops each of its whenNotPaused functions (junk arguments: the
        pause is checked first); the escrow's pause stops purchases too (its deposit)."""
        lid, cid, tid, junk_proof = license_.license_id, world.content_id, world.terms_id, [0] * 8
        deadline, zero32 = chain.now() + 3600, b"\x00" * 32
        r, m, e, t = (c.functions for c in (market.registry, market.manager, market.escrow, market.tracker))
        stopped = {
            market.registry: [(r.registerContent(b"\x01" * 32, b"\x02" * 32, chain.creator, 1, 2, 0, 0, junk_proof),
                                chain.relayer),
                               (r.archive(cid), chain.creator),
                               (r.archiveWithSig(cid, deadline, b""), chain.relayer)],
            market.manager: [(m.createTerms(cid, 0, 1, 1, 0), chain.creator),
                             (m.createTermsWithSig(cid, 0, 1, 1, 0, deadline, b""), chain.relayer),
                             (m.setTermsActive(tid, False), chain.creator),
                             (m.purchase(tid, 5, 999), chain.buyer),
                             (m.purchaseWithPermit(tid, chain.buyer, 5, 999, deadline, 27, zero32, zero32, b""),
                              chain.buyer),
                             (m.revoke(lid), chain.creator),
                             (m.revokeWithSig(lid, deadline, b""), chain.relayer),
                             (m.addUsageSigner(lid, chain.other), chain.buyer),
                             (m.addUsageSignerWithSig(lid, chain.other, deadline, b""), chain.relayer),
                             (m.revokeUsageSigner(lid, license_.workers[0].address), chain.buyer),
                             (m.revokeUsageSignerWithSig(lid, license_.workers[0].address, deadline, b""),
                              chain.relayer)],
            market.escrow: [(m.purchase(tid, 5, 999), chain.buyer),  # reaches PaymentEscrow.deposit
                            (e.withdraw(), chain.creator),
                            (e.refund(lid), chain.buyer)],
            market.tracker: [(t.logUsageBatch(lid, 1, 0, 0, 0, junk_proof, []), chain.relayer),
                             (t.recordComplianceProof(lid, []), chain.other),
                             (t.recordAggregateProof(cid, []), chain.other)],
        }
        chain.send(market.token.functions.approve(market.escrow.address, 10**12), chain.buyer)
        for contract, calls in stopped.items():
            chain.send(contract.functions.pause(), chain.deployer)
            for fn, sender in calls:
                chain.expect_revert(fn, sender, "EnforcedPause")
            chain.send(contract.functions.unpause(), chain.deployer)
            for fn, sender in calls:  # unpaused, none of them fails for the pause
                try:
                    name, _ = chain.revert_of(fn, sender)
                except AssertionError:  # did not revert at all
                    continue
                assert name != "EnforcedPause"
