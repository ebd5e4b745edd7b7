"""Flow 1, the API side: accept a registration, run the saga, answer within the request if it can.

Two ways in, one saga:

- multipart ``POST /content/register`` (``file`` + ``metadata``) for files up to
  MAX_INLINE_UPLOAD_BYTES: the bytes go to the uploads bucket first, so the saga's input stays
  small and the bytes are never held by two services;
- ``POST /content/uploads`` → a presigned POST for exactly ``size`` bytes (key
  ``uploads/<uploadId>``), then ``POST /content/register`` JSON ``{uploadId, metadata}``.
  The upload id is the registration id: the registration item is created AWAITING_UPLOAD with
  the presigned form and turned PENDING once, by its creator.

Then a registrations item (PENDING) is written, an execution of the registration saga named
after the registration is started, and its status is polled for up to REGISTRATION_WAIT_SECONDS:
SUCCEEDED → ``RegistrationResult`` (the handler answers 201); FAILED → the error the saga
recorded (409, 503, 500, ...); otherwise ``RegistrationAccepted`` (202 with
``Location: /content/registrations/{id}``). No path leaves a staging object
behind without a registration that owns it (the saga deletes it at its end either way; a failure
before the saga starts deletes it here; the bucket's lifecycle rule is the last resort).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

from marketplace import multipart
from marketplace.chain.quota import RelayQuota
from marketplace.config import ContentApiConfig
from marketplace.content.models import VISIBLE, RegistrationState
from marketplace.content.ports import ContentItems, ObjectStore, Registrations, Saga
from marketplace.content.schemas import (
    MAX_PART_SIZE,
    MAX_PARTS,
    MAX_POST_BYTES,
    MIN_PART_SIZE,
    CompleteUploadRequest,
    ContentView,
    Metadata,
    MultipartUploadResponse,
    PartUrl,
    RegisterUploadRequest,
    RegistrationAccepted,
    RegistrationResult,
    RegistrationStatus,
    UploadCompleted,
    UploadedPart,
    UploadPartsRequest,
    UploadPartsView,
    UploadRequest,
    UploadResponse,
)
from marketplace.errors import (
    ConflictError,
    InternalError,
    MarketplaceError,
    NotFoundError,
    PayloadTooLargeError,
    RecordedError,
    ValidationError,
    error_record,
)
from marketplace.shared.ids import as_hex32
from marketplace.shared.timefmt import iso, now_iso, utcnow
from marketplace.validation import parse_json

log = logging.getLogger(__name__)

UPLOADS_PREFIX = "uploads/"
MULTIPART_OVERHEAD = 64 * 1024  # boundaries, part headers and the metadata part
POLL_INTERVALS = (0.1, 0.2, 0.3, 0.5, 0.75, 1.0)  # then 1 s
DEFAULT_PART_SIZE = 64 * 1024 * 1024

AWAITING_UPLOAD, PENDING, REGISTERED, FAILED = (RegistrationState.AWAITING_UPLOAD, RegistrationState.PENDING,
                                                RegistrationState.REGISTERED, RegistrationState.FAILED)


def new_id() -> str:
    return secrets.token_hex(16)


def upload_key(registration_id: str) -> str:
    return UPLOADS_PREFIX + registration_id


def parse_metadata(raw: bytes | str | None) -> Metadata:
    """The ``metadata`` form field (a JSON string): missing/unreadable → 400, invalid → 422."""
    return parse_json(raw, Metadata, field="metadata", prefix="metadata")


def too_large(max_bytes: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"File larger than {max_bytes} bytes: request an upload with POST /content/uploads "
        "({\"size\", \"filename\"}), POST the file to the returned url with its fields, then "
        "POST /content/register with {\"uploadId\", \"metadata\"}",
        {"maxBytes": max_bytes, "uploadPath": "/content/uploads"},
    )


def part_plan(size: int, requested: int | None) -> tuple[int, int]:
    """(part size, part count) of a multipart upload of ``size`` bytes: the requested size (or
    64 MiB), raised in whole MiB until the file has at most MAX_PARTS parts."""
    part = requested or DEFAULT_PART_SIZE
    if _ceil_div(size, part) > MAX_PARTS:
        mib = 1024 * 1024
        part = _ceil_div(_ceil_div(size, MAX_PARTS), mib) * mib
    part = max(MIN_PART_SIZE, min(part, MAX_PART_SIZE))
    return part, max(1, _ceil_div(size, part))


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def registration_result(item: dict[str, Any], public_base_url: str) -> RegistrationResult:
    return RegistrationResult(
        registrationId=item["registrationId"], contentId=item["contentId"], ipfsCid=item["ipfsCid"],
        cidV1=item["cidV1"], contentHash=item["contentHash"], txHash=item["txHash"],
        blockNumber=item["blockNumber"], verificationUrl=verification_url(public_base_url, item["contentId"]),
    )


def verification_url(public_base_url: str, content_id: str) -> str:
    return f"{public_base_url}/content/{content_id}"


class ContentService:
    def __init__(self, cfg: ContentApiConfig, *, registrations: Registrations, content: ContentItems | None,
                 objects: ObjectStore, saga: Saga, relay_quota: RelayQuota | None = None,
                 sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic):
        self.cfg = cfg
        self.relay_quota = relay_quota  # the relayer pays registerContent: counted per creator
        self.registrations = registrations
        self.content = content
        self.objects = objects
        self.saga = saga
        self._sleep = sleep
        self._monotonic = monotonic

    # -- POST /content/register (multipart) ------------------------------------------------------

    def register_multipart(self, creator: str, body: bytes, content_type: str) -> RegistrationResult | RegistrationAccepted:
        limit = self.cfg.max_inline_upload_bytes
        if len(body) > limit + MULTIPART_OVERHEAD:
            raise too_large(limit)
        parts = multipart.parse(body, content_type)
        unknown = sorted(set(parts) - {"file", "metadata"})
        if unknown:
            raise ValidationError(f"unknown multipart part '{unknown[0]}': send file and metadata only",
                                  {"field": unknown[0]})
        meta_part = parts.get("metadata")
        metadata = parse_metadata(meta_part.data if meta_part else None)
        file = parts.get("file")
        if file is None:
            raise ValidationError("file is required (a multipart part named 'file')", {"field": "file"})
        if not file.data:
            raise ValidationError("file is empty", {"field": "file"})
        if len(file.data) > limit:
            raise too_large(limit)
        self._take_quota(creator)

        registration_id = new_id()
        key = upload_key(registration_id)
        self.objects.put(self.cfg.uploads_bucket, key, file.data, {"creator": creator})
        now = now_iso()
        item = {"registrationId": registration_id, "creator": creator, "state": PENDING, "createdAt": now,
                "updatedAt": now, "metadata": metadata.model_dump(), "filename": file.filename,
                "size": len(file.data), "source": "multipart"}
        try:
            if not self.registrations.create(item):
                raise InternalError("registration id collision")
        except BaseException:
            self.objects.delete(self.cfg.uploads_bucket, key)  # no staging object without its owner
            raise
        return self._run(item)

    # -- POST /content/uploads, then POST /content/register (JSON) --------------------------------

    def create_upload(self, creator: str, req: UploadRequest) -> UploadResponse | MultipartUploadResponse:
        if req.size > self.cfg.max_upload_bytes:
            raise PayloadTooLargeError(f"File larger than {self.cfg.max_upload_bytes} bytes",
                                       {"maxBytes": self.cfg.max_upload_bytes, "field": "size"})
        multipart = req.multipart or req.size > MAX_POST_BYTES
        if req.multipart is False and multipart:
            raise PayloadTooLargeError(f"One POST takes at most {MAX_POST_BYTES} bytes: ask for multipart",
                                       {"maxBytes": MAX_POST_BYTES, "field": "multipart"})
        upload_id = new_id()
        now = utcnow()
        expires_at = int(now.timestamp()) + self.cfg.upload_url_ttl_seconds
        stamp = iso(now)
        key = upload_key(upload_id)
        item: dict[str, Any] = {
            "registrationId": upload_id, "creator": creator, "state": AWAITING_UPLOAD, "createdAt": stamp,
            "updatedAt": stamp, "filename": req.filename, "size": req.size, "source": "upload",
            # kept a day past the URLs' expiry, like the staging object (bucket lifecycle)
            "ttl": expires_at + 86400,
        }
        if multipart:
            part_size, part_count = part_plan(req.size, req.partSize)
            s3_upload = self.objects.create_multipart(self.cfg.uploads_bucket, key, {"creator": creator})
            item.update(source="multipart", partSize=part_size, partCount=part_count, multipartUploadId=s3_upload)
        if not self.registrations.create(item):
            raise InternalError("upload id collision")
        if multipart:
            return MultipartUploadResponse(
                uploadId=upload_id, size=req.size, partSize=item["partSize"], partCount=item["partCount"],
                parts=self._part_urls(item, range(1, item["partCount"] + 1)), expiresAt=expires_at)
        form = self.objects.presigned_post(self.cfg.uploads_bucket, key, req.size, self.cfg.upload_url_ttl_seconds)
        return UploadResponse(uploadId=upload_id, url=form["url"], fields=form["fields"], expiresAt=expires_at)

    def _part_urls(self, item: dict[str, Any], numbers) -> list[PartUrl]:
        size, part, count = int(item["size"]), int(item["partSize"]), int(item["partCount"])
        key = upload_key(item["registrationId"])
        return [PartUrl(partNumber=n, size=min(part, size - (n - 1) * part),
                        url=self.objects.presigned_part(self.cfg.uploads_bucket, key, item["multipartUploadId"], n,
                                                        self.cfg.upload_url_ttl_seconds))
                for n in sorted(set(numbers)) if 1 <= n <= count]

    def _multipart_item(self, creator: str, upload_id: str) -> dict[str, Any]:
        item = self.registrations.get(upload_id)
        if item is None or item["creator"] != creator:
            raise NotFoundError("no such upload", {"uploadId": upload_id})
        if item.get("source") != "multipart":
            raise ConflictError("not a multipart upload: POST the file to the form you were given",
                                {"uploadId": upload_id})
        if item["state"] != AWAITING_UPLOAD:
            raise ConflictError("this upload is already registered", {"uploadId": upload_id, "state": item["state"]})
        return item

    def upload_parts(self, creator: str, upload_id: str, req: UploadPartsRequest) -> UploadPartsView:
        """What S3 holds of a multipart upload and fresh URLs for ``req.partNumbers`` (to resume)."""
        item = self._multipart_item(creator, upload_id)
        count = int(item["partCount"])
        beyond = [n for n in req.partNumbers if n > count]
        if beyond:
            # well formed, but not this upload's parts: the upload's state decides (409, not 422)
            raise ConflictError(f"part {beyond[0]} is beyond the upload's {count} parts",
                                {"field": "partNumbers", "partCount": count})
        held = self.objects.list_parts(self.cfg.uploads_bucket, upload_key(upload_id), item["multipartUploadId"])
        if held is None:
            raise ConflictError("the upload is already complete: register it", {"uploadId": upload_id})
        return UploadPartsView(
            uploadId=upload_id, size=int(item["size"]), partSize=int(item["partSize"]), partCount=count,
            uploaded=[UploadedPart(**p) for p in held], parts=self._part_urls(item, req.partNumbers),
            expiresAt=int(utcnow().timestamp()) + self.cfg.upload_url_ttl_seconds)

    def complete_upload(self, creator: str, upload_id: str, req: CompleteUploadRequest) -> UploadCompleted:
        """Assemble the parts (all of them, in order, with the ETags S3 answered) into the staging
        object; idempotent once complete."""
        item = self._multipart_item(creator, upload_id)
        bucket, key, size = self.cfg.uploads_bucket, upload_key(upload_id), int(item["size"])
        numbers = [p.partNumber for p in req.parts]
        if numbers != list(range(1, int(item["partCount"]) + 1)):
            raise ConflictError(f"list every part 1..{item['partCount']} once, in order",
                                {"field": "parts", "partCount": int(item["partCount"])})
        etag: str | None
        try:
            etag = self.objects.complete_multipart(bucket, key, item["multipartUploadId"],
                                                   [(p.partNumber, p.etag) for p in req.parts])
        except NotFoundError:
            stored = self.objects.size(bucket, key)  # completed by an earlier call: answer it again
            if stored is None:
                raise ConflictError("the upload was aborted or has expired: start a new one",
                                    {"uploadId": upload_id}) from None
            etag = None
        stored = self.objects.size(bucket, key)
        if stored != size:
            self.objects.delete(bucket, key)
            raise ConflictError(f"the parts hold {stored} bytes, announced {size}: start a new upload",
                                {"field": "parts", "uploadId": upload_id})
        return UploadCompleted(uploadId=upload_id, size=size, etag=etag)

    def register_upload(self, creator: str, req: RegisterUploadRequest) -> RegistrationResult | RegistrationAccepted:
        item = self.registrations.get(req.uploadId)
        if item is None or item["creator"] != creator:
            raise NotFoundError("no such upload", {"uploadId": req.uploadId})
        if item["state"] != AWAITING_UPLOAD:
            raise ConflictError("this upload is already registered",
                                {"uploadId": req.uploadId, "registrationId": req.uploadId, "state": item["state"]})
        size = self.objects.size(self.cfg.uploads_bucket, upload_key(req.uploadId))
        if size is None:
            # the upload's state, not the request, is wrong: retry once the file is posted (409)
            raise ConflictError("nothing uploaded yet: POST the file to the upload url first",
                                {"field": "uploadId"})
        if size != item["size"]:
            raise ConflictError(f"uploaded {size} bytes, announced {item['size']}", {"field": "uploadId"})
        changes = {"metadata": req.metadata.model_dump(), "updatedAt": now_iso()}
        self._take_quota(creator)
        if not self.registrations.start_uploaded(req.uploadId, creator, changes):
            raise ConflictError("this upload is already registered",
                                {"uploadId": req.uploadId, "registrationId": req.uploadId})
        return self._run({**item, **changes, "state": PENDING})

    # -- the saga ---------------------------------------------------------------------------------

    def _take_quota(self, creator: str) -> None:
        """429 past the creator's quota of relayed work (``marketplace.chain.quota``)."""
        if self.relay_quota is not None:
            self.relay_quota.take(creator, "registerContent")

    def _run(self, item: dict[str, Any]) -> RegistrationResult | RegistrationAccepted:
        registration_id = item["registrationId"]
        saga_input = {"registrationId": registration_id, "creator": item["creator"],
                      "uploadKey": upload_key(registration_id), "metadata": item["metadata"]}
        try:
            execution = self.saga.start(registration_id, saga_input)
        except Exception as exc:
            if isinstance(exc, MarketplaceError):
                error = exc
            else:
                error = InternalError("could not start the registration")
                log.exception("start_execution failed", extra={"supportId": error.support_id})
            # no saga will clean up: fail the registration and drop its staging object here
            self.registrations.fail(registration_id, error_record(error), now_iso())
            self.objects.delete(self.cfg.uploads_bucket, upload_key(registration_id))
            raise error from exc
        return self._wait(registration_id, execution)

    def _wait(self, registration_id: str, execution: str) -> RegistrationResult | RegistrationAccepted:
        deadline = self._monotonic() + self.cfg.registration_wait_seconds
        polls = 0
        while True:
            status = self.saga.status(execution)
            if status != "RUNNING":
                return self._finished(registration_id, status)
            remaining = deadline - self._monotonic()
            if remaining <= 0:
                location = f"/content/registrations/{registration_id}"
                return RegistrationAccepted(registrationId=registration_id, state=PENDING, location=location)
            self._sleep(min(POLL_INTERVALS[min(polls, len(POLL_INTERVALS) - 1)], remaining))
            polls += 1

    def _finished(self, registration_id: str, status: str) -> RegistrationResult | RegistrationAccepted:
        item = self.registrations.get(registration_id) or {}
        if item.get("state") == REGISTERED:
            return registration_result({**item, **item["result"]}, self.cfg.public_base_url)
        if item.get("state") == FAILED:
            record = item["error"]
            body = record["body"]
            details = {**(body.get("details") or {}), "registrationId": registration_id}
            raise RecordedError({**record, "body": {**body, "details": details}})
        # The execution ended without the saga recording an outcome (aborted, or compensation
        # itself failed): record one so the registration is not left PENDING.
        error = InternalError("registration did not complete", {"executionStatus": status})
        log.error("saga ended without an outcome", extra={"registrationId": registration_id,
                                                           "status": status, "supportId": error.support_id})
        self.registrations.fail(registration_id, error_record(error), now_iso())
        raise error

    # -- reads ------------------------------------------------------------------------------------

    def registration_status(self, creator: str, registration_id: str) -> RegistrationStatus:
        item = self.registrations.get(registration_id)
        if item is None or item["creator"] != creator:
            raise NotFoundError("no such registration", {"registrationId": registration_id})
        result = None
        if item["state"] == REGISTERED:
            result = registration_result({**item, **item["result"]}, self.cfg.public_base_url)
        return RegistrationStatus(
            registrationId=registration_id, state=item["state"],
            stage=item.get("stage") if item["state"] == PENDING else None, createdAt=item["createdAt"],
            progress=item.get("progress") if item["state"] == PENDING else None,
            updatedAt=item.get("updatedAt"), metadata=item.get("metadata"), result=result,
            error=(item.get("error") or {}).get("body") if item["state"] == FAILED else None,
        )

    def get_content(self, content_id: str) -> ContentView:
        valid = as_hex32(content_id)
        item = self.content.get(valid) if valid and self.content is not None else None
        if valid is None or item is None or item["state"] not in VISIBLE:  # CREATED: a claim in progress
            raise NotFoundError("no such content", {"contentId": content_id.lower()})
        return ContentView(**{k: item[k] for k in ContentView.model_fields if k in item},
                           verificationUrl=verification_url(self.cfg.public_base_url, valid))

