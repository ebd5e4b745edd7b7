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
    ForbiddenError,
    InvalidLicenseError,
    NotFoundError,
    RateLimitedError,
    StorageUnavailableError,
    UnauthorizedError,
)
from marketplace.licensing import credential as cred
from marketplace.usage.services import text_field
from marketplace.zk.field import poseidon

from tests.support.access_world import CONTENT, LICENSE, NOW, OTHER_CONTENT, World, make_world

pytestmark = pytest.mark.unit

SETTINGS = ax.AccessSettings(rate_limit=5, rate_window_seconds=60, storage_backoff_seconds=0)


def request(w: World, *, key=None, token=None, content=CONTENT, request_id="req-1") -> ax.AccessRequest:
    return ax.AccessRequest(content_id=content, authorization=f"Bearer {key or w.api_key}",
                            license_token=token if token is not None else w.token,
                            endpoint=f"/content/{content}/access", method="POST", ip="203.0.113.42",
                            request_id=request_id)


def run(w: World, req=None, now=NOW, settings=SETTINGS) -> dict:
    return ax.access(req or request(w), w.fakes.deps(), settings, now=now, sleep=lambda s: None).body()


class TestGrant:
    def test_grants_a_url_and_records_the_use(self):
        w = make_world()
        body = run(w)
        assert body["url"].startswith("https://bucket.example/Qmobject")
        assert body["expiresIn"] == 3600
        assert body["expiresAt"] == ax.iso(NOW + 3600)
        assert (body["licenseId"], body["use"], body["usesRemaining"]) == (LICENSE, 1, 2)
        assert w.fakes.calls == ["key", "rate", "probe", "claim", "usage", "activate"]
        (event,) = w.fakes.events
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
        assert w.fakes.calls[-4:] == ["rate", "probe", "claim", "usage"]

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
            run(w, request(w, key=cred.new_api_key().key, token="garbage"))
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
            run(w, request(w, token="not a token"), now=NOW + 5)
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

    def test_bad_credential_is_401_after_the_rate_limit(self):
        w = make_world()
        for token in ("", "zkcred_AAAA", cred.encode_token(LICENSE, w.secret + 1),
                      cred.encode_token("0x" + "22" * 32, w.secret)):
            w.fakes.calls.clear()
            with pytest.raises(UnauthorizedError):
                run(w, request(w, token=token))
            assert w.fakes.calls == ["key", "rate"]
        assert w.fakes.licenses[LICENSE].uses == 0

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
