"""Contract of the access path's ports (``KeyStore``, ``RateLimiter``, ``LicenseUses``) and of the
usage context's ``UsageLog``."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from marketplace.access.adapters import AccessDynamoStore
from marketplace.access.fakes import MemoryAccessStore
from marketplace.access.models import ClaimRefused
from marketplace.usage.adapters import DynamoUsageLog
from marketplace.usage.fakes import MemoryUsageLog
from marketplace.usage.models import BatchState, UsageEvent
from marketplace.usage.ports import UsageConflict

pytestmark = pytest.mark.contract

LID, CID = "0x" + "11" * 32, "0x" + "cc" * 32


def access_store(b):
    tables = {n: b.tables[n] for n in ("apikeys", "ratelimits", "licenses")}
    return MemoryAccessStore(**tables) if b.kind == "memory" else AccessDynamoStore(**tables)


def usage_log(b):
    return MemoryUsageLog(b.tables["usage"]) if b.kind == "memory" else DynamoUsageLog(b.tables["usage"])


def license_item(**extra):
    return {"licenseId": LID, "contentId": CID, "usesGranted": 0, "maxUses": 2, "validFrom": 5, "validUntil": 100,
            **extra}


def test_a_key_reads_back_with_its_licenses_static_facts(backend):
    s = access_store(backend)
    backend.put("apikeys", {"keyHash": "h1", "licenseId": LID, "contentId": CID, "commitment": str(2**250),
                            "validUntil": 100, "objectKey": "Qm1", "revokedAt": 7})
    k = s.get_key("h1")
    assert (k.license_id, k.content_id, k.commitment, k.valid_until, k.object_key, k.revoked_at) == (
        LID, CID, 2**250, 100, "Qm1", 7)
    assert s.get_key("h2") is None


def test_the_rate_limiter_counts_up_to_the_limit_exactly(backend):
    s = access_store(backend)
    with ThreadPoolExecutor(8) as pool:
        counts = list(pool.map(lambda _: s.hit("key#h#60", 5, 180), range(12)))
    assert sorted(c for c in counts if c is not None) == [1, 2, 3, 4, 5] and counts.count(None) == 7
    assert s.hit("key#h#120", 5, 240) == 1
    assert backend.get("ratelimits", {"pk": "key#h#60"})["ttl"] == 180


def test_a_claim_counts_one_use_in_sequence_until_exhausted(backend):
    s = access_store(backend)
    backend.put("licenses", license_item())
    first, second = s.claim_use(LID, CID, 10), s.claim_use(LID, CID, 11)
    assert (first.seq, first.uses, first.max_uses, first.valid_from, first.valid_until) == (0, 1, 2, 5, 100)
    assert (second.seq, second.uses) == (1, 2)
    with pytest.raises(ClaimRefused) as refused:
        s.claim_use(LID, CID, 12)
    assert (refused.value.state.uses, refused.value.state.max_uses) == (2, 2)
    item = backend.get("licenses", {"licenseId": LID})
    assert (item["usesGranted"], item["firstUsedAt"], item["lastUsedAt"]) == (2, 10, 11)


@pytest.mark.parametrize("change, now, content", [
    ({"revokedAt": 3}, 10, CID), ({}, 100, CID), ({"usesGranted": 2}, 10, CID), ({}, 10, "0x" + "dd" * 32)],
    ids=["revoked", "expired", "exhausted", "other-content"])
def test_a_refused_claim_changes_nothing_and_shows_the_item(backend, change, now, content):
    s = access_store(backend)
    backend.put("licenses", license_item(**change))
    with pytest.raises(ClaimRefused) as refused:
        s.claim_use(LID, content, now)
    assert refused.value.state.license_id == LID and refused.value.state.revoked_at == change.get("revokedAt")
    assert backend.get("licenses", {"licenseId": LID})["usesGranted"] == change.get("usesGranted", 0)


def test_a_claim_on_no_license_is_refused_without_an_item(backend):
    with pytest.raises(ClaimRefused) as refused:
        access_store(backend).claim_use(LID, CID, 10)
    assert refused.value.state is None


def test_parallel_claims_never_pass_max_uses(backend):
    s = access_store(backend)
    backend.put("licenses", license_item(maxUses=5))

    def claim(_):
        try:
            return s.claim_use(LID, CID, 10).seq
        except ClaimRefused:
            return None

    with ThreadPoolExecutor(8) as pool:
        seqs = list(pool.map(claim, range(12)))
    assert sorted(x for x in seqs if x is not None) == [0, 1, 2, 3, 4]


def event(seq, license_id=LID):
    return UsageEvent(license_id=license_id, seq=seq, timestamp=1000 + seq, content_id=CID, endpoint="/e",
                      method="POST", ip="1.2.3.4", request_id=f"r{seq}", call_hash=2**253 + seq)


def test_usage_events_are_recorded_once_and_read_pending_in_order(backend):
    log = usage_log(backend)
    for seq in (2, 0, 1, 3):
        log.record(event(seq))
    log.record(event(0, "0x" + "22" * 32))
    with pytest.raises(UsageConflict):
        log.record(event(1))
    assert log.pending(LID) == [event(0), event(1), event(2), event(3)]
    assert [e.seq for e in log.pending(LID, from_seq=1, limit=2)] == [1, 2]
    assert backend.get("usage", {"licenseId": LID, "seq": 0})["callHash"] == str(2**253)


def test_proven_events_leave_the_pending_list(backend):
    log = usage_log(backend)
    for seq in range(4):
        log.record(event(seq))
    assert log.mark_proven(LID, [0, 1]) == 2
    assert log.mark_proven(LID, [1, 9]) == 0  # already proven; no such event
    assert [e.seq for e in log.pending(LID)] == [2, 3]
    assert backend.get("usage", {"licenseId": LID, "seq": 0})["batch"] == BatchState.PROVEN
