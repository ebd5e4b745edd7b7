"""The proofs API's routes through the HTTP kit (function proofs-api) over the in-memory world of
``test_proofs_service``: status codes and bodies, 202 + Location, validation, the HTML page (and
its 404 page), the published files and their media types, Error Flow 4's body."""

from __future__ import annotations

import base64
import json

import pytest
from marketplace.kit.http import HttpFunction
from marketplace.proofs import routes

from local.lambdas import LambdaContext
from tests.events import api_event
from tests.support.proofs_fakes import BUYER, CID, CREATOR, LIC_OK, world

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def app():
    svc, chain, _jobs = world()
    patch = pytest.MonkeyPatch()
    patch.setattr(routes, "proofs", lambda: svc)
    yield HttpFunction(routes.api).handler, svc, chain
    patch.undo()


def call(handler, method, path, resource, body=None, caller=None, headers=None):
    event = api_event(method, path, body=body, caller=caller, resource=resource, headers=headers)
    out = handler(event, LambdaContext("proofs-api"))
    headers = {k.lower(): (v[0] if isinstance(v, list) else v)
               for k, v in {**(out.get("multiValueHeaders") or {}), **(out.get("headers") or {})}.items()}
    raw = base64.b64decode(out["body"]) if out.get("isBase64Encoded") else out["body"]
    return out["statusCode"], headers, raw


def test_compliance_report_then_public_json_page_and_files(app):
    handler, _svc, _ = app
    status, _, raw = call(handler, "POST", "/compliance/verify", "/compliance/verify",
                          {"licenseId": LIC_OK.upper().replace("0X", "0x"), "period": {"from": "2030-03-17"}}, BUYER)
    assert status == 200, raw
    report = json.loads(raw)
    assert report["compliant"] is True and report["reportUrl"].startswith("memory://reports/reports/")
    pid = report["proofId"]

    status, _, raw = call(handler, "GET", f"/verify/proof/{pid}", "/verify/proof/{proofId}")
    view = json.loads(raw)
    assert status == 200 and view["verified"] is True and view["kind"] == "compliance"
    assert view["files"]["proof-0.json"].endswith(f"/verify/proof/{pid}/files/proof-0.json")

    status, headers, raw = call(handler, "GET", f"/verify/{pid}", "/verify/{proofId}")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert '<meta name="viewport"' in raw and "Verified" in raw and "<script" not in raw and "http" not in raw.split(
        "<body>")[0].replace("http-equiv", "")  # no external resource in the head

    status, headers, raw = call(handler, "GET", f"/verify/proof/{pid}/files/qr.png", "/verify/proof/{proofId}/files/{name}")
    assert status == 200 and headers["content-type"] == "image/png" and raw.startswith(b"\x89PNG")
    status, headers, raw = call(handler, "GET", f"/verify/proof/{pid}/files/verification_key.json",
                                "/verify/proof/{proofId}/files/{name}")
    assert status == 200 and json.loads(raw)["protocol"] == "groth16"
    status, _, _ = call(handler, "GET", f"/verify/proof/{pid}/files/..%2Fsecret", "/verify/proof/{proofId}/files/{name}")
    assert status == 404


def test_unknown_proofs_are_404_json_and_a_404_page(app):
    handler, _, _ = app
    status, headers, raw = call(handler, "GET", "/verify/" + "0x" + "ab" * 32, "/verify/{proofId}")
    assert status == 404 and headers["content-type"].startswith("text/html") and "Proof not found" in raw
    status, _, raw = call(handler, "GET", "/verify/not-a-proof", "/verify/{proofId}")
    assert status == 404 and "Proof not found" in raw
    status, _, raw = call(handler, "GET", "/verify/proof/0x12", "/verify/proof/{proofId}")
    assert status == 404 and json.loads(raw)["error"] == "NOT_FOUND"
    status, _, raw = call(handler, "GET", "/proof/jobs/" + "x" * 3000, "/proof/jobs/{jobId}", caller=BUYER)
    assert status == 404 and len(raw) < 500


def test_generate_validates_and_answers_the_proof_or_a_job(app):
    handler, _, _ = app
    for body in ({"contentId": CID, "claims": []}, {"contentId": CID, "claims": ["totalUses", "totalUses"]},
                 {"contentId": CID, "proofType": "everything"}, {"contentId": CID, "claims": ["secrets"]}):
        status, _, raw = call(handler, "POST", "/creator/proof/generate", "/creator/proof/generate", body, CREATOR)
        assert status == 422 and json.loads(raw)["error"] == "VALIDATION_ERROR", body
    status, _, raw = call(handler, "POST", "/creator/proof/generate", "/creator/proof/generate", {"contentId": CID},
                          BUYER)
    assert status == 403
    status, headers, raw = call(handler, "POST", "/creator/proof/generate", "/creator/proof/generate",
                                {"contentId": CID, "claims": ["totalUses"]}, CREATOR, {"Prefer": "respond-async"})
    job = json.loads(raw)
    assert status == 202 and headers["location"] == f"/proof/jobs/{job['jobId']}" and job["state"] == "QUEUED"
    status, _, raw = call(handler, "GET", f"/proof/jobs/{job['jobId']}", "/proof/jobs/{jobId}", caller=CREATOR)
    assert status == 200 and json.loads(raw)["chunksTotal"] == 1
    status, _, raw = call(handler, "POST", "/creator/proof/generate", "/creator/proof/generate",
                          {"contentId": CID, "claims": ["totalUses", "uniqueLicensees"]}, CREATOR)
    proof = json.loads(raw)
    assert status == 200 and set(proof["outputs"]) == {"totalUses", "uniqueLicensees"}


def test_a_proof_that_cannot_be_generated_is_the_spec_500(app):
    handler, _, chain = app
    chain.licenses[LIC_OK]["chain"] += 1  # the batch records no longer fold to the chain
    try:
        status, _, raw = call(handler, "POST", "/compliance/verify", "/compliance/verify",
                              {"licenseId": LIC_OK, "period": {"from": "2030-01-01", "to": "2030-02-01"}}, BUYER)
    finally:
        chain.licenses[LIC_OK]["chain"] -= 1
    body = json.loads(raw)
    assert status == 500 and body["error"] == "PROOF_GENERATION_FAILED" and body["message"] == "Unable to generate proof"
    assert body["supportId"].startswith("err_")


def test_period_and_license_are_validated(app):
    handler, _, _ = app
    for body in ({"licenseId": "0x12"}, {"licenseId": LIC_OK, "period": {"from": "yesterday"}},
                 {"licenseId": LIC_OK, "period": {"from": "2030-02-30"}}, {"licenseId": LIC_OK, "period": {"to": 0}},
                 {"licenseId": LIC_OK, "extra": 1}):
        status, _, raw = call(handler, "POST", "/compliance/verify", "/compliance/verify", body, BUYER)
        assert status == 422, body
    # a schema-valid period that ends before it starts is a report listing no batch, not an error
    status, _, raw = call(handler, "POST", "/compliance/verify", "/compliance/verify",
                          {"licenseId": LIC_OK, "period": {"from": "2030-03-01T00:00:00Z", "to": "2030-02-01"}}, BUYER)
    report = json.loads(raw)
    assert status == 200 and report["totals"]["periodUses"] == 0 and report["totals"]["provenUses"] == 7
