"""Flow 4's payments in-process: real on-chain events (purchases, usage batches with real proofs and
the buyer's worker signatures, sent by the KMS relayer; revocations sent directly on chain;
withdrawals by the creator's own transaction) → the chain listener (the real handler) → the
chain-events FIFO in moto → the payments consumer (the real handler, its SQS kit) → the payments
store, the license cache, the notifications queue; the refunds schedule and the payments API.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from marketplace import resources
from marketplace.adapters.dynamodb import from_ddb

from local.lambdas import LambdaContext, load_handler
from local.license_client import send_transaction
from local.workers import SqsPoller, WorkerContext
from tests.integration.conftest import PREFIX
from tests.support import license_support as support
from tests.support.chain_world import GatewayFactory
from tests.support.chainkit import ROOT, Chain
from tests.support.market import Market

content, people, _fresh_license_singletons = support.content, support.people, support._fresh_license_singletons
pytestmark = [pytest.mark.integration, pytest.mark.slow]

PRICE, MAX_USES, DURATION = 1_000, 20, 30
FEE_BPS = 250


class _Node:
    """What ``chainkit.Chain`` needs of a node: its URL and raw RPC."""

    def __init__(self, url: str) -> None:
        self.url = url

    def rpc(self, method: str, params: list | None = None) -> Any:
        from web3 import Web3

        reply = Web3(Web3.HTTPProvider(self.url)).provider.make_request(method, params or [])
        assert "error" not in reply, reply
        return reply["result"]


class Flow:
    """The listener, the consumer and the refunds schedule, run on demand (the local stack's workers
    run the same handlers on timers)."""

    def __init__(self, stack) -> None:
        self.stack = stack
        self.sqs = stack.client("sqs")
        self.failures: list[dict] = []
        self.receipts: list[str] = []
        consumer = load_handler("payments")

        def recording(event, context):
            try:
                out = consumer(event, LambdaContext("payments", timeout_seconds=20))
            except Exception:  # every record failed: the kit raises (Lambda retries the whole batch)
                self.failures += event["Records"]
                self.receipts.append(str(len(event["Records"])))
                raise
            failed = {f["itemIdentifier"] for f in (out or {}).get("batchItemFailures", [])}
            for r in event["Records"]:
                (self.failures.append(r) if r["messageId"] in failed else None)
            self.receipts.append(str(len(event["Records"])))
            return out

        self.poller = SqsPoller(WorkerContext({"payments": recording}, PREFIX, stack.moto_url), queue="chain-events",
                                function="payments", wait_seconds=0)
        self.queue_url = self.poller.queue_url
        self.notifications_url = stack.env["NOTIFICATIONS_QUEUE"]
        self.seen_notifications: list[dict] = []

    def listen(self) -> dict:
        return load_handler("chain_listener")({"time": "2025-01-01T00:00:00Z", "id": "t"}, LambdaContext("l"))

    def drain(self, rounds: int = 200) -> None:
        for _ in range(rounds):
            before = len(self.receipts)
            self.poller.tick()
            if len(self.receipts) == before:
                return
        raise AssertionError("the chain-events queue did not drain")

    def pump(self) -> None:
        self.listen()
        self.drain()

    def refunds(self) -> dict:
        return load_handler("refunds")({"time": "2025-01-01T00:00:00Z", "id": "r"}, LambdaContext("r"))

    def notifications(self) -> list[dict]:
        """Every notification sent so far (read off the queue once, kept here)."""
        while True:
            got = self.sqs.receive_message(QueueUrl=self.notifications_url, MaxNumberOfMessages=10,
                                           WaitTimeSeconds=0).get("Messages", [])
            if not got:
                return self.seen_notifications
            for m in got:
                self.seen_notifications.append(json.loads(m["Body"]))
            self.sqs.delete_message_batch(QueueUrl=self.notifications_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])

    def store_items(self, **match) -> list[dict]:
        ddb = self.stack.client("dynamodb")
        items, kwargs = [], {"TableName": self.stack.env["PAYMENTS_TABLE"]}
        while True:
            out = ddb.scan(**kwargs)
            items += [from_ddb(i) for i in out.get("Items", [])]
            if not out.get("LastEvaluatedKey"):
                break
            kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]
        return [i for i in items if all(i.get(k) == v for k, v in match.items())]


def _clear_handler_caches() -> None:
    for folder, attr in (("payments", "consumer"), ("chain_listener", "listener"), ("refunds", "scheduler"),
                         ("payments_api", "payments")):
        getattr(support.handler_module(folder), attr).cache_clear()


@pytest.fixture(scope="module")
def flow(stack):
    _clear_handler_caches()
    yield Flow(stack)
    _clear_handler_caches()


@pytest.fixture(scope="module")
def market(stack) -> Market:
    return Market(Chain(_Node(stack.rpc_url)), stack.deployment)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def relayer(stack):
    """The KMS relayer's gateway (logUsageBatch needs RELAYER_ROLE)."""
    return GatewayFactory(stack.moto_url, stack.env, stack.deployment, ROOT / "build" / "contracts").gateway()


