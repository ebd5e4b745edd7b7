"""Quotes and purchases.

The credential: ``POST /license/quote`` draws the credential secret and a random 256-bit purchase
nonce, computes the license id the purchase will get (``licenseId = keccak256(abi.encode(termsId,
buyer, nonce))``, the LicenseManager's ``licenseIdFor``) and the commitment ``Poseidon(secret,
licenseIdField)``, and keeps the nonce and the sealed secret under the quote id (= the commitment,
so a self-sent purchase finds its quote by the commitment it recorded). The purchase, relayed or
sent by the buyer, passes that nonce and records that commitment on chain; the response's
``accessToken`` carries the secret. The id depends on nothing else, so whatever else the buyer
buys between the quote and the purchase, the credential opens (a used nonce is refused on chain:
``License__LicenseExists``).

A relayed purchase holds a lock on its quote while it sends, so a retry cannot send the same quote
twice at once. A quote is OPEN → SENDING (relayed, before the send) → REDEEMED
(``models.QUOTE_LIFECYCLE``); a purchase retried after a crash finds a SENDING quote's
transaction in the chain's logs.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from marketplace.content.models import OFFERABLE
from marketplace.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PaymentRequiredError,
    ValidationError,
)
from marketplace.licensing import credential as cred
from marketplace.licensing.common import LicensingBase, checksum, key_item, license_id_for, same_address
from marketplace.licensing.eip712 import (
    manager_domain,
    permit_typed_data,
    purchase_typed_data,
    recover_signer,
    split_signature,
)
from marketplace.licensing.models import LICENSE_LIFECYCLE, QUOTE_LIFECYCLE, LicenseState, QuoteState
from marketplace.licensing.schemas import PurchaseRequest, PurchaseView, QuoteView
from marketplace.licensing.terms import terms_view
from marketplace.shared.ids import b32, hex32
from marketplace.shared.timefmt import iso

log = logging.getLogger(__name__)


def quote_id_of(commitment: int) -> str:
    """A quote is keyed by its commitment (32 bytes hex), so a recorded purchase finds it."""
    return "0x" + commitment.to_bytes(32, "big").hex()


def new_purchase_nonce() -> int:
    """A purchase's nonce: 256 random bits, so no two purchases of a buyer share a license id."""
    return secrets.randbits(256)


def object_key(content: dict[str, Any]) -> str:
    """The content's object in the content bucket (content-addressed by its CIDv0)."""
    return content.get("objectKey") or content.get("ipfsCid") or ""


