"""The REST API: every route of ``resources.FUNCTIONS`` as a Lambda proxy integration.

- ``auth="jwt"`` routes go through the Lambda REQUEST authorizer (the ``authorizer`` function,
  identity source the ``Authorization`` header, which the method also declares required so a
  request without it is refused before any Lambda runs); ``"apikey"`` routes check their
  ``sk_live_`` key in the handler; ``"none"`` routes are public.
- ``multipart/form-data`` is a binary media type, so ``POST /content/register`` reaches the
  handler base64-encoded and byte-exact.
- Stage: JSON access logs, INFO execution logs without bodies, X-Ray, metrics, throttling.
- API Gateway's own errors (no token, denied, unknown route, throttled, body over 10 MB) answer
  with the architecture page's error body ``{"error", "message", "details"}`` like the handlers.
"""

from __future__ import annotations

import json
import re

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from marketplace import errors
from marketplace.resources import BINARY_MEDIA_TYPES, FUNCTIONS, HANDLER_CHECKED_AUTH, Route

from infra.config import StageConfig
from infra.log_groups import log_group

AUTHORIZER = "authorizer"  # the FunctionSpec whose handler is the REQUEST authorizer

# (response type, error class, message or None): API Gateway's own errors in the API's error shape,
# with the status and code of the marketplace.errors class (the catch-alls keep API Gateway's
# status). Without a message: "$context.error.messageString", API Gateway's, a quoted JSON string.
GATEWAY_ERRORS: list[tuple[apigw.ResponseType, type[errors.MarketplaceError], str | None]] = [
    (apigw.ResponseType.UNAUTHORIZED, errors.UnauthorizedError, None),
    (apigw.ResponseType.ACCESS_DENIED, errors.ForbiddenError, None),
    (apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, errors.NotFoundError, "no such route"),
    (apigw.ResponseType.THROTTLED, errors.RateLimitedError, None),
    (apigw.ResponseType.REQUEST_TOO_LARGE, errors.PayloadTooLargeError,
     "request body too large: upload with POST /content/uploads, then register by uploadId"),
    (apigw.ResponseType.BAD_REQUEST_PARAMETERS, errors.ValidationError, None),
    (apigw.ResponseType.BAD_REQUEST_BODY, errors.ValidationError, None),
    (apigw.ResponseType.DEFAULT_4_XX, errors.ValidationError, None),
    (apigw.ResponseType.DEFAULT_5_XX, errors.MarketplaceError, None),
]
KEEP_STATUS = ("DEFAULT_4XX", "DEFAULT_5XX")  # by name: jsii hands out a new ResponseType each time
THROTTLE_RETRY_AFTER_SECONDS = 1


def _error_template(code: str, message: str | None) -> str:
    text = json.dumps(message) if message else "$context.error.messageString"
    return '{"error":"' + code + '","message":' + text + ',"details":{"requestId":"$context.requestId"}}'


def path_parameters(path: str) -> list[str]:
    return re.findall(r"\{([A-Za-z0-9_]+)\+?\}", path)


class Api(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        access_logs = log_group(self, "AccessLogs", f"/aws/apigateway/{config.prefix}-api", config)
        self.rest_api = apigw.RestApi(
            self, "RestApi",
            rest_api_name=f"{config.prefix}-api",
            description="zk data marketplace API (routes from marketplace.resources.FUNCTIONS)",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            binary_media_types=list(BINARY_MEDIA_TYPES),
            # The account-level role API Gateway needs to write execution logs (one per account
            # and region; kept if this stack goes because other APIs may rely on it).
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=config.stage,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False, http_method=True, ip=True, protocol=True, request_time=True,
                    resource_path=True, response_length=True, status=True, user=False),
                logging_level=apigw.MethodLoggingLevel.INFO,
                data_trace_enabled=False,  # never log bodies: they carry content and signatures
                tracing_enabled=True,
                metrics_enabled=True,
                throttling_rate_limit=config.api_rate_limit,
                throttling_burst_limit=config.api_burst_limit,
            ),
        )
        for response_type, error, message in GATEWAY_ERRORS:
            kind = response_type.response_type
            throttled = kind == "THROTTLED"
            self.rest_api.add_gateway_response(
                f"Gateway{kind}",
                type=response_type,
                status_code=None if kind in KEEP_STATUS else str(error.status),
                response_headers={"Retry-After": f"'{THROTTLE_RETRY_AFTER_SECONDS}'"} if throttled else None,
                templates={"application/json": _error_template(error.code, message)},
            )
        # Cheap validation at the edge: required headers and path parameters. Bodies are checked
        # against a method's request model when it has one; none has yet: the handlers' pydantic
        # models (published by GET /openapi.json) are the one schema, and they name the bad field.
        self.validator = self.rest_api.add_request_validator(
            "Parameters", request_validator_name="parameters-and-bodies",
            validate_request_parameters=True, validate_request_body=True)
        # Built from the API's id, not from rest_api.url: the functions get this URL in their
        # environment, and the stage (hence .url) depends on the methods, which depend on them.
        self.public_url = config.public_base_url or (
            f"https://{self.rest_api.rest_api_id}.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}/{config.stage}")
        self.methods: dict[tuple[str, str], apigw.Method] = {}
        self.authorizer: apigw.RequestAuthorizer | None = None

    def add_routes(self, functions: dict[str, lambda_.Function]) -> None:
        """Every route of every FunctionSpec, integrated with its function."""
        self.authorizer = apigw.RequestAuthorizer(
            self, "Authorizer",
            authorizer_name=f"{self.config.prefix}-jwt",
            handler=functions[AUTHORIZER],
            identity_sources=[apigw.IdentitySource.header("Authorization")],
            # No caching: the authorizer's policy covers the method it was asked about, and a
            # cached policy would then deny the same token on the caller's next route.
            results_cache_ttl=Duration.seconds(0),
        )
        for spec in FUNCTIONS:
            integration = apigw.LambdaIntegration(functions[spec.name], allow_test_invoke=False)
            for route in spec.routes:
                self.methods[(route.method, route.path)] = self._route(route, integration)

    def _route(self, route: Route, integration: apigw.LambdaIntegration) -> apigw.Method:
        resource = self.rest_api.root.resource_for_path(route.path)
        params = {f"method.request.path.{p}": True for p in path_parameters(route.path)}
        options: dict = {}
        if route.auth == "jwt":
            params["method.request.header.Authorization"] = True
            options = {"authorizer": self.authorizer, "authorization_type": apigw.AuthorizationType.CUSTOM}
        elif route.auth not in HANDLER_CHECKED_AUTH:
            raise ValueError(f"{route.method} {route.path}: unknown auth {route.auth!r}")
        return resource.add_method(
            route.method, integration,
            request_parameters=params or None,
            request_validator=self.validator,
            **options,
        )
