"""Licenses after purchase: the view (its buyer and the content's creator), revocation by the
creator (signed and relayed, or self-sent), and the buyer's API keys."""

from __future__ import annotations

import logging
from typing import Any

from marketplace.errors import ConflictError, ForbiddenError, ValidationError
from marketplace.licensing import credential as cred
from marketplace.licensing.common import LicensingBase, key_item, same_address
from marketplace.licensing.eip712 import REVOKE_LICENSE_TYPE, manager_domain, typed_data
from marketplace.licensing.models import LICENSE_LIFECYCLE, LicenseState, license_state
from marketplace.licensing.schemas import (
    KeysRevokedView,
    LicenseView,
    NewKeyView,
    RevokeRequest,
    TypedDataChallenge,
)
from marketplace.shared.ids import b32, hex32
from marketplace.shared.timefmt import iso

log = logging.getLogger(__name__)


def license_status(lic: dict[str, Any], now: int) -> str:
    """The lifecycle state's name (``models.license_state``)."""
    return str(license_state(lic, now))


def license_view(lic: dict[str, Any], now: int, *, for_buyer: bool,
                 keys: list[dict[str, Any]] | None = None) -> LicenseView:
    """The license as its creator sees it; its buyer also sees ``buyer`` and ``apiKeys`` (the
    fields a creator's view leaves unset, so they are not in its body)."""
    fields: dict[str, Any] = {
        "licenseId": lic["licenseId"], "contentId": lic["contentId"], "termsId": lic["termsId"],
        "type": lic.get("type"), "status": license_status(lic, now), "uses": lic["usesGranted"],
        "maxUses": lic["maxUses"], "pricePerUse": lic["pricePerUse"], "amount": lic["amount"],
        "validFrom": lic["validFrom"], "validUntil": lic["validUntil"], "purchasedAt": lic["purchasedAt"],
        "txHash": lic["txHash"],
        "revokedAt": iso(lic["revokedAt"]) if lic.get("revokedAt") is not None else None,
    }
    if for_buyer:
        fields["buyer"] = lic["buyer"]
        fields["apiKeys"] = [{"prefix": k["display"], "createdAt": k["createdAt"],
                              "revokedAt": iso(k["revokedAt"]) if k.get("revokedAt") is not None else None}
                             for k in (keys or [])]
    return LicenseView(**fields)


class LicenseService(LicensingBase):
    def get_license(self, caller: str, license_id: str) -> LicenseView:
        lic = self._license(license_id)
        is_buyer = same_address(lic["buyer"], caller)
        if not is_buyer and not same_address(lic["creator"], caller):
            raise ForbiddenError("Only the license's buyer and the content's creator may see it",
                                 {"licenseId": license_id})
        keys = self.store.keys_of(license_id) if is_buyer else None
        view = license_view(lic, self._now(), for_buyer=is_buyer, keys=keys)
        try:  # Flow 4's figures: the escrow is their source of truth
            figures = self.chain.settlement(license_id)
        except Exception:  # the license itself does not depend on them
            log.warning("settlement figures of %s unavailable", license_id, exc_info=True)
            return view
        return view.model_copy(update=figures)

    def revoke(self, caller: str, license_id: str, req: RevokeRequest) -> TypedDataChallenge | LicenseView:
        """The typed data to sign (no signature or txHash yet), or the revoked license."""
        lic = self._license(license_id)
        if not same_address(lic["creator"], caller):
            raise ForbiddenError("Only the content's creator may revoke a license", {"licenseId": license_id})
        if not LICENSE_LIFECYCLE.can_transition(license_state(lic, self._now()), LicenseState.REVOKED):
            raise ConflictError("The license is already revoked", {"licenseId": license_id})

        def typed(nonce: int, deadline: int) -> dict[str, Any]:
            return typed_data(manager_domain(self.chain), "RevokeLicense", REVOKE_LICENSE_TYPE,
                              {"licenseId": license_id, "nonce": nonce, "deadline": deadline})

        receipt = self._authorized(caller, req, typed, "revokeWithSig", (b32(license_id),))
        if receipt is None:
            return self._challenge(caller, typed)
        events = [e for e in self.chain.events(receipt, "LicenseRevoked") if hex32(e["licenseId"]) == license_id]
        if not events:
            raise ValidationError("The transaction did not revoke this license",
                                  {"txHash": hex32(receipt["transactionHash"])})
        self.store.mark_revoked(license_id, int(events[0]["timestamp"]), hex32(receipt["transactionHash"]))
        return license_view(self._license(license_id), self._now(), for_buyer=False)

    def _buyers_license(self, caller: str, license_id: str) -> dict[str, Any]:
        lic = self._license(license_id)
        if not same_address(lic["buyer"], caller):
            raise ForbiddenError("Only the license's buyer may manage its keys", {"licenseId": license_id})
        return lic

    def rotate_key(self, caller: str, license_id: str) -> NewKeyView:
        """Revoke the license's keys and issue a new one; the access token is shown again too (the
        lost-credentials path: the commitment on chain cannot change)."""
        lic = self._buyers_license(caller, license_id)
        if license_state(lic, self._now()) is LicenseState.REVOKED:
            raise ConflictError("The license is revoked", {"licenseId": license_id})
        now = self._now()
        key = cred.new_api_key()
        self.store.replace_keys(license_id, key_item(lic, key, now), now)
        secret = cred.unseal(lic["sealedSecret"], self.seal_key(), int(lic["commitment"]))
        return NewKeyView(licenseId=license_id, apiKey=key.key, accessToken=cred.encode_token(license_id, secret))

    def revoke_keys(self, caller: str, license_id: str) -> KeysRevokedView:
        self._buyers_license(caller, license_id)
        return KeysRevokedView(licenseId=license_id, revoked=self.store.revoke_keys(license_id, self._now()))
