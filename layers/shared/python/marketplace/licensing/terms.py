"""License terms: created by the content's creator on chain (signed and relayed, or self-sent),
then recorded; a content's first terms make it LICENSED."""

from __future__ import annotations

from typing import Any

from marketplace.content.models import OFFERABLE
from marketplace.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from marketplace.licensing.common import LicensingBase, same_address
from marketplace.licensing.eip712 import CREATE_TERMS_TYPE, manager_domain, typed_data
from marketplace.licensing.models import LICENSE_TYPES
from marketplace.licensing.schemas import TermsCreated, TermsList, TermsRequest, TermsView, TypedDataChallenge
from marketplace.shared.ids import b32, hex32
from marketplace.shared.timefmt import iso

_TERMS_FIELDS = ("termsId", "contentId", "type", "pricePerUse", "maxUses", "durationSeconds", "amount", "active",
                 "txHash", "createdAt")


def terms_view(t: dict[str, Any], view: type[TermsView] = TermsView) -> TermsView:
    return view.model_validate({k: t.get(k) for k in _TERMS_FIELDS})


class TermsService(LicensingBase):
    def create_terms(self, caller: str, content_id: str,
                     req: TermsRequest) -> TypedDataChallenge | TermsCreated | TermsView:
        """The typed data to sign (no signature or txHash yet), the terms just created, or the terms
        recorded earlier for the same transaction."""
        content = self._own_content(caller, content_id)
        type_index = LICENSE_TYPES.index(req.type)
        fields = (content_id, type_index, req.pricePerUse, req.maxUses, req.durationSeconds)

        def typed(nonce: int, deadline: int) -> dict[str, Any]:
            return typed_data(manager_domain(self.chain), "CreateTerms", CREATE_TERMS_TYPE, dict(zip(
                ("contentId", "licenseType", "pricePerUse", "maxUses", "durationSeconds", "nonce", "deadline"),
                (*fields, nonce, deadline))))

        receipt = self._authorized(caller, req, typed, "createTermsWithSig", (b32(content_id), *fields[1:]))
        if receipt is None:
            return self._challenge(caller, typed)
        events = [e for e in self.chain.events(receipt, "TermsCreated")
                  if hex32(e["contentId"]) == content_id and e["licenseType"] == type_index
                  and e["pricePerUse"] == req.pricePerUse and e["maxUses"] == req.maxUses
                  and e["durationSeconds"] == req.durationSeconds]
        if not events:
            raise ValidationError("The transaction created no such terms for this content",
                                  {"txHash": hex32(receipt["transactionHash"])})
        terms_id = hex32(events[0]["termsId"])
        item = {"termsId": terms_id, "contentId": content_id, "creator": content["creator"], "type": req.type,
                "pricePerUse": req.pricePerUse, "maxUses": req.maxUses, "durationSeconds": req.durationSeconds,
                "amount": req.pricePerUse * req.maxUses, "active": True,
                "txHash": hex32(receipt["transactionHash"]), "createdAt": iso(self._now())}
        created = self.store.put_terms(item)
        if created:  # the browse summary counts each terms once (a txHash posted again adds nothing)
            self.content.record_terms(content_id, req.pricePerUse, self.chain.token_info())
        else:
            self.content.mark_licensed(content_id)
        if not created:  # the same transaction posted again: answer what was recorded
            return terms_view(self.store.get_terms(terms_id) or item)
        return terms_view(item, TermsCreated)

    def list_terms(self, content_id: str) -> TermsList:
        if self.content.get(content_id) is None:
            raise NotFoundError("Unknown content", {"contentId": content_id})
        terms = sorted(self.store.list_terms(content_id), key=lambda t: t.get("createdAt") or "")
        return TermsList(contentId=content_id, terms=[terms_view(t) for t in terms])

    def _own_content(self, caller: str, content_id: str) -> dict[str, Any]:
        content = self.content.get(content_id)
        if content is None:
            raise NotFoundError("Unknown content", {"contentId": content_id})
        if not same_address(content.get("creator"), caller):
            raise ForbiddenError("Only the content's creator may do this", {"contentId": content_id})
        if content.get("state") not in OFFERABLE:
            raise ConflictError(f"The content is {content.get('state')}", {"contentId": content_id})
        return content
