"""UsageTracker with real Groth16 proofs: usage batches (accepted, tampered, replayed, out of
bounds, too narrow a window), buyer-signed usage (only uses a buyer's worker key signed are
settled; the platform cannot settle, replay or reuse a counter), payment of each batch in the
transaction that logs it, public statistics, compliance and aggregate proofs."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak
from marketplace.zk.field import domain as field_domain
from marketplace.zk.folds import (
    ChunkProof,
    ComplianceOutputs,
    aggregate_call_args,
    aggregate_outputs,
    aggregate_record_signals,
    chunks_from_call,
    compliance_call_args,
    compliance_outputs,
    compliance_record_signals,
    prove_aggregate,
    prove_compliance,
    verify_aggregate,
    verify_compliance,
)
from marketplace.zk.inputs import BatchRecord, LicenseBatches, fold_chain

from tests.support.market import HOUR, USDC, worker_key

pytestmark = [pytest.mark.contracts, pytest.mark.slow]

DAY = 86400
PRICE = USDC // 2
FEE_BPS = 250
COMPLIANCE, AGGREGATE = 1, 2


def batch_id(license_id: bytes, start: int) -> bytes:
    return keccak(encode(["bytes32", "uint256"], [license_id, start]))


class TestLogUsageBatch:
    def test_accepts_a_proven_batch(self, chain, market, world, license_):
        chain.advance(2 * HOUR)
        args, _ = market.batch_args(license_, 3)
        receipt = chain.send(market.tracker.functions.logUsageBatch(*args), chain.relayer)
        lid, _, start, end, chain_new, _, _ = args

        (event,) = chain.events(market.tracker, receipt, "UsageLogged")
        assert event == {"licenseId": lid, "contentId": world.content_id, "batchId": batch_id(lid, 0),
                         "startIndex": 0, "count": 3, "windowStart": start, "windowEnd": end, "chainNew": chain_new}
        assert chain.buyer.lower()[2:] not in receipt["logs"][0]["data"].hex()  # no licensee in the log
        assert list(market.manager.functions.getLicense(lid).call())[6:8] == [chain_new, 3]
        assert market.manager.functions.licenseState(lid).call() == 2  # IN_USE
        block_time = chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
        assert list(market.escrow.functions.getBatch(lid, batch_id(lid, 0)).call()) == [3, FEE_BPS, block_time]
        assert list(market.tracker.functions.contentStats(world.content_id).call()) == [3, 1, block_time, 3 * PRICE]
        assert market.tracker.functions.usedLicenses(world.content_id).call() == [lid]
        assert market.tracker.functions.batchIdOf(lid, 0).call() == batch_id(lid, 0)

        # Flow 4: the proven, buyer-signed batch is paid in the same transaction, once.
        fee = 3 * PRICE * FEE_BPS // 10_000
        assert chain.events(market.escrow, receipt, "PaymentReleased") == [{
            "licenseId": lid, "contentId": world.content_id, "payee": chain.creator, "batchId": batch_id(lid, 0),
            "uses": 3, "creatorAmount": 3 * PRICE - fee, "platformFee": fee}]
        assert market.escrow.functions.owed(chain.creator).call() == 3 * PRICE - fee
        assert market.escrow.functions.owed(chain.platform).call() == fee
        assert market.escrow.functions.remainingDeposit(lid).call() == 97 * PRICE
        assert market.settled_counter(license_, license_.workers[0].address) == 3

    def test_batches_chain_and_cannot_be_replayed(self, chain, market, world, license_):
        chain.advance(2 * HOUR)
        first_args, _ = market.batch_args(license_, 2)
        chain.send(market.tracker.functions.logUsageBatch(*first_args), chain.relayer)
        # The same batch again: the license's chain and startIndex have moved, so its proof fails.
        chain.expect_revert(market.tracker.functions.logUsageBatch(*first_args), chain.relayer,
                            "Tracker__InvalidProof")
        chain.advance(2 * HOUR)
        second = market.log_batch(license_, 1)
        (event,) = chain.events(market.tracker, second, "UsageLogged")
        assert event["startIndex"] == 2 and event["batchId"] == batch_id(license_.license_id, 2)
        stats = list(market.tracker.functions.contentStats(world.content_id).call())
        assert (stats[0], stats[1], stats[3]) == (3, 1, 3 * PRICE)

    def test_counted_uses_cannot_be_counted_again(self, chain, market, license_):
        """A use's nullifier is Poseidon(secret, sequence index). A proof that re-proves indices
        already counted, even one extending the license's current chain value, is refused: the
        contract supplies startIndex = uses so far, not the prover."""
        chain.advance(2 * HOUR)
        market.log_batch(license_, 2)                                   # uses 0 and 1
        chain.advance(2 * HOUR)
        window = (chain.now() - HOUR, chain.now())
        stale, _ = market.batch_args(license_, 2, window, start_index=0)  # uses 0 and 1 again
        assert stale[4] != market.batch_args(license_, 2, window)[0][4]   # same events, other chainNew
        chain.expect_revert(market.tracker.functions.logUsageBatch(*stale), chain.relayer, "Tracker__InvalidProof")
        market.log_batch(license_, 2, window)                           # at the right index: uses 2 and 3
        assert list(market.manager.functions.getLicense(license_.license_id).call())[7] == 4

    @pytest.mark.parametrize("field,change", [
        ("proof0", 1), ("proof5", 1), ("count", 1), ("windowStart", 1), ("windowEnd", -1), ("chainNew", 1)])
    def test_tampered_batch_is_rejected(self, chain, market, license_, field, change):
        chain.advance(2 * HOUR)
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
        chain.advance(2 * HOUR)
        args, _ = market.batch_args(license_, 1, window=(other_from, chain.now()))  # inside both licenses
        args = (other.license_id, *args[1:])
        chain.expect_revert(market.tracker.functions.logUsageBatch(*args), chain.relayer, "Tracker__InvalidProof")

    def test_only_the_relayer(self, chain, market, license_):
        chain.advance(2 * HOUR)
        args, _ = market.batch_args(license_, 1)
        chain.expect_revert(market.tracker.functions.logUsageBatch(*args), chain.buyer,
                            "AccessControlUnauthorizedAccount")

    def test_bounds_are_checked_before_the_proof(self, chain, market, world, license_):
        lid = license_.license_id
        valid_from = list(market.manager.functions.getLicense(lid).call())[2]
        chain.advance(2 * HOUR)
        now = chain.now()
        junk = [1] * 8

        def log(*args):
            return market.tracker.functions.logUsageBatch(*args, [])

        chain.expect_revert(log(b"\x01" * 32, 1, valid_from, now, 1, junk), chain.relayer, "Tracker__UnknownLicense")
        chain.expect_revert(log(lid, 0, valid_from, now, 1, junk), chain.relayer, "Tracker__InvalidCount")
        chain.expect_revert(log(lid, 65, valid_from, now, 1, junk), chain.relayer, "Tracker__InvalidCount")
        chain.expect_revert(log(lid, 1, now, now - 1, 1, junk), chain.relayer, "Tracker__InvalidWindow")
        chain.expect_revert(log(lid, 1, valid_from - 1, now, 1, junk), chain.relayer,
                            "Tracker__WindowOutsideValidity")
        chain.expect_revert(log(lid, 1, valid_from, now + 3600, 1, junk), chain.relayer, "Tracker__WindowInFuture")
        chain.expect_revert(log(lid, 1, now - HOUR + 1, now, 1, junk), chain.relayer, "Tracker__WindowTooNarrow")
        chain.expect_revert(log(lid, 1, valid_from, now, 1, junk), chain.relayer, "Tracker__InvalidProof")

    def test_window_must_end_inside_validity(self, chain, market, world):
        terms_id = market.create_terms(chain.creator, world.content_id, duration=3600)
        lic = market.purchase(chain.buyer, terms_id)
        valid_from, valid_until = list(market.manager.functions.getLicense(lic.license_id).call())[2:4]
        chain.advance(2 * 3600)
        chain.expect_revert(
            market.tracker.functions.logUsageBatch(lic.license_id, 1, valid_from, valid_until + 1, 1, [1] * 8, []),
            chain.relayer, "Tracker__WindowOutsideValidity")
        # uses made before expiry are still accepted after it
        market.log_batch(lic, 2, window=(valid_from, valid_until))

    def test_never_past_max_uses(self, chain, market, world):
        terms_id = market.create_terms(chain.creator, world.content_id, max_uses=3)
        lic = market.purchase(chain.buyer, terms_id)
        chain.advance(2 * HOUR)
        args, _ = market.batch_args(lic, 4)
        chain.expect_revert(market.tracker.functions.logUsageBatch(*args), chain.relayer, "Tracker__MaxUsesExceeded")
        market.log_batch(lic, 3)
        assert market.manager.functions.licenseState(lic.license_id).call() == 3  # EXHAUSTED
        chain.advance(60)
        chain.expect_revert(market.tracker.functions.logUsageBatch(lic.license_id, 1, chain.now() - HOUR, chain.now(),
                                                                   1, [1] * 8, []),
                            chain.relayer, "Tracker__MaxUsesExceeded")

    def test_revoked_license(self, chain, market, license_):
        chain.advance(2 * HOUR)
        args, _ = market.batch_args(license_, 1)
        chain.send(market.manager.functions.revoke(license_.license_id), chain.creator)
        chain.expect_revert(market.tracker.functions.logUsageBatch(*args), chain.relayer, "Tracker__LicenseRevoked")

    def test_paused(self, chain, market, license_):
        chain.advance(2 * HOUR)
        args, _ = market.batch_args(license_, 1)
        chain.send(market.tracker.functions.pause(), chain.deployer)
        chain.expect_revert(market.tracker.functions.logUsageBatch(*args), chain.relayer, "EnforcedPause")

    def test_domain(self, chain, market):
        assert market.tracker.functions.domain().call() == field_domain(chain.w3.eth.chain_id, market.tracker.address)


class TestMinimumWindow:
    """The chain never learns a use's time more precisely than the batch's public window, which
    is at least minWindow (1 hour by default) wide, or the license's whole validity if shorter."""

    def test_a_too_narrow_window_reverts(self, chain, market, license_):
        chain.advance(3 * HOUR)
        now = chain.now()
        args, _ = market.batch_args(license_, 2, window=(now - HOUR + 1, now))  # a valid proof, 1 s too narrow
        assert chain.expect_revert(market.tracker.functions.logUsageBatch(*args), chain.relayer,
                                   "Tracker__WindowTooNarrow") == (HOUR,)
        receipt = market.log_batch(license_, 2, window=(now - HOUR, now))  # exactly the minimum
        (event,) = chain.events(market.tracker, receipt, "UsageLogged")
        assert event["windowEnd"] - event["windowStart"] == HOUR

    def test_a_license_shorter_than_the_minimum_uses_its_whole_validity(self, chain, market, world):
        terms_id = market.create_terms(chain.creator, world.content_id, duration=1800)
        lic = market.purchase(chain.buyer, terms_id)
        valid_from, valid_until = list(market.manager.functions.getLicense(lic.license_id).call())[2:4]
        chain.advance(HOUR)
        args, _ = market.batch_args(lic, 1, window=(valid_from + 1, valid_until))
        assert chain.expect_revert(market.tracker.functions.logUsageBatch(*args), chain.relayer,
                                   "Tracker__WindowTooNarrow") == (1800,)
        market.log_batch(lic, 1, window=(valid_from, valid_until))

    def test_the_admin_sets_it_within_bounds(self, chain, market, license_):
        tracker = market.tracker.functions
        assert tracker.minWindow().call() == HOUR
        receipt = chain.send(tracker.setMinWindow(6 * HOUR), chain.deployer)
        assert chain.events(market.tracker, receipt, "MinWindowUpdated") == [{"previous": HOUR, "minWindow": 6 * HOUR}]
        for bad in (15 * 60 - 1, 7 * DAY + 1):
            chain.expect_revert(tracker.setMinWindow(bad), chain.deployer, "Tracker__InvalidMinWindow")
        chain.expect_revert(tracker.setMinWindow(2 * HOUR), chain.relayer, "AccessControlUnauthorizedAccount")
        chain.advance(3 * HOUR)
        args, _ = market.batch_args(license_, 1)  # 3 hours wide: now below the minimum
        assert chain.expect_revert(market.tracker.functions.logUsageBatch(*args), chain.relayer,
                                   "Tracker__WindowTooNarrow") == (6 * HOUR,)


