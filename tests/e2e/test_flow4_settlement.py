"""Flow 4 end to end on a local stack of this module's own (issue 9, "Shown by"): a creator registers
content, offers terms, registers a webhook (a receiver on 127.0.0.1) and a verified email; a buyer
buys, registers two worker keys and makes N signed accesses; chain time moves past the local
minimum batch window (15 minutes); the usage-batches schedule (every 15 s locally) proves and logs
the batch, paid in the same transaction; the listener and the payments consumer complete the
payment; the creator is notified by webhook (verified with ``standardwebhooks``) and email (moto's
SES), and withdraws exactly the creator's share.

Also, at the HTTP level, the platform cannot get a use no buyer signed: an access without a
signature, with a replayed counter, by an unregistered key or with another key's signature is
refused and counts nothing (the chain settles exactly the N signed uses).

**Its own stack** (``own_stack``): it moves the chain's clock by 16 minutes (``evm_increaseTime``),
which on the session's shared chain would push block time past other tests' wall-clock deadlines
(permits, quotes, signed terms). The own stack is stopped at the module's end.
"""

from __future__ import annotations

import email
import os
import time
from typing import Any

import pytest
import requests
from marketplace.usage.client_signing import access_headers, new_worker_key
from standardwebhooks import Webhook as StandardWebhook
from web3 import Web3

from local.client import Client, stack_account
from local.license_client import LicenseClient, send_transaction
from tests.support.chainkit import artifact
from tests.support.waiting import wait_for
from tests.support.webhook_receiver import Receiver

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PRICE, MAX_USES = 1_003, 100  # P: 7 × 1,003 = 7,021, whose 2.5 % fee (175.525) the escrow floors
USES_BY_WORKER = (4, 3)  # two workers of one license: N = 7 signed uses
N = sum(USES_BY_WORKER)
FEE_BPS, BPS = 250, 10_000
CHAIN_ADVANCE = 16 * 60  # past the local minimum window (LOCAL_MIN_WINDOW, 15 minutes)
SETTLE_TIMEOUT = 300  # s: the schedule (15 s), a proof, the relayed transaction, listener (3 s), consumer
CREATOR_EMAIL = "creator1@example.com"


def creator_share(uses: int, price: int) -> int:
    """What ``PaymentEscrow.settle`` owes the creator: the amount less its floored fee."""
    amount = uses * price
    return amount - amount * FEE_BPS // BPS



def sent_emails(aws_endpoint: str) -> list[email.message.Message]:
    data = requests.get(f"{aws_endpoint}/moto-api/data.json", timeout=30).json()
    return [email.message_from_string(m["raw_data"]) for m in data.get("ses", {}).get("RawMessage", [])]


def token_balance(w3: Web3, stack: dict, address: str) -> int:
    token = w3.eth.contract(address=stack["contracts"]["Stablecoin"], abi=artifact("MockStablecoin")["abi"])
    return token.functions.balanceOf(Web3.to_checksum_address(address)).call()


def events(w3: Web3, stack: dict, contract: str, event: str, receipt: Any) -> list[dict]:
    from web3.logs import DISCARD

    c = w3.eth.contract(address=stack["contracts"][contract], abi=artifact(contract)["abi"])
    return [dict(e["args"]) for e in getattr(c.events, event)().process_receipt(receipt, errors=DISCARD)]


def advance_chain(w3: Web3, seconds: int) -> int:
    for method, params in (("evm_increaseTime", [seconds]), ("evm_mine", [])):
        reply = w3.provider.make_request(method, params)  # type: ignore[arg-type]
        assert "error" not in reply, reply
    return w3.eth.get_block("latest")["timestamp"]


@pytest.fixture(scope="module")
def world(own_stack):
    """The own stack's client, chain, accounts and their sessions, and a license client."""
    api = Client(own_stack["apiUrl"], timeout=120)
    keys = {role: stack_account(own_stack, role)["privateKey"] for role in ("creator1", "buyer1")}
    addresses = {role: stack_account(own_stack, role)["address"] for role in ("creator1", "buyer1")}
    return {"stack": own_stack, "api": api, "lc": LicenseClient(api), "keys": keys, "addresses": addresses,
            "jwt": {role: api.login(key) for role, key in keys.items()},
            "w3": Web3(Web3.HTTPProvider(own_stack["rpcUrl"], request_kwargs={"timeout": 60}))}


@pytest.fixture(scope="module")
def bought(world):
    """Content registered, terms offered (P, maxUses), a license bought with a permit."""
    api, lc, jwt, keys = world["api"], world["lc"], world["jwt"], world["keys"]
    record = api.register_file(jwt["creator1"], os.urandom(50_000),
                               {"title": "Flow 4 settlement set", "description": "", "tags": ["e2e"]},
                               filename="flow4.bin")
    content_id = record["contentId"]
    terms = lc.create_terms(jwt["creator1"], keys["creator1"], content_id, price_per_use=PRICE, max_uses=MAX_USES,
                            duration_seconds=24 * 3600)
    purchase = lc.purchase_with_permit(jwt["buyer1"], keys["buyer1"], terms["termsId"])
    return {"contentId": content_id, "terms": terms, **purchase}


