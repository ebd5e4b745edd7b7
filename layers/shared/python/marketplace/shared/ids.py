"""The one check of a 32-byte hex id (content, terms, license, quote, transaction ids).

Ids travel as ``0x`` + 64 hex digits and are stored lowercase. Light on purpose: the access path
imports it.
"""

from __future__ import annotations

import re

HEX32_PATTERN = r"^0x[0-9a-f]{64}$"  # the stored (lowercase) form, also the request schemas' pattern
_HEX32 = re.compile(r"0x[0-9a-fA-F]{64}")


def as_hex32(value: object) -> str | None:
    """``value`` lowercased if it is ``0x`` + 64 hex digits (either case), else None."""
    if isinstance(value, str) and _HEX32.fullmatch(value):
        return value.lower()
    return None


def hex32(value: bytes | bytearray | str) -> str:
    """Bytes (a contract's bytes32) or hex text as the stored form: ``0x`` + lowercase hex."""
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    return value.lower() if value.startswith("0x") else "0x" + value.lower()


def b32(hex_id: str) -> bytes:
    """A ``0x`` hex bytes32 id as the bytes a contract call takes."""
    return bytes.fromhex(hex_id[2:])
