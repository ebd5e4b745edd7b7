"""Flow 1 end to end in-process: real handlers, moto (tables, buckets, the saga's ASL run by moto),
the real prover and a Hardhat node with the contracts."""

from __future__ import annotations

import hashlib
import os

import pytest
import requests
from marketplace import ipfs, multipart

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MiB = 1024 * 1024


def form(data: bytes | None, metadata: str | None = '{"title": "Sunset Photo", "tags": ["nature"]}'):
    fields = {}
    if metadata is not None:
        fields["metadata"] = (None, metadata.encode(), "application/json")
    if data is not None:
        fields["file"] = ("photo.bin", data, "application/octet-stream")
    body, ctype = multipart.encode(fields, "zkdmTestBoundary" + os.urandom(4).hex())
    return {"body": body, "headers": {"Content-Type": ctype}}


def register(api, token, data: bytes, **kwargs):
    return api.call("POST", "/content/register", token=token, **form(data, **kwargs))


def test_multipart_registration_end_to_end(api, stack, creator_token):
    # Given a small file
    data = os.urandom(300_000)
    cid = ipfs.compute_bytes(data)
    # When the creator registers it
    reply = register(api, creator_token, data)
    # Then it is registered within the request
    assert reply.status == 201, reply.body
    body = reply.body
    assert body["ipfsCid"] == cid.v0 and body["cidV1"] == cid.v1
    assert body["contentHash"] == "0x" + hashlib.sha256(data).hexdigest()
    assert body["verificationUrl"] == f"http://127.0.0.1:3000/content/{body['contentId']}"
    # and the chain holds it, for this creator, with the CID's digest
    registry = stack.contract("ContentRegistry")
    record = registry.functions.getContent(bytes.fromhex(body["contentId"][2:])).call()
    creator_address = stack.accounts["creator1"][0]
    assert record[0] == creator_address and record[2] == 1  # REGISTERED
    assert record[3] == bytes.fromhex(body["contentHash"][2:]) and record[4] == cid.digest
    receipt = stack.w3().eth.get_transaction_receipt(body["txHash"])
    assert receipt["status"] == 1 and receipt["blockNumber"] == body["blockNumber"]
    # and the bytes are in the content bucket under the CID; the staging object is gone
    s3 = stack.client("s3")
    assert s3.get_object(Bucket=stack.env["CONTENT_BUCKET"], Key=cid.v0)["Body"].read() == data
    assert not [k for k in stack.keys("UPLOADS_BUCKET") if k.endswith(body["registrationId"])]
    # and the public view shows the metadata and lifecycle state
    view = api.call("GET", f"/content/{body['contentId']}")
    assert view.status == 200
    assert view.body["state"] == "REGISTERED" and view.body["title"] == "Sunset Photo"
    assert view.body["tags"] == ["nature"] and view.body["creator"] == creator_address
    assert view.body["ipfsCid"] == cid.v0 and view.body["txHash"] == body["txHash"]
    # and the registration reads REGISTERED
    status = api.call("GET", f"/content/registrations/{body['registrationId']}", token=creator_token)
    assert status.status == 200 and status.body["state"] == "REGISTERED"
    assert status.body["result"]["contentId"] == body["contentId"]


def test_same_content_twice_is_409_with_the_existing_content_id(api, stack, creator_token):
    data = os.urandom(1000)
    first = register(api, creator_token, data)
    assert first.status == 201, first.body
    before = set(stack.keys("CONTENT_BUCKET"))
    second = register(api, creator_token, data)
    assert second.status == 409
    assert second.body["error"] == "CONFLICT" and second.body["details"]["contentId"] == first.body["contentId"]
    # the registered object stays, nothing new is left anywhere
    assert set(stack.keys("CONTENT_BUCKET")) == before
    assert not stack.keys("UPLOADS_BUCKET") or all(
        not k.endswith(first.body["registrationId"]) for k in stack.keys("UPLOADS_BUCKET"))
    assert api.call("GET", f"/content/{first.body['contentId']}").body["state"] == "REGISTERED"


def test_large_file_through_a_presigned_upload(api, stack, creator_token):
    data = os.urandom(6 * MiB + 123)
    upload = api.call("POST", "/content/uploads", token=creator_token,
                      body={"size": len(data), "filename": "big.bin"})
    assert upload.status == 201, upload.body
    assert upload.body["fields"]["key"] == f"uploads/{upload.body['uploadId']}"
    # the client POSTs the file to S3 (moto) with the form fields
    posted = requests.post(upload.body["url"], data=upload.body["fields"], files={"file": ("big.bin", data)},
                           timeout=60)
    assert posted.status_code in (200, 201, 204), posted.text
    reply = api.call("POST", "/content/register", token=creator_token,
                     body={"uploadId": upload.body["uploadId"], "metadata": {"title": "Big", "tags": []}})
    assert reply.status == 201, reply.body
    assert reply.body["registrationId"] == upload.body["uploadId"]
    assert reply.body["ipfsCid"] == ipfs.compute_bytes(data).v0
    # an upload registers once
    again = api.call("POST", "/content/register", token=creator_token,
                     body={"uploadId": upload.body["uploadId"], "metadata": {"title": "Big"}})
    assert again.status == 409


