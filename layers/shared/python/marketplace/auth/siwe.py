"""Sign-In with Ethereum (EIP-4361): build, strictly parse and verify the message.

The ``siwe`` package pulls an old web3 and fails to import (docs/design.md), so this module parses
the message against the EIP-4361 grammar itself and checks the signature with eth-account's
``recover_message`` (EIP-191 personal_sign). Parsing is strict: fields in the grammar's order,
exactly one LF between lines, no trailing newline, a checksummed address, and the text must be
byte-identical to what :meth:`SiweMessage.text` rebuilds from the parsed fields.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from marketplace.errors import UnauthorizedError
from marketplace.shared.timefmt import iso

_HEADER = " wants you to sign in with your Ethereum account:"
_NONCE = re.compile(r"[A-Za-z0-9]{8,}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_DOMAIN = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*://)?[^\s/?#@]+(?::\d+)?")
_DIGITS = re.compile(r"[1-9][0-9]*")
_NONCE_ALPHABET = string.ascii_letters + string.digits


class SiweError(UnauthorizedError):
    """The message is malformed, does not match what this server expects, or is not signed."""


def new_nonce(length: int = 17) -> str:
    return "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(length))


format_time = iso  # EIP-4361 times: RFC 3339, the API's one time format (marketplace.shared.timefmt)


def _parse_time(name: str, value: str) -> datetime:
    # RFC 3339 date-time: a full date, a time and an offset ("Z" or ±hh:mm)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", value):
        raise SiweError(f"{name} is not an RFC 3339 date-time", {"field": name})
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise SiweError(f"{name} is not an RFC 3339 date-time", {"field": name}) from None


def _check_address(value: str) -> str:
    from eth_utils import is_checksum_address  # light: no web3

    if not _ADDRESS.fullmatch(value) or not is_checksum_address(value):
        raise SiweError("address must be an EIP-55 checksummed address", {"field": "address"})
    return value


def _check_uri(name: str, value: str) -> str:
    parts = urlsplit(value)
    if not parts.scheme or any(c.isspace() for c in value):
        raise SiweError(f"{name} is not an absolute URI", {"field": name})
    return value


@dataclass(frozen=True)
class SiweMessage:
    domain: str
    address: str
    uri: str
    chain_id: int
    nonce: str
    issued_at: str
    statement: str | None = None
    version: str = "1"
    expiration_time: str | None = None
    not_before: str | None = None
    request_id: str | None = None
    resources: tuple[str, ...] = field(default_factory=tuple)

    def text(self) -> str:
        lines = [self.domain + _HEADER, self.address, ""]
        if self.statement is not None:
            lines.append(self.statement)
        lines += ["", f"URI: {self.uri}", f"Version: {self.version}", f"Chain ID: {self.chain_id}",
                  f"Nonce: {self.nonce}", f"Issued At: {self.issued_at}"]
        if self.expiration_time is not None:
            lines.append(f"Expiration Time: {self.expiration_time}")
        if self.not_before is not None:
            lines.append(f"Not Before: {self.not_before}")
        if self.request_id is not None:
            lines.append(f"Request ID: {self.request_id}")
        if self.resources:
            lines.append("Resources:")
            lines += [f"- {r}" for r in self.resources]
        return "\n".join(lines)


def parse(text: str) -> SiweMessage:
    """Parse an EIP-4361 message; anything off-grammar raises :class:`SiweError`."""
    if not isinstance(text, str) or "\r" in text:
        raise SiweError("message must be EIP-4361 text with LF line endings", {"field": "message"})
    lines = text.split("\n")
    pos = 0

    def take() -> str:
        nonlocal pos
        if pos >= len(lines):
            raise SiweError("message ends early", {"field": "message"})
        pos += 1
        return lines[pos - 1]

    def tagged(tag: str) -> str:
        line = take()
        if not line.startswith(tag + ": "):
            raise SiweError(f"expected '{tag}: ' line", {"field": tag})
        return line[len(tag) + 2:]

    def optional(tag: str) -> str | None:
        if pos >= len(lines) or not lines[pos].startswith(tag + ": "):
            return None
        return tagged(tag)

    header = take()
    if not header.endswith(_HEADER):
        raise SiweError("not a Sign-In with Ethereum message", {"field": "message"})
    domain = header[: -len(_HEADER)]
    if not _DOMAIN.fullmatch(domain):
        raise SiweError("domain is not an RFC 3986 authority", {"field": "domain"})
    address = _check_address(take())
    if take() != "":
        raise SiweError("expected an empty line after the address", {"field": "message"})
    statement = None
    line = take()
    if line != "":
        statement = line
        if take() != "":
            raise SiweError("expected an empty line after the statement", {"field": "statement"})
    uri = _check_uri("URI", tagged("URI"))
    version = tagged("Version")
    if version != "1":
        raise SiweError("Version must be 1", {"field": "Version"})
    chain = tagged("Chain ID")
    if not _DIGITS.fullmatch(chain):
        raise SiweError("Chain ID must be a decimal number", {"field": "Chain ID"})
    nonce = tagged("Nonce")
    if not _NONCE.fullmatch(nonce):
        raise SiweError("Nonce must be at least 8 letters or digits", {"field": "Nonce"})
    issued_at = tagged("Issued At")
    _parse_time("Issued At", issued_at)
    expiration = optional("Expiration Time")
    if expiration is not None:
        _parse_time("Expiration Time", expiration)
    not_before = optional("Not Before")
    if not_before is not None:
        _parse_time("Not Before", not_before)
    request_id = optional("Request ID")
    resources: list[str] = []
    if pos < len(lines) and lines[pos] == "Resources:":
        take()
        while pos < len(lines):
            item = take()
            if not item.startswith("- "):
                raise SiweError("resources must be '- URI' lines", {"field": "Resources"})
            resources.append(_check_uri("Resources", item[2:]))
    if pos != len(lines):
        raise SiweError("unexpected text after the message's fields", {"field": "message"})
    msg = SiweMessage(domain=domain, address=address, uri=uri, chain_id=int(chain), nonce=nonce,
                      issued_at=issued_at, statement=statement, version=version,
                      expiration_time=expiration, not_before=not_before, request_id=request_id,
                      resources=tuple(resources))
    if msg.text() != text:  # e.g. a statement that is itself a tagged line
        raise SiweError("message is not in canonical EIP-4361 form", {"field": "message"})
    return msg


def recover(text: str, signature: str) -> str:
    """The checksummed address that signed ``text`` with EIP-191 personal_sign."""
    from eth_account import Account
    from eth_account.messages import encode_defunct

    if not isinstance(signature, str) or not re.fullmatch(r"(0x)?[0-9a-fA-F]{130}", signature):
        raise SiweError("signature must be 65 bytes of hex", {"field": "signature"})
    try:
        return Account.recover_message(encode_defunct(text=text), signature=signature)
    except Exception:  # noqa: BLE001 - eth-account raises several types for unusable signatures
        raise SiweError("signature is invalid", {"field": "signature"}) from None


def verify(text: str, signature: str, *, domain: str, chain_id: int, now: datetime,
           max_clock_skew: int = 60) -> SiweMessage:
    """Parse, check the message is for this server and currently valid, and check the signature.

    The nonce is *not* consumed here (the caller does it atomically after this passes).
    """
    msg = parse(text)
    if msg.domain != domain:
        raise SiweError("message is for another domain", {"field": "domain", "expected": domain})
    if msg.chain_id != chain_id:
        raise SiweError("message is for another chain", {"field": "Chain ID", "expected": chain_id})
    ts = now.timestamp()
    if _parse_time("Issued At", msg.issued_at).timestamp() > ts + max_clock_skew:
        raise SiweError("message is issued in the future", {"field": "Issued At"})
    if msg.expiration_time is None:
        raise SiweError("message must have an Expiration Time", {"field": "Expiration Time"})
    if _parse_time("Expiration Time", msg.expiration_time).timestamp() <= ts:
        raise SiweError("message has expired", {"field": "Expiration Time"})
    if msg.not_before is not None and _parse_time("Not Before", msg.not_before).timestamp() > ts:
        raise SiweError("message is not valid yet", {"field": "Not Before"})
    if recover(text, signature) != msg.address:
        raise SiweError("signature does not match the address", {"field": "signature"})
    return msg