def access(world, bought, headers: dict[str, str]) -> requests.Response:
    return requests.post(f"{world['api'].api_url}/content/{bought['contentId']}/access",
                         headers={"Authorization": f"Bearer {bought['apiKey']}", **headers}, timeout=60)


def test_a_use_no_buyer_signed_is_refused_and_counts_nothing(world, bought):
    """Unsigned, replayed, unregistered-key and forged-signature accesses are refused at the HTTP
    level and grant no use (the settlement test below finds exactly the signed uses on chain)."""
    lc, license_id = world["lc"], bought["licenseId"]
    worker = lc.worker(license_id, world["jwt"]["buyer1"], world["keys"]["buyer1"])
    chain_id, manager = int(worker.domain["chainId"]), worker.domain["verifyingContract"]

    refused = access(world, bought, {})  # the API key alone
    assert refused.status_code == 401 and refused.json()["details"]["reason"] == "signature_missing"

    with worker.lock:
        signed = worker.headers()  # the worker's next counter, signed
        assert access(world, bought, signed).status_code == 200
        worker.served += 1
    replay = access(world, bought, signed)  # the same request again, as the platform saw it
    assert replay.status_code == 409 and replay.json()["details"]["reason"] == "replayed_counter"
    stale = access_headers(worker.key, license_id, worker.served, chain_id, manager)  # a served counter, signed anew
    reply = access(world, bought, stale)
    assert reply.status_code == 409 and reply.json()["details"] == {
        **reply.json()["details"], "reason": "replayed_counter", "expectedCounter": worker.served + 1}

    stranger = new_worker_key()  # a key the licensee never registered (anyone, the platform too, can make one)
    reply = access(world, bought, access_headers(stranger, license_id, 1, chain_id, manager))
    assert reply.status_code == 403 and reply.json()["details"]["reason"] == "unknown_signer"
    forged = access_headers(stranger, license_id, worker.served + 1, chain_id, manager)
    forged["X-Usage-Signer"] = worker.key.address  # claims the buyer's worker, signed by another key
    reply = access(world, bought, forged)
    assert reply.status_code == 401 and reply.json()["details"]["reason"] == "bad_signature"

    assert lc.get_license(world["jwt"]["buyer1"], license_id).json()["uses"] == worker.served == 1


