"""Flow 3 in-process: the real access handler on moto's DynamoDB and S3, licenses bought on the
Hardhat chain through the real license-api handler."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from marketplace.access import adapters as content_urls
from marketplace.access import services as ax
from marketplace.licensing import credential as cred

from tests.support import license_support as support
from tests.support.license_support import clear_license_caches, register

# the shared fixtures: registered content, signed-in people, fresh handler singletons
content, people, _fresh_license_singletons = support.content, support.people, support._fresh_license_singletons
pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def terms(content, people):
    return people.create_terms(content[0], price=1_000, max_uses=1_000)


@pytest.fixture
def bought(people, terms):
    reply = people.buy_with_permit(terms["termsId"])
    assert reply.status == 201, reply.body
    return reply.body


def uses(stack, license_id: str) -> int:
    return stack.item("LICENSES_TABLE", {"licenseId": license_id})["usesGranted"]


def usage_events(stack, license_id: str) -> list[dict]:
    from marketplace.adapters.dynamodb import from_ddb

    out = stack.client("dynamodb").query(
        TableName=stack.env["USAGE_TABLE"], KeyConditionExpression="licenseId = :l",
        ExpressionAttributeValues={":l": {"S": license_id}}, ConsistentRead=True)
    return [from_ddb(i) for i in out["Items"]]


def parallel(n: int, call, workers: int = 32) -> list:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda _: call(), range(n)))


def by_workers(people, license_id: str, workers: int, each: int, call) -> list:
    """``workers`` usage signers of the license in parallel, each sending ``each`` requests in turn
    (a worker's counter is sequential: its own requests never race)."""
    for i in range(workers):
        people.worker(license_id, i)
    with ThreadPoolExecutor(workers) as pool:
        return [r for rs in pool.map(lambda i: [call(i) for _ in range(each)], range(workers)) for r in rs]


def test_access_grants_a_url_to_the_exact_bytes_and_records_the_use(api, stack, people, content, bought):
    content_id, data = content
    reply = people.access(content_id, bought["apiKey"], bought["accessToken"])
    assert reply.status == 200, reply.body
    assert reply.body["expiresIn"] == 3600 and reply.body["use"] == 1
    assert int(reply.headers["X-RateLimit-Remaining"]) == int(reply.headers["X-RateLimit-Limit"]) - 1
    # the presigned URL serves the registered bytes
    assert requests.get(reply.body["url"], timeout=30).content == data
    # a durable usage event with what the batch proof needs
    (event,) = usage_events(stack, bought["licenseId"])
    assert event["seq"] == 0 and event["batch"] == "PENDING" and event["contentId"] == content_id
    worker = people.worker(bought["licenseId"])
    assert (event["signer"], event["counter"]) == (worker.key.address, 1)
    assert event["method"] == "POST" and event["endpoint"] == f"/content/{content_id}/access"
    assert int(event["callHash"]) == ax.call_hash(event["endpoint"], event["method"], event["ip"],
                                                  event["requestId"])
    assert abs(event["ts"] - time.time()) < 120
    # PURCHASED → IN_USE; the content is ACTIVE
    view = api.call("GET", f"/license/{bought['licenseId']}", token=people.jwt("buyer1"))
    assert view.body["status"] == "IN_USE" and view.body["uses"] == 1
    assert api.call("GET", f"/content/{content_id}").body["state"] == "ACTIVE"


def test_five_dynamodb_calls_per_access(stack, people, content, bought):
    from marketplace.adapters.aws import client

    people.worker(bought["licenseId"])  # the worker key registered (license-api) before counting
    calls: list[str] = []
    ddb = client("dynamodb")
    ddb.meta.events.register("before-call.dynamodb.*", lambda model, **kw: calls.append(model.name))
    try:
        assert people.access(content[0], bought["apiKey"], bought["accessToken"]).status == 200
        first = list(calls)
        calls.clear()
        assert people.access(content[0], bought["apiKey"], bought["accessToken"]).status == 200
    finally:
        ddb.meta.events.unregister("before-call.dynamodb.*")
    # the license's first use also moves the content to ACTIVE (a no-op update here)
    # key, rate limit, signer, claim, event + signer counter in one transaction
    assert first == ["GetItem", "UpdateItem", "GetItem", "UpdateItem", "TransactWriteItems", "UpdateItem"]
    assert calls == ["GetItem", "UpdateItem", "GetItem", "UpdateItem", "TransactWriteItems"]


def test_max_uses_50_and_200_parallel_requests_grant_exactly_50(api, stack, people, content):
    terms = people.create_terms(content[0], price=10, max_uses=50)
    bought = people.buy_with_permit(terms["termsId"]).body
    replies = by_workers(people, bought["licenseId"], 8, 25,
                         lambda i: people.access(content[0], bought["apiKey"], bought["accessToken"], worker=i))
    statuses = Counter(r.status for r in replies)
    assert statuses == {200: 50, 400: 150}, statuses
    assert {r.body["details"]["reason"] for r in replies if r.status == 400} == {"exhausted"}
    assert sorted(r.body["use"] for r in replies if r.status == 200) == list(range(1, 51))
    assert sorted(e["seq"] for e in usage_events(stack, bought["licenseId"])) == list(range(50))
    assert uses(stack, bought["licenseId"]) == 50
    view = api.call("GET", f"/license/{bought['licenseId']}", token=people.jwt("buyer1"))
    assert view.body["status"] == "EXHAUSTED"


def test_rate_limit_is_exact_under_parallel_requests(set_env, stack, people, content, bought):
    set_env(ACCESS_RATE_LIMIT="20", ACCESS_RATE_WINDOW_SECONDS="3600")
    clear_license_caches()
    if time.time() % 3600 > 3540:  # keep the burst inside one window
        time.sleep(3600 - time.time() % 3600 + 1)
    replies = by_workers(people, bought["licenseId"], 6, 10,
                         lambda i: people.access(content[0], bought["apiKey"], bought["accessToken"], worker=i))
    statuses = Counter(r.status for r in replies)
    assert statuses == {200: 20, 429: 40}, statuses
    limited = [r for r in replies if r.status == 429]
    assert all(r.body["error"] == "RATE_LIMITED" and 0 < int(r.headers["Retry-After"]) <= 3600 for r in limited)
    assert uses(stack, bought["licenseId"]) == 20  # a refused request uses nothing


def test_an_expired_license_is_400_with_expired_at(api, stack, people, content):
    terms = people.create_terms(content[0], price=10, max_uses=5, duration=1)
    bought = people.buy_with_permit(terms["termsId"]).body
    valid_until = stack.item("LICENSES_TABLE", {"licenseId": bought["licenseId"]})["validUntil"]
    time.sleep(max(0.0, valid_until - time.time()) + 1)
    reply = people.access(content[0], bought["apiKey"], bought["accessToken"])
    assert reply.status == 400 and reply.body["error"] == "INVALID_LICENSE"
    assert reply.body["details"] == {"licenseId": bought["licenseId"], "reason": "expired",
                                     "expiredAt": ax.iso(valid_until)}
    assert reply.body["message"] == f"License expired on {ax.iso(valid_until)[:10]}"
    view = api.call("GET", f"/license/{bought['licenseId']}", token=people.jwt("buyer1"))
    assert view.body["status"] == "EXPIRED" and view.body["uses"] == 0


def test_a_revoked_license_is_refused_at_the_next_access(people, content, bought):
    assert people.access(content[0], bought["apiKey"], bought["accessToken"]).status == 200
    assert people.revoke(bought["licenseId"]).status == 200
    reply = people.access(content[0], bought["apiKey"], bought["accessToken"])
    assert reply.status == 400 and reply.body["details"]["reason"] == "revoked"


def test_a_revoked_key_is_401_and_a_rotated_key_works(api, stack, people, content, bought):
    jwt = people.jwt("buyer1")
    assert api.call("DELETE", f"/license/{bought['licenseId']}/keys", token=jwt).body["revoked"] == 1
    assert people.access(content[0], bought["apiKey"], bought["accessToken"]).status == 401
    fresh = api.call("POST", f"/license/{bought['licenseId']}/keys", token=jwt)
    assert fresh.status == 201 and fresh.body["accessToken"] == bought["accessToken"]
    assert people.access(content[0], fresh.body["apiKey"], fresh.body["accessToken"]).status == 200
    assert people.access(content[0], bought["apiKey"], bought["accessToken"]).status == 401
    # keys are the buyer's to manage
    assert api.call("POST", f"/license/{bought['licenseId']}/keys", token=people.jwt("creator1")).status == 403


def test_a_license_for_other_content_is_403_and_uses_nothing(api, stack, people, content, bought):
    other_id, _ = register(api, people.jwt("creator1"))
    reply = people.access(other_id, bought["apiKey"], bought["accessToken"])
    assert reply.status == 403 and reply.body["error"] == "FORBIDDEN"
    assert uses(stack, bought["licenseId"]) == 0


def test_a_buyer_cannot_use_another_buyers_license(stack, people, content, terms, bought):
    people.mint("creator2", 10**9)
    theirs = people.buy_with_permit(terms["termsId"], role="creator2").body
    mine = people.worker(bought["licenseId"])
    people.worker(theirs["licenseId"], role="creator2")
    # a key with the other license's worker: not a usage signer of the key's license (403)
    for key, license_id, role in ((theirs["apiKey"], bought["licenseId"], "buyer1"),
                                  (bought["apiKey"], theirs["licenseId"], "creator2")):
        w = people.worker(license_id, role=role)
        reply = people.api.call("POST", f"/content/{content[0]}/access", headers={
            "Authorization": f"Bearer {key}", **w.headers(stack.deployment)})
        assert reply.status in (401, 403), reply.body
        assert reply.body["details"].get("reason") in ("unknown_signer", "bad_signature"), reply.body
    # an unknown key (401), an unsigned request (401)
    assert people.access(content[0], cred.new_api_key().key, bought["accessToken"]).status == 401
    unsigned = people.access(content[0], bought["apiKey"], None)
    assert unsigned.status == 401 and unsigned.body["details"]["reason"] == "signature_missing"
    assert mine.served == 0
    assert uses(stack, bought["licenseId"]) == 0 and uses(stack, theirs["licenseId"]) == 0


def test_storage_unreachable_is_503_after_retries_and_uses_nothing(monkeypatch, stack, people, content, bought):
    import boto3
    from botocore.config import Config

    from local.processes import free_port

    dead = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{free_port()}", region_name="us-east-1",
                        config=Config(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=1))
    attempts = []
    dead.meta.events.register("before-call.s3.HeadObject", lambda **kw: attempts.append(1))
    monkeypatch.setattr(content_urls, "_s3", lambda: dead)
    reply = people.access(content[0], bought["apiKey"], bought["accessToken"])
    assert reply.status == 503 and reply.body["error"] == "IPFS_UNAVAILABLE" and reply.body["retryAfter"] == 60
    assert reply.headers["Retry-After"] == "60"
    assert len(attempts) == 4  # the first attempt and three retries
    assert uses(stack, bought["licenseId"]) == 0 and usage_events(stack, bought["licenseId"]) == []
