"""What the licensing services share: settings, the creator's signed or self-sent acts, reverts,
and the small encodings (ids, addresses, the API key item)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from marketplace.chain.quota import RelayQuota
from marketplace.errors import (
    BlockchainError,
    ConflictError,
    ForbiddenError,
    MarketplaceError,
    NotFoundError,
    ValidationError,
)
from marketplace.licensing import credential as cred
from marketplace.licensing.eip712 import recover_signer
from marketplace.licensing.ports import LicenseChain, LicensedContent, LicensingStore
from marketplace.licensing.schemas import CreatorAuthorization, TypedDataChallenge
from marketplace.shared.ids import b32, hex32
from marketplace.shared.timefmt import iso


@dataclass(frozen=True)
class LicensingSettings:
    quote_ttl_seconds: int = 900  # also the permit's deadline
    signature_ttl_seconds: int = 900  # deadline of a creator's CreateTerms / RevokeLicense signature
    purchase_lock_seconds: int = 180  # > the relayer's receipt timeout


def same_address(a: str | None, b: str | None) -> bool:
    return bool(a and b and a.lower() == b.lower())


def checksum(address: str) -> str:
    from eth_utils import to_checksum_address

    return to_checksum_address(address)


def license_id_for(terms_id: str, buyer: str, nonce: int) -> str:
    """The LicenseManager's ``licenseIdFor``: ``keccak256(abi.encode(termsId, buyer, nonce))``."""
    from eth_abi import encode
    from eth_utils import keccak

    return hex32(keccak(encode(["bytes32", "address", "uint256"], [b32(terms_id), checksum(buyer), nonce])))


def translate_revert(err: BlockchainError) -> MarketplaceError:
    """A relayed transaction's revert as the domain error the client should get (by the decoded
    custom error's name: ``marketplace.chain.reverts.DOMAIN_ERRORS``); anything else stays a 503
    BLOCKCHAIN_ERROR with its supportId."""
    from marketplace.chain.reverts import domain_error

    return domain_error(err)


def key_item(lic: dict[str, Any], key: cred.NewApiKey, now: int) -> dict[str, Any]:
    """An apikeys item: the hash, and the license's static facts the access path checks."""
    return {"keyHash": key.key_hash, "licenseId": lic["licenseId"], "display": key.display,
            "buyer": lic["buyer"], "contentId": lic["contentId"], "commitment": lic["commitment"],
            "validUntil": lic["validUntil"], "objectKey": lic["objectKey"], "createdAt": iso(now)}


class LicensingBase:
    """The dependencies and the steps every licensing service uses."""

    def __init__(self, store: LicensingStore, content: LicensedContent, chain: LicenseChain,
                 seal_key: Callable[[], str], settings: LicensingSettings = LicensingSettings(),
                 clock: Callable[[], float] = time.time, relay_quota: RelayQuota | None = None):
        self.store = store
        self.content = content
        self.chain = chain
        self.seal_key = seal_key  # the credential-key secret's value (read lazily)
        self.settings = settings
        self.clock = clock
        self.relay_quota = relay_quota  # per-caller quota of what the relayer pays gas for

    def _now(self) -> int:
        return int(self.clock())

    def _take_quota(self, caller: str, function: str) -> None:
        """Count a relayed send for ``caller`` (429 past its quota: ``marketplace.chain.quota``)."""
        if self.relay_quota is not None:
            self.relay_quota.take(caller, function)

    def _send(self, function: str, *args: Any) -> dict[str, Any]:
        return self._relayed(self.chain.send, function, *args)

    def _send_registry(self, function: str, *args: Any) -> dict[str, Any]:
        return self._relayed(self.chain.send_registry, function, *args)

    @staticmethod
    def _relayed(send: Callable[..., dict[str, Any]], function: str, *args: Any) -> dict[str, Any]:
        try:
            return send(function, *args)
        except BlockchainError as err:
            mapped = translate_revert(err)
            if mapped is err:
                raise
            raise mapped from err

    def _challenge(self, caller: str, typed: Callable[[int, int], dict[str, Any]],
                   nonce_of: Callable[[str], int] | None = None) -> TypedDataChallenge:
        deadline = self._now() + self.settings.signature_ttl_seconds
        nonce = (nonce_of or self.chain.manager_nonce)(caller)
        return TypedDataChallenge(signatureRequired=True, typedData=typed(nonce, deadline), deadline=deadline)

    def _authorized(self, caller: str, req: CreatorAuthorization, typed: Callable[[int, int], dict[str, Any]],
                    relayed_function: str, args: tuple, nonce_of: Callable[[str], int] | None = None,
                    send: Callable[..., dict[str, Any]] | None = None) -> dict[str, Any] | None:
        """The receipt of the creator's act: relayed with their signature, or their own transaction
        (verified to be theirs); None when neither was given (the caller answers the challenge).
        ``nonce_of`` and ``send``: the signer's nonce and the sender of another contract than the
        LicenseManager (default: its ``nonces`` and ``_send``)."""
        if req.txHash:
            receipt = self._mined(req.txHash)
            if not same_address(receipt.get("from"), caller):
                raise ForbiddenError("The transaction was not sent by you", {"txHash": req.txHash})
            return receipt
        if req.signature:
            if req.deadline is None:  # the schema requires it with a signature
                raise ValidationError("a signature needs the deadline it signed", {"field": "deadline"})
            if req.deadline < self._now():
                # the request is well formed; the authorization it carries no longer holds (403)
                raise ForbiddenError("The signature's deadline has passed: request the typed data again",
                                     {"field": "deadline", "reason": "signature_expired"})
            data = typed((nonce_of or self.chain.manager_nonce)(caller), req.deadline)
            if not same_address(recover_signer(data, req.signature), caller):
                raise ForbiddenError("The signature is not yours over this typed data (nonce and deadline "
                                     "included): request it again", {"field": "signature", "reason": "not_signer"})
            self._take_quota(caller, relayed_function)
            return (send or self._send)(relayed_function, *args, req.deadline, bytes.fromhex(req.signature[2:]))
        return None

    def _mined(self, tx_hash: str) -> dict[str, Any]:
        receipt = self.chain.receipt(tx_hash)
        if receipt is None:
            raise ConflictError("The transaction is unknown or not mined yet: retry when it is",
                                {"txHash": tx_hash})
        if receipt.get("status") != 1:
            raise ValidationError("The transaction reverted", {"txHash": tx_hash})
        return receipt

    def _license(self, license_id: str) -> dict[str, Any]:
        lic = self.store.get_license(license_id)
        if lic is None:
            raise NotFoundError("Unknown license", {"licenseId": license_id})
        return lic
