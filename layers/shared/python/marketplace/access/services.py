"""Flow 3: licensed content access, the hot path.

``POST /content/{contentId}/access`` with ``Authorization: Bearer sk_live_…`` and
``X-License-Token``. The checks run in the order the issue fixes, each refusing with its own error:

1. **key**: SHA-256 of the key looked up (one read: the key record also carries the license's
   static facts: its commitment, content, validity end, object key). Unknown or revoked → 401.
2. **rate limit**: one conditional atomic counter per key per fixed window → 429 + ``Retry-After``.
   Exact under parallel requests: the store increments only while the count is below the limit.
   Answers carry ``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset`` (seconds).
3. **credential**: the token's license must be the key's license and
   ``Poseidon(secret, licenseIdField)`` must equal the commitment recorded at purchase → else 401.
4. **license**: one conditional update claims a use: not revoked, before ``validUntil``,
   ``usesGranted < maxUses`` and for this content, and increments ``usesGranted``.
   ``usesGranted`` counts every use granted: those already proven on chain plus those pending a
   batch proof, so "uses + pending < maxUses" is one atomic condition. The use's sequence number
   is ``usesGranted`` before the increment: the index ``startIndex + i`` the usage_batch circuit
   derives the nullifier from. A refused claim returns the record, diagnosed in the order
   revoked, expired, exhausted (400 INVALID_LICENSE with the reason), then content (403).
5. **content**: the license is for this content (checked inside the claim, reported last).

Then a presigned GET URL (one hour) and a durable usage event with what the batch proof needs
(sequence number, timestamp, the call-hash inputs and the call hash). Four DynamoDB calls on the
success path: key read, rate-limit update, claim update, usage put (a fifth, once per license, on
its first use: the content LICENSED → ACTIVE). No chain call, no prover.

Storage is probed (with three retries) *before* the claim, so an outage does not consume a use:
a use, once claimed, is a sequence number the batch proof must cover. The static facts on the key
record let an expired license or another content's request skip that probe.

Time: a license starts at its purchase block's timestamp (``validFrom``), which may run a few
seconds ahead of this clock (block times are the validator's; Hardhat's run ahead after a burst of
blocks). A license cannot be used before it is bought, so ``validFrom`` is not checked here; the
event's timestamp is ``max(now, validFrom)`` so every recorded use lies inside the validity the
batch and compliance proofs check.
"""

from __future__ import annotations

import logging
import time

from marketplace.access.models import (
    AccessGranted,
    AccessRequest,
    AccessSettings,
    ClaimRefused,
    LicenseSnapshot,
    ObjectMissing,
    RateLimitStatus,
    StorageUnreachable,
)
from marketplace.access.ports import AccessDeps, ContentStorage, RateLimiter
from marketplace.errors import (
    ForbiddenError,
    InternalError,
    InvalidLicenseError,
    NotFoundError,
    RateLimitedError,
    StorageUnavailableError,
    UnauthorizedError,
)
from marketplace.licensing import credential as cred
from marketplace.licensing.models import LicenseState
from marketplace.shared.timefmt import iso
from marketplace.usage.models import UsageEvent
from marketplace.usage.services import call_hash

__all__ = ["access", "call_hash", "check_rate", "iso", "probe_storage", "rate_window", "refusal_error"]

log = logging.getLogger(__name__)


