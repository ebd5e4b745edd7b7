"""Flows 5 and 6: compliance reports (the licensee), aggregate proofs (the creator), and public
verification of any recorded proof (anyone). Returns plain dicts the routes turn into models.

**Where each figure comes from.** Batch records (``usage.BatchRecords``) are opened by the proofs and
must fold to each license's on-chain chain value, or proving fails (``PROOF_GENERATION_FAILED``);
terms, settled uses, payments and recorded proofs are read from the chain; served uses from the
platform's usage records. A recorded proof is re-read from the chain (``ProofRecorded`` and the
recording transaction's input) and re-verified with py_ecc before it is shown; the result is cached
per proof id.

**Long proofs.** A proof of more chunks than ``sync_max_chunks`` (each ~1 s on 2 cores, measured in
``bench/results/proofs.json``) could outlast API Gateway's 29 s: it becomes a job (202 + Location of
``GET /proof/jobs/{jobId}``) run by the ``proof-jobs`` state machine, whose status shows the stage and
chunks proven of total. A client may also ask for a job with ``Prefer: respond-async``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from marketplace.chain.quota import RelayQuota
from marketplace.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ProofGenerationError,
    ValidationError,
)
from marketplace.proofs import checks as C
from marketplace.proofs.ports import (
    BatchRecordSource,
    ContentInfo,
    LicenseRecords,
    ProofChain,
    ProofEngine,
    ProofStore,
    ReportFiles,
)
from marketplace.shared.timefmt import iso
from marketplace.zk.inputs import BatchRecord, LicenseBatches, fold_chain

log = logging.getLogger(__name__)

CLAIMS = ("totalUses", "totalRevenue", "uniqueLicensees", "dateRange")
PROOF_TYPES = ("aggregate_usage",)
VERIFIED_TTL = 7 * 24 * 3600  # a verification result is kept a week (the chain does not change it)
ZERO_ADDRESS = "0x" + "0" * 40


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _records(items: list[dict[str, Any]]) -> list[BatchRecord]:
    return [BatchRecord(int(i["digest"]), int(i["count"]), int(i["window_start"]), int(i["window_end"]))
            for i in items]


def _timestamp(value: str | date | datetime | None, default: int, field_name: str) -> int:
    """A period bound as unix seconds: a date is its midnight UTC, a naive time is UTC."""
    if value is None:
        return default
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError(f"{field_name} is not an ISO 8601 date or time", {"field": field_name}) from None
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


@dataclass
class Proofs:
    engine: ProofEngine
    chain: ProofChain
    store: ProofStore
    files: ReportFiles
    licenses: LicenseRecords
    batches: BatchRecordSource
    content: ContentInfo
    public_base_url: str
    start_job: Callable[[str], None] | None = None  # starts the proof-jobs state machine for a job id
    sync_max_chunks: int = 8
    report_url_ttl: int = 3600
    clock: Callable[[], float] = time.time
    render_pdf: Callable[[dict[str, Any], bytes], bytes] | None = None
    # the caller's quota of relayed work: recording a new proof on chain is paid by the relayer
    relay_quota: RelayQuota | None = None
    _cids: dict[str, str] = field(default_factory=dict)

    # -- urls -----------------------------------------------------------------------------------

    def verification_url(self, proof_id: str) -> str:
        return f"{self.public_base_url}/verify/{proof_id}"

    def files_url(self, proof_id: str) -> str:
        return f"{self.public_base_url}/verify/proof/{proof_id}/files"

    def _take_quota(self, caller: str, operation: str) -> None:
        """429 past the caller's quota of relayed work (``marketplace.chain.quota``)."""
        if self.relay_quota is not None:
            self.relay_quota.take(caller, operation)

    # -- Flow 5: compliance ---------------------------------------------------------------------

    def _licensee_license(self, caller: str, license_id: str) -> dict[str, Any]:
        lic = self.chain.license(license_id)
        if lic is None:
            raise NotFoundError("No such license", {"licenseId": license_id})
        if lic["licensee"].lower() != caller.lower():
            raise ForbiddenError("Only the licensee can verify this license's compliance", {"licenseId": license_id})
        return lic

    def _known_license(self, license_id: str, block: int | None = None) -> dict[str, Any]:
        """A license the chain lists (a used license, a job's subject): gone means the chain and what
        the proof was built from disagree."""
        lic = self.chain.license(license_id, block=block) if block is not None else self.chain.license(license_id)
        if lic is None:
            raise ProofGenerationError("Unable to generate proof", {"licenseId": license_id,
                                                                    "reason": "license unknown to the chain"})
        return lic

    def _license_records(self, license_id: str, lic: dict[str, Any]) -> list[dict[str, Any]]:
        """The license's batch records, which must fold to its on-chain chain value."""
        items = self.batches.list(license_id)
        if fold_chain(_records(items)) != int(lic["chain"]):
            support = ProofGenerationError("Unable to generate proof", {"licenseId": license_id})
            log.error("batch records disagree with the chain (supportId %s)", support.support_id, extra={
                "supportId": support.support_id, "licenseId": license_id, "records": len(items),
                "recordedUses": sum(int(i["count"]) for i in items), "chainUses": int(lic["uses"])})
            raise support
        return items

    def verify_compliance(self, caller: str, license_id: str, period: dict[str, Any] | None,
                          prefer_async: bool = False) -> tuple[int, dict[str, Any]]:
        """(200, the report) or (202, the job)."""
        license_id = license_id.lower()
        lic = self._licensee_license(caller, license_id)
        period = period or {}
        p_from = _timestamp(period.get("from"), int(lic["validFrom"]), "period.from")
        p_to = _timestamp(period.get("to"), max(int(lic["validFrom"]), min(int(lic["validUntil"]),
                                                                           self.chain.block_time())), "period.to")
        items = self._license_records(license_id, lic)
        served = self.licenses.served(license_id, int(lic["validFrom"]), int(lic["validUntil"]))
        closed = bool(lic["revoked"]) or self.chain.block_time() > int(lic["validUntil"]) + self.chain.settlement_grace()
        # an open-ended period ("to" omitted: up to now) is the same report until the chain state changes
        period_key = [p_from, p_to if period.get("to") else "now"]
        state = _digest("compliance", license_id, period_key, str(lic["chain"]), lic["uses"], lic["revoked"],
                        served, closed)
        cached = self.store.get(f"report#{state}")
        if cached is not None:
            return 200, self._report_answer(cached, cached_hit=True)
        if self.store.get(f"cproof#{license_id}#{int(lic['chain'])}") is None:  # a new proof to record
            self._take_quota(caller, "recordComplianceProof")
        chunks = self._prove(lambda: self.engine.chunk_count("compliance", len(items), 1), {"licenseId": license_id})
        if prefer_async or chunks > self.sync_max_chunks:
            return 202, self._new_job("compliance", caller, license_id,
                                      {"period": {"from": p_from, "to": p_to, "key": period_key}}, chunks)
        return 200, self._report_answer(self._compliance(license_id, p_from, p_to, lic, items, served, state),
                                        cached_hit=False)

    def _compliance(self, license_id: str, p_from: int, p_to: int, lic: dict[str, Any], items: list[dict[str, Any]],
                    served: dict[str, int], state: str, progress=None) -> dict[str, Any]:
        chain_value = int(lic["chain"])
        recorded = self.store.get(f"cproof#{license_id}#{chain_value}")
        if recorded is None:
            chunks = self._prove(lambda: self.engine.prove_compliance(
                _records(items), max_uses=int(lic["maxUses"]), price_per_use=int(lic["pricePerUse"]),
                valid_from=int(lic["validFrom"]), valid_until=int(lic["validUntil"]), chain=chain_value,
                domain=self.chain.domain(), progress=progress), {"licenseId": license_id})
            outputs = self.engine.compliance_outputs(chunks)
            sent = self.chain.record("compliance", license_id, self.engine.call_args("compliance", chunks),
                                     {"licenseId": license_id})
            recorded = {**sent, "outputs": outputs, "chunks": len(chunks)}
            self.store.put(f"cproof#{license_id}#{chain_value}", recorded)
        outputs = recorded["outputs"]
        payments = self.chain.payments(license_id)
        facts = C.Facts(
            max_uses=int(lic["maxUses"]), price_per_use=int(lic["pricePerUse"]), valid_from=int(lic["validFrom"]),
            valid_until=int(lic["validUntil"]), revoked=bool(lic["revoked"]), settled_uses=int(lic["uses"]),
            now=self.chain.block_time(), settlement_grace=self.chain.settlement_grace(), proof=outputs,
            windows=[(int(i["window_start"]), int(i["window_end"])) for i in items],
            paid_uses=sum(int(p["uses"]) for p in payments),
            paid_amount=sum(int(p["creatorAmount"]) + int(p["platformFee"]) for p in payments),
            logged={b["batchId"]: int(b["count"]) for b in self.chain.logged_batches(license_id)},
            paid={p["batchId"]: int(p["uses"]) for p in payments},
            served_uses=int(served["uses"]), served_outside_validity=int(served["outsideValidity"]))
        results = C.evaluate(facts)
        in_period = [i for i in items if int(i["window_end"]) >= p_from and int(i["window_start"]) <= p_to]
        content_id = lic["contentId"]
        now = int(self.clock())
        report = {
            "reportId": "rpt_" + state[:24], "licenseId": license_id, "contentId": content_id,
            "contentTitle": (self.content.get(content_id) or {}).get("title"),
            "period": {"from": iso(p_from), "to": iso(p_to)},
            "terms": {"maxUses": facts.max_uses, "pricePerUse": facts.price_per_use, "validFrom": facts.valid_from,
                      "validUntil": facts.valid_until, "revoked": facts.revoked},
            "compliant": all(c.passed for c in results), "checks": [c.as_dict() for c in results],
            "violations": C.violations(results),
            "totals": {"provenUses": outputs["totalUses"], "totalPaid": outputs["totalPaid"],
                       "paidUses": facts.paid_uses, "paidAmount": facts.paid_amount, "servedUses": facts.served_uses,
                       "periodUses": sum(int(i["count"]) for i in in_period), "periodBatches": len(in_period)},
            "proofCompliant": bool(outputs["compliant"]),
            "proofId": recorded["proofId"], "txHash": recorded["txHash"], "chunks": int(recorded["chunks"]),
            "verificationUrl": self.verification_url(recorded["proofId"]),
            "filesUrl": self.files_url(recorded["proofId"]),
            "linkage": "one chunk" if int(recorded["chunks"]) == 1 else f"{recorded['chunks']} chunks",
            "generatedAt": iso(now), "generatedAtTs": now,
        }
        from marketplace.ipfs import compute_bytes
        from marketplace.proofs import qr

        pdf = (self.render_pdf or _render)(report, qr.png(report["verificationUrl"]))
        cid = compute_bytes(pdf).v1
        key = f"reports/{cid}.pdf"
        self.files.put(key, pdf, "application/pdf")
        report.update(reportCid=cid, reportKey=key, reportBytes=len(pdf))
        self.store.put(f"report#{state}", report)
        return report

    def _report_answer(self, report: dict[str, Any], cached_hit: bool) -> dict[str, Any]:
        return {k: report[k] for k in ("reportId", "compliant", "checks", "violations", "proofId", "txHash",
                                       "reportCid", "verificationUrl", "licenseId", "contentId", "period", "totals")
                } | {"reportUrl": self.files.url(report["reportKey"], self.report_url_ttl), "cached": cached_hit}

    @staticmethod
    def _prove(run: Callable[[], Any], details: dict[str, Any]) -> Any:
        try:
            return run()
        except Exception as exc:
            support = ProofGenerationError("Unable to generate proof", details)
            log.error("proof generation failed (supportId %s)", support.support_id, extra={
                "supportId": support.support_id, **details,
                                                        "cause": type(exc).__name__})
            raise support from exc

    # -- Flow 6: the creator's aggregate proof ----------------------------------------------------

    def generate_aggregate(self, caller: str, content_id: str, proof_type: str, claims: list[str],
                           prefer_async: bool = False) -> tuple[int, dict[str, Any]]:
        content_id = content_id.lower()
        creator = self.chain.creator_of(content_id)
        if creator is None or creator.lower() == ZERO_ADDRESS:
            raise NotFoundError("No such content", {"contentId": content_id})
        if creator.lower() != caller.lower():
            raise ForbiddenError("Only the content's creator can generate its proofs", {"contentId": content_id})
        licenses, total_batches = self._content_licenses(content_id)
        if total_batches == 0:
            raise ConflictError("No proven usage of this content yet: nothing to prove", {"contentId": content_id})
        state = _digest("aggregate", content_id, [(str(lb.chain), lb.price_per_use) for lb in licenses])
        cached = self.store.get(f"aproof#{state}")
        if cached is not None:
            return 200, self._aggregate_answer(cached, claims)
        self._take_quota(caller, "recordAggregateProof")
        chunks = self._prove(lambda: self.engine.chunk_count("aggregate", total_batches, len(licenses)),
                             {"contentId": content_id})
        if prefer_async or chunks > self.sync_max_chunks:
            return 202, self._new_job("aggregate", caller, content_id, {"proofType": proof_type, "claims": claims},
                                      chunks)
        return 200, self._aggregate_answer(self._aggregate(content_id, licenses, state, claims), claims)

    def _content_licenses(self, content_id: str) -> tuple[list[LicenseBatches], int]:
        out, total = [], 0
        for license_id in self.chain.used_licenses(content_id):
            lic = self._known_license(license_id)
            items = self._license_records(license_id, lic)
            out.append(LicenseBatches(_records(items), int(lic["pricePerUse"]), int(lic["chain"])))
            total += len(items)
        return out, total

    def _aggregate(self, content_id: str, licenses: list[LicenseBatches], state: str, claims: list[str],
                   progress=None) -> dict[str, Any]:
        chunks = self._prove(lambda: self.engine.prove_aggregate(licenses, self.chain.domain(), progress=progress),
                             {"contentId": content_id})
        outputs = self.engine.aggregate_outputs(chunks)
        sent = self.chain.record("aggregate", content_id, self.engine.call_args("aggregate", chunks),
                                 {"contentId": content_id})
        recorded = {**sent, "contentId": content_id, "outputs": outputs, "chunks": len(chunks),
                    "claims": claims, "generatedAt": iso(self.clock())}
        self.store.put(f"aproof#{state}", recorded)
        self.store.put(f"claims#{recorded['proofId']}", {"claims": claims})
        return recorded

    def _aggregate_answer(self, recorded: dict[str, Any], claims: list[str]) -> dict[str, Any]:
        pid = recorded["proofId"]
        return {"proofId": pid, "txHash": recorded["txHash"], "contentId": recorded["contentId"],
                "proofType": "aggregate_usage", "claims": claims, "outputs": _shown(recorded["outputs"], claims),
                "chunks": recorded["chunks"], "verificationUrl": self.verification_url(pid),
                "qrCode": {"png": f"{self.files_url(pid)}/qr.png", "svg": f"{self.files_url(pid)}/qr.svg"},
                "filesUrl": self.files_url(pid)}

    # -- jobs -------------------------------------------------------------------------------------

    def _new_job(self, kind: str, owner: str, subject: str, params: dict[str, Any], chunks: int) -> dict[str, Any]:
        if self.start_job is None:
            raise ProofGenerationError("Unable to generate proof", {"reason": "no job runner"})
        job_id = "job_" + secrets.token_hex(10)
        job = {"jobId": job_id, "kind": kind, "owner": owner.lower(), "subject": subject, "params": params,
               "state": "QUEUED", "stage": "queued", "chunksProven": 0, "chunksTotal": chunks,
               "createdAt": iso(self.clock())}
        self.store.create(f"job#{job_id}", job)
        self.start_job(job_id)
        return self._job_view(job)

    def _job_view(self, job: dict[str, Any]) -> dict[str, Any]:
        view = {k: job[k] for k in ("jobId", "kind", "state", "stage", "chunksProven", "chunksTotal", "createdAt")}
        view["location"] = f"/proof/jobs/{job['jobId']}"
        if job.get("result") is not None:
            view["result"] = job["result"]
        if job.get("error") is not None:
            view["error"] = job["error"]
        return view

    def job(self, caller: str, job_id: str) -> dict[str, Any]:
        job = self.store.get(f"job#{job_id}")
        if job is None:
            raise NotFoundError("No such job", {"jobId": job_id})
        if job["owner"] != caller.lower():
            raise ForbiddenError("Not your job", {"jobId": job_id})
        return self._job_view(job)

    def run_job(self, job_id: str) -> dict[str, Any]:
        """The proof-jobs state machine's task: prove, record, report; progress in the job item."""
        job = self.store.get(f"job#{job_id}")
        if job is None:
            raise NotFoundError("No such job", {"jobId": job_id})
        key = f"job#{job_id}"

        def progress(done: int, total: int) -> None:
            self.store.update(key, {"chunksProven": done, "chunksTotal": total})

        self.store.update(key, {"state": "RUNNING", "stage": "proving"})
        subject = job["subject"]
        if job["kind"] == "compliance":
            lic = self._known_license(subject)
            items = self._license_records(subject, lic)
            served = self.licenses.served(subject, int(lic["validFrom"]), int(lic["validUntil"]))
            p = job["params"]["period"]
            closed = bool(lic["revoked"]) or self.chain.block_time() > int(lic["validUntil"]) + self.chain.settlement_grace()
            state = _digest("compliance", subject, p["key"], str(lic["chain"]), lic["uses"], lic["revoked"], served,
                            closed)
            report = self._compliance(subject, int(p["from"]), int(p["to"]), lic, items, served, state, progress)
            result = self._report_answer(report, cached_hit=False)
            result.pop("reportUrl")  # presigned per request: GET the job for a fresh one
            result["reportKey"] = report["reportKey"]
            chunks = int(report["chunks"])
        else:
            licenses, _ = self._content_licenses(subject)
            state = _digest("aggregate", subject, [(str(lb.chain), lb.price_per_use) for lb in licenses])
            claims = job["params"]["claims"]
            result = self._aggregate_answer(self._aggregate(subject, licenses, state, claims, progress), claims)
            chunks = int(result["chunks"])
        # (a proof already recorded for this chain state is reused: its chunks count as proven)
        self.store.update(key, {"state": "SUCCEEDED", "stage": "done", "result": result, "chunksProven": chunks,
                                "chunksTotal": chunks})
        return result

    def job_failed(self, job_id: str, error: str) -> dict[str, Any]:
        support = ProofGenerationError("Unable to generate proof")
        log.error("proof job failed (supportId %s)", support.support_id,
                  extra={"supportId": support.support_id, "jobId": job_id, "cause": error})
        self.store.update(f"job#{job_id}", {"state": "FAILED", "stage": "failed", "error": support.body()})
        return support.body()

    def job_with_fresh_url(self, caller: str, job_id: str) -> dict[str, Any]:
        view = self.job(caller, job_id)
        result = view.get("result")
        if result and result.get("reportKey"):
            result = dict(result)
            result["reportUrl"] = self.files.url(result.pop("reportKey"), self.report_url_ttl)
            view["result"] = result
        return view

    # -- public verification ----------------------------------------------------------------------

    def verified(self, proof_id: str) -> dict[str, Any]:
        """The recorded proof, read from the chain and re-verified (cached per proof id)."""
        proof_id = proof_id.lower()
        cached = self.store.get(f"verified#{proof_id}")
        if cached is None:
            cached = self._verify_from_chain(proof_id)
            self.store.put(f"verified#{proof_id}", cached, ttl=int(self.clock()) + VERIFIED_TTL)
            cached["cached"] = False
        else:
            cached["cached"] = True
        cached["confirmations"] = max(0, self.chain.head() - int(cached["blockNumber"]) + 1)
        return cached

    def _verify_from_chain(self, proof_id: str) -> dict[str, Any]:
        rec = self.chain.proof_record(proof_id)
        if rec is None:
            raise NotFoundError("No such proof", {"proofId": proof_id})
        kind, subject, block = rec["kind"], rec["subject"], int(rec["blockNumber"])
        chunks = self.engine.chunks_from_call(kind, rec["args"], rec["publicSignals"])
        domain = self.chain.domain()
        if kind == "compliance":
            lic = self.chain.license(subject, block=block) or {}
            context: dict[str, Any] = {"chain": int(lic.get("chain", 0)), "maxUses": int(lic.get("maxUses", 0)),
                       "pricePerUse": int(lic.get("pricePerUse", 0)), "validFrom": int(lic.get("validFrom", 0)),
                       "validUntil": int(lic.get("validUntil", 0)), "domain": domain}
            outputs = self.engine.compliance_outputs(chunks)
            content_id = lic.get("contentId")
            subject_context = {"maxUses": context["maxUses"], "pricePerUse": context["pricePerUse"],
                               "validFrom": context["validFrom"], "validUntil": context["validUntil"]}
        else:
            ids = self.chain.used_licenses(subject, block=block)
            lics = [self.chain.license(i, block=block) or {} for i in ids]  # unknown: does not verify
            context = {"chains": [int(lic.get("chain", 0)) for lic in lics],
                       "prices": [int(lic.get("pricePerUse", 0)) for lic in lics],
                       "domain": domain}
            outputs = self.engine.aggregate_outputs(chunks)
            content_id = subject
            subject_context = {"licenses": len(ids)}
        # a verification that could not run (an exception) raises and is not cached; False is an answer
        valid = self.engine.verify(kind, chunks, context)
        info = self.content.get(content_id) if content_id else None
        claims = (self.store.get(f"claims#{proof_id}") or {}).get("claims") or list(CLAIMS)
        return {
            "proofId": proof_id, "kind": kind, "subject": subject, "contentId": content_id,
            "content": {"contentId": content_id, "title": (info or {}).get("title"),
                        "creator": self.chain.creator_of(content_id) if content_id else None},
            "valid": bool(valid), "outputs": outputs, "claims": claims, "context": subject_context,
            "txHash": rec["txHash"], "blockNumber": block, "recordedAt": iso(int(rec["recordedAt"])),
            "chunks": [{"circuit": c.circuit, "proof": c.proof.to_snarkjs(),
                        "publicSignals": [str(s) for s in c.public_signals]} for c in chunks],
        }

    def public_view(self, proof_id: str) -> dict[str, Any]:
        v = self.verified(proof_id)
        files = self.files_url(v["proofId"])
        names = ["verification_key.json"] + [n for i in range(len(v["chunks"]))
                                             for n in (f"proof-{i}.json", f"public-{i}.json")]
        return {"proofId": v["proofId"], "kind": v["kind"], "subject": v["subject"], "verified": v["valid"],
                "outputs": v["outputs"] if v["kind"] == "compliance" else _shown(v["outputs"], v["claims"]),
                "claims": v["claims"], "txHash": v["txHash"], "blockNumber": v["blockNumber"],
                "recordedAt": v["recordedAt"], "confirmations": v["confirmations"], "content": v["content"],
                "chunks": len(v["chunks"]), "cached": v["cached"], "verificationUrl": self.verification_url(v["proofId"]),
                "files": {n: f"{files}/{n}" for n in names + ["qr.png", "qr.svg"]},
                "howToVerify": how_to_verify(files, len(v["chunks"]), v["kind"])}

    def file(self, proof_id: str, name: str) -> tuple[str | bytes, str]:
        """A published file: (content, media type)."""
        from marketplace.proofs import qr

        v = self.verified(proof_id)
        if name == "qr.png":
            return qr.png(self.verification_url(v["proofId"])), "image/png"
        if name == "qr.svg":
            return qr.svg(self.verification_url(v["proofId"])), "image/svg+xml"
        if name == "verification_key.json":
            return verification_key(v["chunks"][0]["circuit"]), "application/json"
        for i, c in enumerate(v["chunks"]):
            if name == f"proof-{i}.json":
                return json.dumps(c["proof"], indent=1), "application/json"
            if name == f"public-{i}.json":
                return json.dumps(c["publicSignals"], indent=1), "application/json"
        raise NotFoundError("No such file of this proof", {"name": name})


