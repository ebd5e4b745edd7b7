"""The OpenAPI 3.1 document, generated from the routes' own declarations (``kit.http.Api``).

Every API function's ``Api`` is included in one Powertools resolver and its generated document is
finished here: the request content types Powertools cannot model (multipart) are folded in, the
security schemes named, Powertools' own validation-error schemas (never answered: the kit answers
the spec's error body) removed. Routes come from the same decorators that validate requests and
check answers, so the document cannot drift from the code; a test checks that every route of
``marketplace.resources`` is in it, and schemathesis checks the running stack against it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server

from marketplace.kit.http import Api

TITLE = "ZK data marketplace API"
DESCRIPTION = ("Privacy-preserving marketplace for AI training data. Errors are {error, message, details} "
               "(+ supportId on failures to investigate, retryAfter on temporary unavailability).")
SECURITY_SCHEMES: dict[str, Any] = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                   "description": "session token from POST /auth/login"},
    "apiKey": {"type": "http", "scheme": "bearer", "description": "sk_live_ API key of a license"},
}
_UNUSED = ("HTTPValidationError", "ValidationError")


def document(apis: Iterable[Api], public_base_url: str, version: str = "1.0.0") -> dict[str, Any]:
    app = APIGatewayRestResolver(enable_validation=True)
    for api in apis:
        app.include_router(api)
    schemes = {name: HTTPBearer(**{k: v for k, v in s.items() if k != "type"})
               for name, s in SECURITY_SCHEMES.items()}
    raw = app.get_openapi_json_schema(title=TITLE, version=version, description=DESCRIPTION,
                                      servers=[Server(url=public_base_url)],
                                      security_schemes=schemes)  # type: ignore[arg-type]
    doc: dict[str, Any] = json.loads(raw)
    for ops in doc.get("paths", {}).values():
        for op in ops.values():
            media = op.pop("x-kit-request-media", None)
            if media:
                body = op.setdefault("requestBody", {"required": True, "content": {}})
                body["content"] = {**media, **body.get("content", {})}
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    text = json.dumps(doc["paths"])
    for name in _UNUSED:
        if f"#/components/schemas/{name}\"" not in text:
            schemas.pop(name, None)
    doc["components"]["securitySchemes"] = SECURITY_SCHEMES
    doc["paths"] = dict(sorted(doc["paths"].items()))
    return doc
