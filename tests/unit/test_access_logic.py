"""Flow 3 access logic: the order of the checks, the errors, the use accounting, the usage event.

The stores are in-memory fakes with the same contract as the DynamoDB adapters (a conditional,
atomic claim and counter); tests/integration/test_access_*.py runs the real adapters.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from marketplace.access import services as ax
from marketplace.errors import (
    ConflictError,
    ForbiddenError,
    InvalidLicenseError,
    NotFoundError,
    RateLimitedError,
    StorageUnavailableError,
    UnauthorizedError,
    ValidationError,
)
from marketplace.licensing import credential as cred
from marketplace.usage.services import text_field
from marketplace.zk.field import poseidon

from marketplace.usage import client_signing
from marketplace.usage.models import SignerState

from tests.support.access_world import CONTENT, LICENSE, NOW, OTHER_CONTENT, SEPARATOR, World, make_world

pytestmark = pytest.mark.unit

SETTINGS = ax.AccessSettings(rate_limit=5, rate_window_seconds=60, storage_backoff_seconds=0,
                             domain_separator=SEPARATOR)


def request(w: World, *, key=None, content=CONTENT, request_id="req-1", headers=None) -> ax.AccessRequest:
    """A request signed by the world's worker with its next counter (or with ``headers``)."""
    return ax.AccessRequest(content_id=content, authorization=f"Bearer {key or w.api_key}",
                            endpoint=f"/content/{content}/access", method="POST", ip="203.0.113.42",
                            request_id=request_id, **w.fields(headers if headers is not None else w.signed()))


def run(w: World, req=None, now=NOW, settings=SETTINGS) -> dict:
    granted = ax.access(req or request(w), w.fakes.deps(), settings, now=now, sleep=lambda s: None)
    w.served = w.fakes.signers.get(LICENSE, w.worker.address).last_counter
    return granted.body()


class TestGrant:
    def test_grants_a_url_and_records_the_use(self):
        w = make_world()
        body = run(w)
        assert body["url"].startswith("https://bucket.example/Qmobject")
        assert body["expiresIn"] == 3600
        assert body["expiresAt"] == ax.iso(NOW + 3600)
        assert (body["licenseId"], body["use"], body["usesRemaining"]) == (LICENSE, 1, 2)
        assert w.fakes.calls == ["key", "rate", "signer", "probe", "claim", "usage", "activate"]
        (event,) = w.fakes.events
        assert (event.access.signer, event.access.counter) == (w.worker.address, 1)
        assert (event.license_id, event.seq, event.timestamp, event.content_id) == (LICENSE, 0, NOW, CONTENT)
        assert (event.endpoint, event.method, event.ip, event.request_id) == (
            f"/content/{CONTENT}/access", "POST", "203.0.113.42", "req-1")
        assert event.call_hash == poseidon(*(text_field(s) for s in (
            f"/content/{CONTENT}/access", "POST", "203.0.113.42", "req-1")))

    def test_sequence_numbers_follow_uses_and_the_last_use_exhausts(self):
        w = make_world(max_uses=3)
        bodies = [run(w, request(w, request_id=f"r{i}")) for i in range(3)]
        assert [e.seq for e in w.fakes.events] == [0, 1, 2]
        assert [b["usesRemaining"] for b in bodies] == [2, 1, 0]
        assert bodies[-1]["licenseStatus"] == "EXHAUSTED"
        with pytest.raises(InvalidLicenseError) as e:
            run(w)
        assert e.value.details["reason"] == "exhausted"
        assert len(w.fakes.events) == 3

    def test_only_a_licenses_first_use_activates_the_content(self):
        w = make_world()
        run(w)
        run(w)
        assert w.fakes.activated == [CONTENT]
        assert w.fakes.calls[-5:] == ["rate", "signer", "probe", "claim", "usage"]

    def test_a_failing_activation_does_not_fail_the_granted_use(self):
        w = make_world()

        def broken(content_id):
            raise RuntimeError("table unavailable")

        w.fakes.activate_content = broken
        assert run(w)["use"] == 1 and len(w.fakes.events) == 1

    def test_rate_limit_headers_count_down(self):
        w = make_world(max_uses=10)
        _, end = ax.rate_window(NOW, 60)
        first = ax.access(request(w), w.fakes.deps(), SETTINGS, now=NOW, sleep=lambda s: None)
        w.served = 1
        second = ax.access(request(w), w.fakes.deps(), SETTINGS, now=NOW, sleep=lambda s: None)
        assert first.rate.headers() == {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "4",
                                 "X-RateLimit-Reset": str(end - NOW)}
        assert second.rate.headers()["X-RateLimit-Remaining"] == "3"

    def test_a_use_is_never_dated_before_the_purchase(self):
        # the purchase block's timestamp may run ahead of this clock: the use is dated validFrom
        w = make_world()
        w.fakes.licenses[LICENSE] = replace(w.fakes.licenses[LICENSE], valid_from=NOW + 20)
        run(w)
        assert w.fakes.events[0].timestamp == NOW + 20

    def test_content_id_case_does_not_matter(self):
        w = make_world()
        assert run(w, request(w, content=CONTENT.upper().replace("0X", "0x")))["contentId"] == CONTENT


