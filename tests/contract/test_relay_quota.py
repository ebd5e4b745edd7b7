"""The per-address quota of relayed work (``marketplace.chain.quota``) over the in-memory counter and
the DynamoDB one (moto): exact under concurrency, per address and per window, 429 with Retry-After
and the error body past the limit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from marketplace.adapters.dynamodb import WindowCounter
from marketplace.chain.quota import RelayQuota, RelayQuotaSettings
from marketplace.errors import RateLimitedError, error_record
from marketplace.shared.memory import MemoryWindowCounter

pytestmark = pytest.mark.contract

ALICE = "0x" + "a1" * 20
BOB = "0x" + "b2" * 20
T0 = 1_750_000_000 - 1_750_000_000 % 600  # the start of a 600 s window


def counter(backend):
    t = backend.tables["ratelimits"]
    return MemoryWindowCounter(t) if backend.kind == "memory" else WindowCounter(t)


class Clock:
    def __init__(self, t: int) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_concurrent_relayed_requests_get_exactly_the_limit(backend):
    quota = RelayQuota(counter(backend), RelayQuotaSettings(limit=5, window_seconds=600), Clock(T0 + 10))

    def take(_):
        try:
            return quota.take(ALICE, "createTermsWithSig")
        except RateLimitedError as err:
            return err

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(take, range(16)))
    left = sorted(o for o in outcomes if isinstance(o, int))
    refused = [o for o in outcomes if isinstance(o, RateLimitedError)]
    assert left == [0, 1, 2, 3, 4] and len(refused) == 11
    assert quota.take(BOB, "purchaseWithPermit") == 4  # another address has its own quota
    assert backend.get("ratelimits", {"pk": f"relay#{ALICE}#{T0}"})["n"] == 5


def test_past_the_limit_is_429_with_retry_after_and_the_error_body(backend):
    clock = Clock(T0 + 100)
    quota = RelayQuota(counter(backend), RelayQuotaSettings(limit=1, window_seconds=600), clock)
    quota.take(ALICE.upper().replace("0X", "0x"), "registerContent")  # addresses count case-insensitively
    with pytest.raises(RateLimitedError) as err:
        quota.take(ALICE, "registerContent")
    record = error_record(err.value)
    assert record["status"] == 429 and record["headers"]["Retry-After"] == "500"
    body = record["body"]
    assert body["error"] == "RATE_LIMITED" and body["message"]
    assert body["details"] == {"limit": 1, "windowSeconds": 600, "operation": "registerContent", "retryAfter": 500}
    clock.t = T0 + 600  # the next window
    assert quota.take(ALICE, "registerContent") == 0
