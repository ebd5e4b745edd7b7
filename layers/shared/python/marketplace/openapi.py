"""The OpenAPI 3.1 document of every route in ``marketplace.resources`` (``GET /openapi.json``).

Paths, methods and security come from the resource list, so a route added there appears here;
request and response schemas come from the pydantic models registered in ``DOCS`` (a route
without an entry is listed with the common error responses only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from marketplace import resources
from marketplace.access.schemas import AccessGrantView
from marketplace.auth import schemas as auth_m
from marketplace.content import schemas as m
from marketplace.licensing import schemas as lm


@dataclass(frozen=True)
class RouteDoc:
    summary: str
    request: type[BaseModel] | None = None
    multipart: bool = False  # multipart/form-data: file + metadata (JSON string)
    responses: dict[int, tuple[str, type[BaseModel] | None]] = field(default_factory=dict)
    headers: dict[int, list[str]] = field(default_factory=dict)  # response headers by status


DOCS: dict[tuple[str, str], RouteDoc] = {
    ("POST", "/auth/nonce"): RouteDoc(
        "Get a Sign-In with Ethereum message (EIP-4361) to sign", auth_m.NonceRequest,
        responses={200: ("the nonce and the message", auth_m.NonceResponse)}),
    ("POST", "/auth/login"): RouteDoc(
        "Trade the signed message for a session token (JWT)", auth_m.LoginRequest,
        responses={200: ("the session token", auth_m.LoginResponse)}),
    ("POST", "/content/register"): RouteDoc(
        "Register content (Flow 1): multipart file + metadata up to 5 MB, or JSON {uploadId, metadata} "
        "after POST /content/uploads", m.RegisterUploadRequest, multipart=True,
        responses={201: ("registered", m.RegistrationResult),
                   202: ("still running: poll the Location", None),
                   409: ("this content hash is already registered (details.contentId)", m.ErrorBody),
                   413: ("file too large for multipart: use POST /content/uploads", m.ErrorBody),
                   503: ("BLOCKCHAIN_ERROR (supportId)", m.ErrorBody)},
        headers={202: ["Location"]}),
    ("POST", "/content/uploads"): RouteDoc(
        "Get a presigned S3 POST for a large file (exactly `size` bytes)", m.UploadRequest,
        responses={201: ("POST the file to url with fields, then register with uploadId", m.UploadResponse)}),
    ("GET", "/content/registrations/{registrationId}"): RouteDoc(
        "A registration's state (PENDING, REGISTERED with its result, FAILED with its error)",
        responses={200: ("the registration", m.RegistrationStatus)}),
    ("GET", "/content/{contentId}"): RouteDoc(
        "Public metadata and lifecycle state of registered content",
        responses={200: ("the content", m.ContentView)}),
}

# Flows 2 and 3 (license-api, access)
_SIGNED = ("without signature or txHash: the EIP-712 typed data to sign (signatureRequired, typedData, "
           "deadline); with a signature: relayed on chain; with txHash: verified on chain")
DOCS.update({
    ("POST", "/content/{contentId}/terms"): RouteDoc(
        "Create license terms (creator). " + _SIGNED, lm.TermsRequest,
        responses={200: ("typed data to sign (or the terms already recorded for this txHash)", lm.TypedDataChallenge),
                   201: ("terms created on chain", lm.TermsView), 403: ("not the content's creator", m.ErrorBody)}),
    ("GET", "/content/{contentId}/terms"): RouteDoc(
        "Browse a content's license terms", responses={200: ("the terms", lm.TermsList)}),
    ("POST", "/license/quote"): RouteDoc(
        "Price, EIP-2612 permit typed data (spender: the escrow) and the credential commitment of a purchase",
        lm.QuoteRequest, responses={200: ("the quote", lm.QuoteView)}),
    ("POST", "/license/purchase"): RouteDoc(
        "Buy a license (Flow 2): a signed permit relayed by the platform, or the txHash of your own purchase",
        lm.PurchaseRequest,
        responses={201: ("the license, its credential (accessToken) and an API key shown once", lm.PurchaseView),
                   402: ("INSUFFICIENT_FUNDS: the balance is below the price", m.ErrorBody),
                   409: ("quote used, purchase in progress, or transaction not mined yet", m.ErrorBody),
                   503: ("BLOCKCHAIN_ERROR (supportId)", m.ErrorBody)}),
    ("GET", "/license/{licenseId}"): RouteDoc(
        "A license and its state (its buyer and the content's creator only)",
        responses={200: ("the license", lm.LicenseView), 403: ("neither buyer nor creator", m.ErrorBody)}),
    ("POST", "/license/{licenseId}/revoke"): RouteDoc(
        "Revoke a license (the content's creator). " + _SIGNED, lm.RevokeRequest,
        responses={200: ("typed data to sign, or the revoked license", lm.LicenseView),
                   403: ("not the content's creator", m.ErrorBody)}),
    ("POST", "/license/{licenseId}/keys"): RouteDoc(
        "Issue a new API key (the buyer): the license's other keys are revoked",
        responses={201: ("the new key, shown once, and the access token", lm.NewKeyView)}),
    ("DELETE", "/license/{licenseId}/keys"): RouteDoc(
        "Revoke the license's API keys (the buyer)", responses={200: ("how many were revoked", lm.KeysRevokedView)}),
    ("POST", "/content/{contentId}/access"): RouteDoc(
        "Access licensed content (Flow 3) with `Authorization: Bearer sk_live_…` and `X-License-Token`: "
        "a presigned URL valid for one hour",
        responses={200: ("the URL (X-RateLimit-Limit/-Remaining/-Reset headers)", AccessGrantView),
                   400: ("INVALID_LICENSE: details.reason expired (expiredAt), exhausted or revoked", m.ErrorBody),
                   401: ("unknown or revoked API key, or a license token that does not match it", m.ErrorBody),
                   403: ("the license is for another content", m.ErrorBody),
                   429: ("RATE_LIMITED (Retry-After)", m.ErrorBody),
                   503: ("IPFS_UNAVAILABLE: storage unreachable after retries (retryAfter)", m.ErrorBody)},
        headers={200: ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"],
                 429: ["Retry-After"], 503: ["Retry-After"]}),
})

_COMMON_ERRORS = {400: "malformed request", 422: "invalid field", 500: "internal error (supportId)"}


def _ref(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        schemas.setdefault(name, sub)
    schemas.setdefault(model.__name__, schema)
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def document(public_base_url: str) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    error = _ref(m.ErrorBody, schemas)
    paths: dict[str, dict[str, Any]] = {}
    for fn in resources.FUNCTIONS:
        for route in fn.routes:
            doc = DOCS.get((route.method, route.path), RouteDoc(f"{route.method} {route.path} ({fn.name})"))
            op: dict[str, Any] = {"summary": doc.summary, "operationId": _operation_id(route),
                                  "tags": [route.path.strip("/").split("/")[0]]}
            params = re.findall(r"{(\w+)}", route.path)
            if params:
                op["parameters"] = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                                    for p in params]
            content: dict[str, Any] = {}
            if doc.multipart:
                content["multipart/form-data"] = {"schema": {
                    "type": "object", "required": ["file", "metadata"],
                    "properties": {"file": {"type": "string", "format": "binary"},
                                   "metadata": {"type": "string", "contentMediaType": "application/json",
                                                "contentSchema": _ref(m.Metadata, schemas)}}}}
            if doc.request is not None:
                content.update(_json(_ref(doc.request, schemas)))
            if content:
                op["requestBody"] = {"required": True, "content": content}
            responses: dict[str, Any] = {}
            for status, (description, model) in sorted(doc.responses.items()):
                resp: dict[str, Any] = {"description": description}
                if model is not None:
                    resp["content"] = _json(_ref(model, schemas))
                if status in doc.headers:
                    resp["headers"] = {h: {"schema": {"type": "string"}} for h in doc.headers[status]}
                responses[str(status)] = resp
            if route.auth != "none":
                responses.setdefault("401", {"description": "missing or invalid credentials",
                                             "content": _json(error)})
                op["security"] = [{"bearerAuth" if route.auth == "jwt" else "apiKey": []}]
            for status, description in _COMMON_ERRORS.items():
                responses.setdefault(str(status), {"description": description, "content": _json(error)})
            op["responses"] = responses
            paths.setdefault(route.path, {})[route.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "ZK data marketplace API", "version": "1.0.0",
                 "description": "Privacy-preserving marketplace for AI training data. Errors are "
                                "{error, message, details} (+ supportId, retryAfter)."},
        "servers": [{"url": public_base_url}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                               "description": "session token from POST /auth/login"},
                "apiKey": {"type": "http", "scheme": "bearer", "description": "sk_live_ API key"},
            },
        },
    }


def _operation_id(route: resources.Route) -> str:
    words = re.sub(r"[{}]", "", route.path).replace("/", " ").replace("-", " ").split()
    return route.method.lower() + "".join(w[:1].upper() + w[1:] for w in words)
