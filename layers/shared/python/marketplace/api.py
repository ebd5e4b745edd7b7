"""What every HTTP handler shares: the resolver with the one error mapping, body parsing, the caller.

``make_app`` answers every exception through ``marketplace.errors.error_response`` (the one
mapping): a :class:`~marketplace.errors.MarketplaceError` answers with its status, body and
headers; anything else is logged with its traceback under a fresh ``supportId`` and answers 500
with that id only.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from marketplace import errors
from marketplace.errors import JSON, NotFoundError, UnauthorizedError, ValidationError


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, content_type=JSON, body=json.dumps(body), headers=headers)


def error_response(exc: BaseException, logger: Logger | None = None) -> Response:
    """``errors.error_response`` (the one mapping) as a Powertools response."""
    proxy = errors.error_response(exc, logger)
    return Response(status_code=proxy["statusCode"], body=proxy["body"], headers=proxy["headers"])


def make_app(logger: Logger) -> APIGatewayRestResolver:
    app = APIGatewayRestResolver()

    @app.exception_handler(Exception)
    def _any_error(error: Exception) -> Response:
        return error_response(error, logger)

    @app.not_found
    def _no_route(_: Exception) -> Response:
        return error_response(NotFoundError("no such route"))

    return app


def raw_body(app: APIGatewayRestResolver) -> bytes:
    """The request body as bytes (API Gateway base64-encodes binary media types)."""
    event = app.current_event
    body = event.body
    if body is None:
        return b""
    if event.is_base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except ValueError:
            raise ValidationError("body is not valid base64", {"field": "body"}) from None
    return body.encode("utf-8")


def caller(app: APIGatewayRestResolver) -> str:
    """The address the Lambda authorizer put in ``requestContext.authorizer``."""
    context = (app.current_event.raw_event.get("requestContext") or {}).get("authorizer") or {}
    address = context.get("address")
    if not address:
        raise UnauthorizedError("sign in first: missing or invalid bearer token")
    return address
