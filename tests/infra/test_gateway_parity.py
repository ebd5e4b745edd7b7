"""The local gateway answers API Gateway's own errors exactly as the CDK app configures them
(no synth: compares local.api's table with infra/api.py's gateway responses and templates)."""

from __future__ import annotations

import json

import pytest

from infra import api as cdk_api
from local import api as local_api

pytestmark = pytest.mark.infra


def test_the_local_gateway_responses_are_the_ones_the_cdk_app_configures():
    configured = {rt.response_type: (error, message) for rt, error, message in cdk_api.GATEWAY_ERRORS}
    assert configured == local_api.GATEWAY_RESPONSES
    assert set(cdk_api.KEEP_STATUS) == set(local_api.KEEP_STATUS)


@pytest.mark.parametrize("kind, status, message", [
    ("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token"),  # unknown path or method
    ("UNAUTHORIZED", 401, "Unauthorized"),
    ("ACCESS_DENIED", 403, "User is not authorized to access this resource"),
    ("REQUEST_TOO_LARGE", 413, "Request Too Long"),
    ("INTEGRATION_TIMEOUT", 504, "Endpoint request timed out"),  # not configured: DEFAULT_5XX
    ("AUTHORIZER_FAILURE", 500, "Internal server error"),
    ("DEFAULT_4XX", 414, "Request-URI Too Long"),
])
def test_status_and_body_are_what_the_deployed_gateway_response_renders(kind, status, message):
    configured = {rt.response_type: (error, text) for rt, error, text in cdk_api.GATEWAY_ERRORS}
    deployed_kind = kind if kind in configured else ("DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX")
    error, text = configured[deployed_kind]
    # what API Gateway renders from the stack's template for this request
    rendered = (cdk_api._error_template(error.code, text)
                .replace("$context.error.messageString", json.dumps(message))
                .replace("$context.requestId", "req-1"))
    deployed_status = status if deployed_kind in cdk_api.KEEP_STATUS else error.status

    assert local_api.gateway_response(kind, status, message, "req-1") == (deployed_status, json.loads(rendered))
    assert local_api.GatewayError(kind, status, message).response("req-1").status_code == deployed_status


def test_no_route_is_a_404_not_found():
    status, body = local_api.gateway_response("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token", "r")
    assert (status, body["error"], body["message"]) == (404, "NOT_FOUND", "no such route")
