"""The relayer key in KMS: a DIGEST signature from (patched) moto is a prehashed ECDSA signature,
and the signer turns it into Ethereum signatures that eth-account recovers to the key's address."""

from __future__ import annotations

import os

import boto3
import pytest
from botocore.exceptions import ClientError
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from eth_account import Account
from eth_utils import keccak
from marketplace.chain.kms import SECP256K1_N, KmsSigner, address_from_spki
from moto import mock_aws

from local.processes import _patch_moto_kms_digest

pytestmark = pytest.mark.unit


@pytest.fixture
def kms(monkeypatch):
    for k, v in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                 ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    _patch_moto_kms_digest()  # what the local stack applies where it starts moto
    with mock_aws():
        yield boto3.client("kms", region_name="us-east-1")


def new_key(kms) -> str:
    return kms.create_key(KeySpec="ECC_SECG_P256K1", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]


def test_a_digest_signature_verifies_as_a_prehashed_ecdsa_signature(kms):
    key = new_key(kms)
    public = serialization.load_der_public_key(kms.get_public_key(KeyId=key)["PublicKey"])
    digest = keccak(b"a transaction")
    der = kms.sign(KeyId=key, Message=digest, MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    # over the digest itself (what AWS does), not over sha256(digest) (what moto 5.2.5 does unpatched)
    public.verify(der, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    with pytest.raises(InvalidSignature):
        public.verify(der, digest, ec.ECDSA(hashes.SHA256()))
    assert kms.verify(KeyId=key, Message=digest, MessageType="DIGEST", Signature=der,
                      SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"] is True
    with pytest.raises(ClientError) as refused:  # a digest has the hash's length, as AWS checks
        kms.sign(KeyId=key, Message=digest[:31], MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256")
    assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_signed_transactions_recover_to_the_kms_address_with_low_s(kms):
    signer = KmsSigner(new_key(kms), kms)
    public = kms.get_public_key(KeyId=signer.key_id)["PublicKey"]
    assert signer.address == address_from_spki(public)
    parities = set()
    for nonce in range(12):  # both recovery ids turn up over a dozen signatures
        tx = {"chainId": 31337, "nonce": nonce, "to": "0x" + "11" * 20, "value": nonce, "data": b"\x01\x02",
              "gas": 50_000, "maxFeePerGas": 2 * 10**9, "maxPriorityFeePerGas": 10**9}
        signed = signer.sign_transaction(tx)
        assert Account.recover_transaction(signed.raw) == signer.address
        assert signed.hash == "0x" + keccak(signed.raw).hex()
        v, r, s = signer.sign_digest(keccak(os.urandom(32)))
        assert s <= SECP256K1_N // 2 and 0 < r < SECP256K1_N
        parities.add(v)
    assert parities == {0, 1}


def test_a_key_of_another_curve_is_refused(kms):
    from marketplace.chain.kms import SignerError

    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    with pytest.raises(SignerError):
        _ = KmsSigner(key, kms).address