class TestBuyerSignedUsage:
    """A creator is paid only for uses a buyer's registered worker key signed; the platform (the
    relayer and the deployer, with every key they hold) cannot settle a use no buyer signed,
    replay a signature or reuse a counter. Every batch here has a real usage proof: the refusals
    come from the signatures alone."""

    def test_many_workers_one_signature_each(self, chain, market, world):
        lic = market.purchase(chain.buyer, world.terms_id, workers=3)
        a, b, c = lic.workers
        chain.advance(2 * HOUR)
        market.log_batch(lic, 8, accesses=market.signed_uses(lic, {a: 5, b: 2, c: 1}))
        assert [market.settled_counter(lic, k.address) for k in (a, b, c)] == [5, 2, 1]
        chain.advance(HOUR)
        # the next batch: each signature covers the uses since that signer's last settled counter
        receipt = market.log_batch(lic, 4, accesses=market.signed_uses(lic, {a: 1, c: 3}))
        assert [market.settled_counter(lic, k.address) for k in (a, b, c)] == [6, 2, 4]
        assert chain.events(market.escrow, receipt, "PaymentReleased")[0]["uses"] == 4
        assert market.escrow.functions.remainingDeposit(lic.license_id).call() == 88 * PRICE

    def test_one_signature_per_use_is_accepted_too(self, chain, market, license_):
        worker = license_.workers[0]
        chain.advance(2 * HOUR)
        per_use = [market.sign_access(worker, license_.license_id, n) for n in (1, 2, 3)]
        market.log_batch(license_, 3, accesses=per_use)
        assert market.settled_counter(license_, worker.address) == 3

    def test_platform_cannot_settle_unsigned_uses(self, chain, market, license_):
        chain.advance(2 * HOUR)
        lid = license_.license_id
        log = market.tracker.functions.logUsageBatch
        args, _ = market.batch_args(license_, 3)  # a valid proof of 3 uses, signed by the buyer's worker
        unsigned = (*args[:6], [])
        assert chain.expect_revert(log(*unsigned), chain.relayer, "License__SignedUsesMismatch") == (0, 3)
        # fewer uses signed than the batch claims
        short = (*args[:6], market.signed_uses(license_, 2))
        assert chain.expect_revert(log(*short), chain.relayer, "License__SignedUsesMismatch") == (2, 3)
        # signed by keys the platform holds (relayer, deployer) or makes up: not the buyer's signers
        for key in (Account.from_key(chain.keys["relayer"]), Account.from_key(chain.keys["deployer"]),
                    worker_key("platform's own")):
            forged = market.sign_access(key, lid, 3)
            assert chain.expect_revert(log(*args[:6], [forged]), chain.relayer,
                                       "License__UnknownUsageSigner") == (key.address.lower(),)
        # a real signature with its counter raised (or its license or request changed): recovers garbage
        counter, req, r, vs = args[6][0]
        for tampered in ((counter + 1, req, r, vs), (counter, b"\x00" * 32, r, vs)):
            chain.expect_revert(log(*args[:6], [tampered]), chain.relayer, "License__UnknownUsageSigner")
        # a malformed signature (high s) is refused as such
        high_s = (2**256 - 1).to_bytes(32, "big")
        assert chain.expect_revert(log(*args[:6], [(counter, req, r, high_s)]), chain.relayer,
                                   "License__InvalidAccessSignature") == (0,)
        # the platform cannot register a key of its own as the buyer's signer
        relayer_key = worker_key("relayer's")
        chain.expect_revert(market.manager.functions.addUsageSigner(lid, relayer_key.address), chain.relayer,
                            "License__NotLicensee")
        forged_add = market.sign_signer_change("relayer", "AddUsageSigner", lid, relayer_key.address)
        chain.expect_revert(market.manager.functions.addUsageSignerWithSig(*forged_add), chain.relayer,
                            "License__InvalidSignature")
        # nothing was paid
        assert market.escrow.functions.owed(chain.creator).call() == 0
        chain.send(log(*args), chain.relayer)  # the buyer-signed batch goes through

    def test_deployer_cannot_settle_around_the_tracker(self, chain, market, license_):
        """The admin can grant itself roles, but money moves only through LicenseManager.recordUsage,
        which checks the buyer's signatures, and the escrow settles for the LicenseManager alone."""
        lid, manager, escrow = license_.license_id, market.manager.functions, market.escrow.functions
        chain.send(manager.grantRole(manager.TRACKER_ROLE().call(), chain.deployer), chain.deployer)
        chain.send(escrow.grantRole(escrow.TRACKER_ROLE().call(), chain.deployer), chain.deployer)
        assert chain.expect_revert(manager.recordUsage(lid, 0, 5, 123, []), chain.deployer,
                                   "License__SignedUsesMismatch") == (0, 5)
        chain.expect_revert(escrow.settle(lid, b"\x00" * 32, b"\x01" * 32, 5), chain.deployer,
                            "Escrow__NotLicenseManager")
        chain.expect_revert(escrow.settle(lid, b"\x00" * 32, b"\x01" * 32, 5), chain.relayer,
                            "Escrow__NotLicenseManager")
        assert escrow.remainingDeposit(lid).call() == 100 * PRICE

    def test_a_signature_cannot_be_replayed_nor_a_counter_reused(self, chain, market, license_):
        worker = license_.workers[0]
        chain.advance(2 * HOUR)
        first = market.signed_uses(license_, 2)  # counter 2
        market.log_batch(license_, 2, accesses=first)
        chain.advance(HOUR)
        log = market.tracker.functions.logUsageBatch
        args, _ = market.batch_args(license_, 2)
        assert chain.expect_revert(log(*args[:6], first), chain.relayer,
                                   "License__StaleAccessCounter") == (worker.address.lower(), 2, 2)
        # the same counter signed again for another request, or a lower one: already paid
        for counter in (2, 1):
            again = [market.sign_access(worker, license_.license_id, counter, b"\x42" * 32)]
            assert chain.expect_revert(log(*args[:6], again), chain.relayer,
                                       "License__StaleAccessCounter") == (worker.address.lower(), counter, 2)
        # within one batch a signer's counters must increase too
        twice = [market.sign_access(worker, license_.license_id, 4), market.sign_access(worker, license_.license_id, 4)]
        chain.expect_revert(log(*args[:6], twice), chain.relayer, "License__StaleAccessCounter")
        chain.send(log(*args), chain.relayer)
        assert market.settled_counter(license_, worker.address) == 4

    def test_a_signer_of_another_license_is_refused(self, chain, market, world, license_):
        other = market.purchase(chain.buyer2, world.terms_id)
        chain.advance(2 * HOUR)
        args, _ = market.batch_args(license_, 2)
        # the other license's worker signs for this license: a valid signature by a key not registered here
        foreign = [market.sign_access(other.workers[0], license_.license_id, 2)]
        assert chain.expect_revert(market.tracker.functions.logUsageBatch(*args[:6], foreign), chain.relayer,
                                   "License__UnknownUsageSigner") == (other.workers[0].address.lower(),)

    def test_a_revoked_signer_counts_for_the_grace_then_is_refused(self, chain, market, license_):
        worker = license_.workers[0]
        lid = license_.license_id
        chain.advance(2 * HOUR)
        receipt = chain.send(market.manager.functions.revokeUsageSigner(lid, worker.address), chain.buyer)
        revoked_at = chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
        assert chain.events(market.manager, receipt, "UsageSignerRevoked") == [
            {"licenseId": lid, "signer": worker.address, "effectiveAt": revoked_at + DAY}]
        market.log_batch(license_, 2)  # uses it made before the revocation are still paid, within the grace
        chain.advance(DAY + 1)
        args, _ = market.batch_args(license_, 1)
        assert chain.expect_revert(market.tracker.functions.logUsageBatch(*args), chain.relayer,
                                   "License__UsageSignerRevoked") == (worker.address.lower(),)
        # a new worker key works
        fresh = market.add_worker(license_)
        chain.send(market.tracker.functions.logUsageBatch(*args[:6], market.signed_uses(license_, {fresh: 1})),
                   chain.relayer)


