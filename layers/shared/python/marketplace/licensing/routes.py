"""Flow 2's HTTP routes (function ``license-api``): terms, quotes, purchases, licenses, revocation, keys.

Terms creation and revocation answer 200 with EIP-712 typed data (``TypedDataChallenge``) when the
body carries neither ``signature`` nor ``txHash`` (see ``CreatorAuthorization``); new terms
(``TermsCreated``) 201, terms already recorded for a txHash (``TermsView``) 200.
"""

from __future__ import annotations

import functools

from marketplace import config
from marketplace.chain.quota import RELAY_QUOTA_EXCEEDED
from marketplace.errors import NotFoundError
from marketplace.kit import observability
from marketplace.kit.http import Api, caller, one_of, parse_body, raw_body, reply
from marketplace.licensing.schemas import (
    ArchivedView,
    ArchiveRequest,
    KeysRevokedView,
    LicenseView,
    NewKeyView,
    PurchaseRequest,
    PurchaseView,
    QuoteRequest,
    QuoteView,
    RevokeRequest,
    TermsCreated,
    TermsList,
    TermsRequest,
    TermsView,
    TypedDataChallenge,
)
from marketplace.licensing.services import Licensing, LicensingSettings
from marketplace.shared.ids import as_hex32

api = Api("license-api")

_SIGNED = ("Without signature or txHash: the EIP-712 typed data to sign (signatureRequired, typedData, deadline); "
           "with a signature: relayed on chain; with txHash: verified on chain.")
_CHAIN = "BLOCKCHAIN_ERROR: the chain did not accept or confirm the transaction (supportId)"
_RELAY_QUOTA = RELAY_QUOTA_EXCEEDED
_LICENSE_404 = "NOT_FOUND: unknown license"
TermsAnswer = one_of("TermsAnswer", TypedDataChallenge, TermsView)
RevokeAnswer = one_of("RevokeAnswer", TypedDataChallenge, LicenseView)
ArchiveAnswer = one_of("ArchiveAnswer", TypedDataChallenge, ArchivedView)


@functools.cache
def licensing() -> Licensing:
    from marketplace.adapters.chain import get_chain
    from marketplace.adapters.license_chain import LicenseChainAdapter
    from marketplace.adapters.secrets import get_secret
    from marketplace.content.adapters import DynamoContent
    from marketplace.licensing.adapters import LicensingDynamoStore

    cfg = config.load(config.LicenseApiConfig)
    store = LicensingDynamoStore(terms=cfg.terms_table, quotes=cfg.quotes_table, licenses=cfg.licenses_table,
                                 apikeys=cfg.api_keys_table, ratelimits=cfg.rate_limits_table)
    from marketplace.chain.relay import RelayClient

    chain = LicenseChainAdapter(get_chain(cfg), relay=RelayClient(cfg.relayer_function))
    return Licensing(store, DynamoContent(cfg.content_table), chain,
                     lambda: get_secret(cfg.credential_secret_id),
                     LicensingSettings(quote_ttl_seconds=cfg.quote_ttl_seconds,
                                       signature_ttl_seconds=cfg.signature_ttl_seconds,
                                       purchase_lock_seconds=int(cfg.tx_timeout_seconds) + 60),
                     relay_quota=cfg.relay_quota())


def _id(value: str, what: str) -> str:
    """A path id: 0x + 64 hex digits, lowercased (anything else names nothing: 404)."""
    valid = as_hex32(value)
    if valid is None:
        raise NotFoundError(f"Unknown {what}", {what: value})
    return valid


@api.operation("POST", "/content/{contentId}/terms", "Create license terms (the content's creator). " + _SIGNED,
               ok={200: ("typed data to sign, or the terms a txHash recorded earlier", TermsAnswer),
                   201: ("terms created on chain", TermsCreated)},
               errors={403: "FORBIDDEN: not the content's creator", 404: "NOT_FOUND: unknown content",
                       409: "CONFLICT: expired or reused signature, or a transaction not mined yet",
                       429: _RELAY_QUOTA, 503: _CHAIN})
def create_terms(contentId: str, req: TermsRequest):
    out = licensing().create_terms(caller(api), _id(contentId, "contentId"), req)
    if isinstance(out, TermsCreated):
        observability.business(observability.Metric.TERMS_CREATED)
    return out


