"""Per-address quotas of relayed work: what the platform's relayer pays gas for on a caller's behalf
(a registration's ``registerContent``, relayed terms, purchases, revocations, usage-signer changes,
a new compliance or aggregate proof recorded on chain).

A fresh address costs nothing to make, so without a limit anyone could spend the relayer's ETH.
Each address may have ``limit`` relayed operations per fixed window of ``window_seconds`` (aligned
on the epoch, like the access rate limit): one conditional counter per (address, window) in the
ratelimits table (``adapters.dynamodb.WindowCounter``), so concurrent requests never count past
the limit. Past it: 429 ``RATE_LIMITED`` with ``Retry-After`` (seconds to the window's end). An
operation is counted when the caller asks for it to be relayed (before the send), whether the
chain then accepts it or not: a reverted transaction cost gas too. Work the caller pays for
(their own ``txHash``) and typed-data challenges are not counted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from marketplace.errors import RateLimitedError

# what the API routes that may relay declare for 429
RELAY_QUOTA_EXCEEDED = ("RATE_LIMITED: this address's quota of relayed operations is used up (Retry-After); "
                        "send the transaction yourself with txHash, or retry later")


class WindowCounter(Protocol):
    def hit(self, bucket: str, limit: int, expires_at: int) -> int | None:
        """Count one hit in ``bucket`` if fewer than ``limit`` are counted: the new count, or None."""
        ...


@dataclass(frozen=True)
class RelayQuotaSettings:
    limit: int = 100  # RELAY_QUOTA_LIMIT
    window_seconds: int = 3600  # RELAY_QUOTA_WINDOW_SECONDS


class RelayQuota:
    def __init__(self, counter: WindowCounter, settings: RelayQuotaSettings = RelayQuotaSettings(),
                 clock: Callable[[], float] = time.time) -> None:
        self.counter, self.settings, self.clock = counter, settings, clock

    def take(self, address: str, operation: str) -> int:
        """Count one relayed ``operation`` for ``address``; what is left of its quota in this window.
        ``RateLimitedError`` (429, Retry-After) when the window's quota is used up."""
        limit, window = self.settings.limit, self.settings.window_seconds
        t = int(self.clock())
        start = t - t % window
        end = start + window
        count = self.counter.hit(f"relay#{address.lower()}#{start}", limit, end + window)
        if count is None:
            retry_after = max(1, end - t)
            raise RateLimitedError(
                f"Operations the platform's relayer pays for are limited to {limit} per {window} s per address: "
                f"retry in {retry_after} s", retry_after,
                {"limit": limit, "windowSeconds": window, "operation": operation, "retryAfter": retry_after})
        return limit - count
