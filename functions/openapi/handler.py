"""GET /openapi.json: the OpenAPI document of every route (built once per container)."""

from __future__ import annotations

import functools

from aws_lambda_powertools import Logger
from marketplace import config
from marketplace.api import json_response, make_app
from marketplace.openapi import document

logger = Logger(service="openapi")
app = make_app(logger)


@functools.cache
def _document() -> dict:
    return document(config.load(config.OpenApiConfig).public_base_url)


@app.get("/openapi.json")
def openapi():
    return json_response(200, _document())


@logger.inject_lambda_context
def handler(event, context):
    config.load(config.OpenApiConfig)
    return app.resolve(event, context)
