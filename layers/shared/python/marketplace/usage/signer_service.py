"""The licensee's usage signers (worker keys): registration and revocation on chain, relayed with
the licensee's EIP-712 signature or verified from their own transaction, exactly as terms and
revocations are (``licensing.common.LicensingBase._authorized``), then recorded in the
usage-signers table (``UsageSigners``; the chain-events consumer records those sent elsewhere,
``usage.chain_events``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marketplace.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from marketplace.licensing.common import LicensingBase, checksum, same_address
from marketplace.licensing.eip712 import manager_domain, typed_data
from marketplace.licensing.models import LicenseState, license_state
from marketplace.licensing.schemas import TypedDataChallenge
from marketplace.shared.ids import b32, hex32
from marketplace.usage.models import SignerState, UsageSigner
from marketplace.usage.ports import UsageSigners
from marketplace.usage.schemas import SignerList, SignerRequest, SignerRevokeRequest, SignerView

# LicenseManager's ADD_USAGE_SIGNER_TYPEHASH / REVOKE_USAGE_SIGNER_TYPEHASH, field by field
SIGNER_TYPE = [{"name": "licenseId", "type": "bytes32"}, {"name": "signer", "type": "address"},
               {"name": "nonce", "type": "uint256"}, {"name": "deadline", "type": "uint256"}]


def signer_view(s: UsageSigner) -> SignerView:
    return SignerView(licenseId=s.license_id, signer=s.signer, state=str(s.state), lastCounter=s.last_counter,
                      addedAt=s.added_at, revokedAt=s.revoked_at, txHash=s.tx_hash)


class UsageSignerService(LicensingBase):
    def __init__(self, *args: Any, signers: UsageSigners, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.signers = signers

    def _licensees(self, caller: str, license_id: str) -> dict[str, Any]:
        lic = self._license(license_id)
        if not same_address(lic["buyer"], caller):
            raise ForbiddenError("Only the license's buyer manages its usage signers", {"licenseId": license_id})
        return lic

    def _typed(self, primary: str, license_id: str, signer: str) -> Callable[[int, int], dict[str, Any]]:
        def typed(nonce: int, deadline: int) -> dict[str, Any]:
            return typed_data(manager_domain(self.chain), primary, SIGNER_TYPE,
                              {"licenseId": license_id, "signer": checksum(signer), "nonce": nonce,
                               "deadline": deadline})

        return typed

    def _logged(self, receipt: dict[str, Any], event: str, license_id: str, signer: str) -> str:
        tx_hash = hex32(receipt["transactionHash"])
        if not any(hex32(e["licenseId"]) == license_id and same_address(e["signer"], signer)
                   for e in self.chain.events(receipt, event)):
            raise ValidationError(f"The transaction did not emit {event} for this license and signer",
                                  {"txHash": tx_hash})
        return tx_hash

    def add(self, caller: str, license_id: str, req: SignerRequest) -> TypedDataChallenge | SignerView:
        lic = self._licensees(caller, license_id)
        signer = req.signer.lower()
        if license_state(lic, self._now()) is LicenseState.REVOKED:
            raise ConflictError("The license is revoked", {"licenseId": license_id})
        known = self.signers.get(license_id, signer)
        if known is not None and known.state is SignerState.REVOKED:
            raise ConflictError("A revoked usage signer cannot be registered again: use a new key",
                                {"licenseId": license_id, "signer": signer})
        if known is not None and not req.txHash:
            return signer_view(known)  # registered already (here, or seen on chain)
        typed = self._typed("AddUsageSigner", license_id, signer)
        receipt = self._authorized(caller, req, typed, "addUsageSignerWithSig", (b32(license_id), checksum(signer)))
        if receipt is None:
            return self._challenge(caller, typed)
        tx_hash = self._logged(receipt, "UsageSignerAdded", license_id, signer)
        self.signers.add(license_id, signer, self._now(), tx_hash)
        return signer_view(self.signers.get(license_id, signer))  # type: ignore[arg-type]

    def revoke(self, caller: str, license_id: str, signer: str,
               req: SignerRevokeRequest) -> TypedDataChallenge | SignerView:
        self._licensees(caller, license_id)
        signer = signer.lower()
        known = self.signers.get(license_id, signer)
        if known is None:
            raise NotFoundError("Not a usage signer of this license", {"licenseId": license_id, "signer": signer})
        if known.state is SignerState.REVOKED and not req.txHash:
            return signer_view(known)
        typed = self._typed("RevokeUsageSigner", license_id, signer)
        receipt = self._authorized(caller, req, typed, "revokeUsageSignerWithSig",
                                   (b32(license_id), checksum(signer)))
        if receipt is None:
            return self._challenge(caller, typed)
        tx_hash = self._logged(receipt, "UsageSignerRevoked", license_id, signer)
        self.signers.revoke(license_id, signer, self._now(), tx_hash)
        return signer_view(self.signers.get(license_id, signer))  # type: ignore[arg-type]

    def list(self, caller: str, license_id: str) -> SignerList:
        lic = self._license(license_id)
        if not same_address(lic["buyer"], caller) and not same_address(lic["creator"], caller):
            raise ForbiddenError("Only the license's buyer and the content's creator may see it",
                                 {"licenseId": license_id})
        return SignerList(licenseId=license_id, signers=[signer_view(s) for s in self.signers.list(license_id)])
