"""What the Flow 2-3 integration tests share: registered content, terms, purchases, access calls.

Everything goes through the real handlers (``conftest.Api``); the signatures are made with the
Hardhat accounts' keys as a wallet would make them.
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, field

import pytest
from marketplace import multipart

from local.lambdas import load_handler
from local.license_client import calldata, send_transaction, sign_typed_data


def handler_module(folder: str):
    """The module ``local.lambdas`` imported ``functions/<folder>/handler.py`` as."""
    load_handler(folder)
    return sys.modules[f"lambda_{folder}_handler"]


def clear_license_caches() -> None:
    """Forget the license-api and access singletons (after an environment change)."""
    from marketplace.access import adapters as content_urls

    handler_module("license_api").licensing.cache_clear()
    handler_module("access")._setup.cache_clear()
    content_urls._s3.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_license_singletons(stack):
    clear_license_caches()
    yield
    clear_license_caches()


def register(api, token: str, data: bytes | None = None) -> tuple[str, bytes]:
    """Register ``data`` (random by default) as the signed-in creator: (contentId, bytes)."""
    data = data if data is not None else os.urandom(4096)
    body, ctype = multipart.encode({"file": ("data.bin", data, "application/octet-stream"),
                                    "metadata": (None, b'{"title": "training set"}', "application/json")},
                                   "flow23" + os.urandom(6).hex())
    reply = api.call("POST", "/content/register", token=token, body=body, headers={"Content-Type": ctype})
    assert reply.status == 201, reply.body
    return reply.body["contentId"], data


@dataclass
class People:
    """Signed-in accounts: role -> (jwt, address, private key)."""

    api: object
    stack: object
    tokens: dict
    workers: dict = field(default_factory=dict)  # (licenseId, index) -> Worker
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def jwt(self, role: str) -> str:
        if role not in self.tokens:
            self.tokens[role] = self.api.sign_in(role)
        return self.tokens[role]

    def address(self, role: str) -> str:
        return self.stack.accounts[role][0]

    def key(self, role: str) -> str:
        return self.stack.accounts[role][1]

    # -- creator ----------------------------------------------------------------------------------

    def create_terms(self, content_id: str, *, price: int = 1_000, max_uses: int = 50, duration: int = 0,
                     role: str = "creator1", license_type: str = "per_use") -> dict:
        body = {"type": license_type, "pricePerUse": price, "maxUses": max_uses, "durationSeconds": duration}
        path = f"/content/{content_id}/terms"
        challenge = self.api.call("POST", path, token=self.jwt(role), body=body)
        assert challenge.status == 200 and challenge.body["signatureRequired"], challenge.body
        signature = sign_typed_data(self.key(role), challenge.body["typedData"])
        created = self.api.call("POST", path, token=self.jwt(role),
                                body={**body, "signature": signature, "deadline": challenge.body["deadline"]})
        assert created.status == 201, created.body
        return created.body

    def revoke(self, license_id: str, role: str = "creator1"):
        path = f"/license/{license_id}/revoke"
        challenge = self.api.call("POST", path, token=self.jwt(role), body={})
        if challenge.status != 200:
            return challenge
        signature = sign_typed_data(self.key(role), challenge.body["typedData"])
        return self.api.call("POST", path, token=self.jwt(role),
                             body={"signature": signature, "deadline": challenge.body["deadline"]})

    # -- buyer ------------------------------------------------------------------------------------

    def quote(self, terms_id: str, role: str = "buyer1") -> dict:
        reply = self.api.call("POST", "/license/quote", token=self.jwt(role), body={"termsId": terms_id})
        assert reply.status == 200, reply.body
        return reply.body

    def buy_with_permit(self, terms_id: str, role: str = "buyer1", **permit_extra):
        return self.redeem_with_permit(self.quote(terms_id, role), role, **permit_extra)

    def redeem_with_permit(self, q: dict, role: str = "buyer1", **permit_extra):
        """Sign quote ``q``'s permit and purchase and post them: the relayer sends the quote's purchase."""
        signature = sign_typed_data(self.key(role), q["permit"]["typedData"])
        purchase = sign_typed_data(self.key(role), q["purchase"]["typedData"])
        return self.api.call("POST", "/license/purchase", token=self.jwt(role), body={
            "termsId": q["termsId"], "quoteId": q["quoteId"],
            "payment": {"permit": {"signature": signature, "purchaseSignature": purchase,
                                   "deadline": q["permit"]["deadline"], **permit_extra}}})

    def buy_with_transaction(self, terms_id: str, role: str = "buyer1"):
        q = self.quote(terms_id, role)
        tx = q["transaction"]
        send_transaction(self.stack.rpc_url, self.key(role), tx["approve"]["to"],
                         calldata(tx["approve"]["function"], tx["approve"]["args"]))
        tx_hash = send_transaction(self.stack.rpc_url, self.key(role), tx["purchase"]["to"],
                                   calldata(tx["purchase"]["function"], tx["purchase"]["args"]))
        reply = self.api.call("POST", "/license/purchase", token=self.jwt(role),
                              body={"termsId": terms_id, "payment": {"txHash": tx_hash}})
        return reply, q, tx_hash

    def mint(self, role: str, amount: int) -> None:
        coin = self.stack.contract("MockStablecoin")
        self.stack.send_as("deployer", coin.functions.mint(self.address(role), amount))

    def balance(self, address: str) -> int:
        return self.stack.contract("MockStablecoin").functions.balanceOf(address).call()

    # -- usage signers and access -----------------------------------------------------------------

    def register_signer(self, license_id: str, address: str, role: str = "buyer1"):
        """The licensee registers a worker key: typed data, then the relayed signature (201)."""
        path = f"/license/{license_id}/signers"
        challenge = self.api.call("POST", path, token=self.jwt(role), body={"signer": address})
        if challenge.status != 200 or not challenge.body.get("signatureRequired"):
            return challenge
        signature = sign_typed_data(self.key(role), challenge.body["typedData"])
        return self.api.call("POST", path, token=self.jwt(role), body={
            "signer": address, "signature": signature, "deadline": challenge.body["deadline"]})

    def worker(self, license_id: str, index: int = 0, role: str = "buyer1") -> Worker:
        """The license's worker ``index`` (a usage signer registered on first use)."""
        with self._lock:
            w = self.workers.get((license_id, index))
            if w is None:
                from marketplace.usage.client_signing import new_worker_key

                w = self.workers[(license_id, index)] = Worker(license_id, new_worker_key())
        with w.lock:
            if not w.registered:
                reply = self.register_signer(license_id, w.key.address, role)
                assert reply.status in (200, 201), reply.body
                w.registered = True
        return w

    def access(self, content_id: str, api_key: str, license: str | None, *, worker: int = 0,
               role: str = "buyer1"):
        """``POST /content/{id}/access`` with the API key, signed by the license's worker ``worker``
        (``license``: its id or its access token; None: unsigned). The worker's counter advances
        on a 200 only, as a real client's does."""
        headers = {"Authorization": f"Bearer {api_key}"}
        if license is None:
            return self.api.call("POST", f"/content/{content_id}/access", headers=headers)
        license_id = license if license.startswith("0x") else _license_of(license)
        w = self.worker(license_id, worker, role)
        with w.lock:
            reply = self.api.call("POST", f"/content/{content_id}/access",
                                  headers={**headers, **w.headers(self.stack.deployment)})
            if reply.status == 200:
                w.served += 1
            return reply


@dataclass
class Worker:
    """A buyer's worker: its key (a usage signer of the license) and its served uses."""

    license_id: str
    key: object
    served: int = 0
    registered: bool = False
    lock: threading.RLock = field(default_factory=threading.RLock)

    def headers(self, deployment: dict) -> dict:
        from marketplace.usage.client_signing import access_headers

        return access_headers(self.key, self.license_id, self.served + 1, deployment["chainId"],
                              deployment["contracts"]["LicenseManager"])


def _license_of(token: str) -> str:
    from marketplace.licensing import credential as cred

    try:
        return cred.decode_token(token).license_id
    except Exception:
        return "0x" + "00" * 32  # a malformed token names no license


@pytest.fixture(scope="module")
def people(api, stack) -> People:
    return People(api, stack, {})


@pytest.fixture(scope="module")
def content(api, people):
    """One registered content item of creator1: (contentId, bytes)."""
    return register(api, people.jwt("creator1"))
