"""The typed client: one method per API operation, models from ``zkdm.models`` (generated from the
OpenAPI document), signatures made locally by a ``Signer``.

    from zkdm import Client, Signer
    api = Client("http://127.0.0.1:3000", signer=Signer.from_env())
    api.login()
    result = api.register_file("data.parquet", title="Training set")        # any size, resumable
    terms = api.create_terms(result.contentId, price_per_use=1_000, max_uses=100)
    bought = api.purchase(terms.termsId)                                      # permit signed here
    grant = api.access(result.contentId, bought.apiKey, bought.accessToken)

Every refused request raises ``ApiError`` (status, code, message, details, supportId). A new
route is one method here: ``self._call(method, path, Model, json=...)``.
"""

from __future__ import annotations

import json
import mimetypes
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Self, TypeVar

import httpx
from pydantic import BaseModel

from zkdm import models as m
from zkdm.errors import ApiError, KeyUnavailable
from zkdm.signing import Signer

M = TypeVar("M", bound=BaseModel)
USER_AGENT = "zkdm-sdk/0.1"
# Largest file sent inline (multipart POST /content/register): the API takes 5 MiB, but API Gateway
# base64-encodes the body and Lambda refuses events over 6 MB; larger files go through uploads.
INLINE_MAX = 4 * 1024 * 1024
REGISTRATION_TIMEOUT = 3600.0


