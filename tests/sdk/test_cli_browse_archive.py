"""``zkdm browse`` and ``zkdm content archive`` against a fake API in-process: the listing as a table
(terms summary, a cursor to go on) and JSON, every page with --all, no credentials sent; archive signs
the server's Archive typed data for this content only (recovered by the server's EIP-712 code),
refusals keep their exit codes; ``zkdm content <id>`` still shows content."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from eth_account import Account
from marketplace.licensing import eip712
from zkdm import client as zclient
from zkdm.cli import main
from zkdm.store import Store

pytestmark = pytest.mark.sdk

API = "http://api.test"
CREATOR = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"
CONTENT = "0x" + "c1" * 32
REGISTRY = "0x" + "44" * 20


def summary(n: int, price: int | None = None) -> dict:
    terms = {"activeTerms": 0} if price is None else {"activeTerms": 2, "minPricePerUse": price,
                                                      "token": {"symbol": "mUSDC", "decimals": 6}}
    return {"contentId": "0x" + f"{n:064x}", "state": "REGISTERED", "creator": "0xA", "title": f"street {n}",
            "tags": ["vision"], "size": 30_000_000, "createdAt": "2026-01-01T00:00:00Z", "terms": terms}


def challenge(content_id: str) -> dict:
    domain = {**eip712.REGISTRY_DOMAIN, "chainId": 31337, "verifyingContract": REGISTRY}
    return {"signatureRequired": True, "deadline": 99,
            "typedData": eip712.typed_data(domain, "Archive", eip712.ARCHIVE_TYPE,
                                           {"contentId": content_id, "deadline": 99})}


class Fake:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.pages = [{"items": [summary(1, 1000), summary(2)], "cursor": "c2"}, {"items": [summary(3)], "cursor": None}]
        self.archive_answer: tuple[int, dict] | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/content":
            return httpx.Response(200, json=self.pages[1] if request.url.params.get("cursor") == "c2" else self.pages[0])
        if request.url.path == f"/content/{CONTENT}/archive":
            if self.archive_answer is not None:
                return httpx.Response(self.archive_answer[0], json=self.archive_answer[1])
            body = json.loads(request.content or b"{}")
            if not body:
                return httpx.Response(200, json=challenge(CONTENT))
            signer = eip712.recover_signer(challenge(CONTENT)["typedData"], body["signature"])
            assert signer == Account.from_key(CREATOR).address
            return httpx.Response(200, json={"contentId": CONTENT, "state": "ARCHIVED",
                                             "archivedAt": "2026-01-02T00:00:00Z", "txHash": "0x" + "aa" * 32})
        if request.url.path == f"/content/{CONTENT}":
            return httpx.Response(200, json={
                "contentId": CONTENT, "state": "REGISTERED", "blockNumber": 3, "cidV1": "bafy", "ipfsCid": "Qm",
                "contentHash": "0x" + "01" * 32, "createdAt": "2026-01-01T00:00:00Z", "creator": "0xA",
                "description": "", "size": 1, "tags": [], "title": "t", "txHash": "0x" + "02" * 32,
                "verificationUrl": f"{API}/content/{CONTENT}"})
        return httpx.Response(404, json={"error": "NOT_FOUND", "message": "no", "details": {}})


@pytest.fixture
def fake(monkeypatch, tmp_path):
    world = Fake()
    transport = httpx.MockTransport(world)
    real = httpx.Client
    monkeypatch.setattr(zclient.httpx, "Client", lambda *a, **kw: real(*a, **{**kw, "transport": transport}))
    for name in list(__import__("os").environ):
        if name.startswith("ZKDM_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ZKDM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ZKDM_API_URL", API)
    monkeypatch.setenv("CREATOR_KEY", CREATOR)
    monkeypatch.setenv("COLUMNS", "250")
    Store(tmp_path / "home").save_session(API, Account.from_key(CREATOR).address, "creator-jwt",
                                          int(time.time()) + 3600)
    return world


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_browse_shows_a_page_and_its_cursor(fake, capsys):
    code, out, _ = run(capsys, "browse", "--tag", "vision", "--licensable", "--limit", "2")
    assert code == 0
    assert "street 1" in out and "1000 mUSDC" in out and "zkdm browse --cursor c2" in out
    assert dict(fake.requests[0].url.params) == {"tag": "vision", "licensable": "true", "limit": "2"}
    assert "Authorization" not in fake.requests[0].headers


def test_browse_all_pages_as_json(fake, capsys):
    code, out, _ = run(capsys, "--json", "browse", "--all", "--not-licensable")
    body = json.loads(out)
    assert code == 0 and [i["title"] for i in body["items"]] == ["street 1", "street 2", "street 3"]
    assert body["cursor"] is None and fake.requests[1].url.params["cursor"] == "c2"
    assert fake.requests[0].url.params["licensable"] == "false"


def test_content_archive_signs_for_this_content(fake, capsys):
    code, out, err = run(capsys, "--key-env", "CREATOR_KEY", "content", "archive", CONTENT)
    assert code == 0, err
    assert "ARCHIVED" in out and "0x" + "aa" * 32 in out
    assert [r.method for r in fake.requests] == ["POST", "POST"]
    assert fake.requests[0].headers["Authorization"] == "Bearer creator-jwt"


def test_content_archive_refusals_and_show(fake, capsys):
    fake.archive_answer = (403, {"error": "FORBIDDEN", "message": "not your content", "details": {}})
    assert run(capsys, "--key-env", "CREATOR_KEY", "content", "archive", CONTENT)[0] == 3
    fake.archive_answer = (409, {"error": "CONFLICT", "message": "already archived", "details": {}})
    assert run(capsys, "--key-env", "CREATOR_KEY", "content", "archive", CONTENT)[0] == 5
    code, out, _ = run(capsys, "--json", "content", CONTENT)
    assert code == 0 and json.loads(out)["state"] == "REGISTERED"
    assert run(capsys, "content", "archive")[0] == 2  # no id
