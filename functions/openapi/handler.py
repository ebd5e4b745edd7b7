"""GET /openapi.json: the document generated from every API's route declarations (built once per container)."""

from marketplace import config
from marketplace.kit.http import HttpFunction
from marketplace.kit.openapi_routes import _document, api  # noqa: F401 - _document: the tests reset its cache

handler = HttpFunction(api, config.OpenApiConfig).handler
