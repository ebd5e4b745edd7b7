"""Relayed sends behind their own function (``relayer``), for functions that must not hold the
relayer key.

The license API holds the credential key (it seals each license's credential secret at the quote
and opens it for the buyer's copy at the purchase), so the relayer key is not in the same function
(a compromise of one function gives one key, never both). Its relayed sends (terms, purchases,
revocations, usage signers: each authorised on chain by its signer's EIP-712 signature) are a
synchronous ``lambda:InvokeFunction`` of the relayer function, which holds the relayer key and
sends exactly the LicenseManager and ContentRegistry functions in ``ALLOWED`` through the chain gateway (nonce lease,
journal, receipt wait, decoded reverts).

Wire format (JSON): ``{"contract", "function", "args", "purpose"}`` → ``{"receipt": ...}`` or
``{"error": ...}``. Arguments: bytes as ``{"bytes": hex}``, lists as lists, ints and strings as
themselves. A revert comes back as the same ``ContractRevert`` (so the domain error it maps to is
the same), any other chain failure as ``BlockchainError`` with the relayer's supportId.
"""

from __future__ import annotations

import json
from typing import Any

from marketplace.errors import BlockchainError

ALLOWED: frozenset[tuple[str, str]] = frozenset({
    ("LicenseManager", "createTermsWithSig"),
    ("LicenseManager", "purchaseWithPermit"),
    ("LicenseManager", "revokeWithSig"),
    ("LicenseManager", "addUsageSignerWithSig"),
    ("LicenseManager", "revokeUsageSignerWithSig"),
    ("ContentRegistry", "archiveWithSig"),
})


def encode_arg(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": bytes(value).hex()}
    if isinstance(value, (list, tuple)):
        return [encode_arg(v) for v in value]
    return value


def decode_arg(value: Any) -> Any:
    if isinstance(value, dict):
        return bytes.fromhex(value["bytes"])
    if isinstance(value, list):
        return [decode_arg(v) for v in value]
    return value


def _hex(value: Any) -> Any:
    return "0x" + bytes(value).hex() if isinstance(value, (bytes, bytearray)) else value


def encode_receipt(receipt: Any) -> dict[str, Any]:
    """A receipt as JSON: byte strings (hashes, topics, data) as 0x-hex."""
    out = {k: _hex(v) for k, v in dict(receipt).items() if k != "logs"}
    out["logs"] = [{k: ([_hex(t) for t in v] if k == "topics" else _hex(v)) for k, v in dict(log).items()}
                   for log in receipt["logs"]]
    return out


def decode_receipt(data: dict[str, Any]) -> dict[str, Any]:
    """What ``encode_receipt`` made, as web3 gives it (HexBytes hashes, topics and data), so the
    callers' event decoding (``process_receipt``) and hashes work on it unchanged."""
    from hexbytes import HexBytes

    def b(value: Any) -> Any:
        return HexBytes(value) if isinstance(value, str) and value.startswith("0x") else value

    byte_keys = ("transactionHash", "blockHash")
    out = {k: (b(v) if k in byte_keys else v) for k, v in data.items() if k != "logs"}
    out["logs"] = [{**log, "topics": [HexBytes(t) for t in log["topics"]], "data": HexBytes(log["data"]),
                    **{k: b(log[k]) for k in byte_keys if k in log}} for log in data["logs"]]
    return out


def encode_error(err: BlockchainError) -> dict[str, Any]:
    from marketplace.chain.reverts import ContractRevert

    out: dict[str, Any] = {"message": err.message, "details": err.details, "supportId": err.support_id}
    if isinstance(err, ContractRevert):
        out["revert"] = {"contract": err.contract, "function": err.function, "error": err.error,
                         "args": err.details.get("args", {}), "txHash": err.details.get("txHash")}
    return out


def decode_error(data: dict[str, Any]) -> BlockchainError:
    from marketplace.chain.reverts import ContractRevert

    revert = data.get("revert")
    if revert is None:
        return BlockchainError(data["message"], data.get("details"), support_id=data.get("supportId"))
    err = ContractRevert(revert["contract"], revert["function"], revert["error"], revert["args"],
                         raw=(data.get("details") or {}).get("data"), tx_hash=revert.get("txHash"))
    err.support_id = data.get("supportId") or err.support_id
    return err


def relay(gateway: Any, event: dict[str, Any]) -> dict[str, Any]:
    """The relayer function's work: send one allowed call and answer its receipt or its error."""
    contract, function = event["contract"], event["function"]
    if (contract, function) not in ALLOWED:
        raise PermissionError(f"the relayer does not send {contract}.{function}")
    try:
        receipt = gateway.transact(contract, function, *[decode_arg(a) for a in event["args"]],
                                   purpose=event.get("purpose"))
    except BlockchainError as err:
        return {"error": encode_error(err)}
    return {"receipt": encode_receipt(receipt)}


class RelayClient:
    """``transact`` through the relayer function (a synchronous invoke of ``function_name``)."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name

    def transact(self, contract: str, function: str, *args: Any, purpose: str | None = None) -> dict[str, Any]:
        from marketplace.adapters.aws import client

        payload = {"contract": contract, "function": function, "args": [encode_arg(a) for a in args],
                   "purpose": purpose}
        try:
            out = client("lambda").invoke(FunctionName=self.function_name, Payload=json.dumps(payload).encode())
            body = json.loads(out["Payload"].read() or b"null")
        except Exception as exc:
            raise BlockchainError("The relayer could not be reached", {"function": function}) from exc
        if out.get("FunctionError") or not isinstance(body, dict):
            raise BlockchainError("The relayer failed", {"function": function,
                                                         "errorType": (body or {}).get("errorType")
                                                         if isinstance(body, dict) else None})
        if "error" in body:
            raise decode_error(body["error"])
        return decode_receipt(body["receipt"])
