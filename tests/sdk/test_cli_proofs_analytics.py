"""Flows 5-7 from the CLI against a fake API in-process (httpx MockTransport), with real proofs:
``zkdm verify`` checks published snarkjs files (tests/sdk/fixtures/proofs, made by
tests/support/proof_fixtures.py with the platform's prover) with py_ecc against a trusted key, and
refuses (exit 9) a tampered signal, unlinked chunks or figures the proof does not hold;
``compliance verify`` downloads the PDF report and checks its content address, following a 202 job;
``proof generate`` follows its job; ``analytics`` shows a table and sparklines; errors carry the
supportId; the vendored verifier and the pinned keys do not drift."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from zkdm import chain as zchain
from zkdm import client as zclient
from zkdm import verify as zverify
from zkdm.cli import main
from zkdm.commands.analytics import sparkline
from zkdm.ipfs_cid import compute_bytes
from zkdm.store import Store

pytestmark = pytest.mark.sdk

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures" / "proofs"
API = "http://api.test"
CREATOR = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"
BUYER = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
PROOF, LICENSE, CONTENT, TX = "0x" + "a1" * 32, "0x" + "ab" * 32, "0x" + "cd" * 32, "0x" + "11" * 32
PDF = b"%PDF-1.4\n% a compliance report\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


def fixture_files(kind: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (FIXTURES / kind).iterdir() if p.name != "view.json"}


def public_view(kind: str, **overrides) -> dict:
    fixture = json.loads((FIXTURES / kind / "view.json").read_text())
    names = ["verification_key.json"] + [n for i in range(fixture["chunks"]) for n in (f"proof-{i}.json",
                                                                                      f"public-{i}.json")]
    return {"proofId": PROOF, "kind": kind, "subject": LICENSE if kind == "compliance" else CONTENT,
            "verified": True, "outputs": fixture["outputs"], "claims": ["totalUses"], "txHash": TX, "blockNumber": 7,
            "recordedAt": "2026-01-01T00:00:00Z", "confirmations": 3, "content": {"contentId": CONTENT},
            "chunks": fixture["chunks"], "cached": False, "verificationUrl": f"{API}/verify/{PROOF}",
            "files": {n: f"{API}/verify/proof/{PROOF}/files/{n}" for n in names + ["qr.png"]},
            "howToVerify": [], **overrides}


def job(state: str, proven: int, result: dict | None = None, kind: str = "compliance") -> dict:
    return {"jobId": "job_" + "0" * 20, "kind": kind, "state": state, "stage": "PROVING" if state == "RUNNING" else
            state.lower(), "chunksProven": proven, "chunksTotal": 2, "createdAt": "2026-01-01T00:00:00Z",
            "location": "/proof/jobs/job_" + "0" * 20, **({"result": result} if result else {})}


def report(**overrides) -> dict:
    return {"reportId": "rep_1", "licenseId": LICENSE, "contentId": CONTENT,
            "period": {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"}, "compliant": True,
            "checks": [{"name": "usage_limit", "title": "Uses within maxUses", "passed": True, "detail": "7 of 100",
                        "sources": ["proof"], "figures": {"uses": 7}}],
            "violations": [], "totals": {"uses": 7}, "proofId": PROOF, "txHash": TX,
            "reportUrl": "http://s3.test/reports/r.pdf?X-Amz-Signature=x", "reportCid": compute_bytes(PDF).v1,
            "verificationUrl": f"{API}/verify/{PROOF}", "cached": False, **overrides}


class FakeApi:
    """Routes → answers; a list answer is consumed one per request (a job's successive states)."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], object] = {}
        self.requests: list[httpx.Request] = []
        self.receipt: dict | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host == "rpc.test":
            call = json.loads(request.content)
            assert call["method"] == "eth_getTransactionReceipt" and call["params"] == [TX]
            return httpx.Response(200, json={"jsonrpc": "2.0", "id": call["id"], "result": self.receipt})
        key = (request.method, str(request.url).split("?")[0])
        answer = self.routes.get(key)
        if answer is None:
            return httpx.Response(404, json={"error": "NOT_FOUND", "message": f"no route {key}", "details": {}})
        if isinstance(answer, list):
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        status, body, headers = answer if len(answer) == 3 else (*answer, {})  # type: ignore[misc]
        if isinstance(body, bytes):
            return httpx.Response(status, content=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)


@pytest.fixture
def api(monkeypatch, tmp_path):
    fake = FakeApi()
    transport = httpx.MockTransport(fake)
    real = httpx.Client
    monkeypatch.setattr(zclient.httpx, "Client", lambda *a, **kw: real(*a, **{**kw, "transport": transport}))
    monkeypatch.setattr(zchain.httpx, "Client", lambda *a, **kw: real(*a, **{**kw, "transport": transport}))
    monkeypatch.setattr(zclient.time, "sleep", lambda s: None)
    for name in list(__import__("os").environ):
        if name.startswith("ZKDM_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ZKDM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ZKDM_API_URL", API)
    monkeypatch.setenv("CREATOR_KEY", CREATOR)
    monkeypatch.setenv("BUYER_KEY", BUYER)
    monkeypatch.setenv("COLUMNS", "250")  # rich wraps at the terminal width
    store = Store(tmp_path / "home")
    later = int(time.time()) + 3600
    store.save_session(API, Account.from_key(CREATOR).address, "creator-jwt", later)
    store.save_session(API, Account.from_key(BUYER).address, "buyer-jwt", later)
    monkeypatch.chdir(tmp_path)
    return fake


def serve_proof(api: FakeApi, kind: str, files: dict[str, bytes] | None = None, **view) -> None:
    api.routes[("GET", f"{API}/verify/proof/{PROOF}")] = (200, public_view(kind, **view))
    for name, data in (files or fixture_files(kind)).items():
        api.routes[("GET", f"{API}/verify/proof/{PROOF}/files/{name}")] = (200, data)


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


# -- zkdm verify ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["compliance", "aggregate"])
def test_verify_checks_a_published_proof_with_a_given_key(api, capsys, kind):
    serve_proof(api, kind)
    key = FIXTURES / kind / "verification_key.json"
    code, out, err = run(capsys, "--json", "verify", PROOF, "--vkey", str(key))
    assert code == 0, err
    verdict = json.loads(out)
    assert verdict["verified"] is True and verdict["linked"] and verdict["outputsMatch"]
    assert verdict["chunksVerified"] == [True] * public_view(kind)["chunks"]
    assert verdict["keySource"] == f"given: {key}" and verdict["publishedKeyMatches"] is True
    # the public routes: no credentials sent
    assert all("Authorization" not in r.headers for r in api.requests)


def test_verify_trusts_the_pinned_key_not_the_published_one(api, capsys, monkeypatch):
    files = fixture_files("compliance")
    trusted = files["verification_key.json"]
    files["verification_key.json"] = (FIXTURES / "aggregate" / "verification_key.json").read_bytes()
    serve_proof(api, "compliance", files)
    monkeypatch.setattr(zverify, "pinned_key", lambda circuit: trusted if circuit == "compliance" else b"")
    code, out, _ = run(capsys, "--json", "verify", PROOF)
    verdict = json.loads(out)
    assert code == 0 and verdict["keySource"].startswith("pinned in zkdm")
    assert verdict["publishedKeyMatches"] is False and verdict["warnings"]
    # and a proof under the wrong trusted key does not verify
    monkeypatch.setattr(zverify, "pinned_key", lambda circuit: files["verification_key.json"])
    code, out, _ = run(capsys, "--json", "verify", PROOF)
    assert code == 9 and json.loads(out)["chunksVerified"] == [False, False]


def test_a_tampered_signal_is_not_verified(api, capsys):
    files = fixture_files("compliance")
    public = json.loads(files["public-1.json"])
    public[1] = str(int(public[1]) - 1)  # one use fewer
    files["public-1.json"] = json.dumps(public).encode()
    serve_proof(api, "compliance", files, outputs={"totalUses": int(public[1])})
    code, out, _ = run(capsys, "verify", PROOF, "--vkey", str(FIXTURES / "compliance" / "verification_key.json"))
    assert code == 9 and "NOT verified" in out and "1: FAILED" in out and "0: ok" in out


def test_unlinked_chunks_are_not_verified(api, capsys):
    files = fixture_files("compliance")
    files["proof-0.json"], files["proof-1.json"] = files["proof-1.json"], files["proof-0.json"]
    files["public-0.json"], files["public-1.json"] = files["public-1.json"], files["public-0.json"]
    serve_proof(api, "compliance", files)
    code, out, _ = run(capsys, "--json", "verify", PROOF, "--vkey",
                       str(FIXTURES / "compliance" / "verification_key.json"))
    verdict = json.loads(out)
    assert code == 9 and verdict["chunksVerified"] == [True, True] and verdict["linked"] is False


def test_figures_the_proof_does_not_hold_are_refused(api, capsys):
    shown = {**public_view("aggregate")["outputs"], "totalRevenue": 10**12}
    serve_proof(api, "aggregate", outputs=shown)
    code, out, _ = run(capsys, "--json", "verify", PROOF, "--vkey", str(FIXTURES / "aggregate" / "verification_key.json"))
    assert code == 9 and json.loads(out)["outputsMatch"] is False


def test_an_unknown_proof_is_404_exit_4(api, capsys):
    code, _, err = run(capsys, "verify", PROOF)
    assert code == 4 and "NOT_FOUND" in err


TRACKER = "0x" + "7c" * 20


def recorded_receipt(kind: str, files: dict[str, bytes], *, status: str = "0x1") -> dict:
    """The recording transaction's receipt as a node answers it, its ProofRecorded log built with the
    server's own record layout (marketplace.zk.folds.*_record_signals)."""
    from eth_utils import keccak
    from marketplace.zk.folds import ChunkProof, aggregate_record_signals, compliance_record_signals
    from marketplace.zk.proof import Proof

    n = public_view(kind)["chunks"]
    chunks = [ChunkProof(kind, Proof.from_snarkjs(files[f"proof-{i}.json"].decode()),
                         [int(x) for x in json.loads(files[f"public-{i}.json"])]) for i in range(n)]
    recorded = (compliance_record_signals if kind == "compliance" else aggregate_record_signals)(chunks)
    data = b"".join(w.to_bytes(32, "big") for w in [32, len(recorded), *recorded])
    subject = public_view(kind)["subject"]
    return {"status": status, "blockNumber": "0x7", "logs": [{
        "address": TRACKER, "data": "0x" + data.hex(),
        "topics": ["0x" + keccak(text="ProofRecorded(bytes32,uint8,bytes32,uint256[])").hex(), PROOF,
                   "0x" + (1 if kind == "compliance" else 2).to_bytes(32, "big").hex(), subject]}]}


@pytest.mark.parametrize("kind", ["compliance", "aggregate"])
def test_with_a_node_the_chunks_are_the_ones_recorded_on_chain(api, capsys, kind):
    serve_proof(api, kind)
    api.receipt = recorded_receipt(kind, fixture_files(kind))
    key = str(FIXTURES / kind / "verification_key.json")
    code, out, err = run(capsys, "--json", "verify", PROOF, "--vkey", key, "--rpc-url", "http://rpc.test",
                         "--tracker", TRACKER)
    assert code == 0, err
    on_chain = json.loads(out)["onChain"]
    assert on_chain["chunksHashMatches"] is True and on_chain["contract"] == TRACKER
    # another tracker, a failed transaction, or other chunks recorded: refused
    assert run(capsys, "verify", PROOF, "--vkey", key, "--rpc-url", "http://rpc.test", "--tracker",
               "0x" + "99" * 20)[0] == 9
    api.receipt = recorded_receipt(kind, fixture_files(kind), status="0x0")
    assert run(capsys, "verify", PROOF, "--vkey", key, "--rpc-url", "http://rpc.test")[0] == 9


def test_chunks_other_than_the_recorded_ones_are_refused(api, capsys):
    """Two valid proofs of the same circuit, published in place of the recorded one: each chunk
    verifies, but the chain recorded other chunks."""
    serve_proof(api, "compliance")
    other = fixture_files("compliance")
    public = json.loads(other["public-1.json"])
    public[0] = str(int(public[0]) + 1)  # what the chain recorded differs in one signal
    other["public-1.json"] = json.dumps(public).encode()
    api.receipt = recorded_receipt("compliance", other)
    code, out, _ = run(capsys, "--json", "verify", PROOF, "--vkey", str(FIXTURES / "compliance" /
                                                                          "verification_key.json"),
                       "--rpc-url", "http://rpc.test")
    verdict = json.loads(out)
    assert code == 9 and verdict["chunksVerified"] == [True, True]
    assert any("chunksHash" in p for p in verdict["problems"])


def test_an_unknown_recording_transaction_is_refused(api, capsys):
    serve_proof(api, "aggregate")
    api.receipt = None
    code, _, _ = run(capsys, "verify", PROOF, "--vkey", str(FIXTURES / "aggregate" / "verification_key.json"),
                     "--rpc-url", "http://rpc.test")
    assert code == 9


# -- zkdm compliance verify ----------------------------------------------------------------------


def test_compliance_report_follows_its_job_and_checks_the_pdf(api, capsys, tmp_path):
    api.routes[("POST", f"{API}/compliance/verify")] = (202, job("QUEUED", 0), {"Location": job("QUEUED", 0)["location"]})
    api.routes[("GET", f"{API}/proof/jobs/job_{'0' * 20}")] = [(200, job("RUNNING", 1)),
                                                              (200, job("SUCCEEDED", 2, report()))]
    api.routes[("GET", report()["reportUrl"].split("?")[0])] = (200, PDF)
    code, out, err = run(capsys, "--json", "--key-env", "BUYER_KEY", "compliance", "verify", LICENSE,
                         "--from", "2026-01-01", "-o", "r.pdf", "--async")
    assert code == 0, err
    body = json.loads(out)
    assert body["compliant"] is True and body["reportCidChecked"] and (tmp_path / "r.pdf").read_bytes() == PDF
    sent = json.loads(api.requests[0].content)
    assert sent == {"licenseId": LICENSE, "period": {"from": "2026-01-01"}}
    assert api.requests[0].headers["Prefer"] == "respond-async"
    assert api.requests[0].headers["Authorization"] == "Bearer buyer-jwt"
    assert "following job" in err
    # the presigned report link gets no credentials
    assert "Authorization" not in api.requests[-1].headers


def test_a_report_that_is_not_the_named_one_is_refused(api, capsys, tmp_path):
    api.routes[("POST", f"{API}/compliance/verify")] = (200, report(reportCid=compute_bytes(b"other").v1))
    api.routes[("GET", report()["reportUrl"].split("?")[0])] = (200, PDF)
    code, _, err = run(capsys, "--key-env", "BUYER_KEY", "compliance", "verify", LICENSE)
    assert code == 9 and "not the report that was issued" in " ".join(err.split())
    assert not list(tmp_path.glob("compliance-*.pdf"))


def test_a_non_compliant_report_is_shown_in_words(api, capsys):
    checks = [{"name": "payment", "title": "Every use paid", "passed": False, "detail": "3 uses unpaid",
               "sources": ["chain", "platform records"], "figures": {"unpaid": 3}}]
    api.routes[("POST", f"{API}/compliance/verify")] = (200, report(compliant=False, checks=checks,
                                                                    violations=["3 uses never paid"]))
    api.routes[("GET", report()["reportUrl"].split("?")[0])] = (200, PDF)
    code, out, _ = run(capsys, "--key-env", "BUYER_KEY", "compliance", "verify", LICENSE)
    assert code == 0 and "NOT compliant" in out and "3 uses never paid" in out and "✗" in out


def test_a_failed_proof_shows_its_support_id_exit_1(api, capsys):
    api.routes[("POST", f"{API}/compliance/verify")] = (500, {
        "error": "PROOF_GENERATION_FAILED", "message": "Unable to generate proof", "details": {},
        "supportId": "sup_0123456789"})
    code, _, err = run(capsys, "--key-env", "BUYER_KEY", "compliance", "verify", LICENSE)
    assert code == 1 and "sup_0123456789" in err and "PROOF_GENERATION_FAILED" in err


def test_someone_elses_license_is_exit_3(api, capsys):
    api.routes[("POST", f"{API}/compliance/verify")] = (403, {"error": "FORBIDDEN", "message": "only the licensee",
                                                              "details": {}})
    code, _, _ = run(capsys, "--key-env", "CREATOR_KEY", "compliance", "verify", LICENSE)
    assert code == 3


# -- zkdm proof generate -------------------------------------------------------------------------


def generated() -> dict:
    return {"proofId": PROOF, "txHash": TX, "contentId": CONTENT, "proofType": "aggregate_usage",
            "claims": ["totalUses"], "outputs": {"totalUses": 77}, "chunks": 2,
            "verificationUrl": f"{API}/verify/{PROOF}", "qrCode": {"png": "p", "svg": "s"},
            "filesUrl": f"{API}/verify/proof/{PROOF}/files"}


def test_proof_generate_follows_a_202_with_a_progress_bar(api, capsys):
    api.routes[("POST", f"{API}/creator/proof/generate")] = (202, job("QUEUED", 0, kind="aggregate"))
    api.routes[("GET", f"{API}/proof/jobs/job_{'0' * 20}")] = [
        (200, job("RUNNING", 1, kind="aggregate")), (200, job("SUCCEEDED", 2, generated(), kind="aggregate"))]
    code, out, err = run(capsys, "--key-env", "CREATOR_KEY", "proof", "generate", CONTENT, "--claim", "totalUses")
    assert code == 0, err
    assert "2/2" in err and "chunks" in err  # the progress bar on stderr
    assert PROOF in out and f"zkdm verify {PROOF}" in out and "77" in out
    assert json.loads(api.requests[0].content) == {"contentId": CONTENT, "proofType": "aggregate_usage",
                                                   "claims": ["totalUses"]}


def test_a_failed_job_exits_with_its_error(api, capsys):
    failed = {**job("FAILED", 1, kind="aggregate"), "error": {"error": "PROOF_GENERATION_FAILED",
                                                              "message": "records disagree", "supportId": "sup_x1"}}
    api.routes[("POST", f"{API}/creator/proof/generate")] = (202, job("QUEUED", 0, kind="aggregate"))
    api.routes[("GET", f"{API}/proof/jobs/job_{'0' * 20}")] = (200, failed)
    code, _, err = run(capsys, "--key-env", "CREATOR_KEY", "proof", "generate", CONTENT)
    assert code == 5 and "sup_x1" in err


def test_no_proven_usage_is_409_exit_5(api, capsys):
    api.routes[("POST", f"{API}/creator/proof/generate")] = (409, {"error": "CONFLICT", "message": "no proven usage",
                                                                   "details": {}})
    assert run(capsys, "--key-env", "CREATOR_KEY", "proof", "generate", CONTENT)[0] == 5


# -- zkdm analytics -------------------------------------------------------------------------------


def test_sparkline_scales_to_the_largest():
    assert sparkline([0, 1, 2, 4, 8]) == "▁▂▃▅█"
    assert sparkline([0, 0, 0]) == "▁▁▁" and sparkline([]) == ""


def analytics_body(address: str) -> dict:
    figures = {"uses": 0, "provenUses": 0, "revenue": 0, "payments": 0, "purchases": 0, "sales": 0, "revocations": 0}
    series = [{**figures, "uses": u, "start": f"2026-01-0{i + 1}T00:00:00Z"} for i, u in enumerate([0, 3, 9, 1])]
    trend = {"current": 13, "previous": 10, "change": 3, "changePct": 30.0}
    return {"creator": address, "period": "week", "granularity": "day", "start": "2026-01-01T00:00:00Z",
            "end": "2026-01-05T00:00:00Z", "summary": {**figures, "uses": 13, "activeLicenses": 2,
                                                        "licenseesWithUses": 1},
            "allTime": {**figures, "uses": 40}, "series": series,
            "trends": {k: trend for k in ("uses", "provenUses", "revenue", "purchases")},
            "topContent": [{"contentId": CONTENT, "uses": 13, "provenUses": 0, "revenue": 0}],
            "recentActivity": [{"type": "license.purchased", "contentId": CONTENT, "at": "2026-01-02T00:00:00Z",
                                "delta": {"purchases": 1}}],
            "generatedAt": "2026-01-05T00:00:00Z", "cacheAgeSeconds": 0, "cached": False, "maxAgeSeconds": 300}


def test_analytics_shows_a_table_and_sparklines(api, capsys):
    address = Account.from_key(CREATOR).address
    api.routes[("GET", f"{API}/creator/{address}/analytics")] = (200, analytics_body(address))
    code, out, err = run(capsys, "--key-env", "CREATOR_KEY", "analytics", "--period", "week")
    assert code == 0, err
    assert "▁▃█▂" in out and "+3 (+30.0 %)" in out and "top content" in out and "license.purchased" in out
    assert str(api.requests[0].url).endswith("period=week")
    code, out, _ = run(capsys, "--json", "--key-env", "CREATOR_KEY", "analytics", "--period", "week")
    assert code == 0 and json.loads(out)["summary"]["uses"] == 13
    assert run(capsys, "--key-env", "CREATOR_KEY", "analytics", "--period", "decade")[0] == 2


# -- what the client trusts does not drift ---------------------------------------------------------


def test_the_vendored_verifier_and_cid_equal_the_servers_files():
    check = subprocess.run([sys.executable, str(ROOT / "sdk" / "tools" / "vendor_verify.py"), "--check"],
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.skipif(not (ROOT / "build" / "circuits" / "compliance" / "verification_key.json").exists(),
                    reason="make build first (the circuits' keys)")
@pytest.mark.parametrize("circuit", ["compliance", "aggregate"])
def test_the_pinned_keys_are_the_built_circuits_keys(circuit):
    built = json.loads((ROOT / "build" / "circuits" / circuit / "verification_key.json").read_text())
    assert json.loads(zverify.pinned_key(circuit)) == built, "run sdk/tools/vendor_verify.py after a circuit change"
