"""Signed access in the SDK: the vendored signing helpers equal the server's files (but for the named
lines) and sign what the server's verifier accepts; worker keys kept 0600 (or encrypted); the
counter advances on a served use only, resyncs once from a 409's ``expectedCounter``, and two
processes sharing a worker never sign the same counter."""

from __future__ import annotations

import importlib.util
import json
import multiprocessing
import os
import secrets
from pathlib import Path

import httpx
import pytest
from marketplace.usage import access_signature as server_sig
from marketplace.usage import client_signing as server_client
from zkdm import ApiError, Client, KeyUnavailable
from zkdm import access_signature as sdk_sig
from zkdm import client_signing as sdk_client
from zkdm.workers import Worker, WorkerStore

pytestmark = pytest.mark.sdk

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = {"name": "LicenseManager", "version": "1", "chainId": 31337,
          "verifyingContract": "0xB7f8BC63BbcaD18155201308C8f3540b07f84F5e"}
LICENSE = "0x" + "ab" * 32
CONTENT = "0x" + "cd" * 32


def _vendor_tool():
    spec = importlib.util.spec_from_file_location("vendor_signing", ROOT / "sdk" / "tools" / "vendor_signing.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_vendored_helpers_equal_the_servers_files_but_for_the_named_lines():
    tool = _vendor_tool()
    for name in tool.FILES:
        assert (ROOT / "sdk" / "zkdm" / name).read_text() == tool.vendored(name), \
            f"sdk/zkdm/{name} drifted from the server's: run sdk/tools/vendor_signing.py"
    assert tool.main(["--check"]) == 0
    assert "Crypto" not in (ROOT / "sdk" / "zkdm" / "access_signature.py").read_text()  # not an SDK dependency


def test_the_copies_sign_and_recover_as_the_servers_do():
    for _ in range(5):
        key = secrets.token_bytes(32)
        assert sdk_client.address_of(key) == server_client.address_of(key)
        counter, req_hash = secrets.randbelow(2**64 - 1) + 1, "0x" + secrets.token_hex(32)
        separator = server_sig.domain_separator(31337, DOMAIN["verifyingContract"])
        assert sdk_sig.domain_separator(31337, DOMAIN["verifyingContract"]) == separator
        digest = server_sig.access_digest(separator, LICENSE, counter, req_hash)
        assert sdk_sig.access_digest(separator, LICENSE, counter, req_hash) == digest
        # the SDK's signature is what the server recovers, and the other way round
        ours = bytes.fromhex(sdk_client.sign_access(sdk_client.WorkerKey(key), LICENSE, counter, req_hash, 31337,
                                                    DOMAIN["verifyingContract"])[2:])
        assert server_sig.recover(digest, ours) == server_client.address_of(key)
        theirs = server_client.sign_digest(key, digest)
        assert sdk_sig.recover(digest, theirs) == sdk_client.address_of(key)
        assert sdk_sig.compact(theirs) == server_sig.compact(theirs)


def test_worker_keys_are_kept_for_their_owner_only_or_encrypted(tmp_path, monkeypatch):
    store = WorkerStore(tmp_path / "workers")
    worker = store.create(LICENSE)
    store.activate(worker, DOMAIN, "ACTIVE")
    key_file = tmp_path / "workers" / LICENSE / f"{worker.address}.json"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "workers").stat().st_mode & 0o777) == "0o700"
    loaded = store.load(LICENSE)
    assert loaded.address == worker.address and loaded.chain_id == 31337 and loaded.served == 0
    assert [r["address"] for r in store.records()] == [worker.address]
    assert "privateKey" not in store.records()[0]
    # encrypted: the keystore in the file, the password from the environment
    monkeypatch.setenv("ZKDM_WORKER_PASSWORD", "correct horse")
    sealed = store.create(LICENSE)
    store.activate(sealed, DOMAIN, "ACTIVE")
    text = (tmp_path / "workers" / LICENSE / f"{sealed.address}.json").read_text()
    assert sealed.private_key.hex() not in text and "crypto" in json.loads(text)["keystore"]
    assert store.load(LICENSE, sealed.address).private_key == sealed.private_key
    monkeypatch.setenv("ZKDM_WORKER_PASSWORD", "wrong")
    with pytest.raises(KeyUnavailable, match="wrong password"):
        store.load(LICENSE, sealed.address)
    store.mark(sealed.address, LICENSE, "REVOKED")
    monkeypatch.delenv("ZKDM_WORKER_PASSWORD")
    assert store.load(LICENSE).address == worker.address  # the newest active one
    with pytest.raises(KeyUnavailable, match="zkdm signers add"):
        store.load("0x" + "ee" * 32)


