"""UsageTracker with real Groth16 proofs: usage batches (accepted, tampered, replayed, out of
bounds), escrow release of proven batches, public statistics, compliance and aggregate proofs."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import keccak
from marketplace.zk.field import domain as field_domain

from tests.support.market import USDC

pytestmark = [pytest.mark.contracts, pytest.mark.slow]

DAY = 86400
PRICE = USDC // 2
COMPLIANCE, AGGREGATE = 1, 2


def batch_id(license_id: bytes, start: int) -> bytes:
    return keccak(encode(["bytes32", "uint256"], [license_id, start]))


class TestLogUsageBatch:
    def test_accepts_a_proven_batch(self, chain, market, world, license_):
        chain.advance(600)
        args, _ = market.batch_args(license_, 3)
        receipt = chain.send(market.tracker.functions.logUsageBatch(*args), chain.relayer)
        lid, _, start, end, chain_new, _ = args

        (event,) = chain.events(market.tracker, receipt, "UsageLogged")
        assert event == {"licenseId": lid, "contentId": world.content_id, "batchId": batch_id(lid, 0),
                         "startIndex": 0, "count": 3, "windowStart": start, "windowEnd": end, "chainNew": chain_new}
        assert chain.buyer.lower()[2:] not in receipt["logs"][0]["data"].hex()  # no licensee in the log
        assert list(market.manager.functions.getLicense(lid).call())[6:8] == [chain_new, 3]
        assert market.manager.functions.licenseState(lid).call() == 2  # IN_USE
        assert list(market.escrow.functions.getBatch(lid, batch_id(lid, 0)).call()) == [3, False]
        block_time = chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
        assert list(market.tracker.functions.contentStats(world.content_id).call()) == [3, 1, block_time, 3 * PRICE]
        assert market.tracker.functions.usedLicenses(world.content_id).call() == [lid]
        assert market.tracker.functions.batchIdOf(lid, 0).call() == batch_id(lid, 0)

        # Flow 4: the proven batch is paid once.
        release = chain.send(market.escrow.functions.release(lid, batch_id(lid, 0), 3), chain.relayer)
        assert chain.events(market.escrow, release, "PaymentReleased")[0]["uses"] == 3
        chain.expect_revert(market.escrow.functions.release(lid, batch_id(lid, 0), 3), chain.relayer,
                            "Escrow__AlreadyReleased")

    def test_batches_chain_and_cannot_be_replayed(self, chain, market, world, license_):
        chain.advance(600)
        first_args, _ = market.batch_args(license_, 2)
        chain.send(market.tracker.functions.logUsageBatch(*first_args), chain.relayer)
        # The same batch again: the license's chain and startIndex have moved, so its proof fails.
        chain.expect_revert(market.tracker.functions.logUsageBatch(*first_args), chain.relayer,
                            "Tracker__InvalidProof")
        chain.advance(600)
        second = market.log_batch(license_, 1)
        (event,) = chain.events(market.tracker, second, "UsageLogged")
        assert event["startIndex"] == 2 and event["batchId"] == batch_id(license_.license_id, 2)
        stats = list(market.tracker.functions.contentStats(world.content_id).call())
        assert (stats[0], stats[1], stats[3]) == (3, 1, 3 * PRICE)

    def test_counted_uses_cannot_be_counted_again(self, chain, market, license_):
        """A use's nullifier is Poseidon(secret, sequence index). A proof that re-proves indices
        already counted, even one extending the license's current chain value, is refused: the
        contract supplies startIndex = uses so far, not the prover."""
        chain.advance(600)
        market.log_batch(license_, 2)                                   # uses 0 and 1
        chain.advance(600)
        window = (chain.now() - 300, chain.now())
        stale, _ = market.batch_args(license_, 2, window, start_index=0)  # uses 0 and 1 again
        assert stale[4] != market.batch_args(license_, 2, window)[0][4]   # same events, other chainNew
        chain.expect_revert(market.tracker.functions.logUsageBatch(*stale), chain.relayer, "Tracker__InvalidProof")
        market.log_batch(license_, 2, window)                           # at the right index: uses 2 and 3
        assert list(market.manager.functions.getLicense(license_.license_id).call())[7] == 4

    @pytest.mark.parametrize("field,change", [
        ("proof0", 1), ("proof5", 1), ("count", 1), ("windowStart", 1), ("windowEnd", -1), ("chainNew", 1)])
    def test_tampered_batch_is_rejected(self, chain, market, license_, field, change):
        chain.advance(600)
        args, _ = market.batch_args(license_, 2)
        args = list(args)
        if field.startswith("proof"):
            proof = list(args[5])
            proof[int(field[5:])] += change
            args[5] = proof
        else:
            index = {"count": 1, "windowStart": 2, "windowEnd": 3, "chainNew": 4}[field]
            args[index] += change
        chain.expect_revert(market.tracker.functions.logUsageBatch(*args), chain.relayer, "Tracker__InvalidProof")

    def test_proof_of_another_license_is_rejected(self, chain, market, world, license_):
        other = market.purchase(chain.buyer2, world.terms_id)
        other_from = list(market.manager.functions.getLicense(other.license_id).call())[2]
        chain.advance(600)
        args, _ = market.batch_args(license_, 1, window=(other_from, chain.now()))  # inside both licenses
        args = (other.license_id, *args[1:])
        chain.expect_revert(market.tracker.functions.logUsageBatch(*args), chain.relayer, "Tracker__InvalidProof")

    def test_only_the_relayer(self, chain, market, license_):
        chain.advance(600)
        args, _ = market.batch_args(license_, 1)
        chain.expect_revert(market.tracker.functions.logUsageBatch(*args), chain.buyer,
                            "AccessControlUnauthorizedAccount")

    def test_bounds_are_checked_before_the_proof(self, chain, market, world, license_):
        lid = license_.license_id
        valid_from = list(market.manager.functions.getLicense(lid).call())[2]
        chain.advance(600)
        now = chain.now()
        junk = [1] * 8
        log = market.tracker.functions.logUsageBatch
        chain.expect_revert(log(b"\x01" * 32, 1, valid_from, now, 1, junk), chain.relayer, "Tracker__UnknownLicense")
        chain.expect_revert(log(lid, 0, valid_from, now, 1, junk), chain.relayer, "Tracker__InvalidCount")
        chain.expect_revert(log(lid, 65, valid_from, now, 1, junk), chain.relayer, "Tracker__InvalidCount")
        chain.expect_revert(log(lid, 1, now, now - 1, 1, junk), chain.relayer, "Tracker__InvalidWindow")
        chain.expect_revert(log(lid, 1, valid_from - 1, now, 1, junk), chain.relayer,
                            "Tracker__WindowOutsideValidity")
        chain.expect_revert(log(lid, 1, valid_from, now + 3600, 1, junk), chain.relayer, "Tracker__WindowInFuture")
        chain.expect_revert(log(lid, 1, valid_from, now, 1, junk), chain.relayer, "Tracker__InvalidProof")

    def test_window_must_end_inside_validity(self, chain, market, world):
        terms_id = market.create_terms(chain.creator, world.content_id, duration=3600)
        lic = market.purchase(chain.buyer, terms_id)
        valid_from, valid_until = list(market.manager.functions.getLicense(lic.license_id).call())[2:4]
        chain.advance(2 * 3600)
        chain.expect_revert(
            market.tracker.functions.logUsageBatch(lic.license_id, 1, valid_from, valid_until + 1, 1, [1] * 8),
            chain.relayer, "Tracker__WindowOutsideValidity")
        # uses made before expiry are still accepted after it
        market.log_batch(lic, 2, window=(valid_from, valid_until))

    def test_never_past_max_uses(self, chain, market, world):
        terms_id = market.create_terms(chain.creator, world.content_id, max_uses=3)
        lic = market.purchase(chain.buyer, terms_id)
        chain.advance(600)
        args, _ = market.batch_args(lic, 4)
        chain.expect_revert(market.tracker.functions.logUsageBatch(*args), chain.relayer, "Tracker__MaxUsesExceeded")
        market.log_batch(lic, 3)
        assert market.manager.functions.licenseState(lic.license_id).call() == 3  # EXHAUSTED
        chain.advance(60)
        chain.expect_revert(market.tracker.functions.logUsageBatch(lic.license_id, 1, chain.now() - 30, chain.now(),
                                                                   1, [1] * 8),
                            chain.relayer, "Tracker__MaxUsesExceeded")

    def test_revoked_license(self, chain, market, license_):
        chain.advance(600)
        args, _ = market.batch_args(license_, 1)
        chain.send(market.manager.functions.revoke(license_.license_id), chain.creator)
        chain.expect_revert(market.tracker.functions.logUsageBatch(*args), chain.relayer, "Tracker__LicenseRevoked")

    def test_paused(self, chain, market, license_):
        chain.advance(600)
        args, _ = market.batch_args(license_, 1)
        chain.send(market.tracker.functions.pause(), chain.deployer)
        chain.expect_revert(market.tracker.functions.logUsageBatch(*args), chain.relayer, "EnforcedPause")

    def test_domain(self, chain, market):
        assert market.tracker.functions.domain().call() == field_domain(chain.w3.eth.chain_id, market.tracker.address)


class TestComplianceProof:
    def test_records_a_verified_compliance_proof(self, chain, market, license_):
        chain.advance(600)
        market.log_batch(license_, 2)
        chain.advance(600)
        market.log_batch(license_, 3)
        proof, signals = market.compliance_proof(license_)
        assert signals[:3] == [5, 5 * PRICE, 1]  # totalUses, totalPaid, compliant

        receipt = chain.send(market.tracker.functions.recordComplianceProof(license_.license_id, *signals[:3], proof),
                             chain.other)  # anyone may record a valid proof
        (event,) = chain.events(market.tracker, receipt, "ProofRecorded")
        assert event["kind"] == COMPLIANCE and event["subject"] == license_.license_id
        assert list(event["publicSignals"]) == signals
        proof_id = event["proofId"]
        assert proof_id == market.tracker.functions.proofIdOf(COMPLIANCE, license_.license_id, signals).call()
        record = list(market.tracker.functions.getProof(proof_id).call())
        block_time = chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
        assert record == [keccak(encode(["uint256"] * len(signals), signals)), license_.license_id, block_time,
                          COMPLIANCE]
        assert market.tracker.functions.matchesRecordedProof(proof_id, signals).call()
        altered = list(signals)
        altered[0] += 1
        assert not market.tracker.functions.matchesRecordedProof(proof_id, altered).call()
        chain.expect_revert(market.tracker.functions.recordComplianceProof(license_.license_id, *signals[:3], proof),
                            chain.other, "Tracker__ProofAlreadyRecorded")

    def test_false_claims_are_rejected(self, chain, market, license_):
        chain.advance(600)
        market.log_batch(license_, 2)
        proof, signals = market.compliance_proof(license_)
        record = market.tracker.functions.recordComplianceProof
        chain.expect_revert(record(license_.license_id, signals[0] - 1, signals[1], 1, proof), chain.other,
                            "Tracker__InvalidProof")
        chain.expect_revert(record(license_.license_id, signals[0], signals[1], 0, proof), chain.other,
                            "Tracker__InvalidProof")
        chain.expect_revert(record(b"\x01" * 32, *signals[:3], proof), chain.other, "Tracker__UnknownLicense")
        # a proof of an older chain value no longer matches once another batch lands
        chain.advance(600)
        market.log_batch(license_, 1)
        chain.expect_revert(record(license_.license_id, *signals[:3], proof), chain.other, "Tracker__InvalidProof")


class TestAggregateProof:
    def test_records_a_verified_aggregate_proof(self, chain, market, world, license_):
        second = market.purchase(chain.buyer2, world.terms_id)
        market.purchase(chain.other, world.terms_id)  # bought but unused: not a slot
        chain.advance(600)
        market.log_batch(license_, 2)
        chain.advance(600)
        market.log_batch(second, 4)
        chain.advance(600)
        market.log_batch(license_, 1)

        ids, chains, prices = market.tracker.functions.aggregateInputs(world.content_id).call()
        assert ids == [license_.license_id, second.license_id]
        assert chains[2:] == [0] * 6 and prices == [PRICE, PRICE] + [0] * 6
        proof, signals = market.aggregate_proof(world.content_id, {l.license_id: l for l in (license_, second)})
        assert signals[:3] == [7, 7 * PRICE, 2]  # totalUses, totalRevenue, uniqueLicensees

        receipt = chain.send(market.tracker.functions.recordAggregateProof(world.content_id, signals[:5], proof),
                             chain.creator)
        (event,) = chain.events(market.tracker, receipt, "ProofRecorded")
        assert event["kind"] == AGGREGATE and event["subject"] == world.content_id
        assert list(event["publicSignals"]) == signals
        assert market.tracker.functions.matchesRecordedProof(event["proofId"], signals).call()
        stats = list(market.tracker.functions.contentStats(world.content_id).call())
        assert (stats[0], stats[1], stats[3]) == (signals[0], signals[2], signals[1])  # the public stats agree

    def test_false_claims_are_rejected(self, chain, market, world, license_):
        chain.advance(600)
        market.log_batch(license_, 2)
        proof, signals = market.aggregate_proof(world.content_id, {license_.license_id: license_})
        outputs = list(signals[:5])
        outputs[0] += 1
        chain.expect_revert(market.tracker.functions.recordAggregateProof(world.content_id, outputs, proof),
                            chain.other, "Tracker__InvalidProof")
        chain.expect_revert(market.tracker.functions.recordAggregateProof(b"\x04" * 32, signals[:5], proof),
                            chain.other, "Tracker__InvalidProof")

    def test_more_licenses_than_slots(self, chain, market, world):
        """A ninth used license cannot fit the aggregate circuit's 8 slots: no proof can be recorded."""
        licenses = [market.purchase(chain.accounts[("buyer", "buyer2", "other")[i % 3]], world.terms_id)
                    for i in range(9)]
        chain.advance(600)
        for lic in licenses:
            market.log_batch(lic, 1)
        assert len(market.tracker.functions.usedLicenses(world.content_id).call()) == 9
        chain.expect_revert(market.tracker.functions.aggregateInputs(world.content_id), chain.other,
                            "Tracker__TooManyLicenses")
        chain.expect_revert(market.tracker.functions.recordAggregateProof(world.content_id, [0] * 5, [1] * 8),
                            chain.other, "Tracker__TooManyLicenses")
