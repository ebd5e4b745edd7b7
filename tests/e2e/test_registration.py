"""Flow 1 end to end over HTTP against the local stack, as a creator's client would run it.

Given the local stack and a demo creator signed in with Ethereum, when the creator registers a
small file (multipart) and a 20 MB file (presigned upload), then both are REGISTERED with their
CID and hash, the transaction succeeded on the node, and the object sits in the content bucket
under its CID; and every bad request is answered with the documented error body.
"""

from __future__ import annotations

import hashlib
import json
import os

import boto3
import pytest
import requests
from marketplace import resources
from web3 import Web3
from web3.logs import DISCARD

from local.client import MULTIPART_MAX, ApiError
from local.client import stack_account as account
from local.processes import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MiB = 1024 * 1024


def metadata(title: str = "Sunset photo") -> dict:
    return {"title": title, "description": "end-to-end test upload", "tags": ["e2e", "nature"]}


def unique_bytes(size: int) -> bytes:
    return os.urandom(size)


@pytest.fixture(scope="module")
def w3(stack) -> Web3:
    return Web3(Web3.HTTPProvider(stack["rpcUrl"]))


@pytest.fixture(scope="module")
def s3(stack):
    return boto3.client("s3", endpoint_url=stack["awsEndpoint"], region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def bucket(stack, name: str) -> str:
    return resources.physical_name(stack["prefix"], resources.by_name(resources.BUCKETS, name).name)


def assert_registered(stack, client, w3, s3, result: dict, data: bytes, creator: str) -> None:
    content_hash = "0x" + hashlib.sha256(data).hexdigest()
    assert result["contentHash"] == content_hash
    assert result["ipfsCid"].startswith("Qm") and result["cidV1"].startswith("bafy")

    # the public view of the content: REGISTERED, with the same CID and hash
    view = client.get_content(result["contentId"])
    assert view["state"] == "REGISTERED"
    assert view["contentId"] == result["contentId"]
    assert view["ipfsCid"] == result["ipfsCid"]
    assert view["contentHash"] == content_hash
    assert view["size"] == len(data)
    assert Web3.to_checksum_address(view["creator"]) == creator
    assert view["txHash"] == result["txHash"]

    # a successful transaction to ContentRegistry that emitted ContentRegistered for this id
    receipt = w3.eth.get_transaction_receipt(result["txHash"])
    assert receipt["status"] == 1
    registry_address = stack["contracts"]["ContentRegistry"]
    assert receipt["to"] == registry_address
    abi = json.loads((ROOT / "build" / "contracts" / "ContentRegistry.json").read_text())["abi"]
    registry = w3.eth.contract(address=registry_address, abi=abi)
    events = registry.events.ContentRegistered().process_receipt(receipt, errors=DISCARD)  # other events: skip
    assert [("0x" + e["args"]["contentId"].hex().removeprefix("0x")) for e in events] == [result["contentId"]]
    assert Web3.to_checksum_address(events[0]["args"]["creator"]) == creator
    assert "0x" + events[0]["args"]["contentHash"].hex().removeprefix("0x") == content_hash

    # the bytes are stored under the CID; no staging object is left behind
    stored = s3.get_object(Bucket=bucket(stack, "content"), Key=result["ipfsCid"])
    assert stored["ContentLength"] == len(data)
    assert hashlib.sha256(stored["Body"].read()).hexdigest() == content_hash[2:]
    leftovers = s3.list_objects_v2(Bucket=bucket(stack, "uploads"),
                                   Prefix=f"uploads/{result['registrationId']}").get("KeyCount", 0)
    assert leftovers == 0


# -- the happy paths --------------------------------------------------------------------------------


def test_small_file_multipart_is_registered(stack, client, creator_token, w3, s3):
    data = unique_bytes(2048)
    resp = client.start_registration(creator_token, data, metadata("small file"), "small.bin")
    assert resp.status_code in (201, 202)
    result = resp.json() if resp.status_code == 201 else client.wait_registration(
        creator_token, resp.headers["Location"])
    if resp.status_code == 201:
        assert set(result) >= {"contentId", "ipfsCid", "contentHash", "txHash", "verificationUrl"}
    assert_registered(stack, client, w3, s3, result, data, account(stack, "creator1")["address"])

    # the registration can be read back by its creator through the poll endpoint
    status = client.request("GET", f"/content/registrations/{result['registrationId']}", creator_token).json()
    assert status["state"] == "REGISTERED"
    assert status["result"]["contentId"] == result["contentId"]
    assert status["metadata"]["title"] == "small file"


def test_twenty_megabyte_file_through_a_presigned_upload_is_registered(stack, client, w3, s3):
    creator = account(stack, "creator2")
    token = client.login(creator["privateKey"])
    data = unique_bytes(20 * MiB)
    assert len(data) > MULTIPART_MAX  # so the client takes the /content/uploads path
    result = client.register_file(token, data, metadata("twenty megabytes"), filename="big.bin")
    assert_registered(stack, client, w3, s3, result, data, creator["address"])


# -- bad requests -----------------------------------------------------------------------------------


def register_multipart(stack, token: str | None, files: dict) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(f"{stack['apiUrl']}/content/register", files=files, headers=headers, timeout=120)


def assert_error(resp: requests.Response, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body.get("details", {}), dict)
    return body


def test_no_token_is_401(stack):
    resp = register_multipart(stack, None, {"file": ("a.txt", b"abc"), "metadata": (None, json.dumps(metadata()))})
    assert_error(resp, 401, "UNAUTHORIZED")
    resp = requests.post(f"{stack['apiUrl']}/content/uploads", json={"size": 10, "filename": "a"}, timeout=30)
    assert_error(resp, 401, "UNAUTHORIZED")


@pytest.mark.parametrize("token", ["garbage", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweDEifQ.c2lnbmF0dXJl"])
def test_bad_token_is_401(stack, token):
    resp = register_multipart(stack, token, {"file": ("a.txt", b"abc"), "metadata": (None, json.dumps(metadata()))})
    assert_error(resp, 401, "UNAUTHORIZED")


def test_sign_in_with_someone_elses_signature_is_401(stack, client):
    from eth_account import Account
    from eth_account.messages import encode_defunct

    creator = account(stack, "creator1")
    challenge = client.request("POST", "/auth/nonce", json={"address": creator["address"]}).json()
    other = Account.from_key(account(stack, "buyer1")["privateKey"])
    signature = other.sign_message(encode_defunct(text=challenge["message"])).signature.hex()
    resp = requests.post(f"{stack['apiUrl']}/auth/login", timeout=30,
                         json={"message": challenge["message"], "signature": "0x" + signature.removeprefix("0x")})
    assert_error(resp, 401, "UNAUTHORIZED")


def test_empty_file_is_400(stack, creator_token):
    resp = register_multipart(stack, creator_token, {"file": ("empty.txt", b""),
                                                     "metadata": (None, json.dumps(metadata()))})
    body = assert_error(resp, 400, "VALIDATION_ERROR")
    assert body["details"]["field"] == "file"


def test_multipart_over_five_megabytes_is_413_pointing_to_uploads(stack, creator_token):
    resp = register_multipart(stack, creator_token, {"file": ("big.bin", unique_bytes(6 * MiB)),
                                                     "metadata": (None, json.dumps(metadata()))})
    body = assert_error(resp, 413, "PAYLOAD_TOO_LARGE")
    assert "/content/uploads" in body["message"]


def test_missing_metadata_is_400_naming_the_field(stack, creator_token):
    resp = register_multipart(stack, creator_token, {"file": ("a.txt", unique_bytes(100))})
    body = assert_error(resp, 400, "VALIDATION_ERROR")
    assert body["details"]["field"] == "metadata"


def test_unreadable_metadata_is_400(stack, creator_token):
    resp = register_multipart(stack, creator_token, {"file": ("a.txt", unique_bytes(100)),
                                                     "metadata": (None, "{not json")})
    body = assert_error(resp, 400, "VALIDATION_ERROR")
    assert body["details"]["field"] == "metadata"


def test_metadata_without_title_is_422_naming_the_field(stack, creator_token):
    resp = register_multipart(stack, creator_token, {"file": ("a.txt", unique_bytes(100)),
                                                     "metadata": (None, json.dumps({"description": "x"}))})
    body = assert_error(resp, 422, "VALIDATION_ERROR")
    assert body["details"]["field"] == "metadata.title"


def test_same_content_twice_is_409_with_the_existing_content_id(stack, client, creator_token, s3):
    data = unique_bytes(4096)
    first = client.register_file(creator_token, data, metadata("original"), filename="orig.bin")
    # another creator tries to register the very same bytes
    other = client.login(account(stack, "creator2")["privateKey"])
    with pytest.raises(ApiError) as excinfo:
        client.register_file(other, data, metadata("copy"), filename="copy.bin")
    err = excinfo.value
    assert err.status == 409
    assert err.body["error"] == "CONFLICT"
    assert err.body["details"]["contentId"] == first["contentId"]
    # the refused registration left nothing behind, and the original is untouched
    assert s3.list_objects_v2(Bucket=bucket(stack, "uploads")).get("KeyCount", 0) == 0
    assert client.get_content(first["contentId"])["state"] == "REGISTERED"


def test_unknown_content_is_404(client):
    with pytest.raises(ApiError) as excinfo:
        client.get_content("0x" + "ab" * 32)
    assert excinfo.value.status == 404
    assert excinfo.value.body["error"] == "NOT_FOUND"


def test_unknown_route_is_404(stack):
    assert_error(requests.get(f"{stack['apiUrl']}/no/such/route", timeout=30), 404, "NOT_FOUND")


# -- the API description ------------------------------------------------------------------------------


def test_openapi_lists_every_route(stack):
    resp = requests.get(f"{stack['apiUrl']}/openapi.json", timeout=30)
    assert resp.status_code == 200
    doc = resp.json()
    assert doc["openapi"].startswith("3.")
    # (ANY: each resource's 405 catch-all, resources.METHOD_NOT_ALLOWED, documented by its 405 answers)
    declared = {(r.method.lower(), r.path) for fn in resources.FUNCTIONS for r in fn.routes if r.method != "ANY"}
    documented = {(method, path) for path, ops in doc["paths"].items() for method in ops
                  if method in ("get", "post", "put", "patch", "delete")}
    assert declared <= documented
