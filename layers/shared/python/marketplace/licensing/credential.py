"""What a licensee presents on every access: the API key and the license credential.

- **API key** (``sk_live_`` + 32 random bytes as 64 hex digits): shown once at purchase; the
  platform stores only its SHA-256 (hex) and a short display prefix.
- **License credential** (the ``accessToken``, sent as ``X-License-Token``): the license id and
  the credential secret, ``zkcred_`` + base64url(version byte, licenseId (32 bytes), secret
  (32 bytes, big-endian, below the field modulus)). Its commitment
  ``Poseidon(secret, uint256(licenseId) % p)`` is what the LicenseManager records for the license
  at purchase (docs/design.md, the ``credential`` circuit), so the chain never sees the buyer.
- **Sealing**: the batch prover (Flow 4) needs the secret to derive each use's nullifier, so the
  platform keeps it, AES-256-GCM encrypted under the ``credential-key`` secret and bound to its
  commitment (associated data), in the pending quote and then in the license record.

Pure functions (no AWS, no web3); importing this module stays cheap because the access path
imports it (Poseidon's constants load on first use, pycryptodome only when sealing).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from marketplace.errors import UnauthorizedError
from marketplace.shared.ids import as_hex32
from marketplace.zk.field import P, poseidon, to_field

API_KEY_PREFIX = "sk_live_"
_API_KEY_HEX_LEN = 64  # 32 random bytes
API_KEY_DISPLAY_LEN = len(API_KEY_PREFIX) + 4  # "sk_live_1a2b" identifies a key to its owner

TOKEN_PREFIX = "zkcred_"
_TOKEN_VERSION = 1
_TOKEN_LEN = 1 + 32 + 32


# --------------------------------------------------------------------------------------------
# API keys
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewApiKey:
    key: str  # shown to the buyer once, never stored
    key_hash: str  # SHA-256 hex: the apikeys table's key
    display: str  # "sk_live_1a2b…": lets the owner tell keys apart


def new_api_key() -> NewApiKey:
    key = API_KEY_PREFIX + secrets.token_hex(32)
    return NewApiKey(key, hash_api_key(key), display_prefix(key))


def display_prefix(key: str) -> str:
    return key[:API_KEY_DISPLAY_LEN] + "…"


def hash_api_key(key: str) -> str:
    """SHA-256 (hex) of a well-formed key; anything else is an unknown key (401)."""
    if not is_api_key(key):
        raise UnauthorizedError("Invalid API key", {"header": "Authorization"})
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def is_api_key(key: str) -> bool:
    body = key[len(API_KEY_PREFIX):]
    return (key.startswith(API_KEY_PREFIX) and len(body) == _API_KEY_HEX_LEN
            and all(c in "0123456789abcdef" for c in body))


def bearer_api_key(authorization: str | None) -> str:
    """The key from ``Authorization: Bearer sk_live_…`` (401 when missing or another scheme)."""
    if not authorization:
        raise UnauthorizedError("Missing API key", {"header": "Authorization"})
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise UnauthorizedError("Authorization must be 'Bearer sk_live_…'", {"header": "Authorization"})
    return value.strip()


# --------------------------------------------------------------------------------------------
# License credential
# --------------------------------------------------------------------------------------------


def new_secret() -> int:
    """A uniformly random non-zero field element."""
    return 1 + secrets.randbelow(P - 1)


def commitment(secret: int, license_id: str) -> int:
    """``credentialCommitment = Poseidon(credentialSecret, uint256(licenseId) % p)``."""
    return poseidon(secret, to_field(license_id))


def _license_id_bytes(license_id: str) -> bytes:
    valid = as_hex32(license_id)
    if valid is None:
        raise ValueError("a license id is 32 bytes (0x + 64 hex digits)")
    return bytes.fromhex(valid[2:])


def encode_token(license_id: str, secret: int) -> str:
    if not 0 < secret < P:
        raise ValueError("credential secret must be a non-zero field element")
    raw = bytes([_TOKEN_VERSION]) + _license_id_bytes(license_id) + secret.to_bytes(32, "big")
    return TOKEN_PREFIX + base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Credential:
    license_id: str  # 0x + 64 lowercase hex digits
    secret: int


def decode_token(token: str | None) -> Credential:
    """Parse ``X-License-Token``; a missing or malformed token is an authentication failure (401)."""
    details = {"header": "X-License-Token"}
    if not token:
        raise UnauthorizedError("Missing license token", details)
    token = token.strip()
    if not token.startswith(TOKEN_PREFIX):
        raise UnauthorizedError("Malformed license token", details)
    body = token[len(TOKEN_PREFIX):]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise UnauthorizedError("Malformed license token", details) from None
    if len(raw) != _TOKEN_LEN or raw[0] != _TOKEN_VERSION:
        raise UnauthorizedError("Malformed license token", details)
    secret = int.from_bytes(raw[33:], "big")
    if not 0 < secret < P:
        raise UnauthorizedError("Malformed license token", details)
    return Credential("0x" + raw[1:33].hex(), secret)


def matches(credential: Credential, license_id: str, stored_commitment: int | str) -> bool:
    """True when the credential opens the commitment recorded for ``license_id``."""
    if credential.license_id.lower() != license_id.lower():
        return False
    return hmac.compare_digest(str(commitment(credential.secret, license_id)), str(int(stored_commitment)))


# --------------------------------------------------------------------------------------------
# Sealing the secret at rest
# --------------------------------------------------------------------------------------------

_SEAL_PURPOSE = b"zkdm credential seal v1"


def seal(secret: int, key_material: str, bound_to: int) -> str:
    """AES-256-GCM of the secret (marketplace.shared.sealing), bound (associated data) to its commitment."""
    from marketplace.shared import sealing

    key = sealing.derive_key(key_material.encode("utf-8"), _SEAL_PURPOSE)
    return sealing.seal(secret.to_bytes(32, "big"), key, str(bound_to).encode("ascii"))


def unseal(sealed: str, key_material: str, bound_to: int) -> int:
    """The secret ``seal`` encrypted; ValueError if the key, the binding or the bytes are wrong."""
    from marketplace.shared import sealing

    key = sealing.derive_key(key_material.encode("utf-8"), _SEAL_PURPOSE)
    return int.from_bytes(sealing.unseal(sealed, key, str(bound_to).encode("ascii")), "big")
