"""The typed client: one method per API operation, models from ``zkdm.models`` (generated from the
OpenAPI document), signatures made locally by a ``Signer``.

    from zkdm import Client, Signer
    api = Client("http://127.0.0.1:3000", signer=Signer.from_env())
    api.login()
    result = api.register_file("data.parquet", title="Training set")        # any size, resumable
    terms = api.create_terms(result.contentId, price_per_use=1_000, max_uses=100)
    bought = api.purchase(terms.termsId)                                      # permit signed here
    worker = api.new_worker(bought.licenseId)          # a worker key, registered by the licensee
    grant = api.access(result.contentId, bought.apiKey, worker)               # signed by the worker
    api.earnings(); api.payments(role="creator")       # Flow 4 (as the creator)
    report = api.compliance_report(bought.licenseId)   # Flow 5 (as the buyer; a JobView if 202:
    pdf = api.report_pdf(report)                       #   api.wait_job(job.location)), PDF checked
    view, verdict = zkdm.verify.verify_published(api, report.proofId)   # checked here, py_ecc
    api.analytics(period="week")                       # Flow 7 (as the creator)

Every refused request raises ``ApiError`` (status, code, message, details, supportId). A new
route is one method here: ``self._call(method, path, Model, json=...)``.
"""

from __future__ import annotations

import json
import mimetypes
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self, TypeVar

import httpx
from pydantic import BaseModel

from zkdm import models as m
from zkdm.errors import ApiError, KeyUnavailable, SigningRefused
from zkdm.signing import Signer
from zkdm.workers import Worker, WorkerStore

