"""cdk-nag AwsSolutions findings this stack accepts, each with its reason. The one place.

Every acknowledgment is attached to the narrowest construct it concerns (a function's role, one
secret, one public method), never to the whole stack, and IAM5 wildcard findings are acknowledged
one resource pattern at a time (cdk-nag 3: ``AwsSolutions-IAM5[Resource::...]``), so a new
wildcard anywhere still fails the synth.
"""

from __future__ import annotations

from typing import cast

from aws_cdk import Acknowledgment, CfnElement, Stack, Validations
from constructs import IConstruct
from marketplace.resources import FUNCTIONS, HANDLER_CHECKED_AUTH, physical_name

from infra.stack import MarketplaceStack
from infra.websockets import CONNECTION_METHODS as WS_CONNECTION_METHODS

XRAY = ("X-Ray's PutTraceSegments/PutTelemetryRecords (added by tracing=ACTIVE / tracing_enabled) "
        "support no resource-level permissions, so their statement is on '*'; no other action is.")

SECRET_ROTATION = {
    "jwt-signing-key": "Rotation needs dual-key JWT verification (tokens signed with the old key live up "
                       "to JWT_TTL_SECONDS); until that exists ops rotate by hand off-peak (docs/deploy.md).",
    "identity-key": "Must not rotate: every creator's identity commitment, recorded on chain at first "
                    "registration, is derived from this key; a new key would lock creators out.",
    "credential-key": "Seals licensees' credential secrets at rest; a new key needs every sealed credential "
                      "re-sealed first (a migration, not a rotation Lambda).",
    "webhook-key": "Seals creators' webhook signing secrets at rest; a new key needs every sealed webhook "
                   "secret re-sealed first (a migration, not a rotation Lambda); creators rotate their own "
                   "signing secrets through POST /webhooks/{id}/rotate.",
}
SES_STATUS = (" SES's GetIdentityVerificationAttributes (reading whether an address is verified) supports no "
              "resource-level permission either.")

PUBLIC_ROUTE = ("{route}: no API Gateway authorizer by the API contract (architecture.md): a public route "
                "(sign-in, public metadata and terms, OpenAPI, the dashboard page whose POST checks the session JWT "
                "posted in its form body) or one whose handler checks the licensee's sk_live_ API key itself. "
                "Throttled at the stage.")
WEBSOCKET_ROUTE = ("{route}: $connect has no API Gateway authorizer because its function checks the session JWT "
                   "itself, from the query or a Sec-WebSocket-Protocol value (an authorizer's identity sources "
                   "cannot be alternatives), and refuses the handshake with 401; other WebSocket routes cannot "
                   "have an authorizer in API Gateway: they run on a connection $connect accepted. Throttled at "
                   "the stage.")


def _ack(scope: IConstruct, rule: str, reason: str) -> None:
    Validations.of(scope).acknowledge(Acknowledgment(id=f"AwsSolutions-{rule}", reason=reason))


def _arn_of(stack: Stack, construct: IConstruct) -> str:
    """How cdk-nag prints ``Fn::GetAtt [X, Arn]`` in an IAM5 finding."""
    return f"<{stack.resolve(stack.get_logical_id(cast(CfnElement, construct.node.default_child)))}.Arn>"


def suppress(stack: MarketplaceStack) -> None:
    # --- functions' roles ---------------------------------------------------------------------
    for spec in FUNCTIONS:
        role = stack.functions.roles[spec.name]
        _ack(role, "IAM5[Resource::*]", XRAY + (SES_STATUS if spec.ses else ""))
        if "verify" in spec.ses:
            _ack(role, "IAM5[Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/*]",
                 "Creators choose their own notification address: SES VerifyEmailIdentity on any identity "
                 "(it only sends a verification link); sending stays limited to EMAIL_FROM.")
        for name in spec.buckets:
            _ack(role, f"IAM5[Resource::{_arn_of(stack, stack.buckets.by_name[name])}/*]",
                 f"Objects of the {name} bucket only, keyed by CID or upload id chosen per request; "
                 "actions limited to s3:GetObject/PutObject/DeleteObject/AbortMultipartUpload.")
        for name in spec.state_machines:
            executions = (f"arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:"
                          f"{physical_name(stack.config.prefix, name)}:*")
            _ack(role, f"IAM5[Resource::{executions}]",
                 f"Executions of the {name} state machine only (names are chosen at start); "
                 "describe/stop only.")
    for fn in stack.functions.by_name.values():
        _ack(fn, "L1", "Python 3.11 is the project's pinned runtime (requires-python, the dependency "
                       "layer's cp311 manylinux2014 wheels); moving runs through pyproject.toml first.")

    # --- state machines -------------------------------------------------------------------------
    for machine in stack.state_machines.by_name.values():
        _ack(machine.role, "IAM5[Resource::*]",
             "X-Ray tracing and the CloudWatch Logs delivery actions (logs:CreateLogDelivery, "
             "PutResourcePolicy, DescribeLogGroups, ...) Step Functions logging requires support no "
             "resource-level permissions; Lambda invoke is on the exact function ARNs.")

    # --- secrets --------------------------------------------------------------------------------
    for name, secret in stack.secrets.by_name.items():
        if name not in SECRET_ROTATION:
            raise KeyError(f"secret {name!r} has no rotation: add rotation or say why in infra/nag.py "
                           "SECRET_ROTATION")
        _ack(secret, "SMG4", SECRET_ROTATION[name])

    # --- API ------------------------------------------------------------------------------------
    api = stack.api
    _ack(api.rest_api, "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                       "AmazonAPIGatewayPushToCloudWatchLogs]",
         "The AWS-managed policy API Gateway documents for its account-level logging role; it grants "
         "only CloudWatch Logs writes.")
    _ack(api.rest_api, "APIG3",
         "WAF is an account-level cost/rules decision left to ops (docs/deploy.md shows how to "
         "associate a web ACL); the stage is throttled and non-public routes need a JWT.")
    for (method, path), m in api.methods.items():
        _ack(m, "COG4", "Users sign in with Ethereum (EIP-4361) and get the API's JWT; the Lambda "
                        "REQUEST authorizer checks it (architecture decision), not a Cognito user pool.")
        route = next(r for s in FUNCTIONS for r in s.routes if (r.method, r.path) == (method, path))
        if route.auth in HANDLER_CHECKED_AUTH:
            _ack(m, "APIG4", PUBLIC_ROUTE.format(route=f"{method} {path}"))

    # --- WebSocket APIs -------------------------------------------------------------------------
    ws = stack.websockets
    for (api_name, key), ws_route in ws.routes.items():
        _ack(ws_route, "APIG4", WEBSOCKET_ROUTE.format(route=f"{api_name} {key}"))
    for spec in FUNCTIONS:
        for api_name in spec.websockets:
            logical = stack.resolve(stack.get_logical_id(cast(CfnElement, ws.apis[api_name].node.default_child)))
            for method in WS_CONNECTION_METHODS:
                _ack(stack.functions.roles[spec.name],
                     f"IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<{logical}>/"
                     f"{stack.config.stage}/{method}/@connections/*]",
                     f"Connections of the {api_name} WebSocket API's {stack.config.stage} stage only (their ids are "
                     "chosen by API Gateway at connect): push (POST) and close (DELETE) through the Management API.")
