"""Local signing, checked by the server's own verifiers: SIWE messages the server builds, EIP-712
typed data the server recovers; the SDK refuses to sign what the request was not for; keys from an
encrypted keystore or the environment."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from marketplace.auth import siwe
from marketplace.licensing import eip712
from zkdm import KeyUnavailable, Signer, SigningRefused

pytestmark = pytest.mark.sdk

KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
API = "http://127.0.0.1:3000"
MANAGER = {"name": "LicenseManager", "version": "1", "chainId": 31337,
           "verifyingContract": "0xB7f8BC63BbcaD18155201308C8f3540b07f84F5e"}


def server_message(address: str, domain: str = "127.0.0.1:3000") -> str:
    now = datetime.now(UTC)
    return siwe.SiweMessage(domain=domain, address=address, uri=API, chain_id=31337, nonce=siwe.new_nonce(),
                            issued_at=siwe.format_time(now), statement="Sign in").text()


def test_siwe_signature_is_what_the_server_accepts():
    signer = Signer(KEY)
    message = server_message(signer.address)
    signature = signer.sign_siwe(message, API)
    from eth_account import Account
    from eth_account.messages import encode_defunct

    assert Account.recover_message(encode_defunct(text=message), signature=signature) == signer.address


def test_siwe_for_another_domain_or_account_is_refused():
    signer = Signer(KEY)
    with pytest.raises(SigningRefused, match="not this API"):
        signer.sign_siwe(server_message(signer.address, "evil.example"), API)
    with pytest.raises(SigningRefused, match="names"):
        signer.sign_siwe(server_message("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"), API)
    with pytest.raises(SigningRefused):
        signer.sign_siwe("please sign this", API)


def test_typed_data_recovers_to_the_signer_and_must_be_what_was_asked():
    signer = Signer(KEY)
    terms_id = "0x" + "ab" * 32
    data = eip712.purchase_typed_data(MANAGER, terms_id, 12345, 7, 2_000_000_000)
    signature = signer.sign_typed_data(data, "Purchase", {"termsId": terms_id, "credentialCommitment": 12345,
                                                          "nonce": "7"})
    assert eip712.recover_signer(data, signature) == signer.address
    with pytest.raises(SigningRefused, match="expected 'Permit'"):
        signer.sign_typed_data(data, "Permit")
    with pytest.raises(SigningRefused, match="credentialCommitment"):
        signer.sign_typed_data(data, "Purchase", {"credentialCommitment": 999})


def test_keys_come_from_an_encrypted_keystore_or_the_environment(tmp_path, monkeypatch):
    signer = Signer(KEY)
    path = signer.to_keystore(tmp_path / "creator.json", "correct horse", iterations=2)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert KEY[2:] not in path.read_text()
    assert Signer.from_keystore(path, "correct horse").address == signer.address
    with pytest.raises(KeyUnavailable, match="wrong password"):
        Signer.from_keystore(path, "wrong")
    monkeypatch.delenv("ZKDM_KEYSTORE_PASSWORD", raising=False)
    with pytest.raises(KeyUnavailable, match="password"):
        Signer.from_keystore(path)
    monkeypatch.setenv("MY_KEY", KEY)
    assert Signer.from_env("MY_KEY").address == signer.address
    monkeypatch.delenv("ZKDM_PRIVATE_KEY", raising=False)
    with pytest.raises(KeyUnavailable, match="ZKDM_PRIVATE_KEY"):
        Signer.from_env()
    with pytest.raises(KeyUnavailable) as bad:
        Signer("0x1234")
    assert "1234" not in str(bad.value)