M = TypeVar("M", bound=BaseModel)
USER_AGENT = "zkdm-sdk/0.1"
# Largest file sent inline (multipart POST /content/register): the API takes 5 MiB, but API Gateway
# base64-encodes the body and Lambda refuses events over 6 MB; larger files go through uploads.
INLINE_MAX = 4 * 1024 * 1024
REGISTRATION_TIMEOUT = 3600.0
COMPLETE_RETRY_WAITS = (15.0, 30.0, 60.0, 60.0)  # about three minutes for S3 to assemble a large upload


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

    def complete_upload(self, upload_id: str, parts: list[tuple[int, str]], *,
                        retry_waits: Iterable[float] = COMPLETE_RETRY_WAITS) -> m.UploadCompleted:
        """Assemble the uploaded parts. S3 may take longer than the API's 29 s to assemble a large
        object (the API answers 504 while the assembly goes on): completing is idempotent, so a
        504, 502, 503 or a dropped connection is retried after each of ``retry_waits`` seconds."""
        waits = list(retry_waits)
        for attempt in range(len(waits) + 1):
            try:
                return self._call("POST", f"/content/uploads/{upload_id}/complete", m.UploadCompleted,
                                  json={"parts": [{"partNumber": n, "etag": e} for n, e in parts]})
            except (ApiError, httpx.TransportError) as exc:
                transient = isinstance(exc, httpx.TransportError) or exc.status in (502, 503, 504)
                if not transient or attempt == len(waits):
                    raise
                time.sleep(waits[attempt])
        raise AssertionError("unreachable")

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

    def browse(self, *, tag: str | None = None, creator: str | None = None, q: str | None = None,
               licensable: bool | None = None, cursor: str | None = None, limit: int = 20) -> m.ContentList:
        """One page of listed content (never ARCHIVED), newest first, each with its terms summary;
        a page may be short and still give a ``cursor`` (filters read a bounded number of index pages)."""
        params = {"tag": tag, "creator": creator, "q": q, "cursor": cursor, "limit": limit,
                  "licensable": None if licensable is None else str(licensable).lower()}
        return self._call("GET", "/content", m.ContentList, auth=None,
                          params={k: v for k, v in params.items() if v is not None})

    def iter_content(self, **filters: Any) -> Iterator[m.ContentSummary]:
        """Every listed content item matching ``filters`` (those of ``browse``), following the cursors."""
        cursor = filters.pop("cursor", None)
        while True:
            page = self.browse(cursor=cursor, **filters)
            yield from page.items
            if not page.cursor:
                return
            cursor = page.cursor

    def archive(self, content_id: str) -> m.ArchivedView:
        """Archive your content: ask for the ContentRegistry's Archive typed data, sign it here (for
        this content only), post it: the platform relays ``archiveWithSig``."""
        path = f"/content/{content_id}/archive"
        challenge = self._call("POST", path, m.TypedDataChallenge)
        signature = self._signer().sign_typed_data(challenge.typedData, "Archive", {"contentId": content_id})
        return self._call("POST", path, m.ArchivedView, json={"signature": signature, "deadline": challenge.deadline})

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

    # -- Flow 3: access, signed by a worker key ---------------------------------------------------

    def access(self, content_id: str, api_key: str, worker: Worker) -> m.AccessGrantView:
        """One use of a license: a presigned URL (1 hour) to the content, the request signed by
        ``worker`` (a usage signer of the license) for its next counter.

        The worker's counter advances only when the use is served (200). A 409 whose
        ``details.expectedCounter`` says the local counter is behind or ahead (``replayed_counter``,
        ``counter_skipped``: another machine used the key, or a state file was lost) resyncs to it
        and signs once more."""
        path = f"/content/{content_id}/access"
        with worker.locked():
            counter = worker.served + 1
            for attempt in (1, 2):
                try:
                    grant = self._call("POST", path, m.AccessGrantView, auth=None, headers={
                        "Authorization": f"Bearer {api_key}", **worker.headers(counter, path=path)})
                except ApiError as exc:
                    expected = exc.details.get("expectedCounter")
                    if (attempt == 1 and exc.status == 409 and isinstance(expected, int) and expected >= 1
                            and exc.details.get("reason") in ("replayed_counter", "counter_skipped")):
                        counter = expected
                        continue
                    raise
                worker.record_served(counter)
                return grant
        raise AssertionError("unreachable")

    # -- Flow 4: usage signers (worker keys) -----------------------------------------------------

    def add_signer(self, license_id: str, signer: str) -> SignerAdded:
        """The licensee registers ``signer`` (a worker key's address): ``AddUsageSigner`` typed data,
        checked and signed here with the licensee's key, relayed by the platform (201). The answer
        carries the typed data's domain: the LicenseManager (chainId, verifyingContract) that
        accesses are signed for."""
        path = f"/license/{license_id}/signers"
        answer = self._call("POST", path, m.SignerAnswer, json={"signer": signer}).root
        if isinstance(answer, m.SignerView):  # registered already: no typed data to sign
            return SignerAdded(answer, None)
        signature = self._signer().sign_typed_data(answer.typedData, "AddUsageSigner",
                                                   {"licenseId": license_id, "signer": signer})
        view = self._call("POST", path, m.SignerView, expect=(201,), json={
            "signer": signer, "signature": signature, "deadline": answer.deadline})
        return SignerAdded(view, answer.typedData.get("domain"))

    def new_worker(self, license_id: str, workers: WorkerStore | None = None) -> Worker:
        """A fresh worker key for the license, kept in ``workers`` (default: the user's folder;
        written before it is registered, so a registered key is never lost), registered by the
        licensee (our key) as a usage signer; the domain its accesses are signed for is kept with it."""
        store = workers if workers is not None else WorkerStore()
        worker = store.create(license_id)
        added = self.add_signer(license_id, worker.address)
        if added.domain is None:
            raise ApiError(None, "UNEXPECTED_ANSWER", f"the API knew the new key {worker.address} already")
        store.activate(worker, added.domain, added.signer.state, added.signer.txHash)
        return worker

    def list_signers(self, license_id: str) -> m.SignerList:
        return self._call("GET", f"/license/{license_id}/signers", m.SignerList)

    def revoke_signer(self, license_id: str, signer: str) -> m.SignerView:
        """The licensee revokes a worker key: ``RevokeUsageSigner`` typed data signed here, relayed."""
        path = f"/license/{license_id}/signers/{signer}"
        answer = self._call("DELETE", path, m.SignerAnswer).root
        if isinstance(answer, m.SignerView):
            return answer
        signature = self._signer().sign_typed_data(answer.typedData, "RevokeUsageSigner",
                                                   {"licenseId": license_id, "signer": signer})
        return self._call("DELETE", path, m.SignerView, json={"signature": signature, "deadline": answer.deadline})

    # -- Flow 4: payments and earnings -------------------------------------------------------------

    def earnings(self) -> m.EarningsView:
        """The caller's earnings as a creator: owed (withdrawable), withdrawn, pending, per content."""
        return self._call("GET", "/creator/earnings", m.EarningsView)

    def payments(self, *, role: str = "creator", content_id: str | None = None, license_id: str | None = None,
                 status: str | None = None, cursor: str | None = None, limit: int = 50) -> m.PaymentList:
        """One page of payments (one per paid usage batch), newest first; ``cursor`` of the next page."""
        params = {"role": role, "contentId": content_id, "licenseId": license_id, "status": status,
                  "cursor": cursor, "limit": limit}
        return self._call("GET", "/payments", m.PaymentList, params={k: v for k, v in params.items() if v is not None})

    def iter_payments(self, **filters: Any) -> Iterator[m.PaymentView]:
        """Every payment matching ``filters`` (those of ``payments``), following the cursors."""
        cursor = filters.pop("cursor", None)
        while True:
            page = self.payments(cursor=cursor, **filters)
            yield from page.payments
            if not page.cursor:
                return
            cursor = page.cursor

    def withdraw_transaction(self) -> m.WithdrawChallenge:
        """The unsigned ``withdraw()`` transaction to send from your wallet (409 if nothing is owed)."""
        answer = self._call("POST", "/creator/withdraw", m.WithdrawAnswer, json={}).root
        if not isinstance(answer, m.WithdrawChallenge):
            raise ApiError(None, "UNEXPECTED_ANSWER", "the API recorded a withdrawal without a transaction")
        return answer

    def record_withdrawal(self, tx_hash: str, *, attempts: int = 10, interval: float = 1.0) -> m.WithdrawView:
        """Post a mined ``withdraw()`` transaction's hash: verified on chain and recorded (a 409
        "not mined yet" from a lagging node is retried)."""
        for attempt in range(attempts):
            try:
                return self._call("POST", "/creator/withdraw", m.WithdrawView, json={"txHash": tx_hash.lower()})
            except ApiError as exc:
                if exc.status != 409 or "mined" not in exc.message or attempt == attempts - 1:
                    raise
                time.sleep(interval)
        raise AssertionError("unreachable")

    def withdraw(self, rpc_url: str, *, on_sent: Callable[[str], None] | None = None,
                 timeout: float = 120.0) -> m.WithdrawView:
        """Withdraw what the escrow owes you: the API's unsigned ``withdraw()`` transaction, signed
        here with your key and sent to ``rpc_url`` (your node), waited for, then its hash posted."""
        from zkdm.chain import ChainError, Rpc

        challenge = self.withdraw_transaction()
        tx = challenge.transaction
        if tx.data[:10].lower() != "0x3ccfd60b":  # withdraw(): the only call this method sends
            raise SigningRefused(f"asked to send {tx.function} ({tx.data[:10]}), expected withdraw()")
        rpc = Rpc(rpc_url)
        try:
            tx_hash = rpc.send(self._signer(), tx.to, tx.data, value=int(tx.value or "0"), chain_id=tx.chainId)
            if on_sent is not None:
                on_sent(tx_hash)
            rpc.wait(tx_hash, timeout=timeout)
        except httpx.HTTPError as exc:
            raise ChainError(f"the chain node at {rpc_url} is unreachable: {exc}") from exc
        finally:
            rpc.close()
        return self.record_withdrawal(tx_hash)

    # -- Flow 4: notifications ---------------------------------------------------------------------

    def add_webhook(self, url: str, events: Iterable[str], description: str | None = None) -> m.WebhookCreated:
        """Register a webhook (Standard Webhooks); its ``whsec_`` secret is in the answer, shown once."""
        body = m.WebhookRequest.model_validate({"url": url, "events": list(events), "description": description})
        return self._call("POST", "/webhooks", m.WebhookCreated, expect=(201,),
                          json=body.model_dump(mode="json", exclude_none=True))

    def list_webhooks(self) -> m.WebhookList:
        return self._call("GET", "/webhooks", m.WebhookList)

    def delete_webhook(self, webhook_id: str) -> None:
        self.request("DELETE", f"/webhooks/{webhook_id}", expect=(204,))

    def rotate_webhook(self, webhook_id: str) -> m.SecretRotated:
        """A new signing secret (shown once); the previous one keeps signing until the grace ends."""
        return self._call("POST", f"/webhooks/{webhook_id}/rotate", m.SecretRotated)

    def test_webhook(self, webhook_id: str) -> m.DeliveryView:
        """Send a webhook.test event now: the delivery with the attempt's outcome."""
        return self._call("POST", f"/webhooks/{webhook_id}/test", m.DeliveryView)

    def webhook_deliveries(self, webhook_id: str) -> m.DeliveryList:
        return self._call("GET", f"/webhooks/{webhook_id}/deliveries", m.DeliveryList)

    def replay_delivery(self, webhook_id: str, delivery_id: str) -> m.DeliveryView:
        return self._call("POST", f"/webhooks/{webhook_id}/deliveries/{delivery_id}/replay", m.DeliveryView)

    def set_email(self, email: str) -> m.EmailView:
        """Set the notification email (SES sends a verification link; only a verified one gets mail)."""
        return self._call("PUT", "/creator/notifications/email", m.EmailView,
                          json=m.EmailRequest(email=email).model_dump(mode="json"))

    def get_email(self) -> m.EmailView:
        return self._call("GET", "/creator/notifications/email", m.EmailView)

    # -- Flows 5 and 6: compliance reports, aggregate proofs, public verification ------------------

    def compliance_report(self, license_id: str, *, period_from: str | None = None, period_to: str | None = None,
                          prefer_async: bool = False) -> m.ComplianceReportView | m.JobView:
        """``POST /compliance/verify`` (the licensee): the report (200), or a long proof's job (202:
        follow it with ``wait_job``)."""
        period = {k: v for k, v in (("from", period_from), ("to", period_to)) if v is not None}
        body = m.ComplianceRequest.model_validate({"licenseId": license_id, **({"period": period} if period else {})})
        resp = self.request("POST", "/compliance/verify", expect=(200, 202),
                            headers={"Prefer": "respond-async"} if prefer_async else None,
                            json=body.model_dump(mode="json", by_alias=True, exclude_none=True))
        if resp.status_code == 202:
            return m.JobView.model_validate(resp.json())
        return m.ComplianceReportView.model_validate(resp.json())

    def generate_proof(self, content_id: str, *, claims: Iterable[str] | None = None,
                       prefer_async: bool = False) -> m.ProofGeneratedView | m.JobView:
        """``POST /creator/proof/generate`` (the content's creator): the recorded aggregate proof
        (200), or its job (202)."""
        payload: dict[str, Any] = {"contentId": content_id, "proofType": "aggregate_usage"}
        if claims:
            payload["claims"] = list(claims)
        body = m.GenerateRequest.model_validate(payload)
        resp = self.request("POST", "/creator/proof/generate", expect=(200, 202),
                            headers={"Prefer": "respond-async"} if prefer_async else None,
                            json=body.model_dump(mode="json", exclude_none=True))
        if resp.status_code == 202:
            return m.JobView.model_validate(resp.json())
        return m.ProofGeneratedView.model_validate(resp.json())

    def proof_job(self, job_or_location: str) -> m.JobView:
        """A proof job (its id, or the ``Location`` a 202 answered)."""
        path = job_or_location if job_or_location.startswith("/") else f"/proof/jobs/{job_or_location}"
        return self._call("GET", path, m.JobView)

    def wait_job(self, job_or_location: str, *, timeout: float = 3600.0, interval: float = 0.5,
                 on_job: Callable[[m.JobView], None] | None = None) -> dict[str, Any]:
        """Poll a proof job until it SUCCEEDED (its result) or FAILED (``ApiError`` with the job's
        error, status None)."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.proof_job(job_or_location)
            if on_job is not None:
                on_job(job)
            if job.state == "SUCCEEDED" and job.result is not None:
                return job.result
            if job.state == "FAILED":
                raise ApiError.from_body(None, job.error or {"error": "PROOF_GENERATION_FAILED",
                                                             "message": "the proof job failed"},
                                         "GET", job.location)
            if time.monotonic() > deadline:
                raise TimeoutError(f"proof job {job.jobId} still {job.state} after {timeout:.0f} s")
            time.sleep(interval)
            interval = min(interval * 1.5, 3.0)

    def report_pdf(self, report: m.ComplianceReportView) -> bytes:
        """A compliance report's PDF from its presigned link (no credentials sent), checked: a PDF
        whose content address is the ``reportCid`` the API named (else ``TransferError`` /
        ``VerificationFailed``)."""
        from zkdm.errors import TransferError, VerificationFailed
        from zkdm.ipfs_cid import compute_bytes

        pdf = self.fetch(report.reportUrl)
        if not pdf.startswith(b"%PDF-"):
            raise TransferError(f"the report link answered {len(pdf)} bytes that are not a PDF")
        cid = compute_bytes(pdf).v1
        if cid != report.reportCid:
            raise VerificationFailed(f"the downloaded report's content address is {cid}, the API named "
                                     f"{report.reportCid}: not the report that was issued")
        return pdf

    def public_proof(self, proof_id: str) -> m.PublicProofView:
        """``GET /verify/proof/{proofId}`` (public): the recorded proof, its figures and files."""
        return self._call("GET", f"/verify/proof/{proof_id}", m.PublicProofView, auth=None)

    def fetch(self, url: str) -> bytes:
        """A published file (a proof's snarkjs files, a presigned report link): no credentials sent."""
        resp = self.http.get(url if url.startswith("http") else self.api_url + url)
        if resp.status_code != 200:
            raise ApiError.from_body(resp.status_code, _json(resp), "GET", url, resp.headers)
        return resp.content

    # -- Flow 7: analytics -------------------------------------------------------------------------

    def analytics(self, *, period: str = "month", address: str | None = None) -> m.CreatorAnalytics:
        """``GET /creator/{address}/analytics`` (your own: ``address`` defaults to the signer's)."""
        who = address or self._signer().address
        return self._call("GET", f"/creator/{who}/analytics", m.CreatorAnalytics, params={"period": period})


@dataclass(frozen=True)
class SignerAdded:
    """A registered usage signer and the EIP-712 domain its accesses are signed for (None when the
    signer was registered already and nothing was signed)."""

    signer: m.SignerView
    domain: dict[str, Any] | None