def listing(api, token: str, **query) -> tuple[int, dict]:
    """GET /payments with a query string (the conftest's Api sends none), through the authorizer."""
    from tests.events import api_event

    policy = api.authorize(f"Bearer {token}")
    assert policy is not None
    event = api_event("GET", "/payments", headers={"Authorization": f"Bearer {token}"},
                      caller=policy["context"]["address"], resource="/payments")
    params = {k: str(v) for k, v in query.items()}
    event["queryStringParameters"] = params or None
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in params.items()} or None
    out = load_handler("payments_api")(event, LambdaContext("payments_api"))
    return out["statusCode"], json.loads(out["body"])


def address(stack, role: str) -> str:
    return stack.accounts[role][0]


@pytest.fixture(scope="module")
def paid(stack, content, market, relayer, flow):
    """A license bought on chain (30 s validity, one worker key), two batches of 3 and 2 uses logged
    with real proofs and the worker's signatures by the relayer, then listened and consumed."""
    creator, buyer = address(stack, "creator1"), address(stack, "buyer1")
    terms_id = market.create_terms(creator, bytes.fromhex(content[0][2:]), price=PRICE, max_uses=MAX_USES,
                                   duration=DURATION)
    lic = market.purchase(buyer, terms_id, workers=1)
    market.chain.advance(DURATION + 1)  # the window must be min(1 hour, validity) wide: let it pass
    onchain = market.manager.functions.getLicense(lic.license_id).call()
    window = (onchain[2], onchain[3])
    receipts = []
    for count in (3, 2):
        args, record = market.batch_args(lic, count, window=window)
        receipts.append(relayer.transact("UsageTracker", "logUsageBatch", *args))
        lic.records.append(record)
    flow.pump()
    return {"lic": lic, "id": "0x" + lic.license_id.hex(), "receipts": receipts, "creator": creator, "buyer": buyer}


