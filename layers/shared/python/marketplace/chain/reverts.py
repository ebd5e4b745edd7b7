"""Reverts decoded by custom-error ABI into structured errors; no error text is ever read.

``ErrorRegistry`` indexes every ``error`` entry of every compiled ABI (``<abi_dir>/*.json``) by its
4-byte selector, plus Solidity's built-in ``Error(string)`` and ``Panic(uint256)``. A revert's
data (the bytes a node returns with ``eth_estimateGas`` / ``eth_call``) decodes to
``ContractRevert(contract, function, error, args)``: a ``BlockchainError`` (503, ``supportId``)
whose ``details`` are ``{contract, function, error, args}`` with JSON-safe args.

``DOMAIN_ERRORS`` is the one table that turns a revert *name* into a domain error where a caller
needs a specific status (``domain_error(err)``); every other revert stays ``BLOCKCHAIN_ERROR``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from marketplace.errors import (
    BlockchainError,
    ConflictError,
    ForbiddenError,
    MarketplaceError,
    NotFoundError,
    PaymentRequiredError,
)

BUILTIN_ERRORS: tuple[dict[str, Any], ...] = (
    {"type": "error", "name": "Error", "inputs": [{"name": "message", "type": "string"}]},
    {"type": "error", "name": "Panic", "inputs": [{"name": "code", "type": "uint256"}]},
)


def _json_safe(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value) if abs(value) >= 2**53 else value  # DynamoDB/JSON keep it exact
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


class ContractRevert(BlockchainError):
    """A transaction or call reverted with a known (or at least raw) error."""

    def __init__(self, contract: str, function: str, error: str, args: dict[str, Any] | None = None,
                 *, raw: str | None = None, tx_hash: str | None = None) -> None:
        self.contract, self.function, self.error = contract, function, error
        self.error_args = dict(args or {})  # (``args`` is the exception's own tuple)
        details: dict[str, Any] = {"contract": contract, "function": function, "error": error,
                                   "args": {k: _json_safe(v) for k, v in self.error_args.items()}}
        if tx_hash:
            details["txHash"] = tx_hash
        if raw and error == "UnknownError":
            details["data"] = raw[:522]  # a selector and a few words, for support
        super().__init__(f"Transaction failed: {error}", details)

    @property
    def reason(self) -> str:
        """``Name(arg, ...)``, built from the decoded values (for people reading it)."""
        shown = ", ".join(str(_json_safe(v)) for v in self.error_args.values())
        return f"{self.error}({shown})"


class ErrorRegistry:
    """selector → (contract, error name, input names, input types), over every ABI in a folder."""

    def __init__(self, abis: dict[str, list[dict[str, Any]]]) -> None:
        from eth_utils import keccak

        self.by_selector: dict[bytes, tuple[str, str, list[str], list[str]]] = {}
        for contract, abi in sorted(abis.items()):
            for item in list(abi) + list(BUILTIN_ERRORS):
                if item.get("type") != "error":
                    continue
                types = [_canonical(i) for i in item.get("inputs", [])]
                names = [i.get("name") or f"arg{n}" for n, i in enumerate(item.get("inputs", []))]
                selector = keccak(text=f"{item['name']}({','.join(types)})")[:4]
                self.by_selector.setdefault(selector, (contract, item["name"], names, types))

    @classmethod
    @functools.cache
    def from_dir(cls, abi_dir: str) -> ErrorRegistry:
        abis = {}
        for path in sorted(Path(abi_dir).glob("*.json")):
            try:
                doc = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if isinstance(doc, dict) and isinstance(doc.get("abi"), list):
                abis[path.stem] = doc["abi"]
        return cls(abis)

    def decode(self, data: bytes) -> tuple[str, dict[str, Any]] | None:
        """(error name, {arg name: value}) for revert data, or None for an unknown selector."""
        from eth_abi import decode

        known = self.by_selector.get(bytes(data[:4]))
        if known is None:
            return None
        _contract, name, names, types = known
        from eth_utils import to_checksum_address

        try:
            values = decode(types, bytes(data[4:]))
        except Exception:  # noqa: BLE001 - malformed arguments: the name alone still says what failed
            return name, {}
        shown = [to_checksum_address(v) if t == "address" else v for t, v in zip(types, values)]
        return name, dict(zip(names, shown))

    def revert(self, contract: str, function: str, data: bytes | None, tx_hash: str | None = None) -> ContractRevert:
        if not data:
            return ContractRevert(contract, function, "Reverted", tx_hash=tx_hash)
        decoded = self.decode(data)
        if decoded is None:
            return ContractRevert(contract, function, "UnknownError", raw="0x" + bytes(data).hex(), tx_hash=tx_hash)
        return ContractRevert(contract, function, decoded[0], decoded[1], tx_hash=tx_hash)


def _canonical(param: dict[str, Any]) -> str:
    t = param["type"]
    if t.startswith("tuple"):
        return "(" + ",".join(_canonical(c) for c in param.get("components", [])) + ")" + t[len("tuple"):]
    return t


def revert_data(exc: BaseException) -> bytes | None:
    """The revert bytes a web3 exception carries (``ContractLogicError.data``, the JSON-RPC
    error's ``data`` as a hex string or ``{"data": hex}``), None when it carries none. Reads
    structured fields only."""
    data: Any = getattr(exc, "data", None)
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return None
    return None


# revert name → (domain error, message): where a caller answers a specific status for it
DOMAIN_ERRORS: dict[str, tuple[type[MarketplaceError], str]] = {
    "License__UnknownTerms": (NotFoundError, "Unknown terms"),
    "License__TermsInactive": (ConflictError, "These terms no longer accept purchases"),
    "License__ContentNotAvailable": (ConflictError, "The content is not available"),
    "License__InvalidCommitment": (ConflictError, "The credential commitment is already used: request a new quote"),
    "License__LicenseExists": (ConflictError, "This quote's license was already bought: request a new quote"),
    "License__InsufficientAllowance": (PaymentRequiredError, "The permit does not cover the price"),
    "ERC20InsufficientBalance": (PaymentRequiredError, "Insufficient token balance"),
    "License__SignatureExpired": (ForbiddenError, "The signature's deadline has passed"),
    "License__InvalidSignature": (ForbiddenError, "The signature is not the signer's"),
    "License__NotCreator": (ForbiddenError, "Only the content's creator may do this"),
    "License__AlreadyRevoked": (ConflictError, "The license is already revoked"),
    "License__UnknownLicense": (NotFoundError, "Unknown license"),
    "Registry__NotRegistered": (ConflictError, "The content is not registered or is archived already"),
    "Registry__SignatureExpired": (ForbiddenError, "The signature's deadline has passed"),
    "Registry__InvalidSignature": (ForbiddenError, "The signature is not the creator's"),
}


def domain_error(err: BlockchainError) -> MarketplaceError:
    """The domain error ``DOMAIN_ERRORS`` gives a ``ContractRevert``'s name, else ``err`` itself."""
    if not isinstance(err, ContractRevert):
        return err
    known = DOMAIN_ERRORS.get(err.error)
    if known is None:
        return err
    cls, message = known
    return cls(message, {"error": err.error, "args": err.details["args"], "reason": err.reason})
