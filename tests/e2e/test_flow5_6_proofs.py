"""Flows 5 and 6 end to end on a local stack of this module's own (issue 10, "Shown by").

A creator registers content and offers terms; a buyer buys two licenses. License A: 3 signed
accesses, proved, logged and paid by the usage-batches schedule once chain time passed the minimum
window. License B: 2 signed accesses, then the creator revokes it before any batch, so its served
and signed uses are never paid. Then:

- ``POST /compliance/verify`` for A: compliant, the PDF (pdftotext) with the checks, the proof and
  how to verify; the same request again is the cached report; B: a report that says NON-COMPLIANT
  and lists the unpaid uses (200, not an error); the creator may not ask (403);
- ``POST /creator/proof/generate``: the aggregate proof recorded on chain, its QR code;
- ``GET /verify/proof/{proofId}``: verified from the chain; the page in headless Chromium at a
  phone's size (build/screenshots/verify-proof.png);
- ``npx snarkjs groth16 verify`` accepts the published files and refuses them with one public
  output changed;
- a job (``Prefer: respond-async``): 202 + Location, progress, then the report;
- nothing public names the buyer's address.

**Its own stack**: it moves the chain's clock 16 minutes (as tests/e2e/test_flow4_settlement.py).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests
from web3 import Web3

from local.client import Client, stack_account
from local.license_client import LicenseClient
from local.processes import ROOT
from tests.support.waiting import wait_for as _wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PRICE, MAX_USES = 1_000, 50
USES_A, USES_B = 3, 2
CHAIN_ADVANCE = 16 * 60
SETTLE_TIMEOUT = 240
SCREENSHOTS = ROOT / "build" / "screenshots"


wait_for = functools.partial(_wait_for, interval=2.0)

def advance_chain(w3: Web3, seconds: int) -> None:
    for method, params in (("evm_increaseTime", [seconds]), ("evm_mine", [])):
        reply = w3.provider.make_request(method, params)  # type: ignore[arg-type]
        assert "error" not in reply, reply


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / f"report-{time.monotonic_ns()}.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


@pytest.fixture(scope="module")
def world(own_stack):
    api = Client(own_stack["apiUrl"], timeout=120)
    keys = {role: stack_account(own_stack, role)["privateKey"] for role in ("creator1", "buyer1")}
    jwt = {role: api.login(key) for role, key in keys.items()}
    lc = LicenseClient(api)
    record = api.register_file(jwt["creator1"], os.urandom(20_000), {"title": "Proofs set", "description": "",
                                                                     "tags": ["e2e"]}, filename="proofs.bin")
    content_id = record["contentId"]
    terms = lc.create_terms(jwt["creator1"], keys["creator1"], content_id, price_per_use=PRICE, max_uses=MAX_USES,
                            duration_seconds=24 * 3600)
    a = lc.purchase_with_permit(jwt["buyer1"], keys["buyer1"], terms["termsId"])
    b = lc.purchase_with_permit(jwt["buyer1"], keys["buyer1"], terms["termsId"])
    w3 = Web3(Web3.HTTPProvider(own_stack["rpcUrl"], request_kwargs={"timeout": 60}))

    def use(bought: dict, n: int) -> None:
        worker = lc.worker(bought["licenseId"], jwt["buyer1"], keys["buyer1"])
        for _ in range(n):
            with worker.lock:
                reply = requests.post(f"{api.api_url}/content/{content_id}/access", timeout=60,
                                      headers={"Authorization": f"Bearer {bought['apiKey']}", **worker.headers()})
                assert reply.status_code == 200, reply.text
                worker.served += 1

    use(a, USES_A)
    use(b, USES_B)
    revoked = lc.revoke(jwt["creator1"], keys["creator1"], b["licenseId"])  # B's uses can never be settled now
    assert revoked["status"] == "REVOKED"
    advance_chain(w3, CHAIN_ADVANCE)

    def settled() -> bool:
        page = api.request("GET", f"/payments?role=buyer&licenseId={a['licenseId']}", jwt["buyer1"]).json()
        return any(p["status"] == "COMPLETED" for p in page["payments"])

    assert wait_for(settled, SETTLE_TIMEOUT), "license A's batch was never settled"
    buyer = stack_account(own_stack, "buyer1")["address"]
    return {"api": api, "jwt": jwt, "contentId": content_id, "a": a["licenseId"], "b": b["licenseId"],
            "buyer": buyer, "stack": own_stack}


def test_compliance_reports_for_a_paid_and_an_unpaid_license(world, tmp_path):
    api, jwt = world["api"], world["jwt"]
    t0 = time.monotonic()
    report = api.request("POST", "/compliance/verify", jwt["buyer1"],
                         json={"licenseId": world["a"], "period": {"from": "2000-01-01"}}).json()
    first_s = time.monotonic() - t0
    assert report["compliant"] is True and report["violations"] == [] and report["cached"] is False, \
        json.dumps(report["checks"])
    assert report["totals"]["provenUses"] == USES_A and report["totals"]["paidUses"] == USES_A
    paid = next(c for c in report["checks"] if c["name"] == "payment")["figures"]
    assert paid["loggedBatches"] == paid["paidBatches"] == 1  # UsageLogged and PaymentReleased read from the chain
    pdf = requests.get(report["reportUrl"], timeout=30)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = pdf_text(pdf.content, tmp_path)
    for needle in ("Result: COMPLIANT", world["a"], world["contentId"], "Proofs set", "[PASS] Usage within maxUses",
                   "[PASS] Usage inside the license's validity", "[PASS] Every use paid", report["proofId"],
                   report["txHash"], report["verificationUrl"], "npx snarkjs groth16 verify"):
        assert needle in text, needle
    assert world["buyer"][2:].lower() not in text.lower()
    again = api.request("POST", "/compliance/verify", jwt["buyer1"],
                        json={"licenseId": world["a"], "period": {"from": "2000-01-01"}}).json()
    assert again["cached"] is True and again["reportId"] == report["reportId"] and again["reportCid"] == report["reportCid"]

    bad = api.request("POST", "/compliance/verify", jwt["buyer1"], json={"licenseId": world["b"]}).json()
    assert bad["compliant"] is False
    payment = next(c for c in bad["checks"] if c["name"] == "payment")
    assert not payment["passed"] and payment["figures"]["unpaidUses"] == USES_B
    assert bad["violations"] and f"{USES_B} uses served and signed were never paid" in bad["violations"][0]
    text = pdf_text(requests.get(bad["reportUrl"], timeout=30).content, tmp_path)
    assert "Result: NON-COMPLIANT" in text and "[FAIL] Every use paid" in text and "never paid" in text

    refused = api.request("POST", "/compliance/verify", jwt["creator1"], expect=(403,), json={"licenseId": world["a"]})
    assert refused.json()["error"] == "FORBIDDEN"
    api.request("POST", "/compliance/verify", jwt["buyer1"], expect=(404,), json={"licenseId": "0x" + "ab" * 32})
    print(f"\ncompliance report (prove, record, PDF): {first_s:.1f} s")


def test_a_creator_proof_verified_by_anyone_with_snarkjs_and_on_a_phone(world, tmp_path):
    api, jwt = world["api"], world["jwt"]
    proof = api.request("POST", "/creator/proof/generate", jwt["creator1"],
                        json={"contentId": world["contentId"], "proofType": "aggregate_usage",
                              "claims": ["totalUses", "totalRevenue", "uniqueLicensees", "dateRange"]}).json()
    assert proof["outputs"]["totalUses"] == USES_A and proof["outputs"]["totalRevenue"] == USES_A * PRICE
    assert proof["outputs"]["uniqueLicensees"] == 1 and proof["verificationUrl"].endswith(f"/verify/{proof['proofId']}")
    qr = requests.get(proof["qrCode"]["png"], timeout=30)
    assert qr.status_code == 200 and qr.headers["Content-Type"] == "image/png" and qr.content.startswith(b"\x89PNG")
    api.request("POST", "/creator/proof/generate", jwt["buyer1"], expect=(403,), json={"contentId": world["contentId"]})

    view = api.request("GET", f"/verify/proof/{proof['proofId']}").json()
    assert view["verified"] is True and view["kind"] == "aggregate" and view["confirmations"] >= 1
    assert view["outputs"] == proof["outputs"] and view["content"]["title"] == "Proofs set"
    assert api.request("GET", f"/verify/proof/{proof['proofId']}").json()["cached"] is True

    # snarkjs on the published files: accepted as they are, refused with one public output changed
    folder = tmp_path / "files"
    folder.mkdir()
    names = ["verification_key.json"] + [n for i in range(view["chunks"]) for n in (f"proof-{i}.json", f"public-{i}.json")]
    public_text = []
    for name in names:
        body = requests.get(view["files"][name], timeout=30)
        assert body.status_code == 200, name
        (folder / name).write_bytes(body.content)
        public_text.append(body.text)
    npx = shutil.which("npx") or "npx"

    def snarkjs(i: int) -> subprocess.CompletedProcess:
        # from the repository, whose package.json pins snarkjs (npx finds it in node_modules)
        return subprocess.run([npx, "--no-install", "snarkjs", "groth16", "verify",
                               str(folder / "verification_key.json"), str(folder / f"public-{i}.json"),
                               str(folder / f"proof-{i}.json")], cwd=ROOT, capture_output=True, text=True, timeout=120,
                              check=False)

    for i in range(view["chunks"]):
        ok = snarkjs(i)
        assert ok.returncode == 0 and "OK" in ok.stdout, ok.stdout + ok.stderr
    last = view["chunks"] - 1
    signals = json.loads((folder / f"public-{last}.json").read_text())
    signals[1] = str(int(signals[1]) + 1)  # totalUses + 1
    (folder / f"public-{last}.json").write_text(json.dumps(signals))
    tampered = snarkjs(last)
    assert tampered.returncode != 0 and "Invalid proof" in tampered.stdout + tampered.stderr

    # the page, as a phone opens it from the QR code (no JavaScript needed: it is server HTML)
    page = requests.get(proof["verificationUrl"], timeout=30)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "Verified" in page.text and '<meta name="viewport"' in page.text and "<script" not in page.text
    missing = requests.get(f"{api.api_url}/verify/0x{'ab' * 32}", timeout=30)
    assert missing.status_code == 404 and "Proof not found" in missing.text
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "verify-proof.png"
    shot.unlink(missing_ok=True)
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-javascript",
                    "--hide-scrollbars", f"--screenshot={shot}", "--window-size=390,844", proof["verificationUrl"]],
                   capture_output=True, timeout=120, check=False)
    assert shot.is_file() and shot.stat().st_size > 10_000

    # privacy: the buyer's address is nowhere public
    blob = "\n".join([json.dumps(view), page.text, *public_text]).lower()
    assert world["buyer"][2:].lower() not in blob and str(int(world["buyer"], 16)) not in blob


def test_a_job_reports_progress_and_its_result(world):
    api, jwt = world["api"], world["jwt"]
    reply = api.request("POST", "/compliance/verify", jwt["buyer1"], expect=(202,),
                        headers={"Prefer": "respond-async"},
                        json={"licenseId": world["a"], "period": {"from": "2001-01-01"}})
    job = reply.json()
    assert reply.headers["Location"] == job["location"] == f"/proof/jobs/{job['jobId']}"

    def finished():
        view = api.request("GET", job["location"], jwt["buyer1"]).json()
        return view if view["state"] in ("SUCCEEDED", "FAILED") else None

    done = wait_for(finished, 120)
    assert done and done["state"] == "SUCCEEDED", done
    assert done["chunksProven"] == done["chunksTotal"] >= 1 and done["result"]["compliant"] is True
    assert requests.get(done["result"]["reportUrl"], timeout=30).content.startswith(b"%PDF")
    api.request("GET", job["location"], jwt["creator1"], expect=(403,))
