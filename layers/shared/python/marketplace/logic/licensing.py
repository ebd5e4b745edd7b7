"""Flow 2: license terms, quotes, purchases, licenses, revocation and API keys.

Who signs what (the backend never holds a buyer's or a creator's key):

- **Terms and revocation** are the content creator's acts on chain. ``POST`` without a signature
  answers 200 with the EIP-712 typed data (``CreateTerms`` / ``RevokeLicense`` of the
  LicenseManager, the creator's nonce, a deadline); the creator signs it and posts again with
  ``signature`` + ``deadline``, and the relayer sends ``createTermsWithSig`` / ``revokeWithSig``.
  Or the creator sends ``createTerms`` / ``revoke`` and posts its ``txHash``, which is verified.
- **Purchase**: the escrow pulls ``pricePerUse × maxUses`` from the buyer, which only the buyer's
  EIP-2612 permit (relayed ``purchaseWithPermit``) or the buyer's own ``approve`` + ``purchase``
  transaction allows.

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
twice at once. A quote is OPEN → SENDING (relayed, before the send) → REDEEMED; a purchase retried
after a crash finds a SENDING quote's transaction in the chain's logs.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from marketplace.errors import (
    BlockchainError,
    ConflictError,
    ForbiddenError,
    MarketplaceError,
    NotFoundError,
    PaymentRequiredError,
    ValidationError,
)
from marketplace.logic import credential as cred
from marketplace.logic.licensing_models import (
    LICENSE_TYPES,
    CreatorAuthorization,
    PurchaseRequest,
    RevokeRequest,
    TermsRequest,
)

log = logging.getLogger(__name__)

# Content states (the content table's ``state``) that accept terms and purchases.
OPEN_CONTENT_STATES = ("REGISTERED", "LICENSED", "ACTIVE")
QUOTE_OPEN, QUOTE_SENDING, QUOTE_REDEEMED = "OPEN", "SENDING", "REDEEMED"


# --------------------------------------------------------------------------------------------
# Ports
# --------------------------------------------------------------------------------------------


class LicensingStore(Protocol):
    def get_content(self, content_id: str) -> dict[str, Any] | None: ...
    def mark_licensed(self, content_id: str) -> None: ...
    def put_terms(self, item: dict[str, Any]) -> bool: ...
    def get_terms(self, terms_id: str) -> dict[str, Any] | None: ...
    def list_terms(self, content_id: str) -> list[dict[str, Any]]: ...
    def put_quote(self, item: dict[str, Any]) -> None: ...
    def get_quote(self, quote_id: str) -> dict[str, Any] | None: ...
    def set_quote_state(self, quote_id: str, state: str, expected: tuple[str, ...]) -> bool: ...
    def lock(self, name: str, until: int, now: int) -> bool: ...
    def unlock(self, name: str) -> None: ...
    def save_purchase(self, license_item: dict[str, Any], key_item: dict[str, Any], quote_id: str) -> bool: ...
    def get_license(self, license_id: str) -> dict[str, Any] | None: ...
    def mark_revoked(self, license_id: str, revoked_at: int, tx_hash: str) -> None: ...
    def keys_of(self, license_id: str) -> list[dict[str, Any]]: ...
    def replace_keys(self, license_id: str, new_key: dict[str, Any], now: int) -> None: ...
    def revoke_keys(self, license_id: str, now: int) -> int: ...


class LicenseChain(Protocol):
    chain_id: int
    license_manager: str
    escrow: str
    token: str

    def token_domain(self) -> dict[str, Any]: ...
    def token_info(self) -> dict[str, Any]: ...
    def token_nonce(self, owner: str) -> int: ...
    def balance_of(self, owner: str) -> int: ...
    def allowance(self, owner: str, spender: str) -> int: ...
    def manager_nonce(self, account: str) -> int: ...
    def send(self, function: str, *args: Any) -> dict[str, Any]: ...
    def receipt(self, tx_hash: str) -> dict[str, Any] | None: ...
    def events(self, receipt: dict[str, Any], event: str) -> list[dict[str, Any]]: ...
    def find_purchase(self, buyer: str, terms_id: str, commitment: int) -> tuple[str, dict[str, Any]] | None: ...


@dataclass(frozen=True)
class LicensingSettings:
    quote_ttl_seconds: int = 900  # also the permit's deadline
    signature_ttl_seconds: int = 900  # deadline of a creator's CreateTerms / RevokeLicense signature
    purchase_lock_seconds: int = 180  # > the relayer's receipt timeout


# --------------------------------------------------------------------------------------------
# EIP-712
# --------------------------------------------------------------------------------------------

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
MANAGER_DOMAIN = {"name": "LicenseManager", "version": "1"}


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


def manager_domain(chain: LicenseChain) -> dict[str, Any]:
    return {**MANAGER_DOMAIN, "chainId": chain.chain_id, "verifyingContract": chain.license_manager}


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


# --------------------------------------------------------------------------------------------
# Views
# --------------------------------------------------------------------------------------------


def license_status(lic: dict[str, Any], now: int) -> str:
    """The lifecycle state, with the contract's precedence: REVOKED, EXHAUSTED, EXPIRED, IN_USE,
    PURCHASED (``usesGranted`` counts every use granted, proven or pending)."""
    if lic.get("revokedAt") is not None:
        return "REVOKED"
    if lic["usesGranted"] >= lic["maxUses"]:
        return "EXHAUSTED"
    if now >= lic["validUntil"]:
        return "EXPIRED"
    return "IN_USE" if lic["usesGranted"] > 0 else "PURCHASED"


def terms_view(t: dict[str, Any]) -> dict[str, Any]:
    return {k: t.get(k) for k in ("termsId", "contentId", "type", "pricePerUse", "maxUses", "durationSeconds",
                                  "amount", "active", "txHash", "createdAt")}


def license_view(lic: dict[str, Any], now: int, *, for_buyer: bool,
                 keys: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    view = {
        "licenseId": lic["licenseId"], "contentId": lic["contentId"], "termsId": lic["termsId"],
        "type": lic.get("type"), "status": license_status(lic, now), "uses": lic["usesGranted"],
        "maxUses": lic["maxUses"], "pricePerUse": lic["pricePerUse"], "amount": lic["amount"],
        "validFrom": lic["validFrom"], "validUntil": lic["validUntil"], "purchasedAt": lic["purchasedAt"],
        "txHash": lic["txHash"],
        "revokedAt": iso(lic["revokedAt"]) if lic.get("revokedAt") is not None else None,
    }
    if for_buyer:
        view["buyer"] = lic["buyer"]
        view["apiKeys"] = [{"prefix": k["display"], "createdAt": k["createdAt"],
                            "revokedAt": iso(k["revokedAt"]) if k.get("revokedAt") is not None else None}
                           for k in (keys or [])]
    return view


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def same_address(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and a.lower() == b.lower()


def hex32(value: bytes | str) -> str:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    return value.lower() if value.startswith("0x") else "0x" + value.lower()


def b32(hex_id: str) -> bytes:
    """A 0x-hex bytes32 id as the bytes a contract call takes."""
    return bytes.fromhex(hex_id[2:])


def quote_id_of(commitment: int) -> str:
    """A quote is keyed by its commitment (32 bytes hex), so a recorded purchase finds it."""
    return "0x" + commitment.to_bytes(32, "big").hex()


def new_purchase_nonce() -> int:
    """A purchase's nonce: 256 random bits, so no two purchases of a buyer share a license id."""
    return secrets.randbits(256)


