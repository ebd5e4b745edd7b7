"""Secrets Manager values, cached per process for a few minutes (rotation is picked up after)."""

from __future__ import annotations

import threading
import time

from marketplace.adapters.aws import client, error_code

TTL_SECONDS = 300
_cache: dict[str, tuple[float, str]] = {}
_lock = threading.Lock()


class SecretUnavailable(RuntimeError):
    """A secret the function needs has no value (e.g. the relayer key was never set)."""


def get_secret(secret_id: str) -> str:
    now = time.monotonic()
    with _lock:
        hit = _cache.get(secret_id)
        if hit and hit[0] > now:
            return hit[1]
    try:
        value = client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    except Exception as exc:
        if error_code(exc) in ("ResourceNotFoundException", "InvalidRequestException"):
            raise SecretUnavailable(f"secret {secret_id} has no value") from exc
        raise
    with _lock:
        _cache[secret_id] = (now + TTL_SECONDS, value)
    return value


def secret_bytes(value: str) -> bytes:
    """Key bytes from a secret's text: hex as the stack generates it (``random-hex32``), else UTF-8."""
    text = value.strip()
    try:
        return bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        return text.encode()


def get_secret_bytes(secret_id: str) -> bytes:
    return secret_bytes(get_secret(secret_id))


def clear_cache() -> None:
    with _lock:
        _cache.clear()