@api.operation("GET", "/content/{contentId}/terms", "Browse a content's license terms",
               ok={200: ("the terms", TermsList)}, errors={404: "NOT_FOUND: unknown content"})
def list_terms(contentId: str):
    return licensing().list_terms(_id(contentId, "contentId"))


@api.operation("POST", "/content/{contentId}/archive",
               "Archive content (its creator): no new terms or purchases, out of GET /content; licenses bought before "
               "keep working to their end. " + _SIGNED,
               ok={200: ("typed data to sign (ContentRegistry's Archive), or the archived content", ArchiveAnswer)},
               errors={403: "FORBIDDEN: not the content's creator, or an expired or foreign signature",
                       404: "NOT_FOUND: unknown content",
                       409: "CONFLICT: archived already, or a transaction not mined yet", 429: _RELAY_QUOTA,
                       503: _CHAIN},
               request_media={"application/json": ArchiveRequest}, request_required=False)
def archive_content(contentId: str):
    req = parse_body(api, ArchiveRequest) if raw_body(api).strip() else ArchiveRequest()
    return licensing().archive(caller(api), _id(contentId, "contentId"), req)


@api.operation("POST", "/license/quote",
               "Price, EIP-2612 permit typed data (spender: the escrow) and the credential commitment of a purchase",
               ok={200: ("the quote", QuoteView)},
               errors={404: "NOT_FOUND: unknown terms", 409: "CONFLICT: the terms are not for sale",
                       503: _CHAIN})
def quote(req: QuoteRequest):
    return licensing().quote(caller(api), req.termsId)


@api.operation("POST", "/license/purchase",
               "Buy a license (Flow 2): a signed permit relayed by the platform, or the txHash of your own purchase",
               ok={201: ("the license, its credential (accessToken) and an API key shown once", PurchaseView)},
               errors={402: "INSUFFICIENT_FUNDS: the balance is below the price", 403: "FORBIDDEN: not your quote",
                       404: "NOT_FOUND: unknown or expired quote",
                       409: "CONFLICT: quote used, purchase in progress, or transaction not mined yet",
                       429: _RELAY_QUOTA, 503: _CHAIN})
def purchase(req: PurchaseRequest):
    bought = licensing().purchase(caller(api), req)
    observability.business(observability.Metric.PURCHASES)
    return reply(201, bought)


@api.operation("GET", "/license/{licenseId}", "A license and its state (its buyer and the content's creator only)",
               ok={200: ("the license", LicenseView)},
               errors={403: "FORBIDDEN: neither buyer nor creator", 404: _LICENSE_404})
def get_license(licenseId: str):
    return licensing().get_license(caller(api), _id(licenseId, "licenseId"))


@api.operation("POST", "/license/{licenseId}/revoke", "Revoke a license (the content's creator). " + _SIGNED,
               ok={200: ("typed data to sign, or the revoked license", RevokeAnswer)},
               errors={403: "FORBIDDEN: not the content's creator", 404: _LICENSE_404,
                       409: "CONFLICT: already revoked, expired or reused signature", 429: _RELAY_QUOTA,
                       503: _CHAIN},
               request_media={"application/json": RevokeRequest}, request_required=False)
def revoke(licenseId: str):
    req = parse_body(api, RevokeRequest) if raw_body(api).strip() else RevokeRequest()
    return licensing().revoke(caller(api), _id(licenseId, "licenseId"), req)


@api.operation("POST", "/license/{licenseId}/keys", "Issue a new API key (the buyer): the license's other keys "
               "are revoked", ok={201: ("the new key, shown once, and the access token", NewKeyView)},
               errors={403: "FORBIDDEN: not the license's buyer", 404: _LICENSE_404,
                       409: "CONFLICT: the license is revoked"})
def rotate_key(licenseId: str):
    return reply(201, licensing().rotate_key(caller(api), _id(licenseId, "licenseId")))


@api.operation("DELETE", "/license/{licenseId}/keys", "Revoke the license's API keys (the buyer)",
               ok={200: ("how many were revoked", KeysRevokedView)},
               errors={403: "FORBIDDEN: not the license's buyer", 404: _LICENSE_404})
def revoke_keys(licenseId: str):
    return licensing().revoke_keys(caller(api), _id(licenseId, "licenseId"))


# Flow 4's usage-signer routes are the license-api's too (declared on this Api)
import marketplace.usage.routes  # noqa: E402,F401
