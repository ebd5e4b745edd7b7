"""Flows 2 and 3 as a client does them: terms, quote, purchase (permit or own transaction), access.

Built on ``local.client.Client`` (HTTP, sign-in). Every signature is made here, with the
signer's own key, exactly as a wallet would (``eth_signTypedData_v4``, or a transaction it signs
and sends itself): the API never sees a private key.

    from local.client import Client
    from local.license_client import LicenseClient
    api = Client(api_url); lc = LicenseClient(api)
    terms = lc.create_terms(creator_jwt, creator_key, content_id, price_per_use=10_000, max_uses=50)
    bought = lc.purchase_with_permit(buyer_jwt, buyer_key, terms["termsId"])
    grant = lc.access(content_id, bought["apiKey"], bought["accessToken"]).json()

``access`` signs every request with a worker key of this client (``marketplace.usage.client_signing``),
registered by the licensee on the license's first access here (``add_signer``: AddUsageSigner typed
data, signed with the buyer's key, relayed); the access token only names the license.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import requests
from eth_account import Account
from eth_account.messages import encode_typed_data

from local.client import Client


def sign_typed_data(private_key: str, typed_data: dict[str, Any]) -> str:
    signed = Account.from_key(private_key).sign_message(encode_typed_data(full_message=typed_data))
    return "0x" + signed.signature.hex().removeprefix("0x")


def calldata(function: str, args: list[Any]) -> bytes:
    """ABI-encoded call of ``name(type,...)`` with ``args`` (hex strings for bytes32, decimal strings ok)."""
    from eth_abi import encode
    from eth_utils import keccak

    types = function[function.index("(") + 1:-1].split(",") if not function.endswith("()") else []
    values: list[Any] = []
    for t, a in zip(types, args):
        if t.startswith("uint"):
            values.append(int(a))
        elif t == "bytes32":
            values.append(bytes.fromhex(a[2:]))
        else:
            values.append(a)
    return keccak(text=function)[:4] + encode(types, values)


@dataclass
class LicenseClient:
    api: Client

    # -- creator ----------------------------------------------------------------------------------

    def create_terms(self, token: str, private_key: str, content_id: str, *, price_per_use: int, max_uses: int,
                     duration_seconds: int = 0, license_type: str = "per_use") -> dict[str, Any]:
        """Ask for the CreateTerms typed data, sign it, post it again: the relayer creates the terms."""
        body = {"type": license_type, "pricePerUse": price_per_use, "maxUses": max_uses,
                "durationSeconds": duration_seconds}
        path = f"/content/{content_id}/terms"
        challenge = self.api.request("POST", path, token, json=body).json()
        signature = sign_typed_data(private_key, challenge["typedData"])
        return self.api.request("POST", path, token, expect=(201,),
                                json={**body, "signature": signature, "deadline": challenge["deadline"]}).json()

    def revoke(self, token: str, private_key: str, license_id: str) -> dict[str, Any]:
        path = f"/license/{license_id}/revoke"
        challenge = self.api.request("POST", path, token, json={}).json()
        signature = sign_typed_data(private_key, challenge["typedData"])
        return self.api.request("POST", path, token,
                                json={"signature": signature, "deadline": challenge["deadline"]}).json()

    def list_terms(self, content_id: str) -> list[dict[str, Any]]:
        return self.api.request("GET", f"/content/{content_id}/terms").json()["terms"]

    # -- buyer ------------------------------------------------------------------------------------

    def quote(self, token: str, terms_id: str) -> dict[str, Any]:
        return self.api.request("POST", "/license/quote", token, json={"termsId": terms_id}).json()

    def purchase_with_permit(self, token: str, private_key: str, terms_id: str,
                             expect: tuple[int, ...] = (201,)) -> dict[str, Any]:
        """Quote, sign the stablecoin permit (EIP-2612) it returns, let the platform relay the purchase."""
        return self.redeem_with_permit(token, private_key, self.quote(token, terms_id), expect)

    def redeem_with_permit(self, token: str, private_key: str, q: dict[str, Any],
                           expect: tuple[int, ...] = (201,)) -> dict[str, Any]:
        """Sign quote ``q``'s permit and its purchase (terms, commitment, nonce, deadline: all the
        relayer may buy) and let the platform relay it (with the quote's nonce, so the license gets the
        quote's ``licenseId`` whatever else was bought since)."""
        signature = sign_typed_data(private_key, q["permit"]["typedData"])
        purchase = sign_typed_data(private_key, q["purchase"]["typedData"])
        bought = self.api.request("POST", "/license/purchase", token, expect=expect, json={
            "termsId": q["termsId"], "quoteId": q["quoteId"],
            "payment": {"permit": {"signature": signature, "purchaseSignature": purchase,
                                   "deadline": q["permit"]["deadline"]}}}).json()
        self._remember(bought, token, private_key)
        return bought

    def purchase_with_transaction(self, token: str, private_key: str, terms_id: str, rpc_url: str,
                                  ) -> dict[str, Any]:
        """Quote, then send ``approve`` and ``purchase(termsId, credentialCommitment, nonce)`` (the
        quote's ``transaction``) yourself, then post the purchase's txHash."""
        q = self.quote(token, terms_id)
        tx = q["transaction"]
        send_transaction(rpc_url, private_key, tx["approve"]["to"],
                         calldata(tx["approve"]["function"], tx["approve"]["args"]))
        tx_hash = send_transaction(rpc_url, private_key, tx["purchase"]["to"],
                                   calldata(tx["purchase"]["function"], tx["purchase"]["args"]))
        bought = self.api.request("POST", "/license/purchase", token, expect=(201,), json={
            "termsId": terms_id, "quoteId": q["quoteId"], "payment": {"txHash": tx_hash}}).json()
        self._remember(bought, token, private_key)
        return bought

    def get_license(self, token: str, license_id: str, expect: tuple[int, ...] = (200,)) -> requests.Response:
        return self.api.request("GET", f"/license/{license_id}", token, expect=expect)

    # -- usage signers (worker keys) and access -------------------------------------------------

    def _remember(self, bought: dict[str, Any], token: str, private_key: str) -> None:
        """The buyer's session and key for a license bought here: its worker is registered on first access."""
        owners = self.__dict__.setdefault("_owners", {})
        if isinstance(bought, dict) and bought.get("licenseId"):
            owners[bought["licenseId"]] = (token, private_key)

    def add_signer(self, token: str, private_key: str, license_id: str, signer: str) -> dict[str, Any]:
        """The licensee registers a worker key: AddUsageSigner typed data, signed, relayed (201).
        Returns the typed data's domain too (``domain``: chainId, verifyingContract), what workers sign."""
        path = f"/license/{license_id}/signers"
        challenge = self.api.request("POST", path, token, json={"signer": signer}).json()
        if not challenge.get("signatureRequired"):
            return challenge
        signature = sign_typed_data(private_key, challenge["typedData"])
        added = self.api.request("POST", path, token, expect=(201,), json={
            "signer": signer, "signature": signature, "deadline": challenge["deadline"]}).json()
        return {**added, "domain": challenge["typedData"]["domain"]}

    def worker(self, license_id: str, token: str | None = None, private_key: str | None = None) -> Worker:
        """This client's worker for the license (a fresh key, registered by the licensee once)."""
        import threading

        with self.__dict__.setdefault("_lock", threading.Lock()):
            workers = self.__dict__.setdefault("_workers", {})
            w = workers.get(license_id)
            if w is None:
                from marketplace.usage.client_signing import new_worker_key

                w = workers[license_id] = Worker(license_id, new_worker_key())
        with w.lock:
            if w.domain is None:
                owner: tuple[str, str] = ((token, private_key) if token and private_key
                                          else self.__dict__.get("_owners", {})[license_id])
                w.domain = self.add_signer(owner[0], owner[1], license_id, w.key.address).get("domain") or {}
        return w

    def access(self, content_id: str, api_key: str, access_token: str | None,
               expect: tuple[int, ...] | None = (200,), session: requests.Session | None = None,
               signed: bool = True) -> requests.Response:
        """``POST /content/{id}/access`` with the API key, signed by this client's worker for the
        license the access token names (bought through this client; ``signed=False``: no signature).
        The worker's counter advances on a 200 only. ``expect=None`` returns any response unchecked."""
        url = f"{self.api.api_url}/content/{content_id}/access"
        headers = {"Authorization": f"Bearer {api_key}"}
        w = None
        if signed and access_token:
            from marketplace.licensing import credential as cred

            w = self.worker(cred.decode_token(access_token).license_id)
        if w is None:
            resp = (session or self.api.session).post(url, headers=headers, timeout=self.api.timeout)
        else:
            with w.lock:
                resp = (session or self.api.session).post(url, headers={**headers, **w.headers()},
                                                          timeout=self.api.timeout)
                if resp.status_code == 200:
                    w.served += 1
        if expect is not None and resp.status_code not in expect:
            from local.client import ApiError

            raise ApiError(resp.status_code, resp.json() if resp.content else None, "POST", url)
        return resp


class Worker:
    """A buyer's worker: its key (a usage signer of one license) and its served uses."""

    def __init__(self, license_id: str, key: Any) -> None:
        import threading

        self.license_id, self.key, self.served = license_id, key, 0
        self.domain: dict[str, Any] | None = None
        self.lock = threading.RLock()

    def headers(self) -> dict[str, str]:
        from marketplace.usage.client_signing import access_headers

        assert self.domain is not None
        return access_headers(self.key, self.license_id, self.served + 1, int(self.domain["chainId"]),
                              self.domain["verifyingContract"])


def send_transaction(rpc_url: str, private_key: str, to: str, data: bytes) -> str:
    """Sign and send a transaction with the sender's own key; wait for success; its hash."""
    from web3 import Web3
    from web3.types import TxParams

    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 60}))
    account = Account.from_key(private_key)
    tx = {"from": account.address, "to": Web3.to_checksum_address(to), "data": data, "chainId": w3.eth.chain_id,
          "nonce": w3.eth.get_transaction_count(account.address, "pending")}
    tx["gas"] = int(w3.eth.estimate_gas(cast(TxParams, tx)) * 1.2)
    fees = w3.eth.fee_history(1, "latest")
    base = fees["baseFeePerGas"][-1]
    tx.update(maxFeePerGas=2 * base + 10**9, maxPriorityFeePerGas=10**9)
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction), timeout=120)
    if receipt["status"] != 1:
        raise RuntimeError(f"transaction {receipt['transactionHash'].hex()} reverted")
    return "0x" + bytes(receipt["transactionHash"]).hex()
