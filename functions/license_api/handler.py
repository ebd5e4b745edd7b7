"""Flow 2's API: license terms, quotes, purchases, licenses, revocation, API keys.

Thin: parse, call ``marketplace.licensing.services.Licensing``, answer the model it returns with
the status its type means. Terms creation and revocation answer 200 with EIP-712 typed data
(``TypedDataChallenge``) when the body carries neither ``signature`` nor ``txHash`` (see
``CreatorAuthorization``); new terms (``TermsCreated``) 201, terms recorded before 200.
"""

from __future__ import annotations

import functools

from aws_lambda_powertools import Logger
from marketplace import config
from marketplace.adapters.chain import get_chain
from marketplace.adapters.license_chain import LicenseChainAdapter
from marketplace.adapters.secrets import get_secret
from marketplace.api import caller, json_response, make_app, raw_body
from marketplace.content.adapters import DynamoContent
from marketplace.errors import NotFoundError
from marketplace.licensing.adapters import LicensingDynamoStore
from marketplace.licensing.schemas import (
    PurchaseRequest,
    QuoteRequest,
    RevokeRequest,
    TermsCreated,
    TermsRequest,
)
from marketplace.licensing.services import Licensing, LicensingSettings
from marketplace.shared.ids import as_hex32
from marketplace.validation import parse_json
from pydantic import BaseModel

logger = Logger(service="license-api")
app = make_app(logger)


@functools.cache
def licensing() -> Licensing:
    cfg = config.load(config.LicenseApiConfig)
    store = LicensingDynamoStore(terms=cfg.terms_table, quotes=cfg.quotes_table, licenses=cfg.licenses_table,
                                 apikeys=cfg.api_keys_table, ratelimits=cfg.rate_limits_table)
    chain = get_chain(cfg)
    return Licensing(store, DynamoContent(cfg.content_table), LicenseChainAdapter(chain), lambda: get_secret(cfg.credential_secret_id),
                     LicensingSettings(quote_ttl_seconds=cfg.quote_ttl_seconds,
                                       signature_ttl_seconds=cfg.signature_ttl_seconds,
                                       purchase_lock_seconds=int(cfg.tx_timeout_seconds) + 60))


def _id(value: str, what: str) -> str:
    """A path id: 0x + 64 hex digits, lowercased (anything else names nothing: 404)."""
    valid = as_hex32(value)
    if valid is None:
        raise NotFoundError(f"Unknown {what}", {what: value})
    return valid


def _answer(status: int, model: BaseModel):
    """A model as the body (fields a service left unset, e.g. a creator's view of the buyer's
    keys, are not in it)."""
    return json_response(status, model.model_dump(exclude_unset=True))


@app.post("/content/<content_id>/terms")
def create_terms(content_id: str):
    req = parse_json(raw_body(app), TermsRequest)
    outcome = licensing().create_terms(caller(app), _id(content_id, "contentId"), req)
    return _answer(201 if isinstance(outcome, TermsCreated) else 200, outcome)


@app.get("/content/<content_id>/terms")
def list_terms(content_id: str):
    return _answer(200, licensing().list_terms(_id(content_id, "contentId")))


@app.post("/license/quote")
def quote():
    req = parse_json(raw_body(app), QuoteRequest)
    return _answer(200, licensing().quote(caller(app), req.termsId))


@app.post("/license/purchase")
def purchase():
    req = parse_json(raw_body(app), PurchaseRequest)
    return _answer(201, licensing().purchase(caller(app), req))


@app.get("/license/<license_id>")
def get_license(license_id: str):
    return _answer(200, licensing().get_license(caller(app), _id(license_id, "licenseId")))


@app.post("/license/<license_id>/revoke")
def revoke(license_id: str):
    req = parse_json(raw_body(app) or b"{}", RevokeRequest)
    return _answer(200, licensing().revoke(caller(app), _id(license_id, "licenseId"), req))


@app.post("/license/<license_id>/keys")
def rotate_key(license_id: str):
    return _answer(201, licensing().rotate_key(caller(app), _id(license_id, "licenseId")))


@app.delete("/license/<license_id>/keys")
def revoke_keys(license_id: str):
    return _answer(200, licensing().revoke_keys(caller(app), _id(license_id, "licenseId")))


@logger.inject_lambda_context
def handler(event, context):
    config.load(config.LicenseApiConfig)  # a missing or malformed variable fails here, before any work
    return app.resolve(event, context)
