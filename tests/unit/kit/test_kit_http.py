"""The HTTP kit: declared statuses and models, request validation, the one error mapping, and the
OpenAPI document generated from the declarations."""

from __future__ import annotations

import json

import pytest
from marketplace.errors import ConflictError, PaymentRequiredError
from marketplace.kit.http import Api, HttpFunction, caller, reply
from marketplace.kit.openapi import document
from pydantic import BaseModel, Field

from local.lambdas import LambdaContext
from tests.events import api_event

pytestmark = pytest.mark.unit

ADDRESS = "0x" + "ab" * 20


class Quote(BaseModel):
    termsId: str = Field(pattern=r"^0x[0-9a-f]{64}$")


class QuoteView(BaseModel):
    amount: int


class Challenge(BaseModel):
    typedData: dict


def build(answer):
    """An Api on license-api's POST /license/quote whose route answers ``answer(req)``."""
    api = Api("license-api")

    @api.operation("POST", "/license/quote", "quote", ok={200: ("quote", QuoteView), 201: ("challenge", Challenge)},
                   errors={402: "INSUFFICIENT_FUNDS"})
    def quote(req: Quote):
        caller(api)
        return answer(req)

    return api, HttpFunction(api).handler


def call(handler, body, caller_address=ADDRESS):
    event = api_event("POST", "/license/quote", body=body, caller=caller_address, resource="/license/quote")
    out = handler(event, LambdaContext("license-api"))
    return out["statusCode"], json.loads(out["body"]) if out["body"] else None


GOOD = {"termsId": "0x" + "1" * 64}


def test_status_follows_the_returned_models_declared_type():
    _, handler = build(lambda req: QuoteView(amount=5))
    assert call(handler, GOOD) == (200, {"amount": 5})
    _, handler = build(lambda req: Challenge(typedData={"a": 1}))
    assert call(handler, GOOD) == (201, {"typedData": {"a": 1}})


@pytest.mark.parametrize(("body", "status", "field"), [
    (None, 400, "body"), ("{not json", 400, "body"), ("[1, 2]", 400, "body"),
    ({"termsId": "nope"}, 422, "termsId"), ({}, 422, "termsId"),
])
def test_invalid_requests_answer_the_spec_error_body(body, status, field):
    _, handler = build(lambda req: QuoteView(amount=1))
    got_status, got = call(handler, body)
    assert got_status == status
    assert got["error"] == "VALIDATION_ERROR" and got["details"]["field"] == field


def test_a_declared_domain_error_answers_its_status_and_body():
    def refuse(req):
        raise PaymentRequiredError("balance too low", {"balance": 1})

    _, handler = build(refuse)
    assert call(handler, GOOD) == (402, {"error": "INSUFFICIENT_FUNDS", "message": "balance too low",
                                         "details": {"balance": 1}})


def test_an_undeclared_status_is_a_defect_answered_500_with_a_support_id():
    def conflict(req):
        raise ConflictError("busy")  # 409 is not declared on this route

    _, handler = build(conflict)
    status, body = call(handler, GOOD)
    assert status == 500 and body["error"] == "INTERNAL_ERROR" and body["supportId"].startswith("err_")


@pytest.mark.parametrize("answer", [
    lambda req: reply(204),  # undeclared status
    lambda req: reply(200, Challenge(typedData={})),  # wrong model for the status
    lambda req: {"amount": 1},  # not a model
])
def test_answers_outside_the_declaration_are_defects(answer):
    _, handler = build(answer)
    status, body = call(handler, GOOD)
    assert status == 500 and "supportId" in body


def test_unexpected_exceptions_answer_500_without_internals():
    def boom(req):
        raise RuntimeError("secret detail")

    _, handler = build(boom)
    status, body = call(handler, GOOD)
    assert status == 500 and "secret" not in json.dumps(body)


def test_jwt_route_without_caller_is_401():
    _, handler = build(lambda req: QuoteView(amount=1))
    status, body = call(handler, GOOD, caller_address=None)
    assert status == 401 and body["error"] == "UNAUTHORIZED"


def test_a_route_missing_from_resources_is_refused_at_import():
    api = Api("license-api")
    with pytest.raises(LookupError):
        api.operation("GET", "/nowhere", "x", ok={200: ("x", QuoteView)})


def test_document_declares_every_status_with_its_model_and_security():
    api, _ = build(lambda req: QuoteView(amount=1))
    doc = document([api], "http://127.0.0.1:3000")
    op = doc["paths"]["/license/quote"]["post"]
    assert set(op["responses"]) == {"200", "201", "400", "401", "402", "415", "422", "500"}
    assert op["responses"]["402"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/ErrorBody"
    assert op["security"] == [{"bearerAuth": []}]
    assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/Quote"
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    assert doc["servers"] == [{"url": "http://127.0.0.1:3000"}]


def test_a_body_that_is_not_utf8_is_a_400():
    _, handler = build(lambda req: QuoteView(amount=1))
    event = api_event("POST", "/license/quote", body=b"\xdd\x06", caller=ADDRESS, resource="/license/quote",
                      headers={"Content-Type": "application/json"})
    out = handler(event, LambdaContext("license-api"))
    assert out["statusCode"] == 400 and json.loads(out["body"])["details"]["field"] == "body"


def test_a_body_in_an_undeclared_media_type_is_a_415():
    _, handler = build(lambda req: QuoteView(amount=1))
    event = api_event("POST", "/license/quote", body=json.dumps(GOOD), caller=ADDRESS, resource="/license/quote",
                      headers={"Content-Type": "text/plain"})
    out = handler(event, LambdaContext("license-api"))
    assert out["statusCode"] == 415 and json.loads(out["body"])["error"] == "UNSUPPORTED_MEDIA_TYPE"


def test_a_status_without_a_model_has_no_content_in_the_document():
    api = Api("license-api")

    @api.operation("POST", "/license/quote", "quote", ok={204: ("nothing", None)})
    def quote(req: Quote):
        return reply(204)

    op = document([api], "http://127.0.0.1:3000")["paths"]["/license/quote"]["post"]
    assert "content" not in op["responses"]["204"]
