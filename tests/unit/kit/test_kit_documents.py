"""The HTTP kit's documents: HTML pages, images, PDFs and files declared with ``Media`` and answered
with ``document``; checked against the declaration, documented in OpenAPI, binary ones base64."""

from __future__ import annotations

import base64
import json

import pytest
from marketplace import resources
from marketplace.kit.http import Api, HttpFunction, Media, document, reply
from marketplace.kit.openapi import document as openapi_document
from pydantic import BaseModel

from local.lambdas import LambdaContext
from tests.events import api_event

pytestmark = pytest.mark.unit

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


class View(BaseModel):
    contentId: str


def build(answer, ok=None):
    """An Api on content-api's public GET /content/{contentId} whose route answers ``answer()``."""
    api = Api("content-api")

    @api.operation("GET", "/content/{contentId}", "a page",
                   ok=ok or {200: ("the page", Media("text/html")), 201: ("a picture", Media("image/png", "image/svg+xml")),
                             202: ("a view", View)},
                   errors={404: "unknown content"})
    def page(contentId: str):
        return answer()

    return api, HttpFunction(api).handler


def call(handler):
    event = api_event("GET", "/content/abc", resource="/content/{contentId}")
    return handler(event, LambdaContext("content-api"))


def test_an_html_document_is_answered_as_text_with_its_media_type():
    _, handler = build(lambda: document(200, "<!doctype html><p>héllo</p>", "text/html", {"Cache-Control": "no-store"}))
    out = call(handler)
    assert out["statusCode"] == 200 and out["isBase64Encoded"] is False
    headers = out.get("multiValueHeaders") or {}
    flat = {k: (v[0] if isinstance(v, list) else v) for k, v in {**headers, **(out.get("headers") or {})}.items()}
    assert flat["Content-Type"] == "text/html; charset=utf-8" and flat["Cache-Control"] == "no-store"
    assert out["body"] == "<!doctype html><p>héllo</p>"


def test_a_binary_document_is_base64_with_is_base64_encoded():
    _, handler = build(lambda: document(201, PNG, "image/png"))
    out = call(handler)
    assert out["statusCode"] == 201 and out["isBase64Encoded"] is True
    assert base64.b64decode(out["body"]) == PNG
    assert "image/png" in resources.BINARY_MEDIA_TYPES and "application/pdf" in resources.BINARY_MEDIA_TYPES


def test_a_second_declared_media_type_of_the_same_status_is_accepted():
    _, handler = build(lambda: document(201, "<svg/>", "image/svg+xml"))
    out = call(handler)
    assert out["statusCode"] == 201 and out["body"] == "<svg/>" and out["isBase64Encoded"] is False


@pytest.mark.parametrize("answer", [
    lambda: document(200, PNG, "image/png"),  # a media type not declared for the status
    lambda: document(203, "<p/>", "text/html"),  # an undeclared status
    lambda: document(202, "{}", "application/json"),  # a status declared for a model, not a document
    lambda: reply(200, View(contentId="x")),  # a model where a document is declared
])
def test_documents_outside_the_declaration_are_defects(answer):
    _, handler = build(answer)
    out = call(handler)
    assert out["statusCode"] == 500 and "supportId" in json.loads(out["body"])


def test_a_model_still_answers_json_next_to_documents():
    _, handler = build(lambda: View(contentId="x"))
    out = call(handler)
    assert out["statusCode"] == 202 and json.loads(out["body"]) == {"contentId": "x"}


def test_an_error_of_a_document_route_is_the_spec_error_body():
    from marketplace.errors import NotFoundError

    def missing():
        raise NotFoundError("no such content")

    _, handler = build(missing)
    out = call(handler)
    assert out["statusCode"] == 404 and json.loads(out["body"])["error"] == "NOT_FOUND"


def test_media_refuses_types_the_kit_does_not_know():
    with pytest.raises(ValueError):
        Media("application/x-unknown")
    with pytest.raises(ValueError):
        Media()


def test_the_openapi_document_shows_each_media_type():
    api, _ = build(lambda: None)
    op = openapi_document([api], "http://127.0.0.1:3000")["paths"]["/content/{contentId}"]["get"]
    assert op["responses"]["200"]["content"] == {"text/html": {"schema": {"type": "string"}}}
    assert op["responses"]["201"]["content"] == {"image/png": {"schema": {"type": "string", "format": "binary"}},
                                                 "image/svg+xml": {"schema": {"type": "string"}}}
    assert op["responses"]["202"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/View"