def test_paid_batches_are_completed_payments_and_earnings_equal_the_chains_owed(stack, api, people, market, flow,
                                                                                 paid):
    lid = paid["id"]
    # the worker key the buyer registered on chain reached the usage context's signers table
    from marketplace.usage.adapters import DynamoUsageSigners

    worker = paid["lic"].workers[0].address.lower()
    signer = DynamoUsageSigners(stack.env["USAGE_SIGNERS_TABLE"]).get(lid, worker)
    assert signer is not None and str(signer.state) == "ACTIVE"
    payments = sorted(flow.store_items(kind="payment", licenseId=lid), key=lambda p: p["position"])
    assert [(p["uses"], p["state"]) for p in payments] == [(3, "COMPLETED"), (2, "COMPLETED")]
    for p, receipt in zip(payments, paid["receipts"]):
        assert p["txHash"] == "0x" + bytes(receipt["transactionHash"]).hex()
        assert p["creatorAmount"] + p["platformFee"] == p["uses"] * PRICE
        assert p["platformFee"] == p["uses"] * PRICE * FEE_BPS // 10_000
    escrow = market.escrow.functions
    creator = paid["creator"]
    earnings = api.call("GET", "/creator/earnings", token=people.jwt("creator1"))
    assert earnings.status == 200, earnings.body
    assert earnings.body["owed"] == earnings.body["owedOnChain"] == escrow.owed(creator).call()
    row = next(c for c in earnings.body["perContent"] if c["contentId"] == payments[0]["contentId"])
    assert row["uses"] >= 5 and row["earned"] >= sum(p["creatorAmount"] for p in payments)
    # the platform's fee is tracked as its own earnings, equal to its owed balance too
    platform, _ = support.handler_module("payments").consumer().store.earnings(escrow.platformAccount().call())
    assert platform["earned"] - platform.get("withdrawn", 0) == escrow.owed(escrow.platformAccount().call()).call()
    # the creator's and the buyer's views
    status, mine = listing(api, people.jwt("creator1"), licenseId=lid)
    assert status == 200 and [p["uses"] for p in mine["payments"]] == [2, 3]  # newest first
    assert {p["status"] for p in mine["payments"]} == {"COMPLETED"}
    status, theirs = listing(api, people.jwt("buyer1"), role="buyer", licenseId=lid, limit=1)
    assert status == 200 and len(theirs["payments"]) == 1 and theirs["cursor"]
    _, page2 = listing(api, people.jwt("buyer1"), role="buyer", licenseId=lid, limit=1, cursor=theirs["cursor"])
    assert [p["uses"] for p in page2["payments"]] == [3]
    assert listing(api, people.jwt("creator1"), role="buyer", licenseId=lid)[1]["payments"] == []
    assert listing(api, people.jwt("creator1"), status="NOPE")[0] == 422
    assert listing(api, people.jwt("creator1"), cursor="bm90LWEtY3Vyc29y")[0] == 404
    # the notifications, with their exact bodies
    notes = [n for n in flow.notifications() if n["data"].get("licenseId") == lid]
    completed = [n for n in notes if n["type"] == "payment.completed"]
    assert len(completed) == 2
    for n, p in zip(sorted(completed, key=lambda n: n["data"]["uses"], reverse=True), payments):
        assert set(n) == {"id", "type", "creator", "data", "occurredAt"}
        assert n["creator"] == creator and n["id"] == f"{p['txHash']}:{p['logIndex']}:payment.completed"
        assert n["data"] == {"amount": p["creatorAmount"], "contentId": p["contentId"], "licenseId": lid,
                             "batchId": p["batchId"], "txHash": p["txHash"], "uses": p["uses"],
                             "platformFee": p["platformFee"]}
    assert sorted(n["type"] for n in notes if n["type"] != "payment.completed") == [
        "license.purchased", "usage.batch_logged", "usage.batch_logged"]


