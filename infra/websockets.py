"""WebSocket APIs, one per ``resources.WEBSOCKET_APIS`` entry (API Gateway v2).

- Every route key of the spec goes to the spec's function (Lambda proxy integration); route
  selection is ``$request.body.action``; action routes and ``$default`` return the function's
  answer to the sender (two-way). ``$connect`` has no API Gateway authorizer: the function checks
  the session JWT itself (the query or a subprotocol, which an authorizer's identity sources cannot
  express as alternatives) and refuses the handshake with 401.
- One stage (the stack's stage name), auto-deployed, JSON access logs, INFO execution logs without
  message bodies, detailed metrics, the stack's throttling.
- A function whose spec lists the API in ``websockets`` gets ``url_env`` (``wss://…/{stage}``) and
  ``management_env`` (``https://…/{stage}``) in its environment and ``execute-api:ManageConnections``
  on exactly this API's stage (POST to push, DELETE to close: ``@connections/*``);
  one listing it in ``websocket_urls`` gets only ``url_env``.
"""

from __future__ import annotations

import json

from aws_cdk import Aws, CfnResource
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk.aws_apigatewayv2_integrations import WebSocketLambdaIntegration
from constructs import Construct
from marketplace.resources import FUNCTIONS, WEBSOCKET_APIS, WebSocketApiSpec, by_name

from infra.config import StageConfig
from infra.log_groups import log_group
from infra.naming import pascal

TWO_WAY = ("$default",)  # besides action routes, which are all two-way
CONNECTION_METHODS = ("POST", "DELETE")  # push, close an expired session
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId", "connectionId": "$context.connectionId", "routeKey": "$context.routeKey",
    "eventType": "$context.eventType", "status": "$context.status", "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime", "integrationLatency": "$context.integrationLatency",
    "error": "$context.error.message",
}


class WebSocketApis(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig,
                 functions: dict[str, lambda_.Function], roles: dict[str, iam.Role],
                 log_role_dependency: CfnResource | None = None) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.apis: dict[str, apigwv2.WebSocketApi] = {}
        self.stages: dict[str, apigwv2.WebSocketStage] = {}
        self.routes: dict[tuple[str, str], apigwv2.WebSocketRoute] = {}
        for spec in WEBSOCKET_APIS:
            self._build(spec, functions[spec.function], log_role_dependency)
        for fn_spec in FUNCTIONS:
            for name in fn_spec.websockets:
                self._connect(name, functions[fn_spec.name], roles[fn_spec.name], manage=True)
            for name in fn_spec.websocket_urls:
                self._connect(name, functions[fn_spec.name], roles[fn_spec.name], manage=False)

    def _build(self, spec: WebSocketApiSpec, fn: lambda_.Function, log_role_dependency: CfnResource | None) -> None:
        c = self.config
        api = apigwv2.WebSocketApi(
            self, pascal(spec.name), api_name=f"{c.prefix}-{spec.name}",
            description=f"{spec.name}: routes {', '.join(spec.routes)} -> {spec.function} (marketplace.resources)",
            route_selection_expression="$request.body.action")
        for key in spec.routes:
            integration = WebSocketLambdaIntegration(f"{pascal(spec.name)}{_route_id(key)}", fn)
            self.routes[(spec.name, key)] = api.add_route(
                key, integration=integration, return_response=key in TWO_WAY or not key.startswith("$"))
        logs = log_group(self, f"{pascal(spec.name)}AccessLogs", f"/aws/apigateway/{c.prefix}-{spec.name}", c)
        stage = apigwv2.WebSocketStage(
            self, f"{pascal(spec.name)}Stage", web_socket_api=api, stage_name=c.stage, auto_deploy=True,
            detailed_metrics_enabled=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=c.api_rate_limit, burst_limit=c.api_burst_limit))
        cfn = stage.node.default_child
        assert isinstance(cfn, apigwv2.CfnStage)
        cfn.access_log_settings = apigwv2.CfnStage.AccessLogSettingsProperty(
            destination_arn=logs.log_group_arn, format=json.dumps(ACCESS_LOG_FORMAT, separators=(",", ":")))
        cfn.default_route_settings = apigwv2.CfnStage.RouteSettingsProperty(
            logging_level="INFO", data_trace_enabled=False,  # never log message bodies: they carry tokens
            detailed_metrics_enabled=True, throttling_rate_limit=c.api_rate_limit,
            throttling_burst_limit=c.api_burst_limit)
        if log_role_dependency is not None:  # execution logs need the account's API Gateway logging role
            stage.node.add_dependency(log_role_dependency)
        self.apis[spec.name] = api
        self.stages[spec.name] = stage

    def host(self, name: str) -> str:
        return f"{self.apis[name].api_id}.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}"

    def url(self, name: str) -> str:
        return f"wss://{self.host(name)}/{self.config.stage}"

    def management_url(self, name: str) -> str:
        return f"https://{self.host(name)}/{self.config.stage}"

    def connections_arn(self, name: str, method: str) -> str:
        return (f"arn:{Aws.PARTITION}:execute-api:{Aws.REGION}:{Aws.ACCOUNT_ID}:{self.apis[name].api_id}/"
                f"{self.config.stage}/{method}/@connections/*")

    def _connect(self, name: str, fn: lambda_.Function, role: iam.Role, *, manage: bool) -> None:
        spec = by_name(WEBSOCKET_APIS, name)
        fn.add_environment(spec.url_env, self.url(name))
        if not manage:
            return
        fn.add_environment(spec.management_env, self.management_url(name))
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["execute-api:ManageConnections"],
            resources=[self.connections_arn(name, m) for m in CONNECTION_METHODS]))


def _route_id(key: str) -> str:
    return pascal(key.lstrip("$")) or "Route"