def signals_hash(signals: list[int]) -> bytes:
    return keccak(encode(["uint256"] * len(signals), signals))


class TestComplianceProof:
    def test_records_a_verified_compliance_proof(self, chain, market, license_):
        chain.advance(2 * HOUR)
        market.log_batch(license_, 2)
        chain.advance(2 * HOUR)
        market.log_batch(license_, 3)
        chunks = market.compliance_proof(license_)
        out = compliance_outputs(chunks)
        assert (out.total_uses, out.total_paid, out.compliant) == (5, 5 * PRICE, True)
        recorded = compliance_record_signals(chunks)

        record = market.tracker.functions.recordComplianceProof
        receipt = chain.send(record(license_.license_id, *compliance_call_args(chunks)),
                             chain.other)  # anyone may record a valid proof
        (event,) = chain.events(market.tracker, receipt, "ProofRecorded")
        assert event["kind"] == COMPLIANCE and event["subject"] == license_.license_id
        assert list(event["publicSignals"]) == recorded
        assert recorded[:3] == [5, 5 * PRICE, 1] and recorded[8] == market.tracker.functions.domain().call()
        proof_id = event["proofId"]
        assert proof_id == market.tracker.functions.proofIdOf(COMPLIANCE, license_.license_id, recorded).call()
        block_time = chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
        assert list(market.tracker.functions.getProof(proof_id).call()) == [
            signals_hash(recorded), license_.license_id, block_time, COMPLIANCE]
        assert market.tracker.functions.matchesRecordedProof(proof_id, recorded).call()
        altered = list(recorded)
        altered[0] += 1
        assert not market.tracker.functions.matchesRecordedProof(proof_id, altered).call()
        chain.expect_revert(record(license_.license_id, *compliance_call_args(chunks)), chain.other,
                            "Tracker__ProofAlreadyRecorded")
        # the verify endpoint's path: the chunks read back from the transaction verify in py_ecc too
        tx = chain.w3.eth.get_transaction(receipt["transactionHash"])
        _, decoded = market.tracker.decode_function_input(tx["input"])
        back = chunks_from_call("compliance", decoded)
        assert back == chunks and compliance_record_signals(back) == recorded
        onchain = market.manager.functions.getLicense(license_.license_id).call()
        assert verify_compliance(back, chain=onchain[6], max_uses=onchain[8], price_per_use=onchain[9],
                                 valid_from=onchain[2], valid_until=onchain[3],
                                 domain=market.tracker.functions.domain().call())

    def test_false_claims_are_rejected(self, chain, market, license_):
        chain.advance(2 * HOUR)
        market.log_batch(license_, 2)
        chunks = market.compliance_proof(license_)
        record = market.tracker.functions.recordComplianceProof
        (args,) = compliance_call_args(chunks)
        proof, signals = args[0]
        for index, value in ((1, signals[1] - 1), (3, 0), (0, signals[0] + 1)):   # totalUses, compliant, stateOut
            forged = list(signals)
            forged[index] = value
            chain.expect_revert(record(license_.license_id, [(proof, forged)]), chain.other, "Tracker__InvalidProof")
        forged = list(signals)
        forged[7] += 1   # maxUses: not the license's
        assert chain.expect_revert(record(license_.license_id, [(proof, forged)]), chain.other,
                                   "Tracker__ChunkContextMismatch") == (0,)
        chain.expect_revert(record(b"\x01" * 32, args), chain.other, "Tracker__UnknownLicense")
        chain.expect_revert(record(license_.license_id, []), chain.other, "Tracker__NoChunks")
        # a proof of an older chain value no longer matches once another batch lands
        chain.advance(2 * HOUR)
        market.log_batch(license_, 1)
        assert chain.expect_revert(record(license_.license_id, args), chain.other,
                                   "Tracker__ChunkContextMismatch") == (0,)


