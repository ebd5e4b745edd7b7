"""Archiving content (``POST /content/{contentId}/archive``): the creator's act on the
ContentRegistry, like terms creation (the EIP-712 ``Archive(contentId, deadline)`` typed data to
sign, then relayed ``archiveWithSig``; or the creator's own ``archive`` transaction, verified),
then the content item ARCHIVED through the content lifecycle and out of the listings.

Archived content accepts no new terms or purchases (409 here before any transaction; the
LicenseManager refuses them too); licenses bought before keep working to their end.
"""

from __future__ import annotations

from typing import Any

from marketplace.content.models import VISIBLE, ContentState
from marketplace.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from marketplace.licensing.common import LicensingBase, same_address
from marketplace.licensing.eip712 import ARCHIVE_TYPE, registry_domain, typed_data
from marketplace.licensing.schemas import ArchivedView, ArchiveRequest, TypedDataChallenge
from marketplace.shared.ids import b32, hex32
from marketplace.shared.timefmt import iso

_ARCHIVED_ON_CHAIN = 2  # IContentRegistry.ContentState.ARCHIVED


def _no_nonce(_caller: str) -> int:
    return 0


class ArchiveService(LicensingBase):
    def archive(self, caller: str, content_id: str, req: ArchiveRequest) -> TypedDataChallenge | ArchivedView:
        content = self.content.get(content_id)
        if content is None or content.get("state") not in VISIBLE:
            raise NotFoundError("Unknown content", {"contentId": content_id})
        if not same_address(content.get("creator"), caller):
            raise ForbiddenError("Only the content's creator may archive it", {"contentId": content_id})
        if content.get("state") == ContentState.ARCHIVED:
            raise ConflictError("The content is archived already", {"contentId": content_id,
                                                                    "archivedAt": content.get("archivedAt")})

        def typed(_nonce: int, deadline: int) -> dict[str, Any]:
            return typed_data(registry_domain(self.chain), "Archive", ARCHIVE_TYPE,
                              {"contentId": content_id, "deadline": deadline})

        try:
            receipt = self._authorized(caller, req, typed, "archiveWithSig", (b32(content_id),),
                                       nonce_of=_no_nonce, send=self._send_registry)
        except ConflictError:
            # archived on chain already (an earlier attempt whose record was lost, or the creator's
            # own transaction): the record follows the chain
            if self.chain.registry_state(content_id) != _ARCHIVED_ON_CHAIN:
                raise
            return self._record(content_id, None)
        if receipt is None:
            return self._challenge(caller, typed, nonce_of=_no_nonce)
        if not any(hex32(e["contentId"]) == content_id for e in self.chain.registry_events(receipt, "ContentArchived")):
            raise ValidationError("The transaction archived no such content",
                                  {"txHash": hex32(receipt["transactionHash"])})
        return self._record(content_id, hex32(receipt["transactionHash"]))

    def _record(self, content_id: str, tx_hash: str | None) -> ArchivedView:
        now = iso(self._now())
        if not self.content.archive(content_id, {"archivedAt": now, "archiveTxHash": tx_hash}):
            raise ConflictError("The content is archived already", {"contentId": content_id})
        return ArchivedView(contentId=content_id, state=str(ContentState.ARCHIVED), archivedAt=now, txHash=tx_hash)
