"""``GET /openapi.json`` (function ``openapi``): the document generated from every API's routes."""

from __future__ import annotations

import functools
from typing import Any

from pydantic import RootModel

from marketplace import config
from marketplace.kit.http import Api

api = Api("openapi")


class OpenApiDocument(RootModel[dict[str, Any]]):
    """An OpenAPI 3.1 document."""


@functools.cache
def _document() -> OpenApiDocument:
    from marketplace.kit.openapi import document
    from marketplace.routes import all_apis

    return OpenApiDocument(document(all_apis(), config.load(config.OpenApiConfig).public_base_url))


@api.operation("GET", "/openapi.json", "This document", ok={200: ("the OpenAPI 3.1 document", OpenApiDocument)})
def openapi():
    return _document()