class TestOrder:
    def test_unknown_key_is_401_before_anything_else(self):
        w = make_world()
        with pytest.raises(UnauthorizedError):
            run(w, request(w, key=cred.new_api_key().key, headers={k: "garbage" for k in w.signed()}))
        assert w.fakes.calls == ["key"]

    def test_malformed_or_missing_key_is_401_without_a_lookup(self):
        w = make_world()
        for auth in (None, "Bearer sk_live_short", "Basic x"):
            with pytest.raises(UnauthorizedError):
                run(w, replace(request(w), authorization=auth))
        assert w.fakes.calls == []

    def test_revoked_key_is_401(self):
        w = make_world(revoked_at=NOW - 1)
        with pytest.raises(UnauthorizedError):
            run(w)
        assert w.fakes.calls == ["key"]

    def test_rate_limit_comes_before_the_credential(self):
        w = make_world(max_uses=100)
        for _ in range(SETTINGS.rate_limit):
            run(w)
        with pytest.raises(RateLimitedError) as e:
            run(w, request(w, headers={k: "" for k in w.signed()}), now=NOW + 5)
        _, end = ax.rate_window(NOW + 5, 60)
        assert e.value.status == 429
        assert e.value.headers["Retry-After"] == str(end - (NOW + 5))
        assert e.value.details["retryAfter"] == end - (NOW + 5)

    def test_rate_limit_resets_in_the_next_window(self):
        w = make_world(max_uses=100)
        start, end = ax.rate_window(ax.rate_window(NOW, 60)[1], 60)  # a window wholly after NOW
        for _ in range(SETTINGS.rate_limit):
            run(w, now=start)
        with pytest.raises(RateLimitedError):
            run(w, now=end - 1)
        assert run(w, now=end)["use"] == SETTINGS.rate_limit + 1

    def test_a_bad_signature_is_401_after_the_rate_limit(self):
        w = make_world()
        stranger = client_signing.new_worker_key()
        forged = {**w.signed(key=stranger), "X-Usage-Signer": w.worker.address}  # another key's signature
        other_license = w.signed(license_id="0x" + "22" * 32)  # the worker's, over another license
        tampered = {**w.signed(), "X-Usage-Counter": "2"}  # the signed counter was 1
        for headers in (forged, other_license, tampered):
            w.fakes.calls.clear()
            with pytest.raises(UnauthorizedError) as e:
                run(w, request(w, headers=headers))
            assert e.value.details["reason"] == "bad_signature"
            assert w.fakes.calls == ["key", "rate"]
        assert w.fakes.licenses[LICENSE].uses == 0 and w.fakes.events == []

    def test_expired_license_is_400_with_expired_at_and_no_probe(self):
        w = make_world(valid_for=100)
        with pytest.raises(InvalidLicenseError) as e:
            run(w, now=NOW + 100)
        assert e.value.status == 400 and e.value.code == "INVALID_LICENSE"
        assert e.value.details == {"licenseId": LICENSE, "reason": "expired", "expiredAt": ax.iso(NOW + 100)}
        assert "expired on" in e.value.message
        assert "probe" not in w.fakes.calls and "claim" not in w.fakes.calls

    def test_revoked_license_is_400_with_the_reason(self):
        w = make_world()
        w.fakes.licenses[LICENSE] = replace(w.fakes.licenses[LICENSE], revoked_at=NOW - 5)
        with pytest.raises(InvalidLicenseError) as e:
            run(w)
        assert e.value.details["reason"] == "revoked"
        assert w.fakes.events == []

    def test_other_content_is_403_without_probing_or_using(self):
        w = make_world()
        with pytest.raises(ForbiddenError):
            run(w, request(w, content=OTHER_CONTENT))
        assert "probe" not in w.fakes.calls
        assert w.fakes.licenses[LICENSE].uses == 0 and w.fakes.events == []

    def test_license_reasons_come_before_the_content_check(self):
        w = make_world()
        w.fakes.licenses[LICENSE] = replace(w.fakes.licenses[LICENSE], revoked_at=NOW - 5)
        with pytest.raises(InvalidLicenseError) as e:
            run(w, request(w, content=OTHER_CONTENT))
        assert e.value.details["reason"] == "revoked"
        w = make_world(max_uses=1)
        run(w)
        with pytest.raises(InvalidLicenseError) as e:
            run(w, request(w, content=OTHER_CONTENT))
        assert e.value.details["reason"] == "exhausted"


