# Vendored from layers/shared/python/marketplace/usage/client_signing.py by sdk/tools/vendor_signing.py:
# do not edit here (edit the server's file and run the tool).
# Differences: imports the vendored zkdm.access_signature.
"""What a buyer's worker runs to access content: a worker key, and a signed ``AccessRequest`` per access.

Pure functions over ``marketplace.usage.access_signature`` (the standard library and pycryptodome's
keccak only: no server piece, no web3), so the SDK can vendor the two files. A worker:

1. ``key = new_worker_key()`` once, kept by the worker (the platform never sees it); the licensee
   registers ``key.address`` with ``POST /license/{licenseId}/signers`` (EIP-712 ``AddUsageSigner``
   signed by the licensee's wallet, relayed) or ``addUsageSigner`` from its own wallet.
2. per access: ``headers = access_headers(key, licenseId, counter, chainId, licenseManager)`` with
   ``counter`` = the uses this key was served so far + 1, sent with the API key on
   ``POST /content/{contentId}/access``. Only a 200 advances the counter; a refused request is
   signed again with the same counter (its signature is superseded, never billed). A 409
   ``details.reason`` ``replayed_counter`` / ``counter_skipped`` carries ``expectedCounter``.

``requestHash`` = keccak256(salt ‖ method ‖ path ‖ sha256(body)) with 32 random salt bytes: it binds
the signature to one request without telling the chain anything about it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from zkdm import access_signature as sig

HEADER_SIGNER = "X-Usage-Signer"
HEADER_COUNTER = "X-Usage-Counter"
HEADER_REQUEST_HASH = "X-Usage-Request-Hash"
HEADER_SIGNATURE = "X-Usage-Signature"


@dataclass(frozen=True)
class WorkerKey:
    private_key: bytes  # 32 bytes: keep it secret (the worker's only)

    @property
    def address(self) -> str:
        return address_of(self.private_key)


def new_worker_key() -> WorkerKey:
    """A fresh secp256k1 key from the OS's CSPRNG."""
    while True:
        k = secrets.randbelow(sig._N)
        if k:
            return WorkerKey(k.to_bytes(32, "big"))


def _point(k: int) -> tuple[int, int]:
    x, y, z = sig._mul2(k, (*sig._G, 1), 0, (*sig._G, 1))
    zinv = pow(z, -1, sig._P)
    return x * zinv * zinv % sig._P, y * pow(zinv, 3, sig._P) % sig._P


def address_of(private_key: bytes) -> str:
    """The lowercase 0x address of a private key."""
    x, y = _point(int.from_bytes(private_key, "big"))
    return "0x" + sig.keccak256(x.to_bytes(32, "big") + y.to_bytes(32, "big"))[12:].hex()


def sign_digest(private_key: bytes, digest: bytes) -> bytes:
    """A 65-byte ``r ‖ s ‖ v`` signature (low s, v 27/28) of a 32-byte digest."""
    d = int.from_bytes(private_key, "big")
    e = int.from_bytes(digest, "big") % sig._N
    while True:
        k = secrets.randbelow(sig._N - 1) + 1
        x, y = _point(k)
        r = x % sig._N
        if not r:
            continue
        s = pow(k, -1, sig._N) * (e + r * d) % sig._N
        if not s:
            continue
        v = 27 + (y & 1)
        if s > sig._HALF_N:  # EIP-2: the other s, the other parity
            s, v = sig._N - s, 55 - v
        return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])


def request_hash(method: str, path: str, body: bytes = b"", salt: bytes | None = None) -> str:
    """keccak256(salt ‖ METHOD ‖ path ‖ sha256(body)), salt 32 random bytes unless given."""
    salt = salt if salt is not None else secrets.token_bytes(32)
    return "0x" + sig.keccak256(salt + method.upper().encode() + path.encode()
                                + hashlib.sha256(body).digest()).hex()


def sign_access(key: WorkerKey, license_id: str, counter: int, req_hash: str, chain_id: int,
                license_manager: str) -> str:
    """The 0x signature (65 bytes) of ``AccessRequest(licenseId, counter, requestHash)``."""
    digest = sig.access_digest(sig.domain_separator(chain_id, license_manager), license_id, counter, req_hash)
    return "0x" + sign_digest(key.private_key, digest).hex()


def access_headers(key: WorkerKey, license_id: str, counter: int, chain_id: int, license_manager: str, *,
                   method: str = "POST", path: str = "", body: bytes = b"") -> dict[str, str]:
    """The four headers of a signed access (``counter``: this key's served uses + 1)."""
    req_hash = request_hash(method, path, body)
    return {HEADER_SIGNER: key.address, HEADER_COUNTER: str(counter), HEADER_REQUEST_HASH: req_hash,
            HEADER_SIGNATURE: sign_access(key, license_id, counter, req_hash, chain_id, license_manager)}
