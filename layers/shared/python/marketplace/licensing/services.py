"""Flow 2: ``Licensing``, the licensing services together (what the license-api handler calls).

Each part lives in its module: ``terms`` (TermsService), ``purchase`` (quotes and purchases:
PurchaseService), ``licenses`` (views, revocation, API keys: LicenseService); ``archive``
(the creator archives content: ArchiveService); ``common`` holds what they share. Every method returns a model of ``schemas``; the handler picks the status.

Who signs what (the backend never holds a buyer's or a creator's key):

- **Terms and revocation** are the content creator's acts on chain. ``POST`` without a signature
  answers 200 with the EIP-712 typed data (``CreateTerms`` / ``RevokeLicense`` of the
  LicenseManager, the creator's nonce, a deadline); the creator signs it and posts again with
  ``signature`` + ``deadline``, and the relayer sends ``createTermsWithSig`` / ``revokeWithSig``.
  Or the creator sends ``createTerms`` / ``revoke`` and posts its ``txHash``, which is verified.
- **Purchase**: the escrow pulls ``pricePerUse × maxUses`` from the buyer, which only the buyer's
  EIP-2612 permit (relayed ``purchaseWithPermit``) or the buyer's own ``approve`` + ``purchase``
  transaction allows.
"""

from __future__ import annotations

from marketplace.licensing.archive import ArchiveService
from marketplace.licensing.common import LicensingBase, LicensingSettings, license_id_for
from marketplace.licensing.licenses import LicenseService, license_status, license_view
from marketplace.licensing.purchase import PurchaseService, quote_id_of
from marketplace.licensing.terms import TermsService, terms_view

__all__ = ["Licensing", "LicensingBase", "LicensingSettings", "license_id_for", "license_status", "license_view",
           "quote_id_of", "terms_view"]


class Licensing(TermsService, PurchaseService, LicenseService, ArchiveService):
    """Terms, quotes and purchases, licenses and keys, archiving content, over one store, content and chain."""