def test_the_presigned_post_admits_exactly_the_declared_size_under_its_key(api, stack, creator_token):
    import base64
    import json

    upload = api.call("POST", "/content/uploads", token=creator_token, body={"size": 1234, "filename": "a.bin"})
    assert upload.status == 201, upload.body
    fields = upload.body["fields"]
    # S3 enforces the signed policy's conditions (moto does not, hence the backstop below)
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert ["content-length-range", 1234, 1234] in policy["conditions"]
    assert {"bucket": stack.env["UPLOADS_BUCKET"]} in policy["conditions"]
    assert {"key": f"uploads/{upload.body['uploadId']}"} in policy["conditions"]
    assert fields["key"] == f"uploads/{upload.body['uploadId']}"
    # the backstop: an object of another size is refused at registration, naming the upload
    posted = requests.post(upload.body["url"], data=fields, files={"file": ("a.bin", os.urandom(1235))}, timeout=60)
    assert posted.status_code in (200, 201, 204), posted.text
    reply = api.call("POST", "/content/register", token=creator_token,
                     body={"uploadId": upload.body["uploadId"], "metadata": {"title": "t"}})
    assert reply.status == 409 and reply.body["details"]["field"] == "uploadId"
    assert "announced" in reply.body["message"]


def test_register_of_an_upload_that_was_never_sent(api, creator_token):
    upload = api.call("POST", "/content/uploads", token=creator_token, body={"size": 10, "filename": "a"})
    reply = api.call("POST", "/content/register", token=creator_token,
                     body={"uploadId": upload.body["uploadId"], "metadata": {"title": "t"}})
    assert reply.status == 409 and reply.body["details"]["field"] == "uploadId"


def test_another_creator_cannot_use_or_see_my_upload(api, creator_token):
    other = api.sign_in("creator2")
    upload = api.call("POST", "/content/uploads", token=creator_token, body={"size": 10, "filename": "a"})
    reply = api.call("POST", "/content/register", token=other,
                     body={"uploadId": upload.body["uploadId"], "metadata": {"title": "t"}})
    assert reply.status == 404
    status = api.call("GET", f"/content/registrations/{upload.body['uploadId']}", token=other)
    assert status.status == 404
    mine = api.call("GET", f"/content/registrations/{upload.body['uploadId']}", token=creator_token)
    assert mine.status == 200 and mine.body["state"] == "AWAITING_UPLOAD"


@pytest.mark.parametrize("data, metadata, status, field", [
    (b"x", None, 400, "metadata"),
    (b"x", "{not json", 400, "metadata"),
    (b"x", '{"description": "untitled"}', 422, "metadata.title"),
    (b"x", '{"title": "t", "tags": "nature"}', 422, "metadata.tags"),
    (b"", '{"title": "t"}', 400, "file"),
    (None, '{"title": "t"}', 400, "file"),
])
def test_bad_input_answers_the_error_body_and_leaves_nothing(api, stack, creator_token, data, metadata, status,
                                                             field):
    uploads_before = set(stack.keys("UPLOADS_BUCKET"))
    reply = api.call("POST", "/content/register", token=creator_token, **form(data, metadata))
    assert reply.status == status
    assert reply.body["error"] == "VALIDATION_ERROR" and reply.body["details"]["field"] == field
    assert set(stack.keys("UPLOADS_BUCKET")) == uploads_before


def test_multipart_over_5_mb_is_413_pointing_to_uploads(api, stack, creator_token):
    uploads_before = set(stack.keys("UPLOADS_BUCKET"))
    reply = register(api, creator_token, b"\0" * (5 * MiB + 1))
    assert reply.status == 413 and reply.body["error"] == "PAYLOAD_TOO_LARGE"
    assert "/content/uploads" in reply.body["message"]
    assert set(stack.keys("UPLOADS_BUCKET")) == uploads_before


def test_no_token_or_bad_token_is_401(api):
    assert api.call("POST", "/content/register", **form(b"x")).status == 401
    assert api.call("POST", "/content/register", token="not-a-jwt", **form(b"x")).status == 401


def test_unknown_content_is_404(api):
    assert api.call("GET", "/content/0x" + "00" * 32).status == 404
    assert api.call("GET", "/content/not-an-id").body["error"] == "NOT_FOUND"


def test_slow_saga_answers_202_then_the_registration_completes(api, stack, creator_token, set_env):
    import time

    set_env(REGISTRATION_WAIT_SECONDS="0")
    reply = register(api, creator_token, os.urandom(2000))
    assert reply.status == 202
    location = reply.headers["Location"]
    assert location == f"/content/registrations/{reply.body['registrationId']}"
    deadline = time.monotonic() + 120
    while True:
        status = api.call("GET", location, token=creator_token)
        if status.body["state"] != "PENDING" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert status.body["state"] == "REGISTERED", status.body
    assert status.body["result"]["verificationUrl"].endswith(status.body["result"]["contentId"])