@pytest.fixture
def harness(chain, market):
    """A UsageTracker over license contexts the test sets (tests/contracts/fixtures/UsageFixtures.sol),
    with the deployment's real verifiers: for sizes too slow to log batch by batch."""
    contexts = chain.deploy("MockLicenseContexts")
    tracker = chain.deploy("UsageTrackerHarness", chain.deployer, contexts.address,
                           market.address("UsageBatchVerifier"), market.address("ComplianceVerifier"),
                           market.address("AggregateVerifier"))
    return contexts, tracker


def synthetic_licenses(counts: list[list[int]], start: int) -> list[LicenseBatches]:
    """Licenses with synthetic batch records (any field values fold), priced 1..n µUSDC × 1000."""
    out = []
    for s, per_batch in enumerate(counts):
        recs = [BatchRecord(10_000 * (s + 1) + j, c, start + j * HOUR, start + (j + 1) * HOUR)
                for j, c in enumerate(per_batch)]
        out.append(LicenseBatches(recs, 1_000 * (s + 1), fold_chain(recs)))
    return out


class TestComplianceProofChunks:
    def test_a_license_with_40_batches(self, chain, harness):
        """More batches than one chunk's 32 (contexts set directly: see the harness)."""
        contexts, tracker = harness
        valid_from = chain.now() - 100 * HOUR
        (lic,) = synthetic_licenses([[25] * 40], valid_from)
        license_id = b"\x40" * 32
        ctx = (b"\x0c" * 32, 1, lic.chain, 1000, 1000, lic.price_per_use, valid_from, valid_from + 50 * HOUR, False)
        chain.send(contexts.functions.setContext(license_id, ctx), chain.deployer)
        domain = tracker.functions.domain().call()
        chunks = prove_compliance(lic.records, max_uses=1000, price_per_use=lic.price_per_use, valid_from=valid_from,
                                  valid_until=valid_from + 50 * HOUR, chain=lic.chain, domain=domain)
        assert len(chunks) == 2
        assert compliance_outputs(chunks) == ComplianceOutputs(1000, 1000 * lic.price_per_use, True)
        record = tracker.functions.recordComplianceProof
        chain.expect_revert(record(license_id, *compliance_call_args(chunks[:1])), chain.other,
                            "Tracker__WrongFinalChunk")   # the last chunk missing
        chain.expect_revert(record(license_id, *compliance_call_args(chunks[1:])), chain.other,
                            "Tracker__BrokenChunkLink")   # the first chunk missing
        chain.expect_revert(record(license_id, *compliance_call_args(chunks[::-1])), chain.other,
                            "Tracker__BrokenChunkLink")
        receipt = chain.send(record(license_id, *compliance_call_args(chunks)), chain.other)
        (event,) = chain.events(tracker, receipt, "ProofRecorded")
        assert list(event["publicSignals"]) == compliance_record_signals(chunks)
        print(f"recordComplianceProof, 2 chunks: {receipt['gasUsed']:,} gas")


