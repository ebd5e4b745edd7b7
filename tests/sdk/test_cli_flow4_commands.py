"""Flow 4's CLI commands against a fake API (and a fake chain node) in-process: signers add (the key
kept 0600, AddUsageSigner signed by the buyer as the server recovers it), list, revoke; access
signed by the worker; earnings, payments (filters, pages), withdraw (the withdraw() transaction
signed by the creator and sent to the node, then its txHash posted), webhooks, email; --json and
the exit codes."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs

import httpx
import pytest
from eth_account import Account
from marketplace.licensing import eip712
from marketplace.usage import access_signature as server_sig
from marketplace.usage.signer_service import SIGNER_TYPE
from zkdm import chain as zchain
from zkdm import client as zclient
from zkdm.cli import main
from zkdm.store import Store

pytestmark = pytest.mark.sdk

API, RPC = "http://api.test", "http://rpc.test"
BUYER = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
CREATOR = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"
LICENSE, CONTENT = "0x" + "ab" * 32, "0x" + "cd" * 32
DOMAIN = {"name": "LicenseManager", "version": "1", "chainId": 31337,
          "verifyingContract": "0xB7f8BC63BbcaD18155201308C8f3540b07f84F5e"}
ESCROW = "0x" + "e5" * 20


def payment(i: int) -> dict:
    return {"paymentId": f"0x{i:064x}", "batchId": f"0x{i:064x}", "licenseId": LICENSE, "contentId": CONTENT,
            "creator": "0xc", "buyer": "0xb", "uses": 2, "amount": 1950, "platformFee": 50, "status": "COMPLETED",
            "txHash": "0x" + "11" * 32, "blockNumber": 9, "releasedAt": "2026-01-01T00:00:00Z"}


class FakeWorld:
    def __init__(self) -> None:
        self.signers: dict[str, dict] = {}
        self.requests: list[httpx.Request] = []
        self.sent: list[dict] = []
        self.webhooks: dict[str, dict] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host == "rpc.test":
            return self.rpc(json.loads(request.content))
        path, method = request.url.path, request.method
        body = json.loads(request.content) if request.content else {}
        caller = {"Bearer buyer-jwt": Account.from_key(BUYER).address,
                  "Bearer creator-jwt": Account.from_key(CREATOR).address}.get(request.headers.get("Authorization"))
        if path.endswith("/access"):
            return self.access(request)
        if path == f"/license/{LICENSE}/signers" and method == "POST":
            typed = eip712.typed_data(DOMAIN, "AddUsageSigner", SIGNER_TYPE, {
                "licenseId": LICENSE, "signer": body["signer"], "nonce": 0, "deadline": 2_000_000_000})
            if "signature" not in body:
                return httpx.Response(200, json={"typedData": typed, "deadline": 2_000_000_000})
            assert eip712.recover_signer(typed, body["signature"]) == caller == Account.from_key(BUYER).address
            view = {"licenseId": LICENSE, "signer": body["signer"].lower(), "state": "ACTIVE", "lastCounter": 0,
                    "addedAt": 1, "txHash": "0x" + "22" * 32}
            self.signers[view["signer"]] = view
            return httpx.Response(201, json=view)
        if path == f"/license/{LICENSE}/signers":
            return httpx.Response(200, json={"licenseId": LICENSE, "signers": list(self.signers.values())})
        if path.startswith(f"/license/{LICENSE}/signers/") and method == "DELETE":
            signer = path.rsplit("/", 1)[1].lower()
            typed = eip712.typed_data(DOMAIN, "RevokeUsageSigner", SIGNER_TYPE, {
                "licenseId": LICENSE, "signer": signer, "nonce": 1, "deadline": 2_000_000_000})
            if "signature" not in body:
                return httpx.Response(200, json={"typedData": typed, "deadline": 2_000_000_000})
            assert eip712.recover_signer(typed, body["signature"]) == caller
            self.signers[signer].update(state="REVOKED", revokedAt=2)
            return httpx.Response(200, json=self.signers[signer])
        if path == "/creator/earnings":
            return httpx.Response(200, json={
                "account": caller, "owed": 3900, "owedOnChain": 3900, "earned": 3900, "withdrawn": 0, "pending": 975,
                "pendingUses": 1, "uses": 4, "payments": 2, "platformFeeBps": 250, "perContent": [{
                    "contentId": CONTENT, "earned": 3900, "uses": 4, "payments": 2, "pending": 975,
                    "pendingUses": 1}]})
        if path == "/payments":
            q = parse_qs(request.url.query.decode())
            assert q["role"] == ["creator"] and q["status"] == ["COMPLETED"]
            if q.get("cursor") == ["page2"]:
                return httpx.Response(200, json={"payments": [payment(3)]})
            return httpx.Response(200, json={"payments": [payment(1), payment(2)], "cursor": "page2"})
        if path == "/creator/withdraw":
            if not body.get("txHash"):
                return httpx.Response(200, json={"transactionRequired": True, "owed": 3900, "note": "send it", "transaction": {
                    "to": ESCROW, "function": "withdraw()", "args": [], "data": "0x3ccfd60b", "value": "0",
                    "chainId": 31337}})
            assert body["txHash"] == self.sent[-1]["hash"]
            return httpx.Response(200, json={"account": caller, "txHash": body["txHash"], "amount": 3900,
                                             "withdrawn": 3900, "owed": 0})
        if path == "/webhooks" and method == "POST":
            hook = {"webhookId": "wh_1", "url": body["url"], "events": body["events"],
                    "createdAt": "2026-01-01T00:00:00Z"}
            self.webhooks["wh_1"] = hook
            return httpx.Response(201, json={**hook, "secret": "whsec_abc"})
        if path == "/webhooks":
            return httpx.Response(200, json={"webhooks": list(self.webhooks.values())})
        if path == "/webhooks/wh_1" and method == "DELETE":
            return httpx.Response(204)
        if path == "/webhooks/wh_2" and method == "DELETE":
            return httpx.Response(404, json={"error": "NOT_FOUND", "message": "no such webhook of yours"})
        if path == "/webhooks/wh_1/rotate":
            return httpx.Response(200, json={"webhookId": "wh_1", "secret": "whsec_new",
                                             "previousSecretExpiresAt": "2026-01-02T00:00:00Z"})
        delivery = {"deliveryId": "dl_1", "webhookId": "wh_1", "messageId": "msg_1", "type": "webhook.test",
                    "state": "DELIVERED", "createdAt": "2026-01-01T00:00:00Z", "attempts": [
                        {"n": 1, "at": "2026-01-01T00:00:00Z", "trigger": "test", "ok": True, "status": 200,
                         "durationMs": 12}]}
        if path in ("/webhooks/wh_1/test", "/webhooks/wh_1/deliveries/dl_1/replay"):
            return httpx.Response(200, json=delivery)
        if path == "/webhooks/wh_1/deliveries":
            return httpx.Response(200, json={"deliveries": [delivery]})
        if path == "/creator/notifications/email":
            if method == "PUT":
                self.email = body["email"]
            return httpx.Response(200, json={"email": self.email, "status": "Pending", "verified": False,
                                             "updatedAt": "2026-01-01T00:00:00Z"})
        return httpx.Response(404, json={"error": "NOT_FOUND", "message": f"{method} {path}"})

    def access(self, request: httpx.Request) -> httpx.Response:
        h = request.headers
        signer = self.signers.get(h["X-Usage-Signer"])
        if signer is None or signer["state"] != "ACTIVE":
            return httpx.Response(403, json={"error": "FORBIDDEN", "message": "not a signer", "details": {
                "reason": "unknown_signer" if signer is None else "signer_revoked"}})
        counter = int(h["X-Usage-Counter"])
        digest = server_sig.access_digest(server_sig.domain_separator(31337, DOMAIN["verifyingContract"]), LICENSE,
                                          counter, h["X-Usage-Request-Hash"])
        assert server_sig.recover(digest, bytes.fromhex(h["X-Usage-Signature"][2:])) == h["X-Usage-Signer"]
        assert counter == signer["lastCounter"] + 1
        signer["lastCounter"] = counter
        return httpx.Response(200, json={"contentId": CONTENT, "expiresAt": "2030-01-01T00:00:00Z", "expiresIn": 3600,
                                         "licenseId": LICENSE, "licenseStatus": "IN_USE", "url": "https://s3.test/o",
                                         "use": counter, "usesRemaining": 9})

    def rpc(self, call: dict) -> httpx.Response:
        method, params = call["method"], call["params"]
        result = {"eth_chainId": "0x7a69", "eth_estimateGas": "0x5208", "eth_getTransactionCount": "0x3",
                  "eth_getBlockByNumber": {"baseFeePerGas": "0x3b9aca00"}}.get(method)
        if method == "eth_sendRawTransaction":
            tx_hash = "0x" + "77" * 32
            self.sent.append({"hash": tx_hash, "from": Account.recover_transaction(params[0])})
            result = tx_hash
        elif method == "eth_getTransactionReceipt":
            result = {"status": "0x1", "transactionHash": params[0]}
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": call["id"], "result": result})


@pytest.fixture
def world(monkeypatch, tmp_path):
    fake = FakeWorld()
    transport = httpx.MockTransport(fake)
    real = httpx.Client

    def client(*args, **kwargs):
        kwargs["transport"] = transport
        return real(*args, **kwargs)

    monkeypatch.setattr(zclient.httpx, "Client", client)
    monkeypatch.setattr(zchain.httpx, "Client", client)
    for name in list(__import__("os").environ):
        if name.startswith("ZKDM_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ZKDM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ZKDM_WORKERS_DIR", str(tmp_path / "workers"))
    monkeypatch.setenv("ZKDM_API_URL", API)
    monkeypatch.setenv("BUYER_KEY", BUYER)
    monkeypatch.setenv("CREATOR_KEY", CREATOR)
    store = Store(tmp_path / "home")
    later = int(time.time()) + 3600
    store.save_session(API, Account.from_key(BUYER).address, "buyer-jwt", later)
    store.save_session(API, Account.from_key(CREATOR).address, "creator-jwt", later)
    store.save_license(LICENSE, {"contentId": CONTENT, "apiKey": "sk_live_x", "accessToken": "zkcred_x"})
    fake.tmp = tmp_path
    return fake


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_signers_add_list_access_revoke(world, capsys):
    code, out, err = run(capsys, "--key-env", "BUYER_KEY", "--json", "signers", "add", LICENSE)
    assert code == 0, err
    added = json.loads(out)
    address = added["address"]
    assert added["state"] == "ACTIVE" and added["chainId"] == 31337 and address in world.signers
    key_file = world.tmp / "workers" / LICENSE / f"{address}.json"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    code, out, _ = run(capsys, "--key-env", "BUYER_KEY", "--json", "signers", "list", LICENSE)
    assert code == 0 and json.loads(out)["signers"][0]["keptHere"] is True
    # two signed accesses (URL only): counters 1 and 2, kept on disk
    for use in (1, 2):
        code, out, err = run(capsys, "--json", "access", CONTENT, "--url-only")
        assert code == 0, err
        assert json.loads(out)["use"] == use
    state = json.loads((world.tmp / "workers" / LICENSE / f"{address}.state.json").read_text())
    assert state["served"] == 2
    assert all("X-License-Token" not in r.headers for r in world.requests)
    code, out, _ = run(capsys, "--key-env", "BUYER_KEY", "signers", "revoke", LICENSE, address)
    assert code == 0 and "REVOKED" in out
    # no active worker left here: not allowed (3), and the message says what to run
    code, _, err = run(capsys, "access", CONTENT, "--url-only")
    assert code == 3 and "zkdm signers add" in err


def test_earnings_payments_and_pages(world, capsys):
    code, out, _ = run(capsys, "--key-env", "CREATOR_KEY", "earnings")
    assert code == 0 and "pending: 0.000975 for 1 use served" in out and CONTENT[:20] in out
    code, out, _ = run(capsys, "--key-env", "CREATOR_KEY", "--json", "earnings")
    assert json.loads(out)["owed"] == 3900
    code, out, _ = run(capsys, "--key-env", "CREATOR_KEY", "--json", "payments", "--status", "completed")
    page = json.loads(out)
    assert code == 0 and len(page["payments"]) == 2 and page["cursor"] == "page2"
    code, out, _ = run(capsys, "--key-env", "CREATOR_KEY", "payments", "--status", "COMPLETED")
    assert "more: zkdm payments --cursor page2" in out
    code, out, _ = run(capsys, "--key-env", "CREATOR_KEY", "--json", "payments", "--status", "COMPLETED", "--all")
    assert [p["paymentId"][-1] for p in json.loads(out)["payments"]] == ["1", "2", "3"]
    assert run(capsys, "--key-env", "CREATOR_KEY", "payments", "--role", "admin")[0] == 2


def test_withdraw_signs_sends_and_records(world, capsys, monkeypatch):
    assert run(capsys, "--key-env", "CREATOR_KEY", "withdraw")[0] == 2  # no node given
    code, out, err = run(capsys, "--key-env", "CREATOR_KEY", "--json", "withdraw", "--rpc-url", RPC)
    assert code == 0, err
    assert json.loads(out)["amount"] == 3900
    assert world.sent[-1]["from"] == Account.from_key(CREATOR).address  # signed with the creator's key
    monkeypatch.setenv("ZKDM_RPC_URL", RPC)
    assert run(capsys, "--key-env", "CREATOR_KEY", "withdraw")[0] == 0


def test_webhooks_and_email(world, capsys):
    code, out, _ = run(capsys, "--key-env", "CREATOR_KEY", "--json", "webhooks", "add", "https://example.com/h",
                       "--event", "payment.completed", "--event", "license.purchased")
    assert code == 0 and json.loads(out)["secret"] == "whsec_abc"
    assert run(capsys, "--key-env", "CREATOR_KEY", "webhooks", "add", "https://e.com", "--event", "nope")[0] == 2
    code, out, _ = run(capsys, "--key-env", "CREATOR_KEY", "webhooks", "list")
    assert code == 0 and "wh_1" in out
    code, out, _ = run(capsys, "--key-env", "CREATOR_KEY", "webhooks", "rotate", "wh_1")
    assert "whsec_new" in out
    code, out, _ = run(capsys, "--key-env", "CREATOR_KEY", "webhooks", "test", "wh_1")
    assert code == 0 and "DELIVERED" in out
    code, out, _ = run(capsys, "--key-env", "CREATOR_KEY", "--json", "webhooks", "deliveries", "wh_1")
    assert json.loads(out)["deliveries"][0]["deliveryId"] == "dl_1"
    assert run(capsys, "--key-env", "CREATOR_KEY", "webhooks", "replay", "wh_1", "dl_1")[0] == 0
    assert run(capsys, "--key-env", "CREATOR_KEY", "webhooks", "delete", "wh_1")[0] == 0
    assert run(capsys, "--key-env", "CREATOR_KEY", "webhooks", "delete", "wh_2")[0] == 4
    code, out, _ = run(capsys, "--key-env", "CREATOR_KEY", "email", "set", "me@example.com")
    assert code == 0 and "me@example.com" in out
    code, out, _ = run(capsys, "--key-env", "CREATOR_KEY", "--json", "email", "show")
    assert json.loads(out)["verified"] is False