def test_duplicate_deliveries_a_listener_re_read_and_a_crash_have_one_effect_each(stack, market, relayer, flow, paid):
    lid = paid["id"]
    sqs, ddb = flow.sqs, stack.client("dynamodb")
    before = flow.store_items(kind="payment", licenseId=lid)
    earned = support.handler_module("payments").consumer().store.earnings(paid["creator"])[0]["earned"]
    # a listener re-read from the deployment block (its cursor lost)
    ddb.delete_item(TableName=stack.env["CHAIN_CURSORS_TABLE"], Key={"name": {"S": "chain-listener"}})
    flow.pump()
    # every event delivered again after the FIFO's deduplication window (new deduplication ids)
    ddb_items = flow.store_items(kind="payment", licenseId=lid)
    for p in ddb_items:
        body = {"contract": "PaymentEscrow", "event": "PaymentReleased", "txHash": p["txHash"],
                "logIndex": p["logIndex"], "blockNumber": p["blockNumber"], "blockHash": p["blockHash"],
                "args": {"licenseId": lid, "contentId": p["contentId"], "payee": paid["creator"],
                         "batchId": p["batchId"], "uses": p["uses"], "creatorAmount": p["creatorAmount"],
                         "platformFee": p["platformFee"]}}
        for copy in range(2):
            sqs.send_message(QueueUrl=flow.queue_url, MessageBody=json.dumps(body), MessageGroupId=lid,
                             MessageDeduplicationId=f"{p['txHash']}:{p['logIndex']}:again{copy}")
    flow.drain()
    assert flow.failures == []
    after = flow.store_items(kind="payment", licenseId=lid)
    assert sorted(p["sk"] for p in after) == sorted(p["sk"] for p in before)
    assert support.handler_module("payments").consumer().store.earnings(paid["creator"])[0]["earned"] == earned
    assert [n["type"] for n in flow.notifications() if n["data"].get("licenseId") == lid].count(
        "payment.completed") == 2
    # a crash between the store write and the message's deletion: the effect is stored, the
    # notification send fails, the message stays; redelivered, it has no second effect
    consumer = support.handler_module("payments").consumer()
    real_send = consumer.notifier.send
    calls = {"n": 0}

    def crash_once(message):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("the function died here")
        real_send(message)

    lic = paid["lic"]
    args, record = market.batch_args(lic, 1, window=(market.manager.functions.getLicense(lic.license_id).call()[2],
                                                     market.manager.functions.getLicense(lic.license_id).call()[3]))
    receipt = relayer.transact("UsageTracker", "logUsageBatch", *args)
    lic.records.append(record)
    consumer.notifier.send = crash_once  # type: ignore[method-assign]
    try:
        listened = flow.listen()
        assert listened["sent"] >= 2, listened  # PaymentReleased and UsageLogged
        flow.poller.tick()
        assert flow.failures, ("the crashed message was reported failed", calls, flow.receipts[-3:])
        failed = [r for r in flow.failures]
        flow.failures.clear()
        # the visibility timeout passes: the message (and the rest of its group) is delivered again
        for r in failed:
            sqs.change_message_visibility(QueueUrl=flow.queue_url, ReceiptHandle=r["receiptHandle"],
                                          VisibilityTimeout=0)
        flow.drain()
    finally:
        consumer.notifier.send = real_send  # type: ignore[method-assign]
    assert flow.failures == []
    tx = "0x" + bytes(receipt["transactionHash"]).hex()
    third = flow.store_items(kind="payment", txHash=tx)
    assert len(third) == 1 and third[0]["state"] == "COMPLETED" and third[0]["uses"] == 1
    assert support.handler_module("payments").consumer().store.earnings(paid["creator"])[0]["earned"] == (
        earned + third[0]["creatorAmount"])
    assert [n["data"].get("txHash") for n in flow.notifications() if n["type"] == "payment.completed"].count(tx) == 1


def test_a_revocation_sent_on_chain_refuses_the_next_access_and_the_refund_returns_the_unused_deposit(
        stack, api, people, content, market, flow):
    from marketplace.access.adapters import AccessDynamoStore
    from marketplace.access.models import ClaimRefused

    terms = people.create_terms(content[0], price=PRICE, max_uses=7, duration=0)
    bought = people.buy_with_permit(terms["termsId"])
    assert bought.status == 201, bought.body
    lid = bought.body["licenseId"]
    uses = AccessDynamoStore(apikeys=stack.env["API_KEYS_TABLE"], ratelimits=stack.env["RATE_LIMITS_TABLE"],
                             licenses=stack.env["LICENSES_TABLE"])
    claim = uses.claim_use(lid, content[0], market.chain.now())  # a use is granted before the revocation
    assert claim.seq == 0
    flow.pump()
    # the creator revokes with their own transaction: the API never sees it
    stack.send_as("creator1", stack.contract("LicenseManager").functions.revoke(bytes.fromhex(lid[2:])))
    flow.pump()
    with pytest.raises(ClaimRefused) as refused:
        uses.claim_use(lid, content[0], market.chain.now())
    assert refused.value.state is not None and refused.value.state.revoked_at is not None
    shown = api.call("GET", f"/license/{lid}", token=people.jwt("buyer1"))
    assert shown.status == 200 and shown.body["status"] == "REVOKED"
    assert (shown.body["usesProven"], shown.body["paid"], shown.body["refundable"], shown.body["refundOpensAt"]) == (
        0, 0, 7 * PRICE, 0)
    # the refunds schedule sends the refund (the relayer): exactly the unused deposit, 7 uses
    buyer = address(stack, "buyer1")
    balance = people.balance(buyer)
    report = flow.refunds()
    assert any(s["licenseId"] == lid and s["amount"] == 7 * PRICE for s in report["sent"]), report
    # the schedule refunds every refundable license, so other tests' revoked licenses of the same
    # buyer may be refunded in this run too: the balance rises by exactly the refunds paid to them
    escrow = stack.contract("PaymentEscrow").functions
    to_buyer = sum(s["amount"] for s in report["sent"]
                   if escrow.getDeposit(bytes.fromhex(s["licenseId"][2:])).call()[2].lower() == buyer.lower())
    assert people.balance(buyer) - balance == to_buyer
    flow.pump()
    summary = flow.store_items(sk="license", licenseId=lid)[0]
    assert (summary["refundedAmount"], summary["refundedUses"], "refundQueue" in summary) == (7 * PRICE, 7, False)
    note = [n for n in flow.notifications() if n["type"] == "refund.completed" and n["data"]["licenseId"] == lid]
    assert len(note) == 1 and note[0]["data"]["amount"] == 7 * PRICE
    assert flow.refunds()["sent"] == []  # nothing twice
    assert api.call("GET", f"/license/{lid}", token=people.jwt("creator1")).body["refundable"] == 0
    revoked = [n for n in flow.notifications() if n["type"] == "license.revoked" and n["data"]["licenseId"] == lid]
    assert len(revoked) == 1