def _shown(outputs: dict[str, int], claims: list[str]) -> dict[str, int]:
    keys = {"dateRange": ("fromTs", "toTs")}
    out: dict[str, int] = {}
    for c in claims:
        for k in keys.get(c, (c,)):
            if k in outputs:
                out[k] = outputs[k]
    return out


LINKAGE = ("the chunks are one proof when chunk 0's stateIn is 0, each next chunk's stateIn is the previous "
           "chunk's stateOut (a salted commitment to the running totals), only the last chunk is final, and every "
           "chunk carries the on-chain values it was checked against (compliance: the license's chain value, "
           "maxUses, pricePerUse, validity and the domain; aggregate: its window of the used licenses' chains and "
           "prices, and the domain). The last chunk reveals the totals.")


def how_to_verify(files_url: str, chunks: int, kind: str = "") -> list[str]:
    steps = [f"B={files_url}", "curl -sO $B/verification_key.json"]
    for i in range(chunks):
        steps += [f"curl -sO $B/proof-{i}.json", f"curl -sO $B/public-{i}.json",
                  f"npx snarkjs groth16 verify verification_key.json public-{i}.json proof-{i}.json"]
    return steps


def verification_key(circuit: str) -> str:
    from marketplace.zk import load_circuit

    return (load_circuit(circuit).directory / "verification_key.json").read_text()


def _render(report: dict[str, Any], qr_png: bytes) -> bytes:
    from marketplace.proofs.report import render

    return render(report, qr_png)
