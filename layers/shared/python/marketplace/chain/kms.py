"""The relayer's key in AWS KMS (``ECC_SECG_P256K1``, ``SIGN_VERIFY``): the private key never leaves KMS.

- **Address**: ``GetPublicKey`` gives a DER SubjectPublicKeyInfo; its uncompressed point
  ``04 || X || Y`` → ``keccak256(X || Y)[12:]``.
- **Signing**: ``Sign(MessageType=DIGEST, SigningAlgorithm=ECDSA_SHA_256)`` over the 32-byte keccak
  digest (KMS treats it as the already-hashed message); the DER ``(r, s)`` is parsed, ``s`` folded
  to the low half of the curve order (EIP-2: a high ``s`` is malleable and nodes refuse it), and
  the recovery id is the ``v ∈ {0, 1}`` whose recovered key is the key's address.
- **Transactions**: EIP-1559 (type 2) dicts, serialised with eth-account and signed here.

Works against AWS and against moto (whose ``Sign`` ignores ``MessageType=DIGEST`` in 5.2.5: the
local stack patches the emulator, see ``local/processes.py``; nothing here knows the difference).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from typing import Any

# secp256k1 group order
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
KEY_SPEC = "ECC_SECG_P256K1"
SIGNING_ALGORITHM = "ECDSA_SHA_256"


class SignerError(RuntimeError):
    """The KMS key cannot sign for an Ethereum address (wrong spec, or a signature that recovers
    to no key of ours)."""


@dataclass(frozen=True)
class SignedTx:
    raw: bytes
    hash: str  # 0x-hex
    nonce: int


def address_from_spki(der: bytes) -> str:
    """The checksummed Ethereum address of a secp256k1 SubjectPublicKeyInfo (DER)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from eth_utils import keccak, to_checksum_address

    key = serialization.load_der_public_key(der)
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256k1":
        raise SignerError("the KMS key is not a secp256k1 key (KeySpec must be ECC_SECG_P256K1)")
    point = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return to_checksum_address(keccak(point[1:])[12:])


def der_to_rs(der: bytes) -> tuple[int, int]:
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    return decode_dss_signature(der)


def low_s(s: int) -> int:
    return SECP256K1_N - s if s > SECP256K1_N // 2 else s


def recovery_id(digest: bytes, r: int, s: int, address: str) -> int:
    """The ``v ∈ {0, 1}`` for which ``(v, r, s)`` over ``digest`` recovers to ``address``."""
    from eth_keys import keys

    for v in (0, 1):
        try:
            recovered = keys.Signature(vrs=(v, r, s)).recover_public_key_from_msg_hash(digest)
        except Exception:  # noqa: BLE001, S112 - an invalid point for this v: try the other one
            continue
        if recovered.to_checksum_address() == address:
            return v
    raise SignerError("the KMS signature recovers to neither parity of the key's address")


class KmsSigner:
    """Signs digests and EIP-1559 transactions with one KMS key. Thread-safe; the public key is
    read once per instance."""

    def __init__(self, key_id: str, kms: Any | None = None) -> None:
        self.key_id = key_id
        self._kms = kms
        self._lock = threading.Lock()

    @property
    def kms(self) -> Any:
        if self._kms is None:
            from marketplace.adapters.aws import client

            self._kms = client("kms")
        return self._kms

    @functools.cached_property
    def address(self) -> str:
        out = self.kms.get_public_key(KeyId=self.key_id)
        if out.get("KeySpec", KEY_SPEC) != KEY_SPEC:
            raise SignerError(f"KMS key {self.key_id} is {out.get('KeySpec')}, not {KEY_SPEC}")
        return address_from_spki(out["PublicKey"])

    def sign_digest(self, digest: bytes) -> tuple[int, int, int]:
        """(v, r, s) with v ∈ {0, 1} and low s, over a 32-byte digest."""
        if len(digest) != 32:
            raise ValueError("a digest is 32 bytes")
        address = self.address
        out = self.kms.sign(KeyId=self.key_id, Message=digest, MessageType="DIGEST",
                            SigningAlgorithm=SIGNING_ALGORITHM)
        r, s = der_to_rs(out["Signature"])
        s = low_s(s)
        return recovery_id(digest, r, s, address), r, s

    def sign_transaction(self, tx: dict[str, Any]) -> SignedTx:
        """Sign an EIP-1559 transaction dict (``chainId, nonce, to, value, data, gas,
        maxFeePerGas, maxPriorityFeePerGas``)."""
        from eth_account._utils.legacy_transactions import (
            encode_transaction,
            serializable_unsigned_transaction_from_dict,
        )
        from eth_utils import keccak

        fields: dict[str, Any] = {k: tx[k] for k in ("chainId", "nonce", "to", "value", "data", "gas",
                                                      "maxFeePerGas", "maxPriorityFeePerGas") if k in tx}
        fields.setdefault("value", 0)
        fields.setdefault("data", b"")
        fields["type"] = 2
        fields.setdefault("accessList", ())
        unsigned = serializable_unsigned_transaction_from_dict(fields)
        v, r, s = self.sign_digest(unsigned.hash())
        raw = encode_transaction(unsigned, vrs=(v, r, s))
        return SignedTx(raw=raw, hash="0x" + keccak(raw).hex(), nonce=int(fields["nonce"]))


if __name__ == "__main__":  # python -m marketplace.chain.kms <key id or ARN or alias>: its address
    import sys

    print(KmsSigner(sys.argv[1]).address)