def _json(resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return resp.text


class Client:
    def __init__(self, api_url: str, *, token: str | None = None, signer: Signer | None = None,
                 timeout: float = 60.0, transport: httpx.BaseTransport | None = None) -> None:
        self.api_url = api_url.rstrip("/")
        self.token = token
        self.signer = signer
        self.http = httpx.Client(timeout=timeout, headers={"User-Agent": USER_AGENT}, transport=transport)
        self.on_login: Callable[[str, m.LoginResponse], None] | None = None  # e.g. cache the session

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, auth: str | None = "jwt", expect: Iterable[int] = (200,),
                headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        """One API call; a status outside ``expect`` raises ``ApiError`` with the error body."""
        url = path if path.startswith("http") else self.api_url + path
        headers = dict(headers or {})
        if auth == "jwt":
            headers["Authorization"] = f"Bearer {self._session()}"
        resp = self.http.request(method, url, headers=headers, **kwargs)
        if resp.status_code == 401 and auth == "jwt" and self.signer is not None:
            self.token = None  # expired session: sign in again once
            headers["Authorization"] = f"Bearer {self._session()}"
            resp = self.http.request(method, url, headers=headers, **kwargs)
        if resp.status_code not in tuple(expect):
            raise ApiError.from_body(resp.status_code, _json(resp), method, url, resp.headers)
        return resp

    def _call(self, method: str, path: str, model: type[M], *, auth: str | None = "jwt",
              expect: Iterable[int] = (200,), **kwargs: Any) -> M:
        return model.model_validate(self.request(method, path, auth=auth, expect=expect, **kwargs).json())

    def _session(self) -> str:
        if self.token is None:
            if self.signer is None:
                raise KeyUnavailable("sign in first (zkdm login) or give a signing key")
            self.login()
        assert self.token is not None
        return self.token

    def _signer(self) -> Signer:
        if self.signer is None:
            raise KeyUnavailable("this needs your signature: give a keystore (--keystore) or a key in the environment")
        return self.signer

    # -- auth -------------------------------------------------------------------------------------

    def login(self) -> m.LoginResponse:
        """Sign in with Ethereum: the server's EIP-4361 message, checked and signed here, for a JWT."""
        signer = self._signer()
        challenge = self._call("POST", "/auth/nonce", m.NonceResponse, auth=None, json={"address": signer.address})
        signature = signer.sign_siwe(challenge.message, self.api_url)
        session = self._call("POST", "/auth/login", m.LoginResponse, auth=None,
                             json={"message": challenge.message, "signature": signature})
        self.token = session.token
        if self.on_login is not None:
            self.on_login(signer.address, session)
        return session

    # -- Flow 1: content --------------------------------------------------------------------------

    def get_content(self, content_id: str) -> m.ContentView:
        return self._call("GET", f"/content/{content_id}", m.ContentView, auth=None)

    def register_inline(self, data: bytes, filename: str, metadata: dict[str, Any]
                        ) -> m.RegistrationResult | m.RegistrationAccepted:
        """``POST /content/register`` multipart (files up to ``INLINE_MAX``): 201 or 202."""
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        m.Metadata.model_validate(metadata)
        resp = self.request("POST", "/content/register", expect=(201, 202), files={
            "file": (filename, data, content_type), "metadata": (None, json.dumps(metadata), "application/json")})
        return self._registration_answer(resp)

    def create_upload(self, size: int, filename: str, *, multipart: bool | None = None,
                      part_size: int | None = None) -> m.UploadResponse | m.MultipartUploadResponse:
        body = m.UploadRequest(size=size, filename=filename, multipart=multipart, partSize=part_size)
        return self._call("POST", "/content/uploads", m.UploadAnswer, expect=(201,),
                          json=body.model_dump(mode="json", exclude_none=True)).root

    def upload_parts(self, upload_id: str, part_numbers: Iterable[int] = ()) -> m.UploadPartsView:
        return self._call("POST", f"/content/uploads/{upload_id}/parts", m.UploadPartsView,
                          json={"partNumbers": sorted(set(part_numbers))})

    def complete_upload(self, upload_id: str, parts: list[tuple[int, str]]) -> m.UploadCompleted:
        return self._call("POST", f"/content/uploads/{upload_id}/complete", m.UploadCompleted,
                          json={"parts": [{"partNumber": n, "etag": e} for n, e in parts]})

    def register_upload(self, upload_id: str, metadata: dict[str, Any]
                        ) -> m.RegistrationResult | m.RegistrationAccepted:
        m.Metadata.model_validate(metadata)
        resp = self.request("POST", "/content/register", expect=(201, 202),
                            json={"uploadId": upload_id, "metadata": metadata})
        return self._registration_answer(resp)

    @staticmethod
    def _registration_answer(resp: httpx.Response) -> m.RegistrationResult | m.RegistrationAccepted:
        if resp.status_code == 201:
            return m.RegistrationResult.model_validate(resp.json())
        return m.RegistrationAccepted.model_validate(resp.json())

    def registration(self, registration_id: str) -> m.RegistrationStatus:
        return self._call("GET", f"/content/registrations/{registration_id}", m.RegistrationStatus)

    def wait_registration(self, registration_id: str, *, timeout: float = REGISTRATION_TIMEOUT,
                          on_status: Callable[[m.RegistrationStatus], None] | None = None,
                          interval: float = 0.5) -> m.RegistrationResult:
        """Poll until the registration leaves PENDING: its result, or ``ApiError`` (status None)
        with the error the saga recorded."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.registration(registration_id)
            if on_status is not None:
                on_status(status)
            if status.state == "REGISTERED" and status.result is not None:
                return status.result
            if status.state == "FAILED":
                raise ApiError.from_body(None, status.error or {}, "GET",
                                         f"/content/registrations/{registration_id}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"registration {registration_id} still {status.state} after {timeout:.0f} s")
            time.sleep(interval)
            interval = min(interval * 1.5, 3.0)

    def register_file(self, path: str | Path, *, title: str | None = None, description: str = "",
                      tags: Iterable[str] = (), state_dir: str | Path | None = None,
                      part_size: int | None = None, workers: int = 4,
                      on_bytes: Callable[[int, int], None] | None = None,
                      on_status: Callable[[m.RegistrationStatus], None] | None = None) -> m.RegistrationResult:
        """Register a file of any size and wait until it is REGISTERED. Files above ``INLINE_MAX``
        go through a resumable S3 multipart upload (``zkdm.transfer``): run it again after an
        interruption and it continues where it stopped."""
        from zkdm.transfer import Registration

        return Registration(self, Path(path), {"title": title or Path(path).name, "description": description,
                                               "tags": list(tags)},
                            state_dir=state_dir, part_size=part_size, workers=workers,
                            on_bytes=on_bytes, on_status=on_status).run()

    # -- Flow 2: terms, purchases, licenses, keys --------------------------------------------------

    def create_terms(self, content_id: str, *, price_per_use: int, max_uses: int, duration_seconds: int = 0,
                     license_type: str = "per_use") -> m.TermsCreated:
        """Ask for the CreateTerms typed data, sign it here, post it: the platform relays it."""
        body = {"type": license_type, "pricePerUse": price_per_use, "maxUses": max_uses,
                "durationSeconds": duration_seconds}
        path = f"/content/{content_id}/terms"
        challenge = self._call("POST", path, m.TypedDataChallenge, json=body)
        signature = self._signer().sign_typed_data(challenge.typedData, "CreateTerms", {
            "contentId": content_id, "pricePerUse": price_per_use, "maxUses": max_uses,
            "durationSeconds": duration_seconds})
        return self._call("POST", path, m.TermsCreated, expect=(201,),
                          json={**body, "signature": signature, "deadline": challenge.deadline})

    def list_terms(self, content_id: str) -> m.TermsList:
        return self._call("GET", f"/content/{content_id}/terms", m.TermsList, auth=None)

    def quote(self, terms_id: str) -> m.QuoteView:
        return self._call("POST", "/license/quote", m.QuoteView, json={"termsId": terms_id})

    def purchase(self, terms_id: str, *, max_amount: int | None = None,
                 quote: m.QuoteView | None = None) -> m.PurchaseView:
        """Quote, check it (terms, amount, our address), sign its EIP-2612 permit and its
        LicenseManager Purchase here, and let the platform relay exactly that purchase."""
        signer = self._signer()
        q = quote or self.quote(terms_id)
        if q.termsId.lower() != terms_id.lower():
            raise ApiError(None, "QUOTE_MISMATCH", f"the quote is for {q.termsId}, not {terms_id}")
        if max_amount is not None and q.amount > max_amount:
            raise ApiError(None, "PRICE_ABOVE_LIMIT", f"the license costs {q.amount}, above your limit {max_amount}",
                           {"amount": q.amount, "maxAmount": max_amount})
        permit = signer.sign_typed_data(q.permit["typedData"], "Permit", {
            "owner": signer.address, "value": q.amount, "spender": q.permit.get("spender", q.permit["typedData"]
                                                                                 ["message"]["spender"])})
        purchase = signer.sign_typed_data(q.purchase["typedData"], "Purchase", {
            "termsId": q.termsId, "credentialCommitment": q.credentialCommitment, "nonce": q.nonce})
        body = m.PurchaseRequest.model_validate({
            "termsId": q.termsId, "quoteId": q.quoteId,
            "payment": {"permit": {"signature": permit, "purchaseSignature": purchase,
                                   "deadline": q.permit["deadline"], "value": q.amount}}})
        return self._call("POST", "/license/purchase", m.PurchaseView, expect=(201,),
                          json=body.model_dump(mode="json", exclude_none=True))

    def get_license(self, license_id: str) -> m.LicenseView:
        return self._call("GET", f"/license/{license_id}", m.LicenseView)

    def revoke_license(self, license_id: str) -> m.LicenseView:
        """The content's creator revokes a license: RevokeLicense typed data signed here, relayed."""
        path = f"/license/{license_id}/revoke"
        challenge = self._call("POST", path, m.TypedDataChallenge, json={})
        signature = self._signer().sign_typed_data(challenge.typedData, "RevokeLicense", {"licenseId": license_id})
        return self._call("POST", path, m.LicenseView, json={"signature": signature, "deadline": challenge.deadline})

    def rotate_key(self, license_id: str) -> m.NewKeyView:
        return self._call("POST", f"/license/{license_id}/keys", m.NewKeyView, expect=(201,))

    def revoke_keys(self, license_id: str) -> m.KeysRevokedView:
        return self._call("DELETE", f"/license/{license_id}/keys", m.KeysRevokedView)

    # -- Flow 3: access ---------------------------------------------------------------------------

    def access(self, content_id: str, api_key: str, access_token: str) -> m.AccessGrantView:
        """One use of a license: a presigned URL (1 hour) to the content."""
        return self._call("POST", f"/content/{content_id}/access", m.AccessGrantView, auth=None,
                          headers={"Authorization": f"Bearer {api_key}", "X-License-Token": access_token})
