"""Encodings shared by the access path and the batch prover."""

from __future__ import annotations

import hashlib

from marketplace.zk.field import poseidon, to_field


def text_field(s: str) -> int:
    """A string as a field element: ``uint256(sha256(utf8)) % p``."""
    return to_field(hashlib.sha256(s.encode("utf-8")).digest())


def call_hash(endpoint: str, method: str, ip: str, request_id: str) -> int:
    """``callHash = Poseidon(endpoint, method, client IP, request id)``, each as ``text_field``:
    the private per-event input of the usage_batch circuit."""
    return poseidon(text_field(endpoint), text_field(method.upper()), text_field(ip), text_field(request_id))
