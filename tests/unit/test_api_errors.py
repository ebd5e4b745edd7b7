"""The HTTP kit answers every exception through the one mapping (``marketplace.errors``), with the
spec's error body."""

from __future__ import annotations

import json

import pytest
from marketplace import errors
from marketplace.kit.http import Api, HttpFunction, caller, raw_body
from pydantic import BaseModel

from local.lambdas import LambdaContext
from tests.events import api_event

pytestmark = pytest.mark.unit


class Echo(BaseModel):
    bytes: str
    caller: str


ALL = {s: "declared" for s in (400, 401, 404, 409, 413, 422, 500, 503)}


def app_raising(exc: Exception):
    """content-api's routes: GET /content/{contentId} raises ``exc``; POST /content/register echoes."""
    api = Api("content-api")

    @api.operation("GET", "/content/{contentId}", "boom", ok={200: ("never", Echo)}, errors=ALL)
    def boom(contentId: str):
        raise exc

    @api.operation("POST", "/content/register", "echo", ok={200: ("echo", Echo)}, errors=ALL,
                   request_media={"application/octet-stream": {"schema": {"type": "string"}}})
    def echo():
        return Echo(bytes=raw_body(api).hex(), caller=caller(api))

    return HttpFunction(api).handler


def call(handler, path="/content/0x1", method="GET", **kwargs):
    resource = {"/content/0x1": "/content/{contentId}", "/content/register": "/content/register"}.get(path, path)
    out = handler(api_event(method, path, resource=resource, **kwargs), LambdaContext("content-api"))
    headers = out.get("multiValueHeaders") or out.get("headers")
    return out["statusCode"], json.loads(out["body"]), headers


@pytest.mark.parametrize("exc, status, code", [
    (errors.ValidationError("bad", {"field": "x"}), 400, "VALIDATION_ERROR"),
    (errors.UnprocessableError("bad", {"field": "x"}), 422, "VALIDATION_ERROR"),
    (errors.UnauthorizedError("no"), 401, "UNAUTHORIZED"),
    (errors.NotFoundError("no"), 404, "NOT_FOUND"),
    (errors.ConflictError("dup", {"contentId": "0x1"}), 409, "CONFLICT"),
    (errors.PayloadTooLargeError("big"), 413, "PAYLOAD_TOO_LARGE"),
])
def test_domain_errors_answer_their_status_and_body(exc, status, code):
    got_status, body, _ = call(app_raising(exc))
    assert got_status == status
    assert body == {"error": code, "message": exc.message, "details": exc.details}


@pytest.mark.parametrize("cls, status, code", [(errors.BlockchainError, 503, "BLOCKCHAIN_ERROR"),
                                               (errors.ProofGenerationError, 500, "PROOF_GENERATION_FAILED")])
def test_support_errors_carry_a_support_id(cls, status, code):
    exc = cls("failed", {"txHash": "0xabc"})
    got_status, body, _ = call(app_raising(exc))
    assert got_status == status and body["error"] == code
    assert body["supportId"] == exc.support_id and body["supportId"].startswith("err_")


def test_unavailable_storage_has_retry_after():
    status, body, headers = call(app_raising(errors.StorageUnavailableError()))
    assert status == 503 and body["error"] == "IPFS_UNAVAILABLE" and body["retryAfter"] == 60
    assert "60" in str(headers.get("Retry-After"))


def test_unexpected_exception_is_500_with_support_id_and_no_traceback(caplog):
    status, body, _ = call(app_raising(KeyError("secret internals")))
    assert status == 500
    assert body["error"] == "INTERNAL_ERROR" and body["supportId"].startswith("err_")
    assert "secret internals" not in json.dumps(body) and "Traceback" not in json.dumps(body)


def test_unknown_route_is_404_with_the_error_body():
    status, body, _ = call(app_raising(Exception()), path="/nowhere")
    assert status == 404 and body["error"] == "NOT_FOUND"


def test_recorded_error_answers_exactly_as_recorded():
    original = errors.BlockchainError("Transaction failed: reverted", {"txHash": "0x1"})
    status, body, _ = call(app_raising(errors.RecordedError(errors.error_record(original))))
    assert status == 503 and body == original.body()


def test_base64_body_is_decoded_and_caller_comes_from_the_authorizer():
    data = bytes(range(256))
    status, body, _ = call(app_raising(Exception()), path="/content/register", method="POST", body=data, headers={"Content-Type": "application/octet-stream"},
                           caller="0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")
    assert status == 200
    assert bytes.fromhex(body["bytes"]) == data and body["caller"].startswith("0xf39F")


def test_missing_authorizer_context_is_401():
    status, body, _ = call(app_raising(Exception()), path="/content/register", method="POST", body=b"x",
                           headers={"Content-Type": "application/octet-stream"})
    assert status == 401 and body["error"] == "UNAUTHORIZED"
