"""The registration saga's steps over in-memory stores: ids, error mapping, compensation ownership.
(The full saga against moto, the prover and a Hardhat node is in tests/integration.)"""

from __future__ import annotations

import hashlib

import pytest
from eth_abi import encode
from eth_utils import keccak
from marketplace import ipfs
from marketplace.content.adapters import ProvedAuthenticity
from marketplace.content.fakes import MemoryContent, MemoryObjects, MemoryRegistrations
from marketplace.content.saga import CLOCK_MARGIN_SECONDS, RegistrationSteps, content_id, creator_secret
from marketplace.errors import (
    BlockchainError,
    ConflictError,
    InternalError,
    MarketplaceError,
    ProofGenerationError,
)
from marketplace.zk.field import P, split_256
from marketplace.zk.inputs import creator_commitment, timestamp_commitment

pytestmark = pytest.mark.unit

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
CREATOR = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def test_content_id_is_the_registry_formula():
    h = hashlib.sha256(b"x").digest()
    want = keccak(encode(["uint256", "address", "bytes32"], [31337, REGISTRY, h]))
    assert content_id(31337, REGISTRY, h) == "0x" + want.hex()


def test_creator_secret_is_keyed_per_address_and_in_the_field():
    a = creator_secret(b"k" * 32, CREATOR)
    assert a == creator_secret(b"k" * 32, CREATOR) and 0 <= a < P
    assert a != creator_secret(b"j" * 32, CREATOR)
    assert a != creator_secret(b"k" * 32, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8")


class Registrations(MemoryRegistrations):
    """The shared fake, holding one registration; ``item`` is the stored dict (live)."""

    def __init__(self, item):
        super().__init__()
        self.rid = item["registrationId"]
        self.table.put(item)

    @property
    def item(self):
        return self.table[self.rid]


class Content(MemoryContent):
    """The shared fake; ``items`` is the stored items by content id."""

    def __init__(self, items=None):
        super().__init__()
        for item in (items or {}).values():
            self.table.put(item)

    @property
    def items(self):
        return dict(self.table)


Objects = MemoryObjects


DATA = b"some content"
CID = ipfs.compute_bytes(DATA)
CONTENT_ID = content_id(31337, REGISTRY, CID.sha256)


class ClockChain:
    """A node that only tells its latest block's time."""

    def __init__(self, now=1_750_000_000):
        self.now = now

    def block_timestamp(self):
        return self.now


def steps(content=None, prove=None, chain=None, sleep=None, clock=None):
    regs = Registrations({"registrationId": "r1", "creator": CREATOR, "state": "PENDING"})
    objects = Objects({("uploads", "uploads/r1"): DATA})
    s = RegistrationSteps(registrations=regs, content=content or Content(), objects=objects,
                          content_bucket="content", uploads_bucket="uploads", chain_id=31337, registry=REGISTRY,
                          chain=chain or ClockChain, prove_authenticity=prove or (lambda **kw: None),
                          identity_key=lambda: b"k" * 32, sleep=sleep or (lambda seconds: None),
                          clock=clock or (lambda: 1_750_000_000.5))
    return s, regs, objects


def honest_prover(calls):
    """Public signals as the circuit computes them (Python Poseidon), for the window [t, t]."""

    def prove(*, creator_secret, content_hash, timestamp, salt, domain):
        calls.append(timestamp)
        return ProvedAuthenticity([creator_commitment(creator_secret), timestamp_commitment(timestamp, salt, content_hash),
                                   *split_256(content_hash), timestamp, timestamp, domain], list(range(8)))

    return prove


@pytest.mark.parametrize(("chain_now", "clock", "expected"), [
    (1_750_000_000, 1_750_000_000.9, 1_750_000_000),           # the chain's latest block: in step
    (1_750_000_000 + 86_400, 1_750_000_000.0, 1_750_086_400),  # a chain moved ahead (evm_increaseTime)
    (1_750_000_000 - 293, 1_750_000_000.0, 1_750_000_000 - 293),  # idle for minutes: still its block time
    (1_700_000_000, 1_750_000_000.0, 1_750_000_000 - CLOCK_MARGIN_SECONDS),  # idle past the hour: the clock
])
def test_prove_commits_to_the_chain_time_and_exposes_the_window(chain_now, clock, expected):
    calls = []
    s, regs, _ = steps(prove=honest_prover(calls), chain=lambda: ClockChain(chain_now), clock=lambda: clock)
    stored = s.run("store", STATE)
    out = s.run("prove", {**STATE, "store": {"value": stored}})
    assert calls == [expected]
    assert (out["notBefore"], out["notAfter"]) == (expected, expected)
    assert regs.item["timestampOpening"]["timestamp"] == expected
    # the registry will check that window against its block time: it never starts after the
    # latest block the step saw, nor later than its own clock minus the margin
    assert expected <= max(chain_now, clock)


def test_prove_refuses_a_proof_for_another_window():
    calls = []
    honest = honest_prover(calls)

    def shifted(**kw):  # a proof of the same commitment for the window [t - 1, t]
        signals = honest(**kw).public_signals
        signals[4] -= 1
        return ProvedAuthenticity(signals, [0] * 8)

    s, _, _ = steps(prove=shifted)
    stored = s.run("store", STATE)
    with pytest.raises(ProofGenerationError, match="Unable to generate proof"):
        s.run("prove", {**STATE, "store": {"value": stored}})


def test_prove_with_the_node_down_is_blockchain_error():
    class Down:
        def block_timestamp(self):
            raise ConnectionError("node down")

    s, regs, _ = steps(prove=honest_prover([]), chain=Down)
    stored = s.run("store", STATE)
    with pytest.raises(BlockchainError):
        s.run("prove", {**STATE, "store": {"value": stored}})
    assert regs.item["lastError"]["body"]["error"] == "BLOCKCHAIN_ERROR"


STATE = {"registrationId": "r1", "creator": CREATOR, "uploadKey": "uploads/r1", "metadata": {"title": "t"}}


def test_store_claims_and_copies_under_the_cid():
    s, regs, objects = steps()
    out = s.run("store", STATE)
    assert out["contentId"] == CONTENT_ID and out["ipfsCid"] == CID.v0
    assert out["contentHash"] == "0x" + hashlib.sha256(DATA).hexdigest()
    assert objects.objects[("content", CID.v0)] == DATA
    assert regs.item["stage"] == "store" and regs.item["contentId"] == CONTENT_ID


def test_store_of_registered_content_is_409_with_the_existing_id_and_compensation_keeps_its_object():
    content = Content({CONTENT_ID: {"contentId": CONTENT_ID, "state": "REGISTERED", "registrationId": "r0"}})
    s, regs, objects = steps(content)
    objects.objects[("content", CID.v0)] = DATA  # the registered content's object
    with pytest.raises(ConflictError) as err:
        s.run("store", STATE)
    assert err.value.details["contentId"] == CONTENT_ID and err.value.status == 409
    assert regs.item["lastError"]["status"] == 409
    s.run("compensate", {**STATE, "error": {"Error": "ConflictError", "Cause": "..."}})
    assert ("content", CID.v0) in objects.objects  # not ours: kept
    assert ("uploads", "uploads/r1") not in objects.objects  # staging: gone
    assert content.items[CONTENT_ID]["state"] == "REGISTERED"
    assert regs.item["state"] == "FAILED" and regs.item["error"]["body"]["error"] == "CONFLICT"


def test_compensation_after_our_claim_deletes_the_object_and_the_claim():
    content = Content()
    s, regs, objects = steps(content)
    s.run("store", STATE)
    s.run("compensate", {**STATE, "error": {"Error": "States.Timeout"}})
    assert objects.objects == {} and content.items == {}
    body = regs.item["error"]["body"]
    assert regs.item["state"] == "FAILED" and body["error"] == "INTERNAL_ERROR" and body["supportId"]


def test_an_unexpected_prover_failure_is_proof_generation_failed_with_support_id():
    def broken(**kwargs):
        raise RuntimeError("constraint failed")

    s, regs, _ = steps(prove=broken)
    stored = s.run("store", STATE)
    with pytest.raises(ProofGenerationError) as err:
        s.run("prove", {**STATE, "store": {"value": stored}})
    assert err.value.status == 500 and err.value.support_id.startswith("err_")
    assert regs.item["lastError"]["body"]["supportId"] == err.value.support_id


def test_a_proof_with_wrong_public_signals_is_refused():

    s, _, _ = steps(prove=lambda **kw: ProvedAuthenticity([1, 2, 3, 4, 5], [0] * 8))
    stored = s.run("store", STATE)
    with pytest.raises(ProofGenerationError, match="Unable to generate proof"):
        s.run("prove", {**STATE, "store": {"value": stored}})


def test_an_unexpected_chain_failure_is_blockchain_error():
    class Chain:
        def block_number(self):
            raise ConnectionError("node down")

    s, regs, _ = steps(chain=Chain)
    state = {**STATE, "store": {"value": {"contentId": CONTENT_ID}}, "prove": {"value": {"timestampCommitment": "1"}}}
    with pytest.raises(BlockchainError) as err:
        s.run("register", state)
    assert err.value.status == 503 and regs.item["lastError"]["body"]["error"] == "BLOCKCHAIN_ERROR"


class RecordingChain:
    """Mines nothing: records sends; ``logs`` is what the node would return for the content id."""

    def __init__(self, logs=()):
        self.logs, self.sent = list(logs), []

    def block_number(self):
        return 41

    def find_logs(self, contract, event, filters, from_block):
        assert (contract, event, filters, from_block) == (
            "ContentRegistry", "ContentRegistered", {"contentId": bytes.fromhex(CONTENT_ID[2:])}, 41)
        return self.logs

    def transact(self, *args, on_signed=None):
        self.sent.append(args)
        raise BlockchainError("Transaction failed: Registry__AlreadyRegistered")


REGISTER_STATE = {**STATE, "store": {"value": {"contentId": CONTENT_ID}},
                  "prove": {"value": {"timestampCommitment": "77"}}}


def test_a_retried_register_step_finds_its_own_mined_transaction():
    mine = {"args": {"timestampCommitment": 77}, "transactionHash": "0x" + "ab" * 32, "blockNumber": 42}
    chain = RecordingChain([mine])
    s, regs, _ = steps(chain=lambda: chain)
    regs.item["registerFromBlock"] = 41  # noted by the first attempt
    out = s.run("register", REGISTER_STATE)
    assert out == {"txHash": mine["transactionHash"], "blockNumber": 42, "contentId": CONTENT_ID}
    assert chain.sent == [] and regs.item["txHash"] == mine["transactionHash"]


def test_someone_elses_registration_of_the_hash_is_not_taken_for_ours():
    theirs = {"args": {"timestampCommitment": 1}, "transactionHash": "0x" + "cd" * 32, "blockNumber": 42}
    chain = RecordingChain([theirs])
    s, regs, _ = steps(chain=lambda: chain)
    regs.item["registerFromBlock"] = 41
    state = {**REGISTER_STATE, "store": {"value": {"contentId": CONTENT_ID, "contentHash": "0x" + "00" * 32,
                                                    "cidDigest": "0x" + "00" * 32}},
             "prove": {"value": {"timestampCommitment": "77", "creatorCommitment": "5", "notBefore": 1_750_000_000,
                                 "notAfter": 1_750_000_001, "proof": ["0"] * 8}}}
    with pytest.raises(BlockchainError):
        s.run("register", state)
    assert len(chain.sent) == 1 and "txHash" not in regs.item
    # registerContent(contentHash, cidDigest, creator, creatorCommitment, timestampCommitment,
    # notBefore, notAfter, proof): the window the proof was made for
    assert chain.sent[0][2:] == (bytes(32), bytes(32), CREATOR, 5, 77, 1_750_000_000, 1_750_000_001, [0] * 8)


def test_a_failure_without_a_recorded_error_maps_by_stage():
    s, regs, _ = steps()
    regs.item["stage"] = "prove"
    s.run("compensate", {**STATE, "error": {"Error": "Sandbox.Timedout"}})
    assert regs.item["error"]["body"]["error"] == "PROOF_GENERATION_FAILED"
    assert regs.item["error"]["body"]["details"]["cause"] == "Sandbox.Timedout"


def test_compensation_after_the_transaction_keeps_the_object():
    content = Content()
    s, regs, objects = steps(content)
    s.run("store", STATE)
    regs.item["txHash"] = "0x" + "aa" * 32
    s.run("compensate", {**STATE, "error": {"Error": "States.TaskFailed"}})
    assert ("content", CID.v0) in objects.objects and CONTENT_ID in content.items
    assert regs.item["state"] == "FAILED"


def test_unknown_step_is_refused():
    s, _, _ = steps()
    with pytest.raises(ValueError):
        s.run("drop_tables", STATE)


def test_internal_error_type_for_store_failures():
    s, _, objects = steps()
    objects.open_version = lambda *a: (_ for _ in ()).throw(OSError("disk"))
    with pytest.raises(InternalError):
        s.run("store", STATE)


def test_a_conflicting_registrations_compensation_never_deletes_the_object():
    """Registration r1 lost the claim to r0 (409). By the time r1 compensates, r0 has failed and
    released its claim, and a third registration may be copying the same bytes to the same key:
    r1 never held the claim, so it must not delete that object."""
    content = Content({CONTENT_ID: {"contentId": CONTENT_ID, "state": "CREATED", "registrationId": "r0"}})
    s, regs, objects = steps(content)
    with pytest.raises(ConflictError):
        s.run("store", STATE)
    content.table.clear()  # r0 released its claim
    objects.objects[("content", CID.v0)] = DATA  # another registration's copy under the CID
    s.run("compensate", {**STATE, "error": {"Error": "ConflictError"}})
    assert objects.objects[("content", CID.v0)] == DATA
    assert regs.item["state"] == "FAILED" and regs.item["error"]["body"]["error"] == "CONFLICT"


def test_the_claim_holder_deletes_its_object_before_releasing_the_claim():
    """While the claim is held nobody else can copy to the CID's key; after it, someone may."""
    content = Content()
    s, _, objects = steps(content)
    s.run("store", STATE)
    order = []
    release, delete = content.release, objects.delete
    content.release = lambda *a: (order.append("release"), release(*a))[1]
    objects.delete = lambda bucket, key: (order.append(f"delete {bucket}"), delete(bucket, key))[1]
    s.run("compensate", {**STATE, "error": {"Error": "States.Timeout"}})
    assert order[:2] == ["delete content", "release"]
    assert objects.objects == {} and content.items == {}


COMPENSATE_AFTER_REGISTER = {**REGISTER_STATE, "error": {"Error": "BlockchainError"}}


def test_compensation_keeps_the_object_of_a_transaction_mined_before_the_step_failed():
    """The register step sent its transaction, then failed before recording it (receipt wait timed
    out, journal write failed): the content is on chain, so its object and claim must stay."""
    mine = {"args": {"timestampCommitment": 77}, "transactionHash": "0x" + "ab" * 32, "blockNumber": 42}
    content = Content()
    s, regs, objects = steps(content, chain=lambda: RecordingChain([mine]))
    s.run("store", STATE)
    regs.item.update(stage="register", registerFromBlock=41)
    s.run("compensate", COMPENSATE_AFTER_REGISTER)
    assert ("content", CID.v0) in objects.objects and content.items[CONTENT_ID]["state"] == "CREATED"
    assert regs.item["txHash"] == mine["transactionHash"] and regs.item["blockNumber"] == 42
    assert regs.item["state"] == "FAILED" and regs.item["error"]["body"]["error"] == "BLOCKCHAIN_ERROR"


@pytest.mark.parametrize("chain", [RecordingChain([]), None], ids=["nothing mined", "node unreachable"])
def test_compensation_after_an_unmined_register_step_deletes_the_object(chain):
    def factory():
        if chain is None:
            raise ConnectionError("node down")
        return chain

    content = Content()
    s, regs, objects = steps(content, chain=factory)
    s.run("store", STATE)
    regs.item.update(stage="register", registerFromBlock=41)
    s.run("compensate", COMPENSATE_AFTER_REGISTER)
    assert objects.objects == {} and content.items == {}
    assert "txHash" not in regs.item and regs.item["state"] == "FAILED"


# -- a register step that sent its transaction and failed before the receipt ------------------------

SENT = {"txHash": "0x" + "5e" * 32, "nonce": 7}
MINE = {"args": {"timestampCommitment": 77}, "transactionHash": SENT["txHash"], "blockNumber": 43}


class SentChain(RecordingChain):
    """The node's view of our sent transaction: ``pending`` until something settles it."""

    def __init__(self, logs=(), pending=False, tx_timeout=60):
        super().__init__(logs)
        self.pending, self.tx_timeout, self.polls = pending, tx_timeout, []

    def tx_pending(self, tx_hash, nonce):
        self.polls.append((tx_hash, nonce))
        return self.pending


def compensate_after_send(chain, sleep=None):
    content = Content()
    s, regs, objects = steps(content, chain=chain, sleep=sleep)
    s.run("store", STATE)
    regs.item.update(stage="register", registerFromBlock=41, registerTx=dict(SENT))
    s.run("compensate", COMPENSATE_AFTER_REGISTER)
    return regs.item, content, objects


def test_the_register_step_journals_its_transaction_before_sending_it():
    journaled = []

    class TimingOut(RecordingChain):
        def transact(self, *args, on_signed):
            on_signed(SENT["txHash"], SENT["nonce"])
            journaled.append(dict(regs.item.get("registerTx", {})))  # what the journal holds at send time
            raise BlockchainError("Transaction not mined in time", {"txHash": SENT["txHash"]})

    s, regs, _ = steps(chain=TimingOut)
    state = {**REGISTER_STATE, "store": {"value": {"contentId": CONTENT_ID, "contentHash": "0x" + "00" * 32,
                                                    "cidDigest": "0x" + "00" * 32}},
             "prove": {"value": {"timestampCommitment": "77", "creatorCommitment": "5", "notBefore": 1,
                                 "notAfter": 1, "proof": ["0"] * 8}}}
    with pytest.raises(BlockchainError):
        s.run("register", state)
    assert journaled == [SENT] and regs.item["registerTx"] == SENT


def test_a_transaction_still_pending_after_the_wait_keeps_object_and_claim_for_reconciliation():
    chain = SentChain(pending=True, tx_timeout=0)
    item, content, objects = compensate_after_send(lambda: chain)
    assert chain.polls == [(SENT["txHash"], 7)]
    assert ("content", CID.v0) in objects.objects and content.items[CONTENT_ID]["state"] == "CREATED"
    assert ("uploads", "uploads/r1") not in objects.objects
    body = item["error"]["body"]
    assert item["state"] == "FAILED" and body["error"] == "BLOCKCHAIN_ERROR" and body["supportId"]
    assert body["details"]["reconcile"] is True and body["details"]["txHash"] == SENT["txHash"]
    assert "txHash" not in item


def test_compensation_waits_for_a_pending_transaction_and_keeps_the_object_once_it_is_mined():
    chain = SentChain(pending=True)

    def sleep(seconds):  # the transaction is mined while compensation waits
        chain.pending = False
        chain.logs.append(MINE)

    item, content, objects = compensate_after_send(lambda: chain, sleep)
    assert len(chain.polls) == 2
    assert ("content", CID.v0) in objects.objects and CONTENT_ID in content.items
    assert item["txHash"] == SENT["txHash"] and item["blockNumber"] == 43
    assert "reconcile" not in (item["error"]["body"]["details"] or {})


def test_a_dropped_replaced_or_reverted_transaction_is_compensated():
    """Not pending and no ContentRegistered of ours: nothing of this registration is on chain."""
    chain = SentChain(pending=False)
    item, content, objects = compensate_after_send(lambda: chain)
    assert chain.polls == [(SENT["txHash"], 7)]
    assert objects.objects == {} and content.items == {}
    assert item["state"] == "FAILED" and "reconcile" not in (item["error"]["body"]["details"] or {})


def test_a_settled_transaction_found_mined_keeps_the_object():
    item, _, objects = compensate_after_send(lambda: SentChain([MINE]))
    assert ("content", CID.v0) in objects.objects and item["txHash"] == SENT["txHash"]


def test_a_sent_transaction_with_the_node_unreachable_is_not_compensated():
    def down():
        raise ConnectionError("node down")

    item, content, objects = compensate_after_send(down)
    assert ("content", CID.v0) in objects.objects and CONTENT_ID in content.items
    assert item["state"] == "FAILED" and item["error"]["body"]["details"]["reconcile"] is True


@pytest.mark.parametrize("step, code", [("store", "INTERNAL_ERROR"), ("prove", "PROOF_GENERATION_FAILED"),
                                        ("register", "BLOCKCHAIN_ERROR"), ("cache", "INTERNAL_ERROR")])
def test_an_unexpected_failure_in_any_step_is_its_stages_error_with_the_logged_support_id(step, code, monkeypatch, caplog):
    """``run``'s fallback: whatever a step raises that is not a MarketplaceError becomes the stage's
    error type, with one supportId in the raised error, the journal and the log record."""
    s, regs, _ = steps()

    def broken(state):
        raise KeyError("a bug in the step")

    monkeypatch.setattr(s, step, broken)
    with caplog.at_level("ERROR", logger="marketplace.content.saga"), pytest.raises(MarketplaceError) as err:
        s.run(step, STATE)
    assert err.value.code == code and isinstance(err.value.__cause__, KeyError)
    support_id = err.value.body()["supportId"]
    assert support_id.startswith("err_") and regs.item["lastError"]["body"]["supportId"] == support_id
    assert [r.supportId for r in caplog.records if r.getMessage() == "saga step failed"] == [support_id]


@pytest.mark.parametrize("stage", [None, "store", "prove", "register", "cache"])
def test_a_step_that_died_unrecorded_is_compensated_with_a_support_id(stage):
    """A timeout or crash records nothing: compensation makes the stage's error from $.error."""
    s, regs, _ = steps()
    state = {**STATE, "error": {"Error": "States.Timeout"}}
    if stage is not None:
        regs.update("r1", {"stage": stage})
    s.run("compensate", state)
    body = regs.item["error"]["body"]
    assert body["supportId"].startswith("err_")
    assert body["error"] == {"prove": "PROOF_GENERATION_FAILED", "register": "BLOCKCHAIN_ERROR"}.get(stage, "INTERNAL_ERROR")
