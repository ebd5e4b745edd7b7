"""Fault injection in the registration saga: a reverting transaction, a failing prover, a
transaction mined or still pending when the register step fails.

A failure with nothing of the registration on chain (or on its way there) must leave no object in
S3 (content or staging), no content claim, and a FAILED registration carrying the spec's error
body with a supportId; a transaction that is mined, or may still be, keeps the object and claim.
"""

from __future__ import annotations

import os

import pytest
from marketplace import ipfs, multipart

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def register(api, token, data: bytes):
    body, ctype = multipart.encode({"metadata": (None, b'{"title": "fault"}', None),
                                    "file": ("f.bin", data, None)}, "faultBoundary")
    return api.call("POST", "/content/register", token=token, body=body, headers={"Content-Type": ctype})


def assert_nothing_left(api, stack, token, reply, data: bytes, code: str):
    cid = ipfs.compute_bytes(data)
    rid = reply.body["details"]["registrationId"]
    assert cid.v0 not in stack.keys("CONTENT_BUCKET")
    assert f"uploads/{rid}" not in stack.keys("UPLOADS_BUCKET")
    item = stack.item("REGISTRATIONS_TABLE", {"registrationId": rid})
    assert item["state"] == "FAILED" and item["error"]["body"]["error"] == code
    assert item["error"]["body"]["supportId"] == reply.body["supportId"]
    assert stack.item("CONTENT_TABLE", {"contentId": item["contentId"]}) is None  # claim released
    status = api.call("GET", f"/content/registrations/{rid}", token=token)
    assert status.body["state"] == "FAILED" and status.body["error"]["error"] == code
    assert api.call("GET", f"/content/{item['contentId']}").status == 404


@pytest.fixture
def paused_registry(stack):
    registry = stack.contract("ContentRegistry")
    stack.send_as("deployer", registry.functions.pause())
    try:
        yield registry
    finally:
        stack.send_as("deployer", registry.functions.unpause())


def test_reverting_transaction_is_compensated(api, stack, creator_token, paused_registry):
    # Given the registry reverts every registration (paused by its admin)
    data = os.urandom(5000)
    # When a creator registers content
    reply = register(api, creator_token, data)
    # Then the API answers the spec's BLOCKCHAIN_ERROR with a supportId
    assert reply.status == 503, reply.body
    assert reply.body["error"] == "BLOCKCHAIN_ERROR" and reply.body["supportId"].startswith("err_")
    assert "EnforcedPause" in reply.body["message"]
    # and nothing is left behind: no object, no claim, the registration FAILED
    assert_nothing_left(api, stack, creator_token, reply, data, "BLOCKCHAIN_ERROR")


def test_after_a_revert_the_same_content_registers(api, stack, creator_token):
    data = os.urandom(4000)
    registry = stack.contract("ContentRegistry")
    stack.send_as("deployer", registry.functions.pause())
    try:
        assert register(api, creator_token, data).status == 503
    finally:
        stack.send_as("deployer", registry.functions.unpause())
    reply = register(api, creator_token, data)
    assert reply.status == 201, reply.body


def test_prover_failure_is_compensated(api, stack, creator_token, monkeypatch):
    import marketplace.zk

    def fail(circuit, inputs, backend=None):
        raise RuntimeError("circuit constraint failed")

    monkeypatch.setattr(marketplace.zk, "prove", fail)
    data = os.urandom(3000)
    reply = register(api, creator_token, data)
    assert reply.status == 500
    assert reply.body["error"] == "PROOF_GENERATION_FAILED" and reply.body["message"] == "Unable to generate proof"
    assert reply.body["supportId"].startswith("err_")
    assert "constraint" not in str(reply.body)  # internals stay in the logs
    assert_nothing_left(api, stack, creator_token, reply, data, "PROOF_GENERATION_FAILED")


def test_a_transaction_mined_before_the_step_failed_keeps_its_object(api, stack, creator_token, monkeypatch):
    """The register step's transaction is mined, then the step dies before journaling it: the
    content is on chain, so compensation must find the transaction and keep the object."""
    from marketplace.content.saga import RegistrationSteps

    def lost(self, state, tx_hash, block):
        raise RuntimeError("journal write lost")

    monkeypatch.setattr(RegistrationSteps, "_registered", lost)
    data = os.urandom(3500)
    reply = register(api, creator_token, data)
    assert reply.status == 503 and reply.body["error"] == "BLOCKCHAIN_ERROR", reply.body
    item = stack.item("REGISTRATIONS_TABLE", {"registrationId": reply.body["details"]["registrationId"]})
    assert item["state"] == "FAILED" and item["txHash"].startswith("0x")
    # on chain under our content id, by that transaction; the bytes are still stored under the CID
    receipt = stack.w3().eth.get_transaction_receipt(item["txHash"])
    assert receipt["status"] == 1
    record = stack.contract("ContentRegistry").functions.getContent(bytes.fromhex(item["contentId"][2:])).call()
    assert record[0] == stack.accounts["creator1"][0]
    assert ipfs.compute_bytes(data).v0 in stack.keys("CONTENT_BUCKET")
    # the claim stays (the id is taken on chain); the staging object is gone
    assert stack.item("CONTENT_TABLE", {"contentId": item["contentId"]})["registrationId"] == item["registrationId"]
    assert f"uploads/{item['registrationId']}" not in stack.keys("UPLOADS_BUCKET")


