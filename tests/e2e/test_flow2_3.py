"""Flows 2 and 3 end to end, over HTTP against the local stack, as clients do them: a creator
registers content and offers terms; buyers purchase with a permit and with their own
transactions, access the content and download it; limits, revocations and other buyers' licenses.

Every access is signed by a worker key the licensee registered (``LicenseClient.access``: one
worker per license client, registered on its first access); parallel requests come from several
workers, since one worker's counter is sequential.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from marketplace.licensing import credential as cred

from local.client import Client
from local.license_client import LicenseClient, sign_typed_data

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DEFAULT_RATE_LIMIT = 300  # ACCESS_RATE_LIMIT's default (per key per 60 s window)
PARALLEL_WORKERS = 16  # workers (usage signers) of one license sending at once


@pytest.fixture(scope="module")
def lc(client) -> LicenseClient:
    return LicenseClient(client)


@pytest.fixture(scope="module")
def jwt(stack, client):
    tokens: dict[str, str] = {}

    def get(role: str) -> str:
        if role not in tokens:
            tokens[role] = client.login(account(stack, role)["privateKey"])
        return tokens[role]

    return get


def account(stack, role: str) -> dict:
    return next(a for a in stack["accounts"] if a["role"] == role)


def key(stack, role: str) -> str:
    return account(stack, role)["privateKey"]


@pytest.fixture(scope="module")
def content(client, creator_token):
    data = os.urandom(200_000)
    record = client.register_file(creator_token, data, {"title": "Flow 2-3 training set", "description": "",
                                                        "tags": ["e2e"]}, filename="set.bin")
    return record["contentId"], data


@pytest.fixture(scope="module")
def terms(stack, lc, creator_token, content):
    return lc.create_terms(creator_token, key(stack, "creator1"), content[0], price_per_use=1_000, max_uses=1_000,
                           duration_seconds=24 * 3600)


def _workers(lc: LicenseClient, token: str, private_key: str, license_id: str, n: int) -> list[LicenseClient]:
    """``n`` workers of one license, each a license client with its own worker key, registered by
    the licensee one after another (each AddUsageSigner signature takes the licensee's next nonce)."""
    clients = [LicenseClient(lc.api) for _ in range(n)]
    for c in clients:
        c.worker(license_id, token, private_key)
    return clients


def _burst(n: int, workers: list[LicenseClient], call) -> list:
    """``n`` requests in parallel over the workers: ``call(worker, session)``; one worker's requests
    run one after another (its counter is sequential: each request signs its served uses + 1), the
    workers side by side."""
    def run(i: int) -> list:
        with requests.Session() as session:
            return [call(workers[i], session) for _ in range(i, n, len(workers))]

    with ThreadPoolExecutor(len(workers)) as pool:
        return [reply for replies in pool.map(run, range(len(workers))) for reply in replies]


def test_register_offer_purchase_access_and_download(stack, client, lc, jwt, creator_token, content, terms):
    content_id, data = content
    assert client.get_content(content_id)["state"] in ("LICENSED", "ACTIVE")
    assert terms["termsId"] in [t["termsId"] for t in lc.list_terms(content_id)]
    by_permit = lc.purchase_with_permit(jwt("buyer1"), key(stack, "buyer1"), terms["termsId"])
    by_tx = lc.purchase_with_transaction(jwt("buyer1"), key(stack, "buyer1"), terms["termsId"], stack["rpcUrl"])
    for bought in (by_permit, by_tx):
        assert bought["apiKey"].startswith("sk_live_") and bought["terms"]["termsId"] == terms["termsId"]
        unsigned = lc.access(content_id, bought["apiKey"], bought["accessToken"], signed=False, expect=(401,)).json()
        assert unsigned["details"]["reason"] == "signature_missing"  # the API key alone opens nothing
        grant = lc.access(content_id, bought["apiKey"], bought["accessToken"]).json()
        assert grant["expiresIn"] == 3600 and grant["use"] == 1
        assert requests.get(grant["url"], timeout=60).content == data
        license_view = lc.get_license(jwt("buyer1"), bought["licenseId"]).json()
        assert license_view["status"] == "IN_USE" and license_view["uses"] == 1
    assert client.get_content(content_id)["state"] == "ACTIVE"


def test_an_own_purchase_between_quote_and_relayed_purchase_leaves_both_licenses_working(
        stack, lc, jwt, content, terms):
    """The buyer asks for a quote, then buys with their own transactions before posting that
    quote's permit: the relayed purchase lands on the quoted license id, whose credential opens."""
    content_id, data = content
    quoted = lc.quote(jwt("buyer1"), terms["termsId"])
    own = lc.purchase_with_transaction(jwt("buyer1"), key(stack, "buyer1"), terms["termsId"], stack["rpcUrl"])
    relayed = lc.redeem_with_permit(jwt("buyer1"), key(stack, "buyer1"), quoted)
    assert relayed["licenseId"] == quoted["licenseId"] != own["licenseId"]
    for bought in (relayed, own):
        credential = cred.decode_token(bought["accessToken"])
        assert credential.license_id == bought["licenseId"]
        grant = lc.access(content_id, bought["apiKey"], bought["accessToken"]).json()
        assert grant["use"] == 1 and requests.get(grant["url"], timeout=60).content == data


def test_max_uses_50_with_200_parallel_requests_grants_exactly_50(stack, lc, jwt, creator_token, content):
    content_id = content[0]
    terms = lc.create_terms(creator_token, key(stack, "creator1"), content_id, price_per_use=100, max_uses=50)
    bought = lc.purchase_with_permit(jwt("buyer1"), key(stack, "buyer1"), terms["termsId"])
    workers = _workers(lc, jwt("buyer1"), key(stack, "buyer1"), bought["licenseId"], PARALLEL_WORKERS)
    replies = _burst(200, workers, lambda w, s: w.access(content_id, bought["apiKey"], bought["accessToken"],
                                                         expect=None, session=s))
    statuses = Counter(r.status_code for r in replies)
    assert statuses == {200: 50, 400: 150}, statuses
    assert {r.json()["details"]["reason"] for r in replies if r.status_code == 400} == {"exhausted"}
    assert sorted(r.json()["use"] for r in replies if r.status_code == 200) == list(range(1, 51))
    assert sum(w.worker(bought["licenseId"]).served for w in workers) == 50
    assert lc.get_license(jwt("buyer1"), bought["licenseId"]).json()["status"] == "EXHAUSTED"


def test_rate_limit_is_exact_under_parallel_requests(stack, lc, jwt, creator_token, content):
    """DEFAULT_RATE_LIMIT + 40 parallel requests (PARALLEL_WORKERS workers) with one key inside one
    60 s window: exactly DEFAULT_RATE_LIMIT pass the limiter (a 1-use license answers them 200 or
    400), 40 get 429."""
    content_id = content[0]
    terms = lc.create_terms(creator_token, key(stack, "creator1"), content_id, price_per_use=100, max_uses=1)
    for _attempt in range(3):
        bought = lc.purchase_with_permit(jwt("buyer1"), key(stack, "buyer1"), terms["termsId"])
        workers = _workers(lc, jwt("buyer1"), key(stack, "buyer1"), bought["licenseId"], PARALLEL_WORKERS)
        time.sleep(60 - time.time() % 60 + 0.5)  # start at the beginning of a window
        window = int(time.time()) // 60
        replies = _burst(DEFAULT_RATE_LIMIT + 40, workers, lambda w, s, b=bought: w.access(
            content_id, b["apiKey"], b["accessToken"], expect=None, session=s))
        if int(time.time()) // 60 != window:
            continue  # the burst outlived its window (a very slow machine): try again
        statuses = Counter(r.status_code for r in replies)
        assert statuses == {200: 1, 400: DEFAULT_RATE_LIMIT - 1, 429: 40}, statuses
        limited = [r for r in replies if r.status_code == 429]
        assert all(r.json()["error"] == "RATE_LIMITED" and 1 <= int(r.headers["Retry-After"]) <= 60 for r in limited)
        return
    pytest.fail("no burst fitted in a rate-limit window")


def test_revoking_the_key_and_the_license(stack, client, lc, jwt, creator_token, content, terms):
    content_id = content[0]
    bought = lc.purchase_with_permit(jwt("buyer1"), key(stack, "buyer1"), terms["termsId"])
    lc.access(content_id, bought["apiKey"], bought["accessToken"])
    # the buyer revokes the key: 401; a rotated key works, the old one stays dead
    client.request("DELETE", f"/license/{bought['licenseId']}/keys", jwt("buyer1"))
    lc.access(content_id, bought["apiKey"], bought["accessToken"], expect=(401,))
    fresh = client.request("POST", f"/license/{bought['licenseId']}/keys", jwt("buyer1"), expect=(201,)).json()
    lc.access(content_id, fresh["apiKey"], fresh["accessToken"])
    lc.access(content_id, bought["apiKey"], bought["accessToken"], expect=(401,))
    # the creator revokes the license (signed, relayed on chain): the next access is refused
    revoked = lc.revoke(creator_token, key(stack, "creator1"), bought["licenseId"])
    assert revoked["status"] == "REVOKED"
    refused = lc.access(content_id, fresh["apiKey"], fresh["accessToken"], expect=(400,)).json()
    assert refused["error"] == "INVALID_LICENSE" and refused["details"]["reason"] == "revoked"


def test_a_buyer_cannot_read_or_use_another_buyers_license(stack, client, lc, jwt, content, terms):
    content_id = content[0]
    mine = lc.purchase_with_permit(jwt("buyer1"), key(stack, "buyer1"), terms["termsId"])
    theirs = lc.purchase_with_permit(jwt("buyer2"), key(stack, "buyer2"), terms["termsId"])
    lc.get_license(jwt("buyer2"), mine["licenseId"], expect=(403,))
    lc.get_license(jwt("buyer1"), theirs["licenseId"], expect=(403,))
    client.request("POST", f"/license/{mine['licenseId']}/keys", jwt("buyer2"), expect=(403,))
    for api_key, token in ((theirs["apiKey"], mine["accessToken"]), (mine["apiKey"], theirs["accessToken"]),
                           (cred.new_api_key().key, mine["accessToken"])):
        assert lc.access(content_id, api_key, token, expect=(401,)).json()["error"] == "UNAUTHORIZED"
    assert lc.get_license(jwt("buyer1"), mine["licenseId"]).json()["uses"] == 0


def test_insufficient_funds_is_402(stack, client, lc, terms):
    poor = Client(client.api_url).login(account(stack, "platform")["privateKey"])  # holds no stablecoin
    reply = lc.purchase_with_permit(poor, account(stack, "platform")["privateKey"], terms["termsId"],
                                    expect=(402,))
    assert reply["error"] == "INSUFFICIENT_FUNDS" and reply["details"]["amount"] == 1_000_000


def test_browse_and_archive(stack, client, lc, jwt, creator_token):
    """GET /content by tag (with the terms summary), then the creator archives the content (the
    Archive typed data signed, relayed): new terms and purchases 409, the license bought before is
    still served, browse leaves it out, GET /content/{id} shows ARCHIVED."""
    tag = "archive-" + os.urandom(4).hex()
    data = os.urandom(10_000)
    content_id = client.register_file(creator_token, data, {"title": "To be archived", "description": "",
                                                            "tags": [tag]}, filename="a.bin")["contentId"]
    terms = lc.create_terms(creator_token, key(stack, "creator1"), content_id, price_per_use=500, max_uses=10)
    bought = lc.purchase_with_permit(jwt("buyer1"), key(stack, "buyer1"), terms["termsId"])
    page = client.request("GET", f"/content?tag={tag.upper()}&licensable=true").json()
    assert [(i["contentId"], i["terms"]["activeTerms"], i["terms"]["minPricePerUse"]) for i in page["items"]] == [
        (content_id, 1, 500)]

    path = f"/content/{content_id}/archive"
    challenge = client.request("POST", path, creator_token).json()
    signature = sign_typed_data(key(stack, "creator1"), challenge["typedData"])
    archived = client.request("POST", path, creator_token,
                              json={"signature": signature, "deadline": challenge["deadline"]}).json()
    assert archived["state"] == "ARCHIVED" and archived["txHash"]
    assert client.get_content(content_id)["state"] == "ARCHIVED"
    client.request("POST", path, creator_token, expect=(409,), json={})
    client.request("POST", f"/content/{content_id}/terms", creator_token, expect=(409,),
                   json={"type": "per_use", "pricePerUse": 1, "maxUses": 1, "durationSeconds": 0})
    client.request("POST", "/license/quote", jwt("buyer1"), expect=(409,), json={"termsId": terms["termsId"]})
    lc.access(content_id, bought["apiKey"], bought["accessToken"])  # 200: the license runs to its end
    assert client.request("GET", f"/content?tag={tag}").json()["items"] == []
