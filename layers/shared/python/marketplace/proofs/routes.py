"""Flows 5 and 6 over HTTP (function ``proofs-api``): compliance reports, the creator's aggregate
proofs, their jobs, and the public verification JSON, files and page (``services.Proofs``)."""

from __future__ import annotations

import functools
import re

from marketplace import config
from marketplace.chain.quota import RELAY_QUOTA_EXCEEDED
from marketplace.errors import NotFoundError
from marketplace.kit.http import Api, Media, caller, document, reply
from marketplace.proofs.schemas import (
    ComplianceReportView,
    ComplianceRequest,
    GenerateRequest,
    JobView,
    ProofGeneratedView,
    PublicProofView,
)
from marketplace.proofs.services import Proofs

api = Api("proofs-api")

_HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
_JOB = re.compile(r"^job_[0-9a-f]{20}$")
_FILE = re.compile(r"^(verification_key\.json|proof-\d{1,6}\.json|public-\d{1,6}\.json|qr\.png|qr\.svg)$")
_FAILED = "PROOF_GENERATION_FAILED: Unable to generate proof (supportId; the records disagree with the chain, " \
          "or the prover failed)"
_CHAIN = "BLOCKCHAIN_ERROR: the chain could not be read or the proof not recorded (supportId)"


@functools.cache
def proofs() -> Proofs:
    from marketplace.proofs.adapters import StepFunctionsJobs
    from marketplace.proofs.wiring import build

    cfg = config.load(config.ProofsApiConfig)
    return build(cfg, start_job=StepFunctionsJobs(cfg.proof_jobs_arn), sync_max_chunks=cfg.sync_max_chunks,
                 relay_quota=cfg.relay_quota())


def _prefer_async() -> bool:
    prefer = api.current_event.headers.get("Prefer") or ""  # case-insensitive
    return "respond-async" in prefer.lower()


def _answer(status: int, body: dict, model):
    if status == 202:
        view = JobView(**body)
        return reply(202, view, {"Location": view.location})
    return model(**body)


@api.operation("POST", "/compliance/verify",
               "Flow 5: check a license's compliance (uses within maxUses, inside the validity, every use paid), "
               "prove it over the license's proven batches, record the proof on chain and return a PDF report",
               ok={200: ("the report (a non-compliant license too: compliant false and its violations)",
                         ComplianceReportView),
                   202: ("a long proof: its job (Location), GET it for progress and the report", JobView)},
               headers={202: ("Location",)},
               errors={403: "FORBIDDEN: only the licensee", 404: "NOT_FOUND: no such license",
                       429: RELAY_QUOTA_EXCEEDED, 500: _FAILED, 503: _CHAIN})
def verify_compliance(req: ComplianceRequest):
    period = None if req.period is None else {"from": req.period.from_, "to": req.period.to}
    status, body = proofs().verify_compliance(caller(api), req.licenseId, period, _prefer_async())
    return _answer(status, body, ComplianceReportView)


@api.operation("POST", "/creator/proof/generate",
               "Flow 6: an aggregate proof of a content item's usage (total uses, revenue, licensees with uses, date "
               "range) over every proven batch of all its licenses, recorded on chain, with its verification link "
               "and QR code",
               ok={200: ("the recorded proof", ProofGeneratedView),
                   202: ("a long proof: its job (Location), GET it for progress and the proof", JobView)},
               headers={202: ("Location",)},
               errors={403: "FORBIDDEN: only the content's creator", 404: "NOT_FOUND: no such content",
                       409: "CONFLICT: no proven usage yet", 429: RELAY_QUOTA_EXCEEDED, 500: _FAILED,
                       503: _CHAIN})
def generate(req: GenerateRequest):
    status, body = proofs().generate_aggregate(caller(api), req.contentId, req.proofType, list(req.claims),
                                               _prefer_async())
    return _answer(status, body, ProofGeneratedView)


@api.operation("GET", "/proof/jobs/{jobId}", "A proof job's progress (stage, chunks proven of total) and result",
               ok={200: ("the job", JobView)}, errors={403: "FORBIDDEN: not your job", 404: "NOT_FOUND: no such job"})
def job(jobId: str):
    if not _JOB.match(jobId):  # (never a lookup of an arbitrary key)
        raise NotFoundError("No such job", {"jobId": jobId[:64]})
    return JobView(**proofs().job_with_fresh_url(caller(api), jobId))


def _proof_id(value: str) -> str:
    if not _HEX32.match(value):
        raise NotFoundError("No such proof", {"proofId": value[:80]})
    return value.lower()


@api.operation("GET", "/verify/proof/{proofId}",
               "Public: a recorded proof read from the chain (ProofRecorded and its transaction's input), "
               "re-verified with py_ecc, its outputs, confirmations, content and the snarkjs files",
               ok={200: ("the proof and whether it verifies", PublicProofView)},
               errors={404: "NOT_FOUND: no such proof", 503: _CHAIN})
def public_proof(proofId: str):
    return PublicProofView(**proofs().public_view(_proof_id(proofId)))


@api.operation("GET", "/verify/proof/{proofId}/files/{name}",
               "Public: a proof's files for snarkjs (verification_key.json, proof-<i>.json, public-<i>.json) and "
               "its QR code (qr.png, qr.svg)",
               ok={200: ("the file", Media("application/json", "image/png", "image/svg+xml"))},
               errors={404: "NOT_FOUND: no such proof or file", 503: _CHAIN})
def proof_file(proofId: str, name: str):
    if not _FILE.match(name):
        raise NotFoundError("No such file of this proof", {"name": name[:80]})
    content, media = proofs().file(_proof_id(proofId), name)
    return document(200, content, media, {"Cache-Control": "public, max-age=300"})


@api.operation("GET", "/verify/{proofId}",
               "Public: the verification page (HTML, no JavaScript) people open from the QR code",
               ok={200: ("the page", Media("text/html")), 404: ("the not-found page", Media("text/html"))},
               errors={503: _CHAIN})
def page(proofId: str):
    from marketplace.proofs import page as html
    from marketplace.proofs import qr

    try:
        view = proofs().public_view(_proof_id(proofId))
    except NotFoundError:
        return document(404, html.not_found(proofId[:80]), "text/html")
    return document(200, html.render(view, qr.svg(view["verificationUrl"])), "text/html",
                    {"Cache-Control": "no-cache"})