def access(req: AccessRequest, deps: AccessDeps, settings: AccessSettings, now: float | None = None,
           sleep=time.sleep) -> AccessGranted:
    """Run the checks in order and grant one use (the handler answers it 200)."""
    t = int(now if now is not None else time.time())

    # 1. key
    key_hash = cred.hash_api_key(cred.bearer_api_key(req.authorization))
    key = deps.keys.get_key(key_hash)
    if key is None or key.revoked_at is not None:
        raise UnauthorizedError("Invalid or revoked API key", {"header": "Authorization"})

    # 2. rate limit
    rate = check_rate(deps.limiter, key_hash, t, settings)

    # 3. credential
    credential = cred.decode_token(req.license_token)
    if not cred.matches(credential, key.license_id, key.commitment):
        raise UnauthorizedError("License token does not match this API key's license",
                                {"header": "X-License-Token"})

    # 4-5. license and content: the static facts first, so a request that cannot succeed does not
    # probe storage; then the atomic claim, which has the last word.
    if t >= key.valid_until:
        raise expired_error(key.license_id, key.valid_until)
    if key.content_id.lower() == req.content_id.lower():
        probe_storage(deps.storage, key.object_key, settings, sleep)
    try:
        claim = deps.licenses.claim_use(key.license_id, req.content_id.lower(), t)
    except ClaimRefused as refused:
        raise refusal_error(refused.state, key.license_id, req.content_id, t) from None

    url = deps.storage.presign_get(key.object_key, settings.url_ttl_seconds)
    deps.usage.record(UsageEvent(
        license_id=key.license_id, seq=claim.seq, timestamp=max(t, claim.valid_from),
        content_id=req.content_id.lower(),
        endpoint=req.endpoint, method=req.method, ip=req.ip, request_id=req.request_id,
        call_hash=call_hash(req.endpoint, req.method, req.ip, req.request_id),
    ))
    if claim.seq == 0 and deps.content is not None:
        # a license's first use makes its content ACTIVE (one more call, once per license);
        # the use is granted and recorded already, so a failure here only delays the state
        try:
            deps.content.activate_content(req.content_id.lower())
        except Exception:
            log.warning("could not mark content %s ACTIVE", req.content_id, exc_info=True)
    return AccessGranted(
        url=url, expires_in=settings.url_ttl_seconds, expires_at=t + settings.url_ttl_seconds,
        license_id=key.license_id, content_id=req.content_id.lower(), use=claim.seq + 1,
        uses_remaining=claim.max_uses - claim.uses,
        license_status=str(LicenseState.EXHAUSTED if claim.uses >= claim.max_uses else LicenseState.IN_USE),
        rate=rate,
    )


def rate_window(t: int, window: int) -> tuple[int, int]:
    """(start, end) of the fixed window containing ``t``."""
    start = t - t % window
    return start, start + window


def check_rate(limiter: RateLimiter, key_hash: str, t: int, settings: AccessSettings) -> RateLimitStatus:
    """Count the request in its window (429 past the limit); where the key stands in it."""
    start, end = rate_window(t, settings.rate_window_seconds)
    reset = max(1, end - t)
    # the counter item outlives its window a little (DynamoDB's TTL deletes lazily anyway)
    count = limiter.hit(f"key#{key_hash}#{start}", settings.rate_limit, end + settings.rate_window_seconds)
    if count is None:
        raise RateLimitedError(
            f"Rate limit of {settings.rate_limit} requests per {settings.rate_window_seconds} s exceeded",
            reset, {"limit": settings.rate_limit, "windowSeconds": settings.rate_window_seconds,
                    "retryAfter": reset},
        )
    return RateLimitStatus(settings.rate_limit, settings.rate_limit - count, reset)


def probe_storage(storage: ContentStorage, object_key: str, settings: AccessSettings, sleep) -> None:
    """One attempt and ``storage_retries`` retries with doubling backoff, then 503."""
    delay = settings.storage_backoff_seconds
    for attempt in range(settings.storage_retries + 1):
        try:
            storage.probe(object_key)
            return
        except ObjectMissing:
            raise NotFoundError("The content's file is no longer stored", {"reason": "object_missing"}) from None
        except StorageUnreachable:
            if attempt == settings.storage_retries:
                break
            sleep(delay)
            delay *= 2
    raise StorageUnavailableError("Content temporarily unavailable", settings.storage_retry_after)


def refusal_error(state: LicenseSnapshot | None, license_id: str, content_id: str, t: int):
    """The error for a refused claim, diagnosed in the spec's order."""
    if state is None:
        # a key whose license record is gone: nothing to grant, nothing to explain
        return InvalidLicenseError("License not found", {"licenseId": license_id, "reason": "not_found"})
    if state.revoked_at is not None:
        return InvalidLicenseError(f"License revoked on {iso(state.revoked_at)[:10]}",
                                   {"licenseId": license_id, "reason": "revoked",
                                    "revokedAt": iso(state.revoked_at)})
    if t >= state.valid_until:
        return expired_error(license_id, state.valid_until)
    if state.uses >= state.max_uses:
        return InvalidLicenseError(f"License exhausted: all {state.max_uses} uses granted",
                                   {"licenseId": license_id, "reason": "exhausted", "maxUses": state.max_uses,
                                    "uses": state.uses})
    if state.content_id.lower() != content_id.lower():
        return ForbiddenError("This license is for another content", {"licenseId": license_id,
                                                                       "contentId": content_id})
    # the condition failed yet the record satisfies it: a store bug, not the client's fault
    return InternalError("License claim refused without a reason", {"licenseId": license_id})


def expired_error(license_id: str, valid_until: int) -> InvalidLicenseError:
    return InvalidLicenseError(f"License expired on {iso(valid_until)[:10]}",
                               {"licenseId": license_id, "reason": "expired", "expiredAt": iso(valid_until)})
