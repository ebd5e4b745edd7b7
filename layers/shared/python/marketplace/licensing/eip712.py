"""EIP-712 typed data of the LicenseManager (CreateTerms, RevokeLicense) and EIP-2612 permits."""

from __future__ import annotations

from typing import Any

from marketplace.licensing.ports import LicenseChain

_DOMAIN_FIELDS = (("name", "string"), ("version", "string"), ("chainId", "uint256"),
                  ("verifyingContract", "address"))

PERMIT_TYPE = [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"},
               {"name": "value", "type": "uint256"}, {"name": "nonce", "type": "uint256"},
               {"name": "deadline", "type": "uint256"}]
# LicenseManager's CREATE_TERMS_TYPEHASH and REVOKE_LICENSE_TYPEHASH, field by field
CREATE_TERMS_TYPE = [{"name": "contentId", "type": "bytes32"}, {"name": "licenseType", "type": "uint8"},
                     {"name": "pricePerUse", "type": "uint96"}, {"name": "maxUses", "type": "uint32"},
                     {"name": "durationSeconds", "type": "uint40"}, {"name": "nonce", "type": "uint256"},
                     {"name": "deadline", "type": "uint256"}]
REVOKE_LICENSE_TYPE = [{"name": "licenseId", "type": "bytes32"}, {"name": "nonce", "type": "uint256"},
                       {"name": "deadline", "type": "uint256"}]
# LicenseManager's PURCHASE_TYPEHASH: what a buyer authorises the relayer to buy for them
PURCHASE_TYPE = [{"name": "termsId", "type": "bytes32"}, {"name": "credentialCommitment", "type": "uint256"},
                 {"name": "nonce", "type": "uint256"}, {"name": "deadline", "type": "uint256"}]
MANAGER_DOMAIN = {"name": "LicenseManager", "version": "1"}
# ContentRegistry's ARCHIVE_TYPEHASH (no nonce: archiving is one-way, a signature works once)
ARCHIVE_TYPE = [{"name": "contentId", "type": "bytes32"}, {"name": "deadline", "type": "uint256"}]
REGISTRY_DOMAIN = {"name": "ContentRegistry", "version": "1"}


def typed_data(domain: dict[str, Any], primary: str, fields: list[dict[str, str]],
               message: dict[str, Any]) -> dict[str, Any]:
    """Complete ``eth_signTypedData_v4`` typed data. Integers above 2^53 do not survive JavaScript,
    so every uint in ``message`` is a decimal string (wallets and eth-account accept both)."""
    kinds = {f["name"]: f["type"] for f in fields}
    return {
        "types": {"EIP712Domain": [{"name": n, "type": t} for n, t in _DOMAIN_FIELDS if n in domain],
                  primary: fields},
        "primaryType": primary,
        "domain": domain,
        "message": {k: (str(v) if kinds[k].startswith("uint") else v) for k, v in message.items()},
    }


def permit_typed_data(token_domain: dict[str, Any], owner: str, spender: str, value: int, nonce: int,
                      deadline: int) -> dict[str, Any]:
    return typed_data(token_domain, "Permit", PERMIT_TYPE, {
        "owner": owner, "spender": spender, "value": value, "nonce": nonce, "deadline": deadline})


def purchase_typed_data(manager: dict[str, Any], terms_id: str, commitment: int, nonce: int,
                        deadline: int) -> dict[str, Any]:
    return typed_data(manager, "Purchase", PURCHASE_TYPE, {
        "termsId": terms_id, "credentialCommitment": commitment, "nonce": nonce, "deadline": deadline})


def manager_domain(chain: LicenseChain) -> dict[str, Any]:
    return {**MANAGER_DOMAIN, "chainId": chain.chain_id, "verifyingContract": chain.license_manager}


def registry_domain(chain: LicenseChain) -> dict[str, Any]:
    return {**REGISTRY_DOMAIN, "chainId": chain.chain_id, "verifyingContract": chain.registry}


def recover_signer(data: dict[str, Any], signature: str) -> str | None:
    """The address that signed ``data`` (checksummed), or None for an unusable signature."""
    from eth_account import Account
    from eth_account.messages import encode_typed_data
    from eth_keys.exceptions import BadSignature
    from eth_utils.exceptions import ValidationError as EthValidationError

    try:
        return Account.recover_message(encode_typed_data(full_message=data), signature=signature)
    except (BadSignature, EthValidationError, ValueError):  # bad v, s out of range: nobody's signature
        return None


def split_signature(signature: str) -> tuple[int, bytes, bytes]:
    raw = bytes.fromhex(signature[2:])
    v = raw[64]
    return (v + 27 if v < 27 else v), raw[:32], raw[32:64]
