"""The chain node cut mid-saga (Flow 1): the register step's transaction reaches the node (and is
mined) but the step never hears back; the node comes back a few seconds later.

Whatever the saga does then (its register step retried and finding its own transaction, or
compensation), the registration is not lost and nothing is orphaned: content on chain has its
bytes stored under its CID and its claim; content not on chain has neither.
"""

from __future__ import annotations

import json
import os
import time

import pytest
from marketplace import ipfs, multipart, resources

from tests.support.chain_proxy import ChainProxy
from tests.support.faults_stack import PREFIX

pytestmark = pytest.mark.slow


@pytest.fixture
def proxy(stack, set_env):
    """Every function reaches the chain through a proxy the test can cut: the in-process API's
    environment, and the environment the saga's functions run with when moto invokes them (their
    ``LocalFunction``'s, which the router applies last)."""
    from local import lambdas

    p = ChainProxy(stack.rpc_url)
    changes = {"CHAIN_CONFIG": json.dumps({**stack.deployment, "rpcUrl": p.url}), "TX_TIMEOUT_SECONDS": "20"}
    set_env(**changes)
    saved = {}
    for name in ("registration-worker", "relayer"):
        fn = lambdas._routes.get(resources.physical_name(PREFIX, name))
        if fn is not None and hasattr(fn, "env"):
            saved[name] = (fn, dict(fn.env))
            fn.env.update(changes)
    yield p
    for fn, env in saved.values():
        fn.env.clear()
        fn.env.update(env)
    p.stop()


def test_the_chain_node_cut_after_the_register_transaction_loses_and_orphans_nothing(api, stack, creator_token,
                                                                                     proxy):
    data = os.urandom(3000)
    cid = ipfs.compute_bytes(data)
    # Given the node goes away right after the registration's transaction reaches it, for 3 s
    proxy.down_after("eth_sendRawTransaction", for_seconds=3.0)
    body, ctype = multipart.encode({"metadata": (None, b'{"title": "cut"}', None), "file": ("f.bin", data, None)},
                                   "faultsBoundary")
    # When the creator registers (and the client follows the registration to its end)
    reply = api.call("POST", "/content/register", token=creator_token, body=body, headers={"Content-Type": ctype})
    rid = (reply.body.get("registrationId") or (reply.body.get("details") or {}).get("registrationId")
           or reply.headers.get("Location", "").rsplit("/", 1)[-1])
    deadline = time.time() + 240
    item = stack.item("REGISTRATIONS_TABLE", {"registrationId": rid})
    while item["state"] not in ("REGISTERED", "FAILED") and time.time() < deadline:
        time.sleep(1)
        item = stack.item("REGISTRATIONS_TABLE", {"registrationId": rid})
    assert proxy.cut_at is not None, ("the cut never happened", proxy.connections, item.get("state"),
                                      item.get("stage"), item.get("error"))
    assert item["state"] in ("REGISTERED", "FAILED"), item
    # Then the chain and the stores agree: on chain <=> the bytes are stored and the claim is held
    content_id = item["contentId"]
    record = stack.contract("ContentRegistry").functions.getContent(bytes.fromhex(content_id[2:])).call()
    on_chain = int(record[0], 16) != 0 if isinstance(record[0], str) else bool(record[0])
    stored = cid.v0 in stack.keys("CONTENT_BUCKET")
    claim = stack.item("CONTENT_TABLE", {"contentId": content_id})
    assert on_chain, "the transaction reached the node before the cut: it is mined"
    assert stored and claim is not None and claim.get("registrationId") == rid, (item, claim)
    if item["state"] == "FAILED":  # not lost: flagged for support with the transaction to reconcile
        assert item["error"]["body"]["details"].get("reconcile") is True, item["error"]
    else:
        assert api.call("GET", f"/content/{content_id}").status == 200
    assert f"uploads/{rid}" not in stack.keys("UPLOADS_BUCKET")  # no staging object left behind


def test_s3_failing_the_copy_leaves_no_orphan_object(api, stack, creator_token):
    from marketplace.adapters.aws import client

    from tests.support.aws_faults import inject, s3_unavailable

    data = os.urandom(5000)
    cid = ipfs.compute_bytes(data)
    body, ctype = multipart.encode({"metadata": (None, b'{"title": "s3 down"}', None), "file": ("f.bin", data, None)},
                                   "faultsS3Boundary")
    # Given S3 answers 500 to every copy into the content bucket (and to its multipart parts)
    s3 = client("s3")
    with inject(s3, "s3.CopyObject", [s3_unavailable(500)] * 200) as copies, \
            inject(s3, "s3.UploadPartCopy", [s3_unavailable(500)] * 200) as parts:
        reply = api.call("POST", "/content/register", token=creator_token, body=body, headers={"Content-Type": ctype})
        rid = ((reply.body.get("details") or {}).get("registrationId") or reply.body.get("registrationId")
               or reply.headers.get("Location", "").rsplit("/", 1)[-1])
        deadline = time.time() + 240
        item = stack.item("REGISTRATIONS_TABLE", {"registrationId": rid})
        while item["state"] not in ("REGISTERED", "FAILED") and time.time() < deadline:
            time.sleep(1)
            item = stack.item("REGISTRATIONS_TABLE", {"registrationId": rid})
    # Then the registration FAILED after the copy's retries, and nothing of it is left: no object
    # under the CID, no open multipart upload, no content claim, no staging object
    assert copies.answered + parts.answered > 0, "the copy never reached S3"
    assert item["state"] == "FAILED", item
    assert cid.v0 not in stack.keys("CONTENT_BUCKET")
    uploads = stack.client("s3").list_multipart_uploads(Bucket=stack.env["CONTENT_BUCKET"]).get("Uploads", [])
    assert [u for u in uploads if u["Key"] == cid.v0] == []
    assert stack.item("CONTENT_TABLE", {"contentId": item["contentId"]}) is None
    assert f"uploads/{rid}" not in stack.keys("UPLOADS_BUCKET")
    # and the same bytes register once S3 answers
    again = api.call("POST", "/content/register", token=creator_token, body=body, headers={"Content-Type": ctype})
    assert again.status == 201, again.body