class PurchaseService(LicensingBase):
    # -- quote --------------------------------------------------------------------------------

    def quote(self, buyer: str, terms_id: str) -> QuoteView:
        terms = self._open_terms(terms_id)
        now = self._now()
        deadline = now + self.settings.quote_ttl_seconds
        q = self._new_quote(buyer, terms, now, deadline)
        permit = permit_typed_data(self.chain.token_domain(), buyer, self.chain.escrow, terms["amount"],
                                   self.chain.token_nonce(buyer), deadline)
        purchase = purchase_typed_data(manager_domain(self.chain), terms_id, int(q["commitment"]), int(q["nonce"]),
                                       deadline)
        return QuoteView(
            quoteId=q["quoteId"], termsId=terms_id, amount=terms["amount"],
            token=self.chain.token_info(), licenseId=q["licenseId"], nonce=q["nonce"],
            credentialCommitment=q["commitment"], expiresAt=deadline,
            permit={"typedData": permit, "deadline": deadline, "spender": self.chain.escrow},
            purchase={"typedData": purchase, "deadline": deadline},
            transaction={
                "approve": {"to": self.chain.token, "function": "approve(address,uint256)",
                            "args": [self.chain.escrow, str(terms["amount"])]},
                "purchase": {"to": self.chain.license_manager, "function": "purchase(bytes32,uint256,uint256)",
                             "args": [terms_id, q["commitment"], q["nonce"]]},
            },
        )

    def _open_terms(self, terms_id: str) -> dict[str, Any]:
        terms = self.store.get_terms(terms_id)
        if terms is None:
            raise NotFoundError("Unknown terms", {"termsId": terms_id})
        if not terms.get("active", True):
            raise ConflictError("These terms no longer accept purchases", {"termsId": terms_id})
        self._still_offered(terms)
        return terms

    def _still_offered(self, terms: dict[str, Any]) -> None:
        """409 before any transaction when the content was archived (the chain refuses it too)."""
        content = self.content.get(terms["contentId"])
        if content is not None and content.get("state") not in OFFERABLE:
            raise ConflictError(f"The content is {content.get('state')}: it accepts no new purchases",
                                {"contentId": terms["contentId"], "state": content.get("state")})

    def _new_quote(self, buyer: str, terms: dict[str, Any], now: int, deadline: int) -> dict[str, Any]:
        """Draw a purchase nonce and a credential secret for a license of the buyer under ``terms``,
        bind the secret to that license's id and keep it sealed. The nonce and the commitment are
        uint256: decimal strings (JSON and DynamoDB numbers cannot hold them)."""
        nonce = new_purchase_nonce()
        license_id = license_id_for(terms["termsId"], buyer, nonce)
        secret = cred.new_secret()
        commitment = cred.commitment(secret, license_id)
        q = {"quoteId": quote_id_of(commitment), "buyer": buyer.lower(), "termsId": terms["termsId"],
             "licenseId": license_id, "nonce": str(nonce), "commitment": str(commitment),
             "sealedSecret": cred.seal(secret, self.seal_key(), commitment), "amount": terms["amount"],
             "deadline": deadline, "state": str(QUOTE_LIFECYCLE.transition(None, QuoteState.OPEN)), "createdAt": iso(now),
             # kept a day past the deadline: a self-sent purchase may be posted late
             "ttl": deadline + 86_400}
        self.store.put_quote(q)
        return q

    # -- purchase -----------------------------------------------------------------------------

    def purchase(self, buyer: str, req: PurchaseRequest) -> PurchaseView:
        terms = self.store.get_terms(req.termsId)
        if terms is None:
            raise NotFoundError("Unknown terms", {"termsId": req.termsId})
        amount = terms["amount"]
        offered = req.payment.amount if req.payment.amount is not None else (
            req.payment.permit.value if req.payment.permit else None)
        if offered is not None and offered < amount:
            raise PaymentRequiredError("The payment is less than the price", {"amount": amount, "offered": offered})
        if req.payment.txHash:
            return self._purchase_from_tx(buyer, terms, req.payment.txHash, req.quoteId)
        return self._purchase_with_permit(buyer, terms, req)

    def _purchase_with_permit(self, buyer: str, terms: dict[str, Any], req: PurchaseRequest) -> PurchaseView:
        permit = req.payment.permit  # the schema requires a permit or a txHash, and this is not the txHash path
        if permit is None:
            raise ValidationError("give payment.permit (relayed) or payment.txHash (sent yourself)",
                                  {"field": "payment"})
        amount, now = terms["amount"], self._now()
        if permit.value is not None and permit.value != amount:
            # a permit for another value cannot be the one the contract presents (402: not paid)
            raise PaymentRequiredError("The permit must be for exactly the amount", {"amount": amount,
                                                                                     "value": permit.value})
        if permit.deadline < now:
            raise ForbiddenError("The permit's deadline has passed: request a new quote",
                                 {"field": "payment.permit.deadline", "reason": "signature_expired"})
        if not terms.get("active", True):
            raise ConflictError("These terms no longer accept purchases", {"termsId": terms["termsId"]})
        self._still_offered(terms)

        quote_id = req.quoteId  # the schema requires it with a permit: the buyer signed its purchase
        if quote_id is None:
            raise ValidationError("a relayed purchase needs its quoteId", {"field": "quoteId"})
        lock = f"purchase#{quote_id}"
        if not self.store.lock(lock, now + self.settings.purchase_lock_seconds, now):
            raise ConflictError("This quote's purchase is in progress: retry in a moment", {"quoteId": quote_id})
        try:
            quote = self._quote_for(buyer, quote_id, terms["termsId"])
            if quote["state"] == QuoteState.SENDING:
                found = self.chain.find_purchase(buyer, terms["termsId"], int(quote["commitment"]))
                if found is not None:  # an earlier attempt's transaction went through
                    return self._complete(buyer, terms, quote, found[1], found[0])
            authorised = purchase_typed_data(manager_domain(self.chain), terms["termsId"], int(quote["commitment"]),
                                             int(quote["nonce"]), permit.deadline)
            if not same_address(recover_signer(authorised, permit.purchaseSignature), buyer):
                raise ForbiddenError("payment.permit.purchaseSignature is not the buyer's signature of the "
                                     "quote's purchase typed data (with the permit's deadline)",
                                     {"field": "payment.permit.purchaseSignature", "reason": "not_signer"})
            self._check_funds(buyer, amount, permit.signature, permit.deadline)
            self._take_quota(buyer, "purchaseWithPermit")
            if not self.store.move_quote(quote_id, QuoteState.SENDING):
                raise ConflictError("This quote was already used", {"quoteId": quote_id})
            v, r, s = split_signature(permit.signature)
            receipt = self._send("purchaseWithPermit", b32(terms["termsId"]), checksum(buyer), int(quote["commitment"]),
                                 int(quote["nonce"]), permit.deadline, v, r, s,
                                 bytes.fromhex(permit.purchaseSignature[2:]))
            event = self._purchase_event(receipt, buyer, terms["termsId"])
            return self._complete(buyer, terms, quote, event, hex32(receipt["transactionHash"]))
        finally:
            self.store.unlock(lock)

    def _check_funds(self, buyer: str, amount: int, signature: str, deadline: int) -> None:
        """Before relaying: the balance (402) and what the escrow will be allowed to pull (400)."""
        balance = self.chain.balance_of(buyer)
        if balance < amount:
            raise PaymentRequiredError("Insufficient token balance for this license",
                                       {"balance": balance, "amount": amount})
        data = permit_typed_data(self.chain.token_domain(), checksum(buyer), self.chain.escrow, amount,
                                 self.chain.token_nonce(buyer), deadline)
        if same_address(recover_signer(data, signature), buyer):
            return
        # not a valid permit now; the contract still accepts an allowance already in place
        allowance = self.chain.allowance(buyer, self.chain.escrow)
        if allowance < amount:
            raise PaymentRequiredError("The permit is not a valid signature of yours for this amount, nonce and "
                                       "deadline, and the escrow's allowance is less than the price",
                                       {"field": "payment.permit.signature", "allowance": allowance, "amount": amount})

    def _purchase_from_tx(self, buyer: str, terms: dict[str, Any], tx_hash: str,
                          quote_id: str | None) -> PurchaseView:
        receipt = self._mined(tx_hash)
        event = self._purchase_event(receipt, buyer, terms["termsId"])
        commitment = int(event["credentialCommitment"])
        quote = self._quote_for(buyer, quote_id or quote_id_of(commitment), terms["termsId"])
        if int(quote["commitment"]) != commitment:
            raise ValidationError("The transaction recorded another credential commitment than the quote's",
                                  {"quoteId": quote["quoteId"]})
        return self._complete(buyer, terms, quote, event, tx_hash)

    def _quote_for(self, buyer: str, quote_id: str, terms_id: str) -> dict[str, Any]:
        quote = self.store.get_quote(quote_id)
        if quote is None or not same_address(quote["buyer"], buyer):
            raise NotFoundError("Unknown quote", {"quoteId": quote_id})
        if quote["termsId"] != terms_id:
            raise ValidationError("The quote is for other terms", {"quoteId": quote_id})
        if quote["state"] == QuoteState.REDEEMED:
            raise ConflictError("This quote's license was already issued", {"quoteId": quote_id,
                                                                             "licenseId": quote["licenseId"]})
        return quote

    def _purchase_event(self, receipt: dict[str, Any], buyer: str, terms_id: str) -> dict[str, Any]:
        for e in self.chain.events(receipt, "LicensePurchased"):
            if same_address(e["licensee"], buyer) and hex32(e["termsId"]) == terms_id:
                return e
        raise ValidationError("The transaction is not a purchase of these terms by you",
                              {"txHash": hex32(receipt["transactionHash"]), "termsId": terms_id})

    def _complete(self, buyer: str, terms: dict[str, Any], quote: dict[str, Any], event: dict[str, Any],
                  tx_hash: str) -> PurchaseView:
        """Issue the credential and an API key for a purchase found on chain."""
        license_id = hex32(event["licenseId"])
        commitment = int(event["credentialCommitment"])
        secret = cred.unseal(quote["sealedSecret"], self.seal_key(), commitment)
        if cred.commitment(secret, license_id) != commitment:
            # the quote's commitment recorded under another id than the quote's: a self-sent purchase
            # that did not pass the quote's nonce. Nobody can open it, so no credential can work
            log.error("purchase %s recorded the commitment of quote %s for %s", license_id, quote["quoteId"],
                      quote["licenseId"])
            raise ConflictError("The purchase recorded the quote's credential commitment under another license id "
                                "(it was not sent with the quote's nonce); contact support with the txHash",
                                {"licenseId": license_id, "expectedLicenseId": quote["licenseId"], "txHash": tx_hash})
        content = self.content.get(terms["contentId"]) or {}
        now = self._now()
        lic = {
            "licenseId": license_id, "termsId": terms["termsId"], "contentId": terms["contentId"],
            "creator": terms["creator"].lower(), "buyer": buyer.lower(), "type": terms["type"],
            "pricePerUse": terms["pricePerUse"], "maxUses": terms["maxUses"], "amount": int(event["amount"]),
            "validFrom": int(event["timestamp"]), "validUntil": int(event["validUntil"]),
            "commitment": str(commitment), "sealedSecret": quote["sealedSecret"],
            "usesGranted": 0, "usesProven": 0, "txHash": tx_hash, "purchasedAt": iso(now),
            "objectKey": object_key(content),
        }
        key = cred.new_api_key()
        saved = self.store.save_purchase(lic, key_item(lic, key, now), quote["quoteId"])
        if not saved:
            raise ConflictError("This purchase's license was already issued", {"licenseId": license_id})
        return PurchaseView(
            licenseId=license_id, accessToken=cred.encode_token(license_id, secret), apiKey=key.key,
            txHash=tx_hash, terms=terms_view(terms), validFrom=lic["validFrom"],
            validUntil=lic["validUntil"], status=str(LICENSE_LIFECYCLE.transition(LicenseState.AVAILABLE,
                                                                                  LicenseState.PURCHASED)),
        )
