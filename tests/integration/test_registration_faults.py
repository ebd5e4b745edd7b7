"""Fault injection in the registration saga: a reverting transaction and a failing prover.

Either way compensation must leave no object in S3 (content or staging), no content claim, and a
FAILED registration carrying the spec's error body with a supportId.
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
    from marketplace.logic.registration import RegistrationSteps

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