def license_id_for(terms_id: str, buyer: str, nonce: int) -> str:
    """The LicenseManager's ``licenseIdFor``: ``keccak256(abi.encode(termsId, buyer, nonce))``."""
    from eth_abi import encode
    from eth_utils import keccak

    return hex32(keccak(encode(["bytes32", "address", "uint256"], [b32(terms_id), _checksum(buyer), nonce])))


# Custom errors of the LicenseManager (and the token) a relayed transaction can revert with, and
# what they mean for the client. Anything else stays a 503 BLOCKCHAIN_ERROR with its supportId.
_REVERTS: dict[str, tuple[type[MarketplaceError], str]] = {
    "License__UnknownTerms": (NotFoundError, "Unknown terms"),
    "License__TermsInactive": (ConflictError, "These terms no longer accept purchases"),
    "License__ContentNotAvailable": (ConflictError, "The content is not available"),
    "License__InvalidCommitment": (ConflictError, "The credential commitment is already used: request a new quote"),
    "License__LicenseExists": (ConflictError, "This quote's license was already bought: request a new quote"),
    "License__InsufficientAllowance": (ValidationError, "The permit does not cover the price"),
    "ERC20InsufficientBalance": (PaymentRequiredError, "Insufficient token balance"),
    "License__SignatureExpired": (ValidationError, "The signature's deadline has passed"),
    "License__InvalidSignature": (ValidationError, "The signature is not the creator's"),
    "License__NotCreator": (ForbiddenError, "Only the content's creator may do this"),
    "License__AlreadyRevoked": (ConflictError, "The license is already revoked"),
    "License__UnknownLicense": (NotFoundError, "Unknown license"),
}


