"""Flow 4's CLI against the local stack, as a user runs it (the ``zkdm`` of this environment in a
subprocess): worker keys (signers add/list/revoke; a revoked worker's access refused with exit 3, a
second worker's served), two signed accesses pending in the creator's earnings, payments (none
yet), a withdrawal with nothing owed refused (exit 5), the notification email, and a webhook to a
receiver here (add, list, test, deliveries, replay, rotate, delete).
Settlement and a real withdrawal need the chain's clock moved: tests/e2e/test_flow4_settlement.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ZKDM = str(Path(sys.executable).parent / "zkdm")


def key(stack: dict, role: str) -> str:
    return next(a["privateKey"] for a in stack["accounts"] if a["role"] == role)


@pytest.fixture
def cli(stack, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZKDM_")}
    env.update(ZKDM_API_URL=stack["apiUrl"], ZKDM_HOME=str(tmp_path / "home"),
               ZKDM_WORKERS_DIR=str(tmp_path / "workers"), CREATOR_KEY=key(stack, "creator2"),
               BUYER_KEY=key(stack, "buyer2"), ZKDM_RPC_URL=stack["rpcUrl"])

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([ZKDM, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
                              check=False)
        if ok:
            assert done.returncode == 0, f"zkdm {' '.join(args)} → {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done

    return run


@pytest.fixture
def receiver():
    """A webhook receiver on 127.0.0.1 answering 204; the paths it was sent, in ``received``."""
    received: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append(self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()


def test_flow4_from_the_cli(cli, tmp_path, receiver):
    receiver, received = receiver
    data = tmp_path / "small.bin"
    data.write_bytes(os.urandom(2048))
    content = cli("--key-env", "CREATOR_KEY", "--get", "contentId", "register", str(data), "--title", "f4").stdout
    content = content.strip()
    terms = cli("--key-env", "CREATOR_KEY", "--get", "termsId", "terms", "create", content, "--price", "1000",
                "--max-uses", "10").stdout.strip()
    license_id = cli("--key-env", "BUYER_KEY", "--get", "licenseId", "buy", terms).stdout.strip()

    # no worker yet: not allowed, and the message says what to run
    refused = cli("access", content, "--url-only", ok=False)
    assert refused.returncode == 3 and "signers add" in refused.stderr

    first = cli("--key-env", "BUYER_KEY", "--get", "address", "signers", "add", license_id).stdout.strip()
    grant = json.loads(cli("--json", "access", content, "--url-only").stdout)
    assert grant["use"] == 1
    listed = json.loads(cli("--key-env", "BUYER_KEY", "--json", "signers", "list", license_id).stdout)
    assert [(s["signer"], s["state"], s["lastCounter"], s["keptHere"]) for s in listed["signers"]] == [
        (first, "ACTIVE", 1, True)]

    # revoked: the kept key is no longer used; with it named explicitly the API refuses it (403 → 3)
    cli("--key-env", "BUYER_KEY", "signers", "revoke", license_id, first)
    assert cli("access", content, "--url-only", ok=False).returncode == 3
    named = cli("access", content, "--url-only", "--worker", first, ok=False)
    assert named.returncode == 3 and "signer_revoked" in named.stderr
    second = cli("--key-env", "BUYER_KEY", "--get", "address", "signers", "add", license_id).stdout.strip()
    assert second != first
    assert json.loads(cli("--json", "access", content, "--url-only").stdout)["use"] == 2
    state = json.loads((tmp_path / "workers" / license_id / f"{second}.state.json").read_text())
    assert state["served"] == 1

    # the creator: two uses pending, no payment yet, nothing to withdraw (409 → 5)
    earned = json.loads(cli("--key-env", "CREATOR_KEY", "--json", "earnings").stdout)
    mine = next(c for c in earned["perContent"] if c["contentId"] == content)
    assert mine["pendingUses"] == 2 and mine["earned"] == 0
    page = json.loads(cli("--key-env", "CREATOR_KEY", "--json", "payments", "--content", content).stdout)
    assert page["payments"] == []
    bought = json.loads(cli("--key-env", "BUYER_KEY", "--json", "payments", "--role", "buyer", "--license",
                            license_id).stdout)
    assert bought["payments"] == []
    nothing = cli("--key-env", "CREATOR_KEY", "withdraw", ok=False)
    assert nothing.returncode == 5, nothing.stderr

    # notifications: the email; a webhook to a receiver here (the local stack allows loopback http)
    shown = json.loads(cli("--key-env", "CREATOR_KEY", "--json", "email", "set", "creator2@zkdm.test").stdout)
    assert shown["email"] == "creator2@zkdm.test"
    assert json.loads(cli("--key-env", "CREATOR_KEY", "--json", "email", "show").stdout)["email"] == shown["email"]
    hook = json.loads(cli("--key-env", "CREATOR_KEY", "--json", "webhooks", "add", receiver + "/hook",
                          "--event", "payment.completed", "--description", "cli").stdout)
    assert hook["secret"].startswith("whsec_")
    listed_hooks = json.loads(cli("--key-env", "CREATOR_KEY", "--json", "webhooks", "list").stdout)
    assert hook["webhookId"] in [w["webhookId"] for w in listed_hooks["webhooks"]]
    tested = json.loads(cli("--key-env", "CREATOR_KEY", "--json", "webhooks", "test", hook["webhookId"]).stdout)
    assert tested["attempts"][-1]["ok"] and received and received[-1].startswith("/hook")
    log = json.loads(cli("--key-env", "CREATOR_KEY", "--json", "webhooks", "deliveries", hook["webhookId"]).stdout)
    assert tested["deliveryId"] in [d["deliveryId"] for d in log["deliveries"]]
    replayed = json.loads(cli("--key-env", "CREATOR_KEY", "--json", "webhooks", "replay", hook["webhookId"],
                              tested["deliveryId"]).stdout)
    assert len(replayed["attempts"]) == len(tested["attempts"]) + 1 and len(received) == 2
    rotated = json.loads(cli("--key-env", "CREATOR_KEY", "--json", "webhooks", "rotate", hook["webhookId"]).stdout)
    assert rotated["secret"] != hook["secret"]
    cli("--key-env", "CREATOR_KEY", "webhooks", "delete", hook["webhookId"])
    assert cli("--key-env", "CREATOR_KEY", "webhooks", "delete", hook["webhookId"], ok=False).returncode == 4
