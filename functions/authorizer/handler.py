"""The REST API's Lambda REQUEST authorizer: ``Authorization: Bearer <session JWT>``.

A valid token yields an Allow policy for the whole API (so API Gateway may cache it per token)
with ``context.address`` = the checksummed address that signed in; the route handlers read it
from ``requestContext.authorizer.address``. Anything else raises ``Exception("Unauthorized")``,
which API Gateway turns into a 401 (its gateway response carries the API's error body).
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)
from marketplace import config
from marketplace.adapters.secrets import get_secret_bytes
from marketplace.auth import tokens
from marketplace.errors import UnauthorizedError
from marketplace.kit import observability

SERVICE = "authorizer"
logger = observability.telemetry(SERVICE).logger


def _authorize(event, context):
    cfg = config.load(config.AuthorizerConfig)
    request = APIGatewayAuthorizerRequestEvent(event)
    try:
        token = tokens.bearer(request.headers.get("Authorization"))
        address = tokens.verify(token, get_secret_bytes(cfg.jwt_secret_id))
    except UnauthorizedError as err:
        logger.info("refused", extra={"reason": err.message})
        raise Exception("Unauthorized") from None  # noqa: TRY002 - API Gateway's contract for a 401
    arn = request.parsed_arn
    policy = APIGatewayAuthorizerResponse(
        principal_id=address, region=arn.region, aws_account_id=arn.aws_account_id, api_id=arn.api_id,
        stage=arn.stage, context={"address": address},
    )
    policy.allow_all_routes()
    return policy.asdict()


handler = observability.wrap(_authorize, SERVICE, correlation_id_path="requestContext.requestId")