def translate_revert(err: BlockchainError) -> MarketplaceError:
    name = str(err.details.get("reason", "")).split("(")[0]
    known = _REVERTS.get(name)
    if known is None:
        return err
    cls, message = known
    return cls(message, {"reason": err.details.get("reason")})


# --------------------------------------------------------------------------------------------
# The flow
# --------------------------------------------------------------------------------------------


class Licensing:
    def __init__(self, store: LicensingStore, chain: LicenseChain, seal_key: Callable[[], str],
                 settings: LicensingSettings = LicensingSettings(), clock: Callable[[], float] = time.time):
        self.store = store
        self.chain = chain
        self.seal_key = seal_key  # the credential-key secret's value (read lazily)
        self.settings = settings
        self.clock = clock

    def _now(self) -> int:
        return int(self.clock())

    def _send(self, function: str, *args: Any) -> dict[str, Any]:
        try:
            return self.chain.send(function, *args)
        except BlockchainError as err:
            mapped = translate_revert(err)
            if mapped is err:
                raise
            raise mapped from err

    # -- terms --------------------------------------------------------------------------------

    def create_terms(self, caller: str, content_id: str, req: TermsRequest) -> tuple[int, dict[str, Any]]:
        content = self._own_content(caller, content_id)
        type_index = LICENSE_TYPES.index(req.type)
        fields = (content_id, type_index, req.pricePerUse, req.maxUses, req.durationSeconds)

        def typed(nonce: int, deadline: int) -> dict[str, Any]:
            return typed_data(manager_domain(self.chain), "CreateTerms", CREATE_TERMS_TYPE, dict(zip(
                ("contentId", "licenseType", "pricePerUse", "maxUses", "durationSeconds", "nonce", "deadline"),
                (*fields, nonce, deadline))))

        receipt = self._authorized(caller, req, typed, "createTermsWithSig", (b32(content_id), *fields[1:]))
        if receipt is None:
            return 200, self._challenge(caller, typed)
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
        self.store.mark_licensed(content_id)
        if not created:  # the same transaction posted again: answer what was recorded
            return 200, terms_view(self.store.get_terms(terms_id) or item)
        return 201, terms_view(item)

    def list_terms(self, content_id: str) -> dict[str, Any]:
        if self.store.get_content(content_id) is None:
            raise NotFoundError("Unknown content", {"contentId": content_id})
        terms = sorted(self.store.list_terms(content_id), key=lambda t: t.get("createdAt") or "")
        return {"contentId": content_id, "terms": [terms_view(t) for t in terms]}

    def _own_content(self, caller: str, content_id: str) -> dict[str, Any]:
        content = self.store.get_content(content_id)
        if content is None:
            raise NotFoundError("Unknown content", {"contentId": content_id})
        if not same_address(content.get("creator"), caller):
            raise ForbiddenError("Only the content's creator may do this", {"contentId": content_id})
        if content.get("state") not in OPEN_CONTENT_STATES:
            raise ConflictError(f"The content is {content.get('state')}", {"contentId": content_id})
        return content

    def _challenge(self, caller: str, typed: Callable[[int, int], dict[str, Any]]) -> dict[str, Any]:
        deadline = self._now() + self.settings.signature_ttl_seconds
        return {"signatureRequired": True, "typedData": typed(self.chain.manager_nonce(caller), deadline),
                "deadline": deadline}

    def _authorized(self, caller: str, req: CreatorAuthorization, typed: Callable[[int, int], dict[str, Any]],
                    relayed_function: str, args: tuple) -> dict[str, Any] | None:
        """The receipt of the creator's act: relayed with their signature, or their own transaction
        (verified to be theirs); None when neither was given (the caller answers the challenge)."""
        if req.txHash:
            receipt = self._mined(req.txHash)
            if not same_address(receipt.get("from"), caller):
                raise ForbiddenError("The transaction was not sent by you", {"txHash": req.txHash})
            return receipt
        if req.signature:
            if req.deadline < self._now():
                raise ValidationError("The signature's deadline has passed", {"field": "deadline"})
            data = typed(self.chain.manager_nonce(caller), req.deadline)
            if not same_address(recover_signer(data, req.signature), caller):
                raise ValidationError("The signature is not yours over this typed data (nonce and deadline "
                                       "included): request it again", {"field": "signature"})
            return self._send(relayed_function, *args, req.deadline, bytes.fromhex(req.signature[2:]))
        return None

    def _mined(self, tx_hash: str) -> dict[str, Any]:
        receipt = self.chain.receipt(tx_hash)
        if receipt is None:
            raise ConflictError("The transaction is unknown or not mined yet: retry when it is",
                                {"txHash": tx_hash})
        if receipt.get("status") != 1:
            raise ValidationError("The transaction reverted", {"txHash": tx_hash})
        return receipt

    # -- quote --------------------------------------------------------------------------------

    def quote(self, buyer: str, terms_id: str) -> dict[str, Any]:
        terms = self._open_terms(terms_id)
        now = self._now()
        deadline = now + self.settings.quote_ttl_seconds
        q = self._new_quote(buyer, terms, now, deadline)
        permit = permit_typed_data(self.chain.token_domain(), buyer, self.chain.escrow, terms["amount"],
                                   self.chain.token_nonce(buyer), deadline)
        return {
            "quoteId": q["quoteId"], "termsId": terms_id, "amount": terms["amount"],
            "token": self.chain.token_info(), "licenseId": q["licenseId"], "nonce": q["nonce"],
            "credentialCommitment": q["commitment"], "expiresAt": deadline,
            "permit": {"typedData": permit, "deadline": deadline, "spender": self.chain.escrow},
            "transaction": {
                "approve": {"to": self.chain.token, "function": "approve(address,uint256)",
                            "args": [self.chain.escrow, str(terms["amount"])]},
                "purchase": {"to": self.chain.license_manager, "function": "purchase(bytes32,uint256,uint256)",
                             "args": [terms_id, q["commitment"], q["nonce"]]},
            },
        }

    def _open_terms(self, terms_id: str) -> dict[str, Any]:
        terms = self.store.get_terms(terms_id)
        if terms is None:
            raise NotFoundError("Unknown terms", {"termsId": terms_id})
        if not terms.get("active", True):
            raise ConflictError("These terms no longer accept purchases", {"termsId": terms_id})
        return terms

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
             "deadline": deadline, "state": QUOTE_OPEN, "createdAt": iso(now),
             # kept a day past the deadline: a self-sent purchase may be posted late
             "ttl": deadline + 86_400}
        self.store.put_quote(q)
        return q

    # -- purchase -----------------------------------------------------------------------------

    def purchase(self, buyer: str, req: PurchaseRequest) -> dict[str, Any]:
        terms = self.store.get_terms(req.termsId)
        if terms is None:
            raise NotFoundError("Unknown terms", {"termsId": req.termsId})
        amount = terms["amount"]
        offered = req.payment.amount if req.payment.amount is not None else (
            req.payment.permit.value if req.payment.permit else None)
        if offered is not None and offered < amount:
            raise ValidationError("The payment is less than the price", {"amount": amount, "offered": offered})
        if req.payment.txHash:
            return self._purchase_from_tx(buyer, terms, req.payment.txHash, req.quoteId)
        return self._purchase_with_permit(buyer, terms, req)

    def _purchase_with_permit(self, buyer: str, terms: dict[str, Any], req: PurchaseRequest) -> dict[str, Any]:
        permit = req.payment.permit
        amount, now = terms["amount"], self._now()
        if permit.value is not None and permit.value != amount:
            raise ValidationError("The permit must be for exactly the amount", {"amount": amount,
                                                                                "value": permit.value})
        if permit.deadline < now:
            raise ValidationError("The permit's deadline has passed", {"field": "payment.permit.deadline"})
        if not terms.get("active", True):
            raise ConflictError("These terms no longer accept purchases", {"termsId": terms["termsId"]})

        # no quote: make one now (its nonce and credential are as good as a quoted one's: the
        # permit covers neither)
        quote_id = req.quoteId or self._new_quote(buyer, terms, now, permit.deadline)["quoteId"]
        lock = f"purchase#{quote_id}"
        if not self.store.lock(lock, now + self.settings.purchase_lock_seconds, now):
            raise ConflictError("This quote's purchase is in progress: retry in a moment", {"quoteId": quote_id})
        try:
            quote = self._quote_for(buyer, quote_id, terms["termsId"])
            if quote["state"] == QUOTE_SENDING:
                found = self.chain.find_purchase(buyer, terms["termsId"], int(quote["commitment"]))
                if found is not None:  # an earlier attempt's transaction went through
                    return self._complete(buyer, terms, quote, found[1], found[0])
            self._check_funds(buyer, amount, permit.signature, permit.deadline)
            if not self.store.set_quote_state(quote_id, QUOTE_SENDING, (QUOTE_OPEN, QUOTE_SENDING)):
                raise ConflictError("This quote was already used", {"quoteId": quote_id})
            v, r, s = split_signature(permit.signature)
            receipt = self._send("purchaseWithPermit", b32(terms["termsId"]), _checksum(buyer), int(quote["commitment"]),
                                 int(quote["nonce"]), permit.deadline, v, r, s)
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
        data = permit_typed_data(self.chain.token_domain(), _checksum(buyer), self.chain.escrow, amount,
                                 self.chain.token_nonce(buyer), deadline)
        if same_address(recover_signer(data, signature), buyer):
            return
        # not a valid permit now; the contract still accepts an allowance already in place
        allowance = self.chain.allowance(buyer, self.chain.escrow)
        if allowance < amount:
            raise ValidationError("The permit is not a valid signature of yours for this amount, nonce and "
                                  "deadline, and the escrow's allowance is less than the price",
                                  {"field": "payment.permit.signature", "allowance": allowance, "amount": amount})

    def _purchase_from_tx(self, buyer: str, terms: dict[str, Any], tx_hash: str,
                          quote_id: str | None) -> dict[str, Any]:
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
        if quote["state"] == QUOTE_REDEEMED:
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
                  tx_hash: str) -> dict[str, Any]:
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
        content = self.store.get_content(terms["contentId"]) or {}
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
        return {
            "licenseId": license_id, "accessToken": cred.encode_token(license_id, secret), "apiKey": key.key,
            "txHash": tx_hash, "terms": terms_view(terms), "validFrom": lic["validFrom"],
            "validUntil": lic["validUntil"], "status": "PURCHASED",
        }

    # -- licenses -----------------------------------------------------------------------------

    def get_license(self, caller: str, license_id: str) -> dict[str, Any]:
        lic = self._license(license_id)
        is_buyer = same_address(lic["buyer"], caller)
        if not is_buyer and not same_address(lic["creator"], caller):
            raise ForbiddenError("Only the license's buyer and the content's creator may see it",
                                 {"licenseId": license_id})
        keys = self.store.keys_of(license_id) if is_buyer else None
        return license_view(lic, self._now(), for_buyer=is_buyer, keys=keys)

    def revoke(self, caller: str, license_id: str, req: RevokeRequest) -> dict[str, Any]:
        lic = self._license(license_id)
        if not same_address(lic["creator"], caller):
            raise ForbiddenError("Only the content's creator may revoke a license", {"licenseId": license_id})
        if lic.get("revokedAt") is not None:
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

    def _license(self, license_id: str) -> dict[str, Any]:
        lic = self.store.get_license(license_id)
        if lic is None:
            raise NotFoundError("Unknown license", {"licenseId": license_id})
        return lic

    def _buyers_license(self, caller: str, license_id: str) -> dict[str, Any]:
        lic = self._license(license_id)
        if not same_address(lic["buyer"], caller):
            raise ForbiddenError("Only the license's buyer may manage its keys", {"licenseId": license_id})
        return lic

    def rotate_key(self, caller: str, license_id: str) -> dict[str, Any]:
        """Revoke the license's keys and issue a new one; the access token is shown again too (the
        lost-credentials path: the commitment on chain cannot change)."""
        lic = self._buyers_license(caller, license_id)
        if lic.get("revokedAt") is not None:
            raise ConflictError("The license is revoked", {"licenseId": license_id})
        now = self._now()
        key = cred.new_api_key()
        self.store.replace_keys(license_id, key_item(lic, key, now), now)
        secret = cred.unseal(lic["sealedSecret"], self.seal_key(), int(lic["commitment"]))
        return {"licenseId": license_id, "apiKey": key.key, "accessToken": cred.encode_token(license_id, secret)}

    def revoke_keys(self, caller: str, license_id: str) -> dict[str, Any]:
        self._buyers_license(caller, license_id)
        return {"licenseId": license_id, "revoked": self.store.revoke_keys(license_id, self._now())}


def key_item(lic: dict[str, Any], key: cred.NewApiKey, now: int) -> dict[str, Any]:
    """An apikeys item: the hash, and the license's static facts the access path checks."""
    return {"keyHash": key.key_hash, "licenseId": lic["licenseId"], "display": key.display,
            "buyer": lic["buyer"], "contentId": lic["contentId"], "commitment": lic["commitment"],
            "validUntil": lic["validUntil"], "objectKey": lic["objectKey"], "createdAt": iso(now)}


def object_key(content: dict[str, Any]) -> str:
    """The content's object in the content bucket (content-addressed by its CIDv0)."""
    return content.get("objectKey") or content.get("ipfsCid") or ""


def _checksum(address: str) -> str:
    from eth_utils import to_checksum_address

    return to_checksum_address(address)
