"""Flow 7 end to end (issue 11, "Shown by"): after real purchases, signed accesses and a settlement
on a local stack of this module's own, ``GET /creator/{address}/analytics`` says exactly what
happened and what the chain says: uses served (the usage table's stream → the analytics feeder),
proven uses = Σ ``UsageLogged.count`` and revenue = Σ ``PaymentReleased.creatorAmount`` read from
the chain for the creator's content, purchases and their deposits = the ``LicensePurchased`` logs,
two active licenses, two licensees with uses, top content, recent activity; the 5-minute cache
answers the same figures again with their age; another account or a non-address is refused (403),
a bad period 422.

The pipeline is asynchronous (stream poller, listener every 3 s, FIFO consumer): the test waits
on the creator's all-time aggregate item in moto's DynamoDB, then asks the API once per period
(a period asked twice within 5 minutes comes from the cache, by design).

**Its own stack** (``own_stack``): chain time moves 16 minutes (past the local minimum batch window).
"""

from __future__ import annotations

import os
import time

import boto3
import pytest
import requests
from marketplace.adapters.dynamodb import from_ddb
from web3 import Web3

from local.client import Client, stack_account
from local.license_client import LicenseClient
from tests.support.chainkit import artifact
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PRICE, MAX_USES = 1_001, 50
USES = {"buyer1": 3, "buyer2": 2}
N = sum(USES.values())
CHAIN_ADVANCE = 16 * 60
SETTLE_TIMEOUT = 240



def chain_logs(w3: Web3, stack: dict, contract: str, event: str, content_id: str) -> list:
    c = w3.eth.contract(address=stack["contracts"][contract], abi=artifact(contract)["abi"])
    return [e for e in getattr(c.events, event)().get_logs(from_block=0)
            if "0x" + bytes(e["args"]["contentId"]).hex() == content_id]


