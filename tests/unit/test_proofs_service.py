"""Flows 5 and 6's services over an in-memory chain and stores, with real Groth16 proofs (the
single-chunk engine): the three compliance checks and where each comes from, a non-compliant
license's report, the PDF, caching, the creator's aggregate proof, public re-verification, jobs,
PROOF_GENERATION_FAILED, and privacy (no licensee address, no use's time anywhere public)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from marketplace.errors import ConflictError, ForbiddenError, NotFoundError, ProofGenerationError

from tests.support.proofs_fakes import (
    BUYER,
    CID,
    CREATOR,
    LIC_OK,
    LIC_REVOKED,
    MAX_USES,
    OTHER,
    PRICE,
    SERVED_TIMES,
    VALID_FROM,
    VALID_UNTIL,
    world,
)

pytestmark = pytest.mark.unit



@pytest.fixture(scope="module")
def w():
    return world()


def pdf_text(pdf: bytes, tmp_path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_a_compliant_license_passes_each_check_with_its_sources_and_a_pdf(w, tmp_path):
    svc, _chain, _ = w
    status, r = svc.verify_compliance(BUYER, LIC_OK, {"from": "2030-03-17", "to": None})
    assert status == 200 and r["compliant"] is True and r["violations"] == []
    checks = {c["name"]: c for c in r["checks"]}
    assert set(checks) == {"usage_limit", "validity", "payment"} and all(c["passed"] for c in checks.values())
    assert checks["usage_limit"]["figures"] == {"provenUses": 7, "servedUses": 7, "maxUses": MAX_USES}
    assert any(s.startswith("proof:") for s in checks["payment"]["sources"])
    assert r["totals"]["provenUses"] == 7 and r["totals"]["totalPaid"] == 7 * PRICE
    assert r["verificationUrl"] == f"https://market.example/verify/{r['proofId']}"
    pdf, media = svc.files.objects[f"reports/{r['reportCid']}.pdf"]
    assert media == "application/pdf" and pdf.startswith(b"%PDF")
    from marketplace.ipfs import compute_bytes

    assert compute_bytes(pdf).v1 == r["reportCid"]  # stored under its content address
    text = pdf_text(pdf, tmp_path)
    for needle in ("COMPLIANT", LIC_OK, CID, "Street scenes", "[PASS] Usage within maxUses", "[PASS] Every use paid",
                   r["proofId"], r["txHash"], r["verificationUrl"], "snarkjs groth16 verify"):
        assert needle in text, needle


def test_the_same_license_period_and_chain_state_returns_the_cached_report(w):
    svc, chain, _ = w
    sent = chain.sent
    _, first = svc.verify_compliance(BUYER, LIC_OK, {"from": "2030-03-17", "to": None})
    status, again = svc.verify_compliance(BUYER, LIC_OK, {"from": "2030-03-17", "to": None})
    assert status == 200 and again["cached"] is True and again["reportId"] == first["reportId"]
    assert chain.sent == sent  # nothing proved or recorded again
    _, other_period = svc.verify_compliance(BUYER, LIC_OK, {"from": "2030-03-18", "to": None})
    assert other_period["reportId"] != first["reportId"] and other_period["proofId"] == first["proofId"]
    assert chain.sent == sent  # same chain state: the recorded proof is reused
    _, open_ended = svc.verify_compliance(BUYER, LIC_OK, None)
    chain.now += 600  # blocks go by (the recording transaction's, others'): the chain state of the license is unchanged
    assert svc.verify_compliance(BUYER, LIC_OK, None)[1]["reportId"] == open_ended["reportId"]
    chain.now -= 600


def test_a_revoked_license_with_unpaid_signed_uses_is_non_compliant_not_an_error(w, tmp_path):
    svc, _, _ = w
    status, r = svc.verify_compliance(BUYER, LIC_REVOKED, None)
    assert status == 200 and r["compliant"] is False
    checks = {c["name"]: c for c in r["checks"]}
    assert checks["usage_limit"]["passed"] and checks["validity"]["passed"]  # over proven batches: by construction
    assert not checks["payment"]["passed"] and checks["payment"]["figures"]["unpaidUses"] == 7
    assert len(r["violations"]) == 1 and "7 uses served and signed were never paid" in r["violations"][0]
    pdf, _ = svc.files.objects[f"reports/{r['reportCid']}.pdf"]
    text = pdf_text(pdf, tmp_path)
    assert "NON-COMPLIANT" in text and "[FAIL] Every use paid" in text and "Violations" in text


def test_pending_unpaid_uses_of_a_live_license_are_not_a_violation():
    svc, chain, _ = world()
    svc.licenses.served_times[LIC_OK] = SERVED_TIMES[:9]  # 2 more served, waiting for the next batch
    _, r = svc.verify_compliance(BUYER, LIC_OK, None)
    payment = next(c for c in r["checks"] if c["name"] == "payment")
    assert r["compliant"] and payment["figures"]["pendingUses"] == 2 and "pending settlement" in payment["detail"]
    chain.now = VALID_UNTIL + chain.grace + 1  # expired past the grace: they can never be paid now
    _, r = svc.verify_compliance(BUYER, LIC_OK, None)
    assert not r["compliant"] and "expired past the settlement grace" in r["violations"][0]


def test_a_logged_batch_without_its_payment_fails_the_payment_check():
    svc, chain, _ = world()
    chain.paid[LIC_OK][1] = {**chain.paid[LIC_OK][1], "batchId": "0x" + "99" * 32}  # paid under another batch id
    _, r = svc.verify_compliance(BUYER, LIC_OK, None)
    payment = next(c for c in r["checks"] if c["name"] == "payment")
    assert not r["compliant"] and not payment["passed"] and "1 logged batches without their payment" in payment["detail"]
    assert payment["figures"]["loggedBatches"] == 2 and payment["figures"]["paidBatches"] == 1


def test_only_the_licensee_and_only_a_known_license(w):
    svc, _, _ = w
    with pytest.raises(ForbiddenError):
        svc.verify_compliance(OTHER, LIC_OK, None)
    with pytest.raises(NotFoundError):
        svc.verify_compliance(BUYER, "0x" + "99" * 32, None)


def test_records_that_disagree_with_the_chain_fail_with_proof_generation_failed(caplog):
    svc, chain, _ = world()
    chain.licenses[LIC_OK]["chain"] += 1  # the chain moved on (or a record was lost)
    with pytest.raises(ProofGenerationError) as err:
        svc.verify_compliance(BUYER, LIC_OK, None)
    body = err.value.body()
    assert err.value.status == 500 and body["error"] == "PROOF_GENERATION_FAILED"
    assert body["message"] == "Unable to generate proof" and body["supportId"].startswith("err_")
    assert body["supportId"] in caplog.text


def test_the_creators_aggregate_proof_is_recorded_and_verifies_from_the_chain(w):
    svc, chain, _ = w
    with pytest.raises(ForbiddenError):
        svc.generate_aggregate(BUYER, CID, "aggregate_usage", ["totalUses"])
    with pytest.raises(NotFoundError):
        svc.generate_aggregate(CREATOR, "0x" + "dd" * 32, "aggregate_usage", ["totalUses"])
    status, p = svc.generate_aggregate(CREATOR, CID, "aggregate_usage", ["totalUses", "dateRange"])
    assert status == 200 and p["outputs"] == {"totalUses": 9, "fromTs": VALID_FROM + 3_600, "toTs": VALID_FROM + 4 * 3_600}
    assert p["qrCode"]["png"].endswith(f"/verify/proof/{p['proofId']}/files/qr.png")
    view = svc.public_view(p["proofId"])
    assert view["verified"] is True and view["cached"] is False and view["kind"] == "aggregate"
    assert view["outputs"] == p["outputs"] and view["content"] == {"contentId": CID, "title": "Street scenes",
                                                                  "creator": CREATOR}
    assert svc.public_view(p["proofId"])["cached"] is True
    pub = json.loads(svc.file(p["proofId"], "public-0.json")[0])
    assert pub[1:4] == ["9", str(9 * PRICE), "2"]  # [stateOut, totalUses, totalRevenue, uniqueLicensees, ...]
    png, media = svc.file(p["proofId"], "qr.png")
    assert media == "image/png" and png.startswith(b"\x89PNG")
    with pytest.raises(NotFoundError):
        svc.public_view("0x" + "ab" * 32)
    # the same state again: the recorded proof, not a second one
    sent = chain.sent
    assert svc.generate_aggregate(CREATOR, CID, "aggregate_usage", ["totalUses"])[1]["proofId"] == p["proofId"]
    assert chain.sent == sent


def test_a_changed_public_output_does_not_verify(w):
    svc, chain, _ = w
    _, r = svc.verify_compliance(BUYER, LIC_OK, None)
    rec = chain.proofs[r["proofId"]]
    chunks = svc.engine.chunks_from_call("compliance", rec["args"], rec["publicSignals"])
    lic = chain.licenses[LIC_OK]
    context = {"chain": lic["chain"], "maxUses": MAX_USES, "pricePerUse": PRICE, "validFrom": VALID_FROM,
               "validUntil": VALID_UNTIL, "domain": chain.domain()}
    assert svc.engine.verify("compliance", chunks, context)
    chunks[-1].public_signals[1] += 1  # one more use claimed (totalUses)
    assert not svc.engine.verify("compliance", chunks, context)
    assert not svc.engine.verify("compliance", svc.engine.chunks_from_call("compliance", rec["args"],
                                                                          rec["publicSignals"]),
                                 {**context, "maxUses": MAX_USES + 1})


def test_a_long_proof_is_a_job_with_progress(w):
    svc, _chain, jobs = w
    status, job = svc.verify_compliance(BUYER, LIC_REVOKED, {"from": "2030-03-20"}, prefer_async=True)
    assert status == 202 and job["state"] == "QUEUED" and job["location"] == f"/proof/jobs/{job['jobId']}"
    assert jobs == [job["jobId"]]
    with pytest.raises(ForbiddenError):
        svc.job(CREATOR, job["jobId"])
    svc.run_job(job["jobId"])
    done = svc.job_with_fresh_url(BUYER, job["jobId"])
    assert done["state"] == "SUCCEEDED" and done["chunksProven"] == done["chunksTotal"] == 1
    assert done["result"]["compliant"] is False and done["result"]["reportUrl"].startswith("memory://")


def test_nothing_proven_is_a_conflict():
    svc, chain, _ = world()
    chain.creators["0x" + "ee" * 32] = CREATOR
    with pytest.raises(ConflictError):
        svc.generate_aggregate(CREATOR, "0x" + "ee" * 32, "aggregate_usage", ["totalUses"])


def test_no_proof_signal_or_report_shows_a_licensee_address_or_a_use_time(w, tmp_path):
    svc, chain, _ = w
    _, report = svc.verify_compliance(BUYER, LIC_REVOKED, None)
    _, agg = svc.generate_aggregate(CREATOR, CID, "aggregate_usage", ["totalUses", "totalRevenue",
                                                                       "uniqueLicensees", "dateRange"])
    public = []
    for pid in (report["proofId"], agg["proofId"]):
        view = svc.public_view(pid)
        public.append(json.dumps(view))
        public += [json.dumps(chain.proofs[pid]["publicSignals"])]
        for i in range(view["chunks"]):
            public += [svc.file(pid, f"proof-{i}.json")[0], svc.file(pid, f"public-{i}.json")[0]]
    public.append(json.dumps(report))
    for (pdf, _) in svc.files.objects.values():
        public.append(pdf_text(pdf, tmp_path))
    blob = "\n".join(public).lower()
    buyer_as_int = str(int(BUYER, 16))
    assert BUYER[2:] not in blob and buyer_as_int not in blob
    for t in SERVED_TIMES:
        assert str(t) not in blob
        from marketplace.shared.timefmt import iso

        assert iso(t) not in blob.upper()


def test_recording_a_new_proof_takes_the_callers_relay_quota_and_a_recorded_one_does_not():
    from marketplace.chain.quota import RelayQuota, RelayQuotaSettings
    from marketplace.errors import RateLimitedError
    from marketplace.shared.memory import MemoryWindowCounter

    svc, chain, _ = world()
    svc.relay_quota = RelayQuota(MemoryWindowCounter(), RelayQuotaSettings(limit=1, window_seconds=3600),
                                 clock=lambda: chain.now)
    status, first = svc.verify_compliance(BUYER, LIC_OK, None)  # recorded on chain: the quota's one use
    assert status == 200
    sent = chain.sent
    # another period of the same chain state reuses the recorded proof: no transaction, no quota
    assert svc.verify_compliance(BUYER, LIC_OK, {"from": "2030-03-18"})[1]["proofId"] == first["proofId"]
    # a new proof of the buyer's (the other license) would be recorded by the relayer: 429, nothing sent
    with pytest.raises(RateLimitedError) as refused:
        svc.verify_compliance(BUYER.upper().replace("0X", "0x"), LIC_REVOKED, None)
    assert refused.value.status == 429 and refused.value.details["operation"] == "recordComplianceProof"
    assert int(refused.value.headers["Retry-After"]) > 0
    assert chain.sent == sent
    # the creator has a quota of its own: its aggregate is recorded, and asked again (recorded) is free
    assert svc.generate_aggregate(CREATOR, CID, "aggregate_usage", ["totalUses"])[0] == 200
    assert svc.generate_aggregate(CREATOR, CID, "aggregate_usage", ["totalUses"])[0] == 200
    assert svc.relay_quota.counter.table[f"relay#{CREATOR}#{chain.now - chain.now % 3600}"]["n"] == 1


def test_a_recorded_proof_that_does_not_match_the_chain_state_shows_not_verified():
    from marketplace.proofs import page, qr

    svc, chain, _ = world()
    _, r = svc.verify_compliance(BUYER, LIC_OK, None)
    chain.licenses[LIC_OK]["maxUses"] += 1  # the chain state read for the proof's block is not what it was proved for
    view = svc.public_view(r["proofId"])
    assert view["verified"] is False
    html = page.render(view, qr.svg(view["verificationUrl"]))
    assert "Not verified" in html and "do not rely on these figures" in html
