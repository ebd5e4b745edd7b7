"""Completing a multipart upload is idempotent on the server; S3 may take longer than the API's
29 s to assemble a large object (504 while it goes on), so the client retries a 504/502/503 or a
dropped connection, never a refusal."""

from __future__ import annotations

import httpx
import pytest
from zkdm import client as zclient
from zkdm.errors import ApiError

pytestmark = pytest.mark.sdk

API = "http://api.test"
UPLOAD = "u" * 32


def make(answers: list) -> tuple[zclient.Client, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return zclient.Client(API, token="jwt", transport=httpx.MockTransport(handler)), seen


def timed_out() -> httpx.Response:
    return httpx.Response(504, json={"error": "INTERNAL_ERROR", "message": "Endpoint request timed out", "details": {}})


def test_a_gateway_timeout_while_s3_assembles_is_retried(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(zclient.time, "sleep", slept.append)
    api, seen = make([timed_out(), httpx.ConnectError("reset"),
                      httpx.Response(200, json={"uploadId": UPLOAD, "size": 10})])
    done = api.complete_upload(UPLOAD, [(1, '"e1"')])
    assert done.size == 10 and len(seen) == 3 and slept == [15.0, 30.0]
    assert all(r.url.path == f"/content/uploads/{UPLOAD}/complete" for r in seen)


def test_a_refusal_is_not_retried_and_retries_end(monkeypatch):
    monkeypatch.setattr(zclient.time, "sleep", lambda s: None)
    api, seen = make([httpx.Response(409, json={"error": "CONFLICT", "message": "a part is missing", "details": {}})])
    with pytest.raises(ApiError) as refused:
        api.complete_upload(UPLOAD, [(1, '"e1"')])
    assert refused.value.status == 409 and len(seen) == 1
    api, seen = make([timed_out() for _ in range(3)])
    with pytest.raises(ApiError) as gave_up:
        api.complete_upload(UPLOAD, [(1, '"e1"')], retry_waits=(1, 1))
    assert gave_up.value.status == 504 and len(seen) == 3