def test_a_refund_never_returns_paid_for_uses(stack, market, flow, paid, people):
    lid, buyer = paid["id"], paid["buyer"]
    escrow = market.escrow.functions
    released = escrow.getDeposit(paid["lic"].license_id).call()[4]
    assert released == sum(r.count for r in paid["lic"].records) >= 5
    stack.send_as("creator1", stack.contract("LicenseManager").functions.revoke(paid["lic"].license_id))
    flow.pump()
    balance = people.balance(buyer)
    report = flow.refunds()
    assert [s["amount"] for s in report["sent"] if s["licenseId"] == lid] == [(MAX_USES - released) * PRICE]
    assert people.balance(buyer) - balance == (MAX_USES - released) * PRICE
    assert escrow.remainingDeposit(paid["lic"].license_id).call() == 0
    flow.pump()
    assert flow.store_items(sk="license", licenseId=lid)[0]["refundedUses"] == MAX_USES - released


def test_withdraw_moves_exactly_the_owed_amount(stack, api, people, market, flow, paid):
    creator, key = stack.accounts["creator1"]
    token = people.jwt("creator1")
    owed = market.escrow.functions.owed(creator).call()
    assert owed > 0
    challenge = api.call("POST", "/creator/withdraw", token=token, body={})
    assert challenge.status == 200 and challenge.body["owed"] == owed
    tx = challenge.body["transaction"]
    assert tx["to"] == market.escrow.address and tx["data"] == "0x3ccfd60b"
    balance = people.balance(creator)
    tx_hash = send_transaction(stack.rpc_url, key, tx["to"], bytes.fromhex(tx["data"][2:]))
    done = api.call("POST", "/creator/withdraw", token=token, body={"txHash": tx_hash})
    assert done.status == 200, done.body
    assert done.body["amount"] == owed and done.body["owed"] == 0
    assert people.balance(creator) - balance == owed
    flow.pump()  # the listener's Withdrawn: the same effect, not a second one
    earnings = api.call("GET", "/creator/earnings", token=token).body
    assert earnings["owed"] == earnings["owedOnChain"] == 0 and earnings["lastWithdrawal"] == tx_hash
    states = {p["state"] for p in flow.store_items(kind="payment", licenseId=paid["id"])}
    assert states == {"WITHDRAWN"}
    assert api.call("POST", "/creator/withdraw", token=token, body={}).status == 409  # nothing owed
    other = api.call("POST", "/creator/withdraw", token=people.jwt("buyer1"), body={"txHash": tx_hash})
    assert other.status == 403


def test_the_queue_and_function_are_declared():
    spec = resources.by_name(resources.FUNCTIONS, "payments")
    assert spec.consumes == "chain-events" and resources.by_name(resources.QUEUES, "chain-events").fifo
