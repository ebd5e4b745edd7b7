"""The usage context's ``UsageSigners`` port over the fake and the DynamoDB adapter: registration
and revocation (idempotent, also from chain events), and a signed use stored together with its
signer's counter, refused for an unknown or revoked signer and for any counter but the next."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from marketplace.chain.events import ChainEvent
from marketplace.usage.adapters import DynamoUsageLog, DynamoUsageSigners
from marketplace.usage.chain_events import apply_signer_event
from marketplace.usage.fakes import MemoryUsageLog, MemoryUsageSigners
from marketplace.usage.models import BatchState, SignedAccess, SignerState, UsageEvent
from marketplace.usage.ports import SignerRefused, UsageConflict

pytestmark = pytest.mark.contract

LID, CID = "0x" + "11" * 32, "0x" + "cc" * 32
WORKER = "0x" + "ab" * 20
TX = "0x" + "ee" * 32


def stores(b):
    if b.kind == "memory":
        log = MemoryUsageLog(b.tables["usage"])
        return MemoryUsageSigners(b.tables["usage-signers"], log), log
    return DynamoUsageSigners(b.tables["usage-signers"], b.tables["usage"]), DynamoUsageLog(b.tables["usage"])


def signed_event(seq: int, counter: int, signer: str = WORKER) -> UsageEvent:
    return UsageEvent(license_id=LID, seq=seq, timestamp=1000 + seq, content_id=CID, endpoint="/e", method="POST",
                      ip="1.2.3.4", request_id=f"r{seq}", call_hash=seq + 1,
                      access=SignedAccess(signer, counter, "0x" + f"{counter:064x}", "0x" + "5a" * 65))


def event(name: str, signer: str = WORKER, **extra) -> ChainEvent:
    return ChainEvent(contract="LicenseManager", event=name, args={"licenseId": LID, "signer": signer, **extra},
                      txHash=TX, logIndex=0, blockNumber=1, blockHash="0x" + "01" * 32)


def test_add_and_revoke_are_idempotent(backend):
    signers, _ = stores(backend)
    assert signers.add(LID, WORKER.upper().replace("0X", "0x"), 10, TX)
    assert not signers.add(LID, WORKER, 11, TX)
    got = signers.get(LID, WORKER)
    assert got.state == SignerState.ACTIVE and got.last_counter == 0 and got.added_at == 10 and got.signer == WORKER
    assert signers.revoke(LID, WORKER, 20, TX)
    assert not signers.revoke(LID, WORKER, 21, TX)
    got = signers.get(LID, WORKER)
    assert got.state == SignerState.REVOKED and got.revoked_at == 20
    assert not signers.add(LID, WORKER, 30, TX)  # a revoked signer is never registered again
    assert [s.signer for s in signers.list(LID)] == [WORKER]


def test_chain_events_apply_once_and_a_revocation_may_come_first(backend):
    signers, _ = stores(backend)
    assert apply_signer_event(event("UsageSignerAdded"), signers, now=5)
    assert not apply_signer_event(event("UsageSignerAdded"), signers, now=6)  # redelivered
    assert signers.get(LID, WORKER).state == SignerState.ACTIVE
    other = "0x" + "cd" * 20
    assert apply_signer_event(event("UsageSignerRevoked", other, effectiveAt=99), signers, now=7)
    assert not apply_signer_event(event("UsageSignerAdded", other), signers, now=8)
    assert signers.get(LID, other).state == SignerState.REVOKED
    assert not apply_signer_event(ChainEvent(contract="UsageTracker", event="UsageLogged", args={}, txHash=TX,
                                             logIndex=1, blockNumber=1, blockHash=TX), signers)


def test_a_signed_use_advances_its_signer_with_the_event(backend):
    signers, log = stores(backend)
    signers.add(LID, WORKER, 1, TX)
    signers.record_signed_use(signed_event(0, 1))
    signers.record_signed_use(signed_event(1, 2))
    got = signers.get(LID, WORKER)
    assert got.last_counter == 2 and got.last_request_hash == "0x" + f"{2:064x}"
    (first, second) = log.pending(LID)
    assert first.access.counter == 1 and second.access.signer == WORKER and second.batch == BatchState.PENDING


@pytest.mark.parametrize("counter", [1, 2, 4])
def test_any_counter_but_the_next_is_refused_and_stores_nothing(backend, counter):
    signers, log = stores(backend)
    signers.add(LID, WORKER, 1, TX)
    signers.record_signed_use(signed_event(0, 1))
    signers.record_signed_use(signed_event(1, 2))
    with pytest.raises(SignerRefused) as refused:
        signers.record_signed_use(signed_event(2, counter))
    assert refused.value.current.last_counter == 2
    assert [e.seq for e in log.pending(LID)] == [0, 1]


def test_unknown_and_revoked_signers_are_refused(backend):
    signers, log = stores(backend)
    with pytest.raises(SignerRefused) as refused:
        signers.record_signed_use(signed_event(0, 1))
    assert refused.value.current is None
    signers.add(LID, WORKER, 1, TX)
    signers.revoke(LID, WORKER, 2, TX)
    with pytest.raises(SignerRefused) as refused:
        signers.record_signed_use(signed_event(0, 1))
    assert refused.value.current.state == SignerState.REVOKED
    assert log.pending(LID) == []


def test_a_taken_seq_is_a_conflict(backend):
    signers, _ = stores(backend)
    signers.add(LID, WORKER, 1, TX)
    signers.record_signed_use(signed_event(0, 1))
    with pytest.raises(UsageConflict):
        signers.record_signed_use(signed_event(0, 2))
    assert signers.get(LID, WORKER).last_counter == 1


def test_parallel_uses_with_one_counter_store_exactly_one(backend):
    signers, log = stores(backend)
    signers.add(LID, WORKER, 1, TX)

    def attempt(seq):
        try:
            signers.record_signed_use(signed_event(seq, 1))
            return True
        except SignerRefused:
            return False

    with ThreadPoolExecutor(8) as pool:
        assert sum(pool.map(attempt, range(8))) == 1
    assert len(log.pending(LID)) == 1


def test_mark_proven_records_batch_tx_and_index(backend):
    signers, log = stores(backend)
    signers.add(LID, WORKER, 1, TX)
    for seq in range(3):
        signers.record_signed_use(signed_event(seq, seq + 1))
    assert log.mark_proven(LID, [0, 2], batch_id="0x" + "b0" * 32, tx_hash=TX, first_index=5) == 2
    events = {e.seq: e for e in log.events_from(LID, 0, 10)}
    assert events[0].batch == BatchState.PROVEN and events[0].index == 5 and events[2].index == 6
    assert events[2].batch_id == "0x" + "b0" * 32 and events[2].tx_hash == TX
    assert events[1].batch == BatchState.PENDING and events[1].index is None
    assert [e.seq for e in log.events_from(LID, 1, 1)] == [1]