class FakeAccessApi:
    """The access route's signed-access checks (the server's recovery), over a served counter."""

    def __init__(self, address: str, served: int = 0) -> None:
        self.address, self.served, self.seen, self.refuse = address, served, [], None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        h = request.headers
        counter = int(h["X-Usage-Counter"])
        self.seen.append(counter)
        assert "X-License-Token" not in h and h["Authorization"] == "Bearer sk_live_test"
        digest = server_sig.access_digest(server_sig.domain_separator(31337, DOMAIN["verifyingContract"]), LICENSE,
                                          counter, h["X-Usage-Request-Hash"])
        if server_sig.recover(digest, bytes.fromhex(h["X-Usage-Signature"][2:])) != h["X-Usage-Signer"]:
            return httpx.Response(401, json={"error": "UNAUTHORIZED", "message": "bad", "details": {
                "reason": "bad_signature"}})
        if self.refuse is not None:
            return self.refuse
        if counter != self.served + 1:
            reason = "replayed_counter" if counter <= self.served else "counter_skipped"
            return httpx.Response(409, json={"error": "CONFLICT", "message": "sign again", "details": {
                "reason": reason, "expectedCounter": self.served + 1}})
        self.served = counter
        return httpx.Response(200, json={"contentId": CONTENT, "expiresAt": "2030-01-01T00:00:00Z", "expiresIn": 3600,
                                         "licenseId": LICENSE, "licenseStatus": "IN_USE", "url": "https://s3/x",
                                         "use": counter, "usesRemaining": 10})


def test_the_counter_advances_on_a_served_use_only_and_resyncs_once(tmp_path):
    store = WorkerStore(tmp_path)
    worker = store.create(LICENSE)
    store.activate(worker, DOMAIN, "ACTIVE")
    api = FakeAccessApi(worker.address)
    client = Client("http://api.test", transport=httpx.MockTransport(api))
    assert client.access(CONTENT, "sk_live_test", worker).use == 1
    assert client.access(CONTENT, "sk_live_test", store.load(LICENSE)).use == 2
    assert store.load(LICENSE).served == 2
    # refused (rate limited): no use, the counter stays
    api.refuse = httpx.Response(429, json={"error": "RATE_LIMITED", "message": "slow down"})
    with pytest.raises(ApiError):
        client.access(CONTENT, "sk_live_test", worker)
    assert worker.served == 2
    api.refuse = None
    # another machine used the key three times: 409 replayed_counter, expectedCounter 6, signed again once
    api.served = 5
    api.seen.clear()
    assert client.access(CONTENT, "sk_live_test", worker).use == 6
    assert api.seen == [3, 6] and store.load(LICENSE).served == 6
    # the local state is ahead (served recorded, lost on the server side: a restored database): resync down
    api.served = 1
    api.seen.clear()
    assert client.access(CONTENT, "sk_live_test", worker).use == 2 and api.seen == [7, 2]
    # only one retry: a second conflict is the caller's
    api.refuse = httpx.Response(409, json={"error": "CONFLICT", "message": "again", "details": {
        "reason": "replayed_counter", "expectedCounter": 9}})
    with pytest.raises(ApiError) as refused:
        client.access(CONTENT, "sk_live_test", worker)
    assert refused.value.status == 409 and worker.served == 2


def _bump(root: str, n: int) -> None:
    worker = WorkerStore(root).load(LICENSE)
    for _ in range(n):
        with worker.locked():
            worker.record_served(worker.served + 1)


def test_two_processes_sharing_a_worker_never_sign_the_same_counter(tmp_path):
    store = WorkerStore(tmp_path)
    store.activate(store.create(LICENSE), DOMAIN, "ACTIVE")
    ctx = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    procs = [ctx.Process(target=_bump, args=(str(tmp_path), 40)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert store.load(LICENSE).served == 120


def test_an_in_memory_worker_needs_its_domain():
    worker = Worker.new(LICENSE)
    with pytest.raises(KeyUnavailable, match="not registered"):
        worker.headers(1)
    worker = Worker.new(LICENSE, DOMAIN)
    worker.record_served(4)
    assert worker.served == 4 and worker.headers(5)["X-Usage-Counter"] == "5"