class TestStorage:
    def test_three_retries_then_503_with_retry_after_and_no_use_consumed(self):
        w = make_world()
        w.fakes.storage_failures = 4
        slept = []
        with pytest.raises(StorageUnavailableError) as e:
            ax.access(request(w), w.fakes.deps(), replace(SETTINGS, storage_backoff_seconds=0.1), now=NOW,
                      sleep=slept.append)
        assert w.fakes.calls.count("probe") == 4
        assert slept == [0.1, 0.2, 0.4]
        assert e.value.status == 503 and e.value.body()["retryAfter"] == 60
        assert e.value.body()["error"] == "IPFS_UNAVAILABLE" and e.value.headers["Retry-After"] == "60"
        assert w.fakes.licenses[LICENSE].uses == 0 and w.fakes.events == []

    def test_a_transient_failure_is_retried(self):
        w = make_world()
        w.fakes.storage_failures = 3
        assert run(w)["use"] == 1
        assert w.fakes.calls.count("probe") == 4

    def test_missing_object_is_404(self):
        w = make_world()
        w.fakes.missing = True
        with pytest.raises(NotFoundError):
            run(w)
        assert w.fakes.licenses[LICENSE].uses == 0


class TestConcurrency:
    def test_parallel_requests_grant_exactly_max_uses_with_distinct_sequence_numbers(self):
        w = make_world(max_uses=50)
        settings = replace(SETTINGS, rate_limit=1000)
        results: list = []

        def one(i):
            try:
                results.append(run(w, request(w, request_id=f"r{i}"), settings=settings)["use"])
            except InvalidLicenseError as e:
                results.append(e.details["reason"])

        # 200 workers (usage signers), one request each
        workers = [client_signing.new_worker_key() for _ in range(200)]
        for k in workers:
            w.fakes.signers.add(LICENSE, k.address, NOW, None)
        requests = [request(w, request_id=f"r{i}", headers=w.signed(1, key=k)) for i, k in enumerate(workers)]

        def one(i):  # noqa: F811 - the signed variant
            try:
                results.append(run_as(w, requests[i], settings)["use"])
            except InvalidLicenseError as e:
                results.append(e.details["reason"])

        threads = [threading.Thread(target=one, args=(i,)) for i in range(200)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        granted = sorted(r for r in results if isinstance(r, int))
        assert granted == list(range(1, 51))
        assert results.count("exhausted") == 150
        assert sorted(e.seq for e in w.fakes.events) == list(range(50))


def test_rate_window_bounds():
    assert ax.rate_window(120, 60) == (120, 180)
    assert ax.rate_window(179, 60) == (120, 180)
    assert ax.rate_window(180, 60) == (180, 240)


def test_text_field_and_call_hash_are_deterministic_and_input_sensitive():
    base = ax.call_hash("/content/x/access", "POST", "1.2.3.4", "r1")
    assert base == ax.call_hash("/content/x/access", "post", "1.2.3.4", "r1")
    assert base != ax.call_hash("/content/x/access", "POST", "1.2.3.5", "r1")
    assert base != ax.call_hash("/content/x/access", "POST", "1.2.3.4", "r2")


def run_as(w: World, req: ax.AccessRequest, settings=SETTINGS) -> dict:
    return ax.access(req, w.fakes.deps(), settings, now=NOW, sleep=lambda s: None).body()


class TestSignedAccess:
    """Every use carries a registered worker key's AccessRequest signature with its next counter."""

    @pytest.mark.parametrize("missing", ["X-Usage-Signer", "X-Usage-Counter", "X-Usage-Request-Hash",
                                         "X-Usage-Signature"])
    def test_an_unsigned_access_is_401_signature_missing(self, missing):
        w = make_world()
        headers = {**w.signed(), missing: ""}
        with pytest.raises(UnauthorizedError) as e:
            run(w, request(w, headers=headers))
        assert e.value.details == {"header": missing, "reason": "signature_missing"}
        assert w.fakes.licenses[LICENSE].uses == 0

    @pytest.mark.parametrize("header,value", [("X-Usage-Signer", "0x12"), ("X-Usage-Counter", "01"),
                                              ("X-Usage-Counter", "-1"), ("X-Usage-Request-Hash", "0xzz"),
                                              ("X-Usage-Signature", "0x" + "00" * 10)])
    def test_a_malformed_header_is_400(self, header, value):
        w = make_world()
        with pytest.raises(ValidationError) as e:
            run(w, request(w, headers={**w.signed(), header: value}))
        assert e.value.details["header"] == header

    def test_a_counter_beyond_uint64_is_a_bad_signature(self):
        w = make_world()
        with pytest.raises(UnauthorizedError) as e:
            run(w, request(w, headers={**w.signed(), "X-Usage-Counter": str(2**64)}))
        assert e.value.details["reason"] == "bad_signature"

    def test_an_unregistered_signer_is_403(self):
        w = make_world()
        stranger = client_signing.new_worker_key()
        with pytest.raises(ForbiddenError) as e:
            run(w, request(w, headers=w.signed(1, key=stranger)))
        assert e.value.details["reason"] == "unknown_signer" and e.value.details["signer"] == stranger.address
        assert w.fakes.calls == ["key", "rate", "signer"] and w.fakes.licenses[LICENSE].uses == 0

    def test_another_licenses_signer_is_403(self):
        w = make_world()
        w.fakes.signers.add("0x" + "22" * 32, (k := client_signing.new_worker_key()).address, NOW, None)
        with pytest.raises(ForbiddenError) as e:
            run(w, request(w, headers=w.signed(1, key=k)))
        assert e.value.details["reason"] == "unknown_signer"

    def test_a_revoked_signer_is_403(self):
        w = make_world()
        run(w)
        w.fakes.signers.revoke(LICENSE, w.worker.address, NOW, None)
        with pytest.raises(ForbiddenError) as e:
            run(w)
        assert e.value.details["reason"] == "signer_revoked"
        assert w.fakes.licenses[LICENSE].uses == 1

    def test_a_replayed_access_is_409_and_uses_nothing(self):
        w = make_world()
        first = w.signed()
        run(w, request(w, headers=first))
        for replay in (first, w.signed(1)):  # the same request again, or a new one with a served counter
            with pytest.raises(ConflictError) as e:
                run(w, request(w, headers=replay))
            assert e.value.details["reason"] == "replayed_counter" and e.value.details["expectedCounter"] == 2
        assert w.fakes.licenses[LICENSE].uses == 1 and len(w.fakes.events) == 1

    def test_a_skipped_counter_is_409(self):
        w = make_world()
        with pytest.raises(ConflictError) as e:
            run(w, request(w, headers=w.signed(3)))
        assert e.value.details["reason"] == "counter_skipped" and e.value.details["expectedCounter"] == 1
        assert w.fakes.licenses[LICENSE].uses == 0

    def test_a_refused_request_is_signed_again_with_the_same_counter(self):
        w = make_world(valid_for=100)
        w.fakes.missing = True
        with pytest.raises(NotFoundError):
            run(w)
        w.fakes.missing = False
        assert run(w)["use"] == 1  # counter 1 again, with a new request hash
        assert w.fakes.signers.get(LICENSE, w.worker.address).last_counter == 1

    def test_the_signer_keeps_its_latest_signature_and_each_event_its_own(self):
        w = make_world()
        sent = []
        for i in range(3):
            sent.append(w.signed())
            run(w, request(w, headers=sent[-1], request_id=f"r{i}"))
        signer = w.fakes.signers.get(LICENSE, w.worker.address)
        assert signer.state == SignerState.ACTIVE and signer.last_counter == 3
        assert signer.last_signature == sent[-1]["X-Usage-Signature"]
        assert signer.last_request_hash == sent[-1]["X-Usage-Request-Hash"]
        assert [(e.access.counter, e.access.signature) for e in w.fakes.events] == [
            (i + 1, h["X-Usage-Signature"]) for i, h in enumerate(sent)]

    def test_compact_signatures_are_accepted_and_high_s_refused(self):
        from marketplace.usage import access_signature as sig

        w = make_world()
        headers = w.signed()
        raw = bytes.fromhex(headers["X-Usage-Signature"][2:])
        r, vs = sig.compact(raw)
        assert run(w, request(w, headers={**headers, "X-Usage-Signature": "0x" + (r + vs).hex()}))["use"] == 1
        # the same signature with s' = n - s (and the other v): valid ECDSA, refused as the chain refuses it
        headers = w.signed()
        raw = bytes.fromhex(headers["X-Usage-Signature"][2:])
        s_ = int.from_bytes(raw[32:64], "big")
        flipped = raw[:32] + (sig._N - s_).to_bytes(32, "big") + bytes([55 - raw[64]])
        with pytest.raises(UnauthorizedError):
            run(w, request(w, headers={**headers, "X-Usage-Signature": "0x" + flipped.hex()}))

    def test_a_counter_lost_to_a_racing_request_is_409_and_leaves_a_gap(self):
        w = make_world()
        racing = w.signed()  # counter 1, signed twice by the worker (two requests racing)
        run(w, request(w, headers=w.signed()))  # the other request: counter 1 served
        real_get = w.fakes.signers.get
        # our read happened before the other request's write: it still saw counter 0
        w.fakes.signers.get = lambda license_id, signer: replace(real_get(license_id, signer), last_counter=0)
        with pytest.raises(ConflictError) as e:
            run_as(w, request(w, headers=racing))
        assert e.value.details["reason"] == "replayed_counter"
        assert w.fakes.licenses[LICENSE].uses == 2  # claimed ...
        assert [ev.seq for ev in w.fakes.events] == [0]  # ... never recorded: seq 1 is a gap

    def test_a_full_batch_pending_nudges_the_batch_prover(self):
        w = make_world(max_uses=200)
        nudged = []

        class Nudge:
            def nudge(self, license_id, seq):
                nudged.append((license_id, seq))

        settings = replace(SETTINGS, rate_limit=1000, batch_size=4)
        deps = replace(w.fakes.deps(), batches=Nudge())
        for _ in range(9):
            ax.access(request(w), deps, settings, now=NOW, sleep=lambda s: None)
            w.served += 1
        assert nudged == [(LICENSE, 3), (LICENSE, 7)]
