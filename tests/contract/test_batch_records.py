"""The usage context's ``BatchRecords`` port (table ``batches``) over the fake and the DynamoDB
adapter, and the batch worker storing one record per marked batch with the digest it proved."""

from __future__ import annotations

import pytest
from marketplace.usage.adapters import DynamoBatchRecords
from marketplace.usage.batch_models import Submitted
from marketplace.usage.batch_steps import UsageBatchSteps, batch_id
from marketplace.usage.fakes import MemoryBatchRecords, MemoryUsageLog
from marketplace.zk.inputs import BatchRecord, fold_chain

pytestmark = pytest.mark.contract

LID = "0x" + "11" * 32
TX = "0x" + "ee" * 32
BIG = (1 << 253) + 12345  # a digest is a field element: above 2^64, kept exactly


def records(b):
    return MemoryBatchRecords(b.tables["batches"]) if b.kind == "memory" else DynamoBatchRecords(b.tables["batches"])


def test_records_come_back_in_start_index_order_with_exact_digests(backend):
    store = records(backend)
    store.put(LID, 70, {"digest": BIG, "count": 3, "window_start": 5000, "window_end": 9000}, batch_id="0x" + "02" * 32,
              tx_hash=TX)
    store.put(LID, 6, {"digest": 7, "count": 64, "window_start": 1000, "window_end": 4000}, batch_id="0x" + "01" * 32,
              tx_hash=None)
    store.put("0x" + "22" * 32, 0, {"digest": 1, "count": 1, "window_start": 1, "window_end": 2}, batch_id="0x" + "03" * 32,
              tx_hash=None)
    got = store.list(LID)
    assert [r["startIndex"] for r in got] == [6, 70]
    assert got[1] == {"startIndex": 70, "digest": BIG, "count": 3, "window_start": 5000, "window_end": 9000,
                      "batchId": "0x" + "02" * 32, "txHash": TX}
    assert got[0]["txHash"] is None
    assert store.list("0x" + "33" * 32) == []


def test_a_batch_is_recorded_once(backend):
    store = records(backend)
    store.put(LID, 0, {"digest": 1, "count": 1, "window_start": 1, "window_end": 2}, batch_id="0x" + "01" * 32,
              tx_hash=TX)
    store.put(LID, 0, {"digest": 999, "count": 1, "window_start": 1, "window_end": 2}, batch_id="0x" + "01" * 32,
              tx_hash=TX)  # a recovered run writes it again: the first record stays
    assert [r["digest"] for r in store.list(LID)] == [1]


class _Licenses:
    def __init__(self):
        self.completed = []

    def complete(self, license_id, uses_proven, cursor):
        self.completed.append((license_id, uses_proven, cursor))

    def unlock(self, license_id):
        pass


def test_mark_stores_the_proved_digest_and_the_records_fold_to_the_chain():
    store = MemoryBatchRecords()
    steps = UsageBatchSteps(usage=MemoryUsageLog(), licenses=_Licenses(), chain=None, seal_key=lambda: "",
                            records=store)
    chain = 0
    for start, (digest, count, ws, we) in [(0, (11, 2, 100, 4000)), (2, (22, 1, 4000, 8000))]:
        chain = BatchRecord(digest, count, ws, we).next_chain(chain)
        sub = Submitted(licenseId=LID, startIndex=start, count=count, windowStart=ws, windowEnd=we, chainOld="0",
                        seqs=list(range(start, start + count)), nextCursor=start + count, chainNew=str(chain),
                        proof=["0"] * 8, digest=str(digest), batchId=batch_id(LID, start), txHash=TX, blockNumber=5)
        steps.mark(sub)
    got = store.list(LID)
    assert [(r["digest"], r["count"]) for r in got] == [(11, 2), (22, 1)]
    assert got[1]["batchId"] == batch_id(LID, 2)
    assert fold_chain([BatchRecord(r["digest"], r["count"], r["window_start"], r["window_end"]) for r in got]) == chain
