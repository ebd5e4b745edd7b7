"""Secrets at rest: AES-256-GCM with associated data, in one versioned text format.

``seal(plaintext, key, aad)`` returns ``"v1." + base64url(nonce ‖ ciphertext ‖ tag)`` (12-byte random
nonce, 16-byte tag); ``unseal`` reverses it and raises ``ValueError`` for another key, other
associated data, altered bytes or an unknown version. Each caller derives its own key from its own
secret with a purpose label (``derive_key``), so a key sealing one kind of secret never opens
another. pycryptodome is imported on first use only (the access path imports modules that seal).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

VERSION = "v1"
_NONCE, _TAG = 12, 16


def derive_key(key_material: bytes, purpose: bytes) -> bytes:
    """The AES-256 key for ``purpose`` (e.g. ``b"zkdm credential seal v1"``) from a secret's value."""
    return hmac.new(key_material, purpose, hashlib.sha256).digest()


def seal(plaintext: bytes, key: bytes, aad: bytes) -> str:
    from Crypto.Cipher import AES  # pycryptodome

    nonce = secrets.token_bytes(_NONCE)
    cipher = AES.new(key, AES.MODE_GCM, nonce=nonce)
    cipher.update(aad)
    ct, tag = cipher.encrypt_and_digest(plaintext)
    return VERSION + "." + base64.urlsafe_b64encode(nonce + ct + tag).decode("ascii")


def unseal(sealed: str, key: bytes, aad: bytes) -> bytes:
    from Crypto.Cipher import AES

    version, _, body = sealed.partition(".")
    if version != VERSION:
        raise ValueError(f"unknown sealed-secret version {version!r}")
    raw = base64.urlsafe_b64decode(body)
    if len(raw) < _NONCE + _TAG:
        raise ValueError("sealed secret too short")
    nonce, ct, tag = raw[:_NONCE], raw[_NONCE:-_TAG], raw[-_TAG:]
    cipher = AES.new(key, AES.MODE_GCM, nonce=nonce)
    cipher.update(aad)
    return cipher.decrypt_and_verify(ct, tag)
