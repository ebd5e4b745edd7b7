"""marketplace.api: the one mapping from exceptions to responses, with the spec's error body."""

from __future__ import annotations

import json

import pytest
from aws_lambda_powertools import Logger
from marketplace import errors
from marketplace.api import caller, make_app, raw_body

from tests.events import api_event

pytestmark = pytest.mark.unit


class _Context:
    function_name = "test"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "req-1"


def app_raising(exc: Exception):
    app = make_app(Logger(service="test"))

    @app.get("/boom")
    def boom():
        raise exc

    @app.post("/echo")
    def echo():
        return {"bytes": raw_body(app).hex(), "caller": caller(app)}

    return app


def call(app, path="/boom", method="GET", **kwargs):
    out = app.resolve(api_event(method, path, **kwargs), _Context())
    return out["statusCode"], json.loads(out["body"]), out.get("multiValueHeaders") or out.get("headers")


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
    status, body, _ = call(app_raising(Exception()), path="/echo", method="POST", body=data,
                           caller="0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")
    assert status == 200
    assert bytes.fromhex(body["bytes"]) == data and body["caller"].startswith("0xf39F")


def test_missing_authorizer_context_is_401():
    status, body, _ = call(app_raising(Exception()), path="/echo", method="POST", body=b"x")
    assert status == 401 and body["error"] == "UNAUTHORIZED"
