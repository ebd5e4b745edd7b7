"""The WebSocket APIs of the synthesized stack (``infra/websockets.py``): every route of
``resources.WEBSOCKET_APIS`` integrated with its function (action routes two-way), the stage's logs
and throttling, and ``execute-api:ManageConnections`` on exactly that API's stage for the functions
that push to it (and for no other), with the stream's URLs in their environment."""

from __future__ import annotations

import json

import pytest
from marketplace.resources import FUNCTIONS, WEBSOCKET_APIS, by_name

pytestmark = pytest.mark.infra


def _refs(node) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        found |= {node["Ref"]} if "Ref" in node else set()
        found |= {node["Fn::GetAtt"][0]} if "Fn::GetAtt" in node else set()
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def _of_api(synth, cfn_type: str, api_id: str) -> dict[str, dict]:
    return {k: v for k, v in synth.resources(cfn_type).items() if v["Properties"].get("ApiId") == {"Ref": api_id}}


@pytest.mark.parametrize("spec", WEBSOCKET_APIS, ids=lambda s: s.name)
def test_every_route_goes_to_the_function_and_action_routes_answer(synth, spec):
    api_id = synth.logical_id(synth.stack.websockets.apis[spec.name])
    api = synth.template["Resources"][api_id]["Properties"]
    assert api["ProtocolType"] == "WEBSOCKET" and api["RouteSelectionExpression"] == "$request.body.action"
    routes = _of_api(synth, "AWS::ApiGatewayV2::Route", api_id)
    assert sorted(r["Properties"]["RouteKey"] for r in routes.values()) == sorted(spec.routes)
    integrations = _of_api(synth, "AWS::ApiGatewayV2::Integration", api_id)
    fn_id = synth.logical_id(synth.stack.functions.by_name[spec.function])
    for integration in integrations.values():
        assert integration["Properties"]["IntegrationType"] == "AWS_PROXY"
        assert fn_id in _refs(integration["Properties"]["IntegrationUri"])
    two_way = {r["Properties"]["RouteKey"] for r in routes.values() if r["Properties"].get("RouteResponseSelectionExpression")}
    assert two_way == {k for k in spec.routes if k not in ("$connect", "$disconnect")}
    responses = _of_api(synth, "AWS::ApiGatewayV2::RouteResponse", api_id)
    assert len(responses) == len(two_way)
    # no API Gateway authorizer: $connect's function checks the JWT (nag acknowledged per route)
    assert all(r["Properties"].get("AuthorizationType", "NONE") == "NONE" for r in routes.values())
    invokes = [p for p in synth.resources("AWS::Lambda::Permission").values()
               if p["Properties"]["Principal"] == "apigateway.amazonaws.com" and api_id in _refs(p["Properties"])]
    assert invokes and all(fn_id in _refs(p["Properties"]["FunctionName"]) for p in invokes)


@pytest.mark.parametrize("spec", WEBSOCKET_APIS, ids=lambda s: s.name)
def test_stage_logs_without_bodies_and_throttles(synth, spec):
    api_id = synth.logical_id(synth.stack.websockets.apis[spec.name])
    [stage] = _of_api(synth, "AWS::ApiGatewayV2::Stage", api_id).values()
    props = stage["Properties"]
    assert props["StageName"] == synth.stack.config.stage and props["AutoDeploy"] is True
    assert json.loads(props["AccessLogSettings"]["Format"])["connectionId"] == "$context.connectionId"
    route = props["DefaultRouteSettings"]
    assert route["LoggingLevel"] == "INFO" and route["DataTraceEnabled"] is False
    assert route["ThrottlingRateLimit"] == synth.stack.config.api_rate_limit


def _manage_statements(synth, fn_name: str) -> list[dict]:
    role = synth.template["Resources"][synth.logical_id(synth.stack.functions.by_name[fn_name])]["Properties"][
        "Role"]["Fn::GetAtt"][0]
    return [st for policy in synth.resources("AWS::IAM::Policy").values()
            if {"Ref": role} in policy["Properties"]["Roles"]
            for st in policy["Properties"]["PolicyDocument"]["Statement"]
            if "execute-api:ManageConnections" in json.dumps(st["Action"])]


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda s: s.name)
def test_only_pushers_manage_connections_of_exactly_their_api_stage(synth, fn):
    statements = _manage_statements(synth, fn.name)
    env = synth.template["Resources"][synth.logical_id(synth.stack.functions.by_name[fn.name])]["Properties"][
        "Environment"]["Variables"]
    if not fn.websockets:
        assert statements == []
    for name in fn.websockets:
        ws = by_name(WEBSOCKET_APIS, name)
        api_id = synth.logical_id(synth.stack.websockets.apis[name])
        [st] = statements
        assert st["Action"] == "execute-api:ManageConnections"
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        texts = ["".join(p if isinstance(p, str) else "{" + (p.get("Ref") or "") + "}" for p in r["Fn::Join"][1])
                 for r in resources]
        stage = synth.stack.config.stage
        assert sorted(t.split(":")[-1] for t in texts) == sorted(
            f"{{{api_id}}}/{stage}/{m}/@connections/*" for m in ("POST", "DELETE"))
        assert api_id in _refs(env[ws.url_env]) and api_id in _refs(env[ws.management_env])
        assert env[ws.url_env]["Fn::Join"][1][0] == "wss://" and env[ws.management_env]["Fn::Join"][1][0] == "https://"
    for name in fn.websocket_urls:
        ws = by_name(WEBSOCKET_APIS, name)
        assert synth.logical_id(synth.stack.websockets.apis[name]) in _refs(env[ws.url_env])
        assert ws.management_env not in env and statements == []
