"""Local signing: the key stays on this machine; the server only ever sees signatures.

Keys come from an eth-account encrypted JSON keystore (``Signer.from_keystore``) or from an
environment variable holding the hex private key (``Signer.from_env``), never from a server.
Before signing, the SDK checks that what the server asks for is what the caller asked to do: the
Sign-In with Ethereum message names this API's domain and our address; typed data has the
expected primary type, and a purchase's typed data names the quote's terms, commitment and nonce.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data

from zkdm.errors import KeyUnavailable, SigningRefused

DEFAULT_KEY_ENV = "ZKDM_PRIVATE_KEY"
PASSWORD_ENV = "ZKDM_KEYSTORE_PASSWORD"
SIWE_HEADER = " wants you to sign in with your Ethereum account:"


def _hex(signature: bytes) -> str:
    return "0x" + bytes(signature).hex()


class Signer:
    """An Ethereum account that signs locally (EIP-191 messages and EIP-712 typed data)."""

    def __init__(self, private_key: str | bytes) -> None:
        try:
            self._account = Account.from_key(private_key)
        except Exception as exc:  # never echo the key
            raise KeyUnavailable("not a valid secp256k1 private key") from exc

    @property
    def address(self) -> str:
        return self._account.address

    # -- where keys come from ---------------------------------------------------------------------

    @classmethod
    def from_env(cls, variable: str = DEFAULT_KEY_ENV) -> Signer:
        value = os.environ.get(variable, "").strip()
        if not value:
            raise KeyUnavailable(f"no key: set {variable} or give an encrypted keystore (--keystore)")
        return cls(value)

    @classmethod
    def from_keystore(cls, path: str | Path, password: str | None = None) -> Signer:
        path = Path(path).expanduser()
        if password is None:
            password = os.environ.get(PASSWORD_ENV)
        if password is None:
            raise KeyUnavailable(f"the keystore {path} needs its password ({PASSWORD_ENV} or the prompt)")
        try:
            keyfile = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise KeyUnavailable(f"cannot read the keystore {path}: {exc}") from exc
        try:
            return cls(Account.decrypt(keyfile, password))
        except ValueError as exc:
            raise KeyUnavailable(f"cannot decrypt {path}: wrong password?") from exc

    def to_keystore(self, path: str | Path, password: str, *, iterations: int | None = None) -> Path:
        """Write this key as an encrypted JSON keystore (scrypt), readable by its owner only."""
        path = Path(path).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        keyfile = Account.encrypt(self._account.key, password, iterations=iterations)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(keyfile, out)
        return path

    # -- what gets signed -------------------------------------------------------------------------

    def sign_siwe(self, message: str, api_url: str) -> str:
        """personal_sign of an EIP-4361 message, after checking it names this API and this account."""
        lines = message.split("\n")
        domain = lines[0].removesuffix(SIWE_HEADER) if lines and lines[0].endswith(SIWE_HEADER) else None
        expected = urlsplit(api_url).netloc
        if domain is None or len(lines) < 2:
            raise SigningRefused("the sign-in message is not an EIP-4361 message")
        if domain.split("://")[-1] != expected:
            raise SigningRefused(f"the sign-in message is for {domain!r}, not this API ({expected!r})")
        if lines[1].lower() != self.address.lower():
            raise SigningRefused(f"the sign-in message names {lines[1]}, not {self.address}")
        return _hex(self._account.sign_message(encode_defunct(text=message)).signature)

    def sign_typed_data(self, typed_data: dict[str, Any], primary_type: str,
                        expect: dict[str, Any] | None = None) -> str:
        """eth_signTypedData_v4 of ``typed_data``, refused unless its primary type is
        ``primary_type`` and its message has the ``expect`` values (compared as text, any case)."""
        if typed_data.get("primaryType") != primary_type:
            raise SigningRefused(f"asked to sign {typed_data.get('primaryType')!r}, expected {primary_type!r}")
        message = typed_data.get("message") or {}
        for name, value in (expect or {}).items():
            if str(message.get(name)).lower() != str(value).lower():
                raise SigningRefused(f"{primary_type}.{name} is {message.get(name)!r}, expected {value!r}")
        return _hex(self._account.sign_message(encode_typed_data(full_message=typed_data)).signature)

    def sign_transaction(self, tx: dict[str, Any]) -> bytes:
        """The raw signed transaction (EIP-1559 when ``tx`` has ``maxFeePerGas``), to send to a chain node."""
        return bytes(self._account.sign_transaction(tx).raw_transaction)
