"""Sign-In with Ethereum through the real auth handler and authorizer (moto for the nonce table)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from marketplace.auth import siwe

pytestmark = pytest.mark.integration


def sign(key: str, text: str) -> str:
    return "0x" + bytes(Account.from_key(key).sign_message(encode_defunct(text=text)).signature).hex()


def test_nonce_message_names_this_domain_chain_and_address(api, stack):
    address, _ = stack.accounts["creator1"]
    reply = api.call("POST", "/auth/nonce", body={"address": address.lower()})
    assert reply.status == 200
    msg = siwe.parse(reply.body["message"])
    assert msg.address == address  # checksummed
    assert msg.domain == "127.0.0.1:3000" and msg.uri == "http://127.0.0.1:3000"
    assert msg.chain_id == stack.deployment["chainId"] and msg.nonce == reply.body["nonce"]
    assert msg.expiration_time is not None


def test_login_gives_a_token_the_authorizer_accepts(api, stack):
    address, key = stack.accounts["creator2"]
    message = api.call("POST", "/auth/nonce", body={"address": address}).body["message"]
    login = api.call("POST", "/auth/login", body={"message": message, "signature": sign(key, message)})
    assert login.status == 200
    assert login.body["expiresAt"] > datetime.now(UTC).timestamp()
    policy = api.authorize(f"Bearer {login.body['token']}")
    assert policy["principalId"] == address and policy["context"] == {"address": address}
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def test_a_nonce_works_once(api, stack):
    address, key = stack.accounts["creator2"]
    message = api.call("POST", "/auth/nonce", body={"address": address}).body["message"]
    body = {"message": message, "signature": sign(key, message)}
    assert api.call("POST", "/auth/login", body=body).status == 200
    again = api.call("POST", "/auth/login", body=body)
    assert again.status == 401 and again.body["error"] == "UNAUTHORIZED"
    assert again.body["details"]["field"] == "Nonce"


def _issued(api, stack, role: str) -> siwe.SiweMessage:
    address, _ = stack.accounts[role]
    return siwe.parse(api.call("POST", "/auth/nonce", body={"address": address}).body["message"])


@pytest.mark.parametrize("change, field", [
    ({"domain": "evil.example"}, "domain"),
    ({"chain_id": 1}, "Chain ID"),
    ({"expiration_time": siwe.format_time(datetime.now(UTC) - timedelta(seconds=1))}, "Expiration Time"),
])
def test_wrong_domain_chain_or_expired_message_is_401(api, stack, change, field):
    msg = dataclasses.replace(_issued(api, stack, "creator1"), **change).text()
    reply = api.call("POST", "/auth/login", body={"message": msg, "signature": sign(stack.accounts["creator1"][1], msg)})
    assert reply.status == 401 and reply.body["error"] == "UNAUTHORIZED"
    assert reply.body["details"]["field"] == field


def test_signature_by_another_account_is_401_and_keeps_the_nonce(api, stack):
    msg = _issued(api, stack, "creator1").text()
    bad = api.call("POST", "/auth/login", body={"message": msg, "signature": sign(stack.accounts["buyer1"][1], msg)})
    assert bad.status == 401 and bad.body["details"]["field"] == "signature"
    good = api.call("POST", "/auth/login", body={"message": msg, "signature": sign(stack.accounts["creator1"][1], msg)})
    assert good.status == 200


def test_nonce_issued_to_another_address_is_refused(api, stack):
    """A message naming buyer1 with a nonce issued to creator1, signed by buyer1."""
    msg = dataclasses.replace(_issued(api, stack, "creator1"), address=stack.accounts["buyer1"][0]).text()
    reply = api.call("POST", "/auth/login", body={"message": msg, "signature": sign(stack.accounts["buyer1"][1], msg)})
    assert reply.status == 401 and reply.body["details"]["field"] == "Nonce"


@pytest.mark.parametrize("body, status, field", [
    ({"address": "not an address"}, 422, "address"),
    ({}, 422, "address"),
    ("{broken", 400, "body"),
])
def test_bad_nonce_requests(api, body, status, field):
    reply = api.call("POST", "/auth/nonce", body=body, headers={"Content-Type": "application/json"})
    assert reply.status == status and reply.body["details"]["field"] == field


@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer not.a.jwt", "Basic abc"])
def test_authorizer_refuses_missing_or_bad_tokens(api, authorization):
    assert api.authorize(authorization) is None


def test_protected_route_without_token_is_401(api):
    reply = api.call("POST", "/content/uploads", body={"size": 1, "filename": "a"})
    assert reply.status == 401
