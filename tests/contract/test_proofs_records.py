"""The proofs context's reading of the platform's usage records (``DynamoLicenseRecords.served``):
the uses served to a license, counted from the usage items the access path writes, and how many lie
outside the validity (a count: no use's time leaves the adapter); the fake answers the same."""

from __future__ import annotations

import pytest
from marketplace.proofs.adapters import DynamoLicenseRecords
from marketplace.proofs.fakes import MemoryLicenseRecords
from marketplace.usage.adapters import DynamoUsageLog
from marketplace.usage.models import UsageEvent

pytestmark = pytest.mark.contract

LID, OTHER, CID = "0x" + "11" * 32, "0x" + "22" * 32, "0x" + "cc" * 32
TIMES = [1_000, 1_500, 2_000, 2_600]  # validity [1_000, 2_500]: one outside


def test_served_uses_and_those_outside_the_validity(backend):
    if backend.kind == "memory":
        records = MemoryLicenseRecords()
        records.served_times[LID] = list(TIMES)
    else:
        log = DynamoUsageLog(backend.tables["usage"])
        for seq, t in enumerate(TIMES):
            log.record(UsageEvent(license_id=LID, seq=seq, timestamp=t, content_id=CID, endpoint="/e", method="POST",
                                  ip="1.2.3.4", request_id=f"r{seq}", call_hash=seq + 1))
        log.record(UsageEvent(license_id=OTHER, seq=0, timestamp=1_200, content_id=CID, endpoint="/e",
                              method="POST", ip="1.2.3.4", request_id="x", call_hash=9))
        records = DynamoLicenseRecords(backend.tables["licenses"], backend.tables["usage"])
    assert records.served(LID, 1_000, 2_500) == {"uses": 4, "outsideValidity": 1}
    assert records.served(LID, 0, 10_000) == {"uses": 4, "outsideValidity": 0}
    assert records.served("0x" + "33" * 32, 0, 10) == {"uses": 0, "outsideValidity": 0}
