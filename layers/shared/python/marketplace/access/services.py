"""Flow 3: licensed content access, the hot path.

``POST /content/{contentId}/access`` with ``Authorization: Bearer sk_live_…`` and the worker's signed
``AccessRequest`` (``X-Usage-Signer``, ``-Counter``, ``-Request-Hash``, ``-Signature``; see
``access.routes.SIGNING``). The checks run in the order the issue fixes, each refusing with its own
error:

1. **key**: SHA-256 of the key looked up (one read: the key record also carries the license's
   static facts: its commitment, content, validity end, object key). Unknown or revoked → 401.
2. **rate limit**: one conditional atomic counter per key per fixed window → 429 + ``Retry-After``.
   Exact under parallel requests: the store increments only while the count is below the limit.
   Answers carry ``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset`` (seconds).
3. **signed access**: the four headers present (else 401 ``signature_missing``) and well formed
   (else 400), the EIP-712 ``AccessRequest(key's licenseId, counter, requestHash)`` signature
   recovers to ``X-Usage-Signer`` (else 401 ``bad_signature``); the signer is a usage signer of
   this license (403 ``unknown_signer``), ACTIVE (403 ``signer_revoked``) and ``counter`` is its last
   served counter + 1 (409 ``replayed_counter`` / ``counter_skipped`` with ``expectedCounter``).
   The raw license credential is no longer sent: the platform keeps it sealed for the usage
   proofs, and the worker's signature (a key the platform never holds) is what authorises a use.
4. **license**: one conditional update claims a use: not revoked, before ``validUntil``,
   ``usesGranted < maxUses`` and for this content, and increments ``usesGranted``.
   ``usesGranted`` counts every use granted: those already proven on chain plus those pending a
   batch proof, so "uses + pending < maxUses" is one atomic condition. The use's sequence number
   is ``usesGranted`` before the increment: the index ``startIndex + i`` the usage_batch circuit
   derives the nullifier from. A refused claim returns the record, diagnosed in the order
   revoked, expired, exhausted (400 INVALID_LICENSE with the reason), then content (403).
5. **content**: the license is for this content (checked inside the claim, reported last).

Then a presigned GET URL (one hour) and a durable usage event with what the batch proof needs
(sequence number, timestamp, the call-hash inputs and the call hash) and the signed access, written
in one transaction with the signer's new counter (so a counter is consumed only by a recorded use).
Five DynamoDB calls on the success path: key read, rate-limit update, signer read, claim update,
TransactWriteItems (event + signer); once per license, on its first use, the content LICENSED →
ACTIVE; once per ``batch_size`` pending uses a Step Functions start (the batch prover). No chain
call, no prover. A signer whose counter moved between the read and the transaction (two requests
racing with one counter) is refused 409 after its claim: that use is a gap the batch prover skips.

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
    ConflictError,
    ContentionError,
    ForbiddenError,
    InternalError,
    InvalidLicenseError,
    NotFoundError,
    RateLimitedError,
    StorageUnavailableError,
    UnauthorizedError,
    ValidationError,
)
from marketplace.licensing import credential as cred
from marketplace.licensing.models import LicenseState
from marketplace.shared.timefmt import iso
from marketplace.usage import access_signature
from marketplace.usage.models import SignedAccess, SignerState, UsageEvent, UsageSigner
from marketplace.usage.ports import SignerRefused, UsageContended
from marketplace.usage.services import call_hash

__all__ = ["access", "call_hash", "check_rate", "check_signer", "iso", "probe_storage", "rate_window",
           "refusal_error", "verify_access"]

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

    # 3. the worker's signed access, and its signer's record
    signed = verify_access(req, key.license_id, settings.domain_separator)
    check_signer(deps.signers.get(key.license_id, signed.signer), signed, key.license_id)

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
    try:
        deps.signers.record_signed_use(UsageEvent(
            license_id=key.license_id, seq=claim.seq, timestamp=max(t, claim.valid_from),
            content_id=req.content_id.lower(),
            endpoint=req.endpoint, method=req.method, ip=req.ip, request_id=req.request_id,
            call_hash=call_hash(req.endpoint, req.method, req.ip, req.request_id), access=signed,
        ))
    except SignerRefused as refused:
        # another request of this signer won the counter (or the signer was revoked) since the
        # read: this claim's seq stays unrecorded, a gap the batch prover skips
        log.warning("signed use refused after its claim: seq %s of %s is a gap", claim.seq, key.license_id)
        check_signer(refused.current, signed, key.license_id)
        raise ConflictError("The usage signer's counter moved: sign again", {
            "reason": "replayed_counter", "expectedCounter": signed.counter + 1}) from None
    except UsageContended:
        # the event and the counter lost to concurrent writes through every retry: nothing was
        # written (the claim's seq is a gap), the counter is not consumed: send it again
        log.warning("signed use contended after its claim: seq %s of %s is a gap", claim.seq, key.license_id)
        raise ContentionError(details={"reason": "contended", "expectedCounter": signed.counter}) from None
    if deps.batches is not None and (claim.uses - claim.uses_proven) % settings.batch_size == 0:
        try:  # a full batch is pending: the prover need not wait for its schedule
            deps.batches.nudge(key.license_id, claim.seq)
        except Exception:
            log.warning("could not nudge the batch prover for %s", key.license_id, exc_info=True)
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


_USAGE_HEADERS = (("usage_signer", "X-Usage-Signer"), ("usage_counter", "X-Usage-Counter"),
                  ("usage_request_hash", "X-Usage-Request-Hash"), ("usage_signature", "X-Usage-Signature"))


def _hex(value: str, size: int, header: str) -> bytes:
    body = value[2:] if value[:2] in ("0x", "0X") else None
    try:
        raw = bytes.fromhex(body) if body is not None and len(body) in (2 * n for n in size_options(size)) else None
    except ValueError:
        raw = None
    if raw is None:
        raise ValidationError(f"{header} must be 0x and {'/'.join(str(2 * n) for n in size_options(size))} hex digits",
                              {"header": header, "reason": "malformed"})
    return raw


def size_options(size: int) -> tuple[int, ...]:
    return (64, 65) if size == 65 else (size,)


def verify_access(req: AccessRequest, license_id: str, separator: bytes) -> SignedAccess:
    """The worker's signed access from the request's headers, its signature checked against the
    key's license (401/400 otherwise)."""
    for attr, header in _USAGE_HEADERS:
        if not getattr(req, attr):
            raise UnauthorizedError(f"Every access must be signed by a usage signer: {header} is missing",
                                    {"header": header, "reason": "signature_missing"})
    signer = _hex(req.usage_signer or "", 20, "X-Usage-Signer")
    counter_text = req.usage_counter or ""
    if not (counter_text.isascii() and counter_text.isdigit() and counter_text[0] != "0"):
        raise ValidationError("X-Usage-Counter must be a positive decimal integer",
                              {"header": "X-Usage-Counter", "reason": "malformed"})
    counter = int(counter_text)
    request_hash = _hex(req.usage_request_hash or "", 32, "X-Usage-Request-Hash")
    signature = _hex(req.usage_signature or "", 65, "X-Usage-Signature")
    recovered = None
    if counter <= access_signature.UINT64_MAX:  # no signature the chain accepts has a larger counter
        digest = access_signature.access_digest(separator, license_id, counter, request_hash)
        recovered = access_signature.recover(digest, signature)
    if recovered is None or recovered != "0x" + signer.hex():
        raise UnauthorizedError("The usage signature does not match X-Usage-Signer over this license, counter "
                                "and request hash", {"header": "X-Usage-Signature", "reason": "bad_signature"})
    if len(signature) == 64:  # keep the 65-byte form
        r, s_, v = access_signature.split(signature) or (0, 0, 27)
        signature = r.to_bytes(32, "big") + s_.to_bytes(32, "big") + bytes([v])
    return SignedAccess(signer=recovered, counter=counter, request_hash="0x" + request_hash.hex(),
                        signature="0x" + signature.hex())


def check_signer(current: UsageSigner | None, signed: SignedAccess, license_id: str) -> None:
    """The signer is registered for this license, ACTIVE, and ``counter`` is its next one."""
    details = {"licenseId": license_id, "signer": signed.signer}
    if current is None:
        raise ForbiddenError("Not a usage signer of this license: the licensee registers worker keys with "
                             "POST /license/{licenseId}/signers", {**details, "reason": "unknown_signer"})
    if current.state != SignerState.ACTIVE:
        raise ForbiddenError("This usage signer was revoked by the licensee", {**details, "reason": "signer_revoked"})
    expected = current.last_counter + 1
    if signed.counter < expected:
        raise ConflictError(f"Counter {signed.counter} was served already: sign counter {expected}",
                            {**details, "reason": "replayed_counter", "expectedCounter": expected})
    if signed.counter > expected:
        raise ConflictError(f"Counter {signed.counter} skips served uses: sign counter {expected}",
                            {**details, "reason": "counter_skipped", "expectedCounter": expected})


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