class TestAggregateProof:
    def test_records_a_verified_aggregate_proof(self, chain, market, world, license_):
        second = market.purchase(chain.buyer2, world.terms_id)
        market.purchase(chain.other, world.terms_id)  # bought but unused: not in the sequence
        chain.advance(2 * HOUR)
        market.log_batch(license_, 2)
        chain.advance(2 * HOUR)
        market.log_batch(second, 4)
        chain.advance(2 * HOUR)
        market.log_batch(license_, 1)

        ids, chains, prices = market.tracker.functions.aggregateInputs(world.content_id).call()
        assert ids == [license_.license_id, second.license_id] and prices == [PRICE, PRICE]
        chunks = market.aggregate_proof(world.content_id, {l.license_id: l for l in (license_, second)})
        assert len(chunks) == 1
        out = aggregate_outputs(chunks)
        assert (out.total_uses, out.total_revenue, out.unique_licensees) == (7, 7 * PRICE, 2)
        domain = market.tracker.functions.domain().call()
        assert verify_aggregate(chunks, chains=chains, prices=prices, domain=domain)   # py_ecc agrees

        receipt = chain.send(market.tracker.functions.recordAggregateProof(world.content_id,
                                                                           *aggregate_call_args(chunks)),
                             chain.creator)
        print(f"recordAggregateProof, 1 chunk: {receipt['gasUsed']:,} gas")
        (event,) = chain.events(market.tracker, receipt, "ProofRecorded")
        recorded = aggregate_record_signals(chunks)
        assert event["kind"] == AGGREGATE and event["subject"] == world.content_id
        assert list(event["publicSignals"]) == recorded and recorded[5] == domain
        assert market.tracker.functions.matchesRecordedProof(event["proofId"], recorded).call()
        stats = list(market.tracker.functions.contentStats(world.content_id).call())
        assert (stats[0], stats[1], stats[3]) == (out.total_uses, out.unique_licensees, out.total_revenue)

    def test_false_claims_are_rejected(self, chain, market, world, license_):
        chain.advance(2 * HOUR)
        market.log_batch(license_, 2)
        chunks = market.aggregate_proof(world.content_id, {license_.license_id: license_})
        record = market.tracker.functions.recordAggregateProof
        ((proof, signals),) = aggregate_call_args(chunks)[0]
        forged = list(signals)
        forged[1] += 1   # totalUses
        chain.expect_revert(record(world.content_id, [(proof, forged)]), chain.other, "Tracker__InvalidProof")
        assert not verify_aggregate([ChunkProof("aggregate", chunks[0].proof, forged)],
                                    chains=signals[10:11], prices=signals[18:19], domain=signals[26])
        for index in (10, 18, 11, 26):   # chains[0], prices[0], chains[1] (padding), domain
            forged = list(signals)
            forged[index] += 1
            assert chain.expect_revert(record(world.content_id, [(proof, forged)]), chain.other,
                                       "Tracker__ChunkContextMismatch") == (0,)
        # another content (no used license): the chunk covers one license too many
        assert chain.expect_revert(record(b"\x04" * 32, [(proof, signals)]), chain.other,
                                   "Tracker__ChunkContextMismatch") == (0,)
        chain.expect_revert(record(world.content_id, []), chain.other, "Tracker__NoChunks")

    def test_nine_licensees_over_real_batches(self, chain, market, world):
        """A ninth used license (more than one chunk's 8 slots), every batch really logged; a proof
        made before the ninth license's first batch is incomplete afterwards; broken linkage."""
        licenses = [market.purchase(chain.accounts[("buyer", "buyer2", "other")[i % 3]], world.terms_id)
                    for i in range(9)]
        chain.advance(2 * HOUR)
        for i, lic in enumerate(licenses[:8]):
            market.log_batch(lic, 1 + i)
        by_id = {lic.license_id: lic for lic in licenses}
        eight = market.aggregate_proof(world.content_id, by_id)
        assert len(eight) == 1
        market.log_batch(licenses[8], 9)
        assert len(market.tracker.functions.usedLicenses(world.content_id).call()) == 9
        record = market.tracker.functions.recordAggregateProof
        assert chain.expect_revert(record(world.content_id, *aggregate_call_args(eight)), chain.other,
                                   "Tracker__IncompleteAggregate") == (8, 9)

        chunks = market.aggregate_proof(world.content_id, by_id)
        assert len(chunks) == 2
        assert [c.public_signals[7:10] for c in chunks] == [[0, 8, 0], [8, 9, 1]]   # cursorIn, cursorOut, final
        _, chains, prices = market.tracker.functions.aggregateInputs(world.content_id).call()
        assert verify_aggregate(chunks, chains=chains, prices=prices, domain=market.tracker.functions.domain().call())
        for broken, error, index in ((chunks[:1], "Tracker__WrongFinalChunk", 0),      # the last chunk missing
                                     (chunks[1:], "Tracker__BrokenChunkLink", 0),      # the first chunk missing
                                     (chunks[::-1], "Tracker__BrokenChunkLink", 0),
                                     ([chunks[0], chunks[0], chunks[1]], "Tracker__BrokenChunkLink", 1)):
            assert chain.expect_revert(record(world.content_id, *aggregate_call_args(broken)), chain.other,
                                       error) == (index,)
        # a chunk whose stateIn is not the previous stateOut (its proof untouched)
        (args,) = aggregate_call_args(chunks)
        relinked = list(args[1][1])
        relinked[6] += 1
        assert chain.expect_revert(record(world.content_id, [args[0], (args[1][0], relinked)]), chain.other,
                                   "Tracker__BrokenChunkLink") == (1,)

        receipt = chain.send(record(world.content_id, *aggregate_call_args(chunks)), chain.other)
        (event,) = chain.events(market.tracker, receipt, "ProofRecorded")
        total = sum(range(1, 10))
        assert list(event["publicSignals"])[:3] == [total, total * PRICE, 9]
        print(f"recordAggregateProof, 9 licensees in 2 chunks: {receipt['gasUsed']:,} gas")

    def test_fifty_licensees_and_10000_uses(self, chain, harness):
        """The target size: 50 licensees × 200 uses (64 + 64 + 64 + 8), 7 chunks in one transaction.
        License contexts are set directly (logging ~200 real batches would take minutes: see the
        harness); the aggregate proofs and their verification are real."""
        contexts, tracker = harness
        content_id = b"\x50" * 32
        start = chain.now() - 10 * HOUR
        licenses = synthetic_licenses([[64, 64, 64, 8]] * 50, start)
        for i, lic in enumerate(licenses):
            license_id = (i + 1).to_bytes(32, "big")
            ctx = (content_id, 1, lic.chain, 200, 200, lic.price_per_use, start, start + 100 * HOUR, False)
            chain.send(contexts.functions.setContext(license_id, ctx), chain.deployer)
            chain.send(tracker.functions.seedUsedLicense(content_id, license_id), chain.deployer)
        ids, chains, prices = tracker.functions.aggregateInputs(content_id).call()
        assert len(ids) == 50 and chains == [lic.chain for lic in licenses]
        domain = tracker.functions.domain().call()
        chunks = prove_aggregate(licenses, domain)
        assert len(chunks) == 7
        out = aggregate_outputs(chunks)
        revenue = sum(200 * lic.price_per_use for lic in licenses)
        assert (out.total_uses, out.total_revenue, out.unique_licensees) == (10_000, revenue, 50)
        assert verify_aggregate(chunks, chains=chains, prices=prices, domain=domain)
        receipt = chain.send(tracker.functions.recordAggregateProof(content_id, *aggregate_call_args(chunks)),
                             chain.other)
        (event,) = chain.events(tracker, receipt, "ProofRecorded")
        assert list(event["publicSignals"]) == aggregate_record_signals(chunks)
        print(f"recordAggregateProof, 50 licensees / 10,000 uses in 7 chunks: {receipt['gasUsed']:,} gas")
        assert receipt["gasUsed"] < 30_000_000
