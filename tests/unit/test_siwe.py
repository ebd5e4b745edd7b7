"""marketplace.auth.siwe: the strict EIP-4361 parser and the checks done at login."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from marketplace.auth import siwe
from marketplace.errors import UnauthorizedError

pytestmark = pytest.mark.unit

NOW = datetime(2025, 11, 11, 12, 0, 0, tzinfo=UTC)
SIGNER = Account.from_key("0x" + "11" * 32)
OTHER = Account.from_key("0x" + "22" * 32)
DOMAIN = "127.0.0.1:3000"


def message(**changes) -> siwe.SiweMessage:
    base = siwe.SiweMessage(
        domain=DOMAIN, address=SIGNER.address, statement="Sign in to the ZK data marketplace.",
        uri="http://127.0.0.1:3000", chain_id=31337, nonce="abcDEF123456",
        issued_at=siwe.format_time(NOW), expiration_time=siwe.format_time(NOW + timedelta(minutes=5)),
    )
    return dataclasses.replace(base, **changes)


def sign(text: str, account=SIGNER) -> str:
    return "0x" + account.sign_message(encode_defunct(text=text)).signature.hex().removeprefix("0x")


def test_text_is_the_eip4361_layout():
    assert message().text() == (
        f"127.0.0.1:3000 wants you to sign in with your Ethereum account:\n{SIGNER.address}\n\n"
        "Sign in to the ZK data marketplace.\n\nURI: http://127.0.0.1:3000\nVersion: 1\nChain ID: 31337\n"
        "Nonce: abcDEF123456\nIssued At: 2025-11-11T12:00:00Z\nExpiration Time: 2025-11-11T12:05:00Z"
    )


@pytest.mark.parametrize("changes", [
    {},
    {"statement": None},
    {"not_before": "2025-11-11T11:00:00.000Z", "request_id": "req-1"},
    {"resources": ("ipfs://bafybeiexample", "https://example.com/my-web2-claim.json")},
    {"domain": "https://example.com"},
])
def test_parse_round_trips(changes):
    msg = message(**changes)
    assert siwe.parse(msg.text()) == msg


@pytest.mark.parametrize("mutate, field", [
    (lambda t: t.replace("\n", "\r\n"), "message"),
    (lambda t: t + "\n", "message"),
    (lambda t: t.replace(SIGNER.address, SIGNER.address.lower()), "address"),
    (lambda t: t.replace("Version: 1", "Version: 2"), "Version"),
    (lambda t: t.replace("Chain ID: 31337", "Chain ID: 0x7a69"), "Chain ID"),
    (lambda t: t.replace("Nonce: abcDEF123456", "Nonce: short"), "Nonce"),
    (lambda t: t.replace("Issued At: 2025-11-11T12:00:00Z", "Issued At: yesterday"), "Issued At"),
    (lambda t: t.replace("URI: http://127.0.0.1:3000\nVersion: 1", "Version: 1\nURI: http://127.0.0.1:3000"),
     "URI"),
    (lambda t: t.replace(" wants you to sign in", " would like you to sign in"), "message"),
    (lambda t: t.replace("\n\nURI:", "\nURI:"), "statement"),
    (lambda t: t + "\nExtra: field", "message"),
])
def test_parse_rejects_off_grammar_text(mutate, field):
    with pytest.raises(siwe.SiweError) as err:
        siwe.parse(mutate(message().text()))
    assert err.value.status == 401
    assert err.value.details["field"] == field


def test_an_empty_resources_list_is_not_canonical():
    with pytest.raises(siwe.SiweError, match="canonical"):
        siwe.parse(message().text() + "\nResources:")


def test_verify_accepts_a_valid_signed_message():
    text = message().text()
    msg = siwe.verify(text, sign(text), domain=DOMAIN, chain_id=31337, now=NOW)
    assert msg.address == SIGNER.address and msg.nonce == "abcDEF123456"


@pytest.mark.parametrize("msg, kwargs, reason", [
    (message(domain="evil.example"), {}, "another domain"),
    (message(chain_id=1), {}, "another chain"),
    (message(), {"now": NOW + timedelta(minutes=5)}, "expired"),
    (message(expiration_time=None), {}, "Expiration Time"),
    (message(not_before=siwe.format_time(NOW + timedelta(minutes=1))), {}, "not valid yet"),
    (message(issued_at=siwe.format_time(NOW + timedelta(hours=1)),
             expiration_time=siwe.format_time(NOW + timedelta(hours=2))), {}, "future"),
])
def test_verify_refuses_messages_not_for_here_and_now(msg, kwargs, reason):
    text = msg.text()
    args = {"domain": DOMAIN, "chain_id": 31337, "now": NOW, **kwargs}
    with pytest.raises(UnauthorizedError, match=reason):
        siwe.verify(text, sign(text), **args)


def test_verify_refuses_a_signature_by_another_key():
    text = message().text()
    with pytest.raises(UnauthorizedError, match="does not match"):
        siwe.verify(text, sign(text, OTHER), domain=DOMAIN, chain_id=31337, now=NOW)


def test_verify_refuses_a_signature_of_another_text():
    text = message().text()
    other = message(nonce="zzzzzzzzzzzz").text()
    with pytest.raises(UnauthorizedError):
        siwe.verify(text, sign(other), domain=DOMAIN, chain_id=31337, now=NOW)


@pytest.mark.parametrize("signature", ["", "0x1234", "0x" + "zz" * 65, "0x" + "00" * 65])
def test_verify_refuses_malformed_signatures(signature):
    with pytest.raises(UnauthorizedError):
        siwe.verify(message().text(), signature, domain=DOMAIN, chain_id=31337, now=NOW)


def test_nonces_are_long_and_alphanumeric():
    nonces = {siwe.new_nonce() for _ in range(100)}
    assert len(nonces) == 100
    assert all(len(n) >= 8 and n.isalnum() for n in nonces)