# -- a register step whose transaction is not mined in time ----------------------------------------

def rpc(w3, method: str, *params):
    reply = w3.provider.make_request(method, list(params))
    assert "error" not in reply, reply
    return reply["result"]


@pytest.fixture
def manual_mining(stack, set_env):
    """Blocks only when the test mines them (``evm_mine``), and a 2 s receipt wait in the worker:
    the register step times out with its transaction pending."""
    w3 = stack.w3()
    set_env(TX_TIMEOUT_SECONDS="2")
    rpc(w3, "evm_setAutomine", False)
    try:
        yield w3
    finally:
        rpc(w3, "evm_setAutomine", True)
        rpc(w3, "evm_mine")  # whatever a failed test left pending


def test_a_pending_transaction_keeps_its_object_and_is_flagged_for_reconciliation(
        api, stack, creator_token, manual_mining):
    w3 = manual_mining
    data = os.urandom(3300)
    # When the register step's receipt wait times out, and the transaction is still pending
    # when compensation has waited for it too
    reply = register(api, creator_token, data)
    assert reply.status == 503 and reply.body["error"] == "BLOCKCHAIN_ERROR", reply.body
    item = stack.item("REGISTRATIONS_TABLE", {"registrationId": reply.body["details"]["registrationId"]})
    sent = item["registerTx"]["txHash"]
    assert w3.eth.get_transaction(sent)["blockNumber"] is None  # pending still
    # Then the registration FAILED flagged for support, and nothing its transaction needs is gone
    details = item["error"]["body"]["details"]
    assert item["state"] == "FAILED" and details["reconcile"] is True and details["txHash"] == sent
    assert item["error"]["body"]["message"] == "Transaction not mined in time"  # the step's own record
    assert item["error"]["body"]["supportId"] == reply.body["supportId"]
    assert ipfs.compute_bytes(data).v0 in stack.keys("CONTENT_BUCKET")
    assert stack.item("CONTENT_TABLE", {"contentId": item["contentId"]})["registrationId"] == item["registrationId"]
    # and once the transaction is mined, the content on chain has its bytes stored
    rpc(w3, "evm_mine")
    assert w3.eth.get_transaction_receipt(sent)["status"] == 1
    record = stack.contract("ContentRegistry").functions.getContent(bytes.fromhex(item["contentId"][2:])).call()
    assert record[0] == stack.accounts["creator1"][0]
    assert ipfs.compute_bytes(data).v0 in stack.keys("CONTENT_BUCKET")


def replace(w3, stack, sent):
    """The relayer's next transaction takes the pending one's nonce, with higher fees, and is mined."""
    from marketplace.chain.kms import KmsSigner

    relayer = KmsSigner(stack.env["RELAYER_KEY_ID"], stack.client("kms"))  # the relayer's key is in KMS
    pending = w3.eth.get_transaction(sent["txHash"])
    tx = {"to": relayer.address, "value": 0, "gas": 21000, "nonce": int(sent["nonce"]), "chainId": w3.eth.chain_id,
          "maxFeePerGas": pending["maxFeePerGas"] * 2, "maxPriorityFeePerGas": pending["maxPriorityFeePerGas"] * 2}
    w3.eth.send_raw_transaction(relayer.sign_transaction(tx).raw)
    rpc(w3, "evm_mine")


def drop(w3, stack, sent):
    assert rpc(w3, "hardhat_dropTransaction", sent["txHash"]) is True


@pytest.mark.parametrize("settle", [replace, drop], ids=["replaced", "dropped"])
def test_a_replaced_or_dropped_transaction_is_compensated(api, stack, creator_token, manual_mining, monkeypatch,
                                                          settle):
    from marketplace.content.saga import RegistrationSteps
    from web3.exceptions import TransactionNotFound

    w3 = manual_mining
    compensate = RegistrationSteps.compensate

    def settle_first(self, state):  # the pending transaction is replaced or dropped before compensation
        sent = stack.item("REGISTRATIONS_TABLE", {"registrationId": state["registrationId"]})["registerTx"]
        settle(w3, stack, sent)
        return compensate(self, state)

    monkeypatch.setattr(RegistrationSteps, "compensate", settle_first)
    data = os.urandom(3400)
    reply = register(api, creator_token, data)
    assert reply.status == 503 and reply.body["error"] == "BLOCKCHAIN_ERROR", reply.body
    item = stack.item("REGISTRATIONS_TABLE", {"registrationId": reply.body["details"]["registrationId"]})
    with pytest.raises(TransactionNotFound):  # the registration's transaction is gone for good
        w3.eth.get_transaction(item["registerTx"]["txHash"])
    assert "reconcile" not in item["error"]["body"]["details"]
    assert_nothing_left(api, stack, creator_token, reply, data, "BLOCKCHAIN_ERROR")