def test_signed_uses_are_proved_logged_paid_notified_and_withdrawn(world, bought):
    stack, api, lc, jwt, keys, w3 = (world[k] for k in ("stack", "api", "lc", "jwt", "keys", "w3"))
    content_id, license_id = bought["contentId"], bought["licenseId"]
    creator = world["addresses"]["creator1"]

    # the creator's notifications: a webhook to a receiver on 127.0.0.1, and a verified email
    receiver = Receiver()
    try:
        hook = api.request("POST", "/webhooks", jwt["creator1"], expect=(201,),
                           json={"url": receiver.url, "events": ["payment.completed"]}).json()
        assert hook["secret"].startswith("whsec_")
        verified = api.request("PUT", "/creator/notifications/email", jwt["creator1"],
                               json={"email": CREATOR_EMAIL}).json()
        assert verified["verified"] is True  # moto's SES verifies at once

        # the buyer's two workers (keys registered by the licensee), N signed accesses in all
        workers = [lc.worker(license_id, jwt["buyer1"], keys["buyer1"]),
                   LicenseClient(api).worker(license_id, jwt["buyer1"], keys["buyer1"])]
        signers = api.request("GET", f"/license/{license_id}/signers", jwt["buyer1"]).json()["signers"]
        assert {w.key.address for w in workers} <= {s["signer"].lower() for s in signers}
        for w, uses in zip(workers, USES_BY_WORKER):
            while w.served < uses:  # (the refusal test above served the first worker's first use)
                with w.lock:
                    reply = access(world, bought, w.headers())
                    assert reply.status_code == 200, reply.text
                    w.served += 1
        view = lc.get_license(jwt["buyer1"], license_id).json()
        assert view["uses"] == N
        earnings = wait_for(lambda: [e for e in [api.request("GET", "/creator/earnings", jwt["creator1"]).json()]
                                     if e["pendingUses"] == N], 60)  # once the listener recorded the purchase
        assert earnings, "the creator's earnings never showed the N pending uses"
        assert earnings[0]["platformFeeBps"] == FEE_BPS and earnings[0]["owed"] == 0

        # chain time past the minimum window; the schedule proves and logs the batch, paid at once
        before = w3.eth.get_block("latest")["timestamp"]
        assert advance_chain(w3, CHAIN_ADVANCE) >= before + CHAIN_ADVANCE

        def completed() -> list[dict]:
            page = api.request("GET", f"/payments?role=creator&licenseId={license_id}", jwt["creator1"]).json()
            return [p for p in page["payments"] if p["status"] == "COMPLETED"]

        t0 = time.monotonic()
        payments = wait_for(completed, SETTLE_TIMEOUT, 2.0)
        assert payments, f"no COMPLETED payment after {SETTLE_TIMEOUT} s"
        [payment] = payments
        share = creator_share(N, PRICE)
        assert (payment["uses"], payment["amount"], payment["platformFee"]) == (N, share, N * PRICE - share)
        assert payment["contentId"] == content_id and payment["creator"].lower() == creator.lower()

        # on chain: UsageLogged and PaymentReleased in the batch's transaction, N uses
        receipt = w3.eth.get_transaction_receipt(payment["txHash"])
        [logged] = events(w3, stack, "UsageTracker", "UsageLogged", receipt)
        [released] = events(w3, stack, "PaymentEscrow", "PaymentReleased", receipt)
        assert "0x" + logged["licenseId"].hex() == license_id and logged["count"] == N and logged["startIndex"] == 0
        assert logged["windowEnd"] - logged["windowStart"] >= 15 * 60
        assert (released["uses"], released["creatorAmount"], released["platformFee"]) == (N, share, N * PRICE - share)
        assert released["payee"].lower() == creator.lower() and released["batchId"] == logged["batchId"]
        manager = w3.eth.contract(address=stack["contracts"]["LicenseManager"], abi=artifact("LicenseManager")["abi"])
        settled = [manager.functions.usageSigner(bytes.fromhex(license_id[2:]),
                                                 Web3.to_checksum_address(w.key.address)).call()[2] for w in workers]
        assert settled == list(USES_BY_WORKER)  # each worker billed up to the highest counter it signed
        buyer_view = api.request("GET", f"/payments?role=buyer&licenseId={license_id}", jwt["buyer1"]).json()
        assert [p["txHash"] for p in buyer_view["payments"]] == [payment["txHash"]]
        earnings = api.request("GET", "/creator/earnings", jwt["creator1"]).json()
        assert (earnings["owed"], earnings["owedOnChain"], earnings["uses"], earnings["pendingUses"]) == (
            share, share, N, 0)
        assert [(c["contentId"], c["earned"], c["uses"]) for c in earnings["perContent"]] == [(content_id, share, N)]

        # the creator's webhook: payment.completed, signed per Standard Webhooks
        assert receiver.wait(1, 60), "no webhook"
        got = receiver.received[0]
        notified_after = time.monotonic() - t0
        payload = StandardWebhook(hook["secret"]).verify(got.body, got.headers)
        assert payload["type"] == "payment.completed"
        assert {k: payload["data"][k] for k in ("amount", "contentId", "txHash", "uses", "licenseId")} == {
            "amount": share, "contentId": content_id, "txHash": payment["txHash"], "uses": N, "licenseId": license_id}
    finally:
        receiver.stop()

    # and an email, in moto's SES (text + HTML, the amount and the content)
    mails = wait_for(lambda: [m for m in sent_emails(stack["awsEndpoint"]) if CREATOR_EMAIL in m["To"]], 60)
    assert mails, "no email in moto's SES"
    parts = {p.get_content_type(): p.get_payload(decode=True).decode() for p in mails[-1].walk()
             if not p.is_multipart()}
    assert set(parts) == {"text/plain", "text/html"}
    assert all(str(share) in text and content_id in text for text in parts.values())

    # withdrawal: the unsigned withdraw(), sent by the creator's own wallet, then its txHash
    challenge = api.request("POST", "/creator/withdraw", jwt["creator1"]).json()
    assert challenge["transactionRequired"] is True and challenge["owed"] == share
    tx = challenge["transaction"]
    assert Web3.to_checksum_address(tx["to"]) == stack["contracts"]["PaymentEscrow"]
    balance = token_balance(w3, stack, creator)
    tx_hash = send_transaction(stack["rpcUrl"], keys["creator1"], tx["to"], bytes.fromhex(tx["data"][2:]))
    assert token_balance(w3, stack, creator) - balance == share == creator_share(N, PRICE)
    recorded = api.request("POST", "/creator/withdraw", jwt["creator1"], json={"txHash": tx_hash}).json()
    assert (recorded["amount"], recorded["owed"], recorded["txHash"]) == (share, 0, tx_hash)
    withdrawn = wait_for(lambda: api.request("GET", f"/payments?role=creator&licenseId={license_id}",
                                             jwt["creator1"]).json()["payments"][0]["status"] == "WITHDRAWN", 30)
    assert withdrawn
    print(f"\nN={N} P={PRICE}: creator paid {share} (N*P*9750/10000 = {N * PRICE * 9750 / BPS}, fee floored); "
          f"payment.completed webhook {notified_after:.1f} s after chain time moved")
