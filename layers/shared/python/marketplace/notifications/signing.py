"""Standard Webhooks signatures (https://www.standardwebhooks.com, spec v1) and sealed secrets.

- A secret is ``whsec_`` + base64 of 32 random bytes; the HMAC key is the decoded bytes.
- ``webhook-signature`` is ``v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>``; during a
  rotation's grace it carries one signature per live secret, space-separated (the spec's way:
  a receiver holding either secret verifies).
- At rest a secret is sealed with AES-256-GCM under a key derived from the ``webhook-key`` secret
  (Secrets Manager), bound to its webhook id (associated data): the platform must sign with it, so
  it cannot be stored as a hash.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as pysecrets
from collections.abc import Iterable

PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    return PREFIX + base64.b64encode(pysecrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _key(secret: str) -> bytes:
    if not secret.startswith(PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    return base64.b64decode(secret[len(PREFIX):])


def signature(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """One ``v1,<base64>`` signature of ``{id}.{timestamp}.{body}``."""
    mac = hmac.new(_key(secret), f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def headers(secrets: Iterable[str], msg_id: str, timestamp: int, body: str) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with every given secret (current first)."""
    sigs = [signature(s, msg_id, timestamp, body) for s in secrets]
    if not sigs:
        raise ValueError("no live secret to sign with")
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": " ".join(sigs),
            "content-type": "application/json"}


_SEAL_PURPOSE = b"zkdm webhook secret seal v1"


def seal(secret: str, key_material: bytes, webhook_id: str) -> str:
    """AES-256-GCM of the secret (marketplace.shared.sealing), bound to its webhook."""
    from marketplace.shared import sealing

    return sealing.seal(secret.encode(), sealing.derive_key(key_material, _SEAL_PURPOSE), webhook_id.encode())


def unseal(sealed: str, key_material: bytes, webhook_id: str) -> str:
    """The secret ``seal`` sealed; ValueError for another key, another webhook or altered bytes."""
    from marketplace.shared import sealing

    return sealing.unseal(sealed, sealing.derive_key(key_material, _SEAL_PURPOSE), webhook_id.encode()).decode()