@pytest.fixture(scope="module")
def world(own_stack):
    api = Client(own_stack["apiUrl"], timeout=120)
    roles = ("creator1", "creator2", "buyer1", "buyer2")
    keys = {r: stack_account(own_stack, r)["privateKey"] for r in roles}
    ddb = boto3.client("dynamodb", endpoint_url=own_stack["awsEndpoint"], region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    return {"stack": own_stack, "api": api, "lc": LicenseClient(api), "keys": keys, "ddb": ddb,
            "addresses": {r: stack_account(own_stack, r)["address"] for r in roles},
            "jwt": {r: api.login(k) for r, k in keys.items()},
            "w3": Web3(Web3.HTTPProvider(own_stack["rpcUrl"], request_kwargs={"timeout": 60}))}


def analytics(world, period: str, role: str = "creator1", address: str | None = None,
              expect: tuple[int, ...] = (200,)) -> requests.Response:
    address = address or world["addresses"]["creator1"]
    return world["api"].request("GET", f"/creator/{address}/analytics?period={period}", world["jwt"][role],
                                expect=expect)


def all_time(world) -> dict:
    """The creator's all-time aggregate item, read from moto (what the feeders applied so far)."""
    item = world["ddb"].get_item(TableName=f"{world['stack']['prefix']}-analytics", ConsistentRead=True, Key={
        "pk": {"S": f"creator#{world['addresses']['creator1'].lower()}"}, "sk": {"S": "all"}}).get("Item")
    return from_ddb(item) if item else {}


def test_the_dashboard_equals_what_happened_and_what_the_chain_says(world):
    api, lc, jwt, keys, w3, stack = (world[k] for k in ("api", "lc", "jwt", "keys", "w3", "stack"))
    creator = world["addresses"]["creator1"]
    started = time.monotonic()
    empty = analytics(world, "day").json()  # before anything: zeros, then cached for 5 minutes
    assert empty["cached"] is False and empty["cacheAgeSeconds"] == 0 and empty["summary"]["uses"] == 0
    assert empty["trends"]["uses"] == {"current": 0, "previous": 0, "change": 0}  # no changePct without a base

    record = api.register_file(jwt["creator1"], os.urandom(20_000),
                               {"title": "Analytics set", "description": "", "tags": ["e2e"]}, filename="a.bin")
    content_id = record["contentId"]
    terms = lc.create_terms(jwt["creator1"], keys["creator1"], content_id, price_per_use=PRICE, max_uses=MAX_USES,
                            duration_seconds=24 * 3600)
    bought = {b: lc.purchase_with_permit(jwt[b], keys[b], terms["termsId"]) for b in USES}
    for buyer, uses in USES.items():
        for _ in range(uses):
            lc.access(content_id, bought[buyer]["apiKey"], bought[buyer]["accessToken"])
    assert wait_for(lambda: all_time(world).get("uses") == N and all_time(world).get("purchases") == 2, 60), \
        f"served uses and purchases never reached the aggregates: {all_time(world)}"
    served = analytics(world, "week").json()
    assert (served["summary"]["uses"], served["summary"]["provenUses"], served["summary"]["purchases"]) == (N, 0, 2)
    assert served["summary"]["licenseesWithUses"] == 2 and served["summary"]["activeLicenses"] == 2

    # settlement: chain time past the minimum window; the schedule proves and logs both licenses' batches
    for method, params in (("evm_increaseTime", [CHAIN_ADVANCE]), ("evm_mine", [])):
        assert "error" not in w3.provider.make_request(method, params)  # type: ignore[arg-type]
    assert wait_for(lambda: sum(e["args"]["count"] for e in chain_logs(w3, stack, "UsageTracker", "UsageLogged",
                                                                         content_id)) == N, SETTLE_TIMEOUT, 2.0), \
        f"the {N} uses were not logged on chain in {SETTLE_TIMEOUT} s"
    logged = chain_logs(w3, stack, "UsageTracker", "UsageLogged", content_id)
    released = chain_logs(w3, stack, "PaymentEscrow", "PaymentReleased", content_id)
    purchased = chain_logs(w3, stack, "LicenseManager", "LicensePurchased", content_id)
    chain = {"provenUses": sum(e["args"]["count"] for e in logged),
             "revenue": sum(e["args"]["creatorAmount"] for e in released),
             "payments": len(released), "purchases": len(purchased), "sales": sum(e["args"]["amount"] for e in purchased)}
    assert chain["provenUses"] == N and chain["payments"] == 2 and chain["purchases"] == 2
    assert chain["sales"] == 2 * PRICE * MAX_USES

    assert wait_for(lambda: all(all_time(world).get(k) == v for k, v in chain.items()), 60), \
        f"the aggregates never reconciled with the chain: {chain} vs {all_time(world)}"
    body = analytics(world, "year").json()  # month buckets: the chain's moved clock stays in this month
    assert body["cached"] is False and body["granularity"] == "month" and len(body["series"]) == 12
    assert body["allTime"] == {**chain, "uses": N, "revocations": 0}
    summary = body["summary"]
    assert {k: summary[k] for k in (*chain, "uses", "revocations")} == body["allTime"]  # all of it this year
    assert summary["activeLicenses"] == 2 and summary["licenseesWithUses"] == 2
    assert body["creator"] == Web3.to_checksum_address(creator)
    assert body["series"][-1]["uses"] == N and body["series"][-1]["revenue"] == chain["revenue"]
    assert body["trends"]["revenue"] == {"current": chain["revenue"], "previous": 0, "change": chain["revenue"]}
    assert body["topContent"] == [{"contentId": content_id, "uses": N, "provenUses": N, "revenue": chain["revenue"]}]
    activity = body["recentActivity"]
    assert sorted(a["type"] for a in activity) == sorted(
        ["license.purchased"] * 2 + ["usage.proven"] * 2 + ["payment.released"] * 2)
    assert {a["txHash"] for a in activity if a["type"] == "payment.released"} == {
        e["transactionHash"].to_0x_hex() for e in released}
    assert sorted(a["delta"]["revenue"] for a in activity if a["type"] == "payment.released") == sorted(
        e["args"]["creatorAmount"] for e in released)

    # the cache (5 minutes per creator and period): the year's answer again, with its age; the day's
    # first answer (zeros) while it is younger than 5 minutes
    time.sleep(1.1)
    repeat = analytics(world, "year").json()
    assert repeat["cached"] is True and repeat["generatedAt"] == body["generatedAt"] and repeat["cacheAgeSeconds"] >= 1
    assert {k: repeat[k] for k in ("summary", "allTime", "series", "topContent")} == {
        k: body[k] for k in ("summary", "allTime", "series", "topContent")}
    day = analytics(world, "day").json()
    if time.monotonic() - started < 290:
        assert day["cached"] is True and day["generatedAt"] == empty["generatedAt"] and day["summary"]["uses"] == 0
    else:  # the test took more than 5 minutes: the day was computed again
        assert day["cached"] is False and day["allTime"] == body["allTime"]

    # only the creator: another creator, or a string that is no address, is refused; a malformed period is a 422
    refused = analytics(world, "month", role="creator2", expect=(403,)).json()
    assert refused["error"] == "FORBIDDEN" and set(refused) == {"error", "message", "details"}
    assert analytics(world, "decade", expect=(422,)).json()["error"] == "VALIDATION_ERROR"
    assert analytics(world, "month", address="0x1234", expect=(403,)).json()["error"] == "FORBIDDEN"
