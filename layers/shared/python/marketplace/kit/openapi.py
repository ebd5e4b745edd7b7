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
from pydantic import BaseModel

from marketplace.kit.http import Api

TITLE = "ZK data marketplace API"
DESCRIPTION = ("Privacy-preserving marketplace for AI training data. Errors are {error, message, details} "
               "(+ supportId on failures to investigate, retryAfter on temporary unavailability).")
SECURITY_SCHEMES: dict[str, Any] = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                   "description": "session token from POST /auth/login"},
    "apiKey": {"type": "http", "scheme": "bearer", "description": "sk_live_ API key of a license"},
}
_UNUSED = ("HTTPValidationError", "ResponseValidationError", "ValidationError")


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _schema(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    """A $ref to ``model``, its schema (and its sub-models') added to the components."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        schemas.setdefault(name, sub)
    schemas.setdefault(model.__name__, schema)
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _with_refs(value: Any, schemas: dict[str, Any]) -> Any:
    """A hand-written media object whose models (e.g. a multipart part's contentSchema) become $refs."""
    if _is_model(value):
        return _schema(value, schemas)
    if isinstance(value, dict):
        return {k: _with_refs(v, schemas) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_refs(v, schemas) for v in value]
    return value


def document(apis: Iterable[Api], public_base_url: str, version: str = "1.0.0") -> dict[str, Any]:
    apis = list(apis)
    app = APIGatewayRestResolver(enable_validation=True)
    for api in apis:
        app.include_router(api)
    schemes = {name: HTTPBearer(**{k: v for k, v in s.items() if k != "type"})
               for name, s in SECURITY_SCHEMES.items()}
    raw = app.get_openapi_json_schema(title=TITLE, version=version, description=DESCRIPTION,
                                      servers=[Server(url=public_base_url)],
                                      security_schemes=schemes)  # type: ignore[arg-type]
    doc: dict[str, Any] = json.loads(raw)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for api in apis:
        for declared in api.declared.values():
            op = doc["paths"][declared.path][declared.method.lower()]
            # Powertools documents a 422 for every validated route; keep only the declared ones
            op["responses"] = {code: r for code, r in op["responses"].items() if int(code) in declared.responses}
            for code, response in op["responses"].items():
                if declared.responses[int(code)][1] is None:  # no body (e.g. 204): no content either
                    response.pop("content", None)
            if declared.request_media:
                content = {media: {"schema": _schema(spec, schemas)} if _is_model(spec)
                           else _with_refs(spec, schemas) for media, spec in declared.request_media.items()}
                op["requestBody"] = {"required": declared.request_required, "content": content}
    for name in _UNUSED:  # Powertools' own validation error schemas: the kit never answers them
        schemas.pop(name, None)
    doc["components"]["securitySchemes"] = SECURITY_SCHEMES
    doc["paths"] = dict(sorted(doc["paths"].items()))
    return doc
