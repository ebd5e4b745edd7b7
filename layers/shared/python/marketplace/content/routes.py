"""Flow 1's HTTP routes (function ``content-api``): register content, poll a registration, read content.

The routes parse, call ``ContentService`` and answer its model; the kit picks the status from the
model's declared type (``RegistrationResult`` 201, ``RegistrationAccepted`` 202 + ``Location``).
"""

from __future__ import annotations

import functools
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from marketplace import config
from marketplace.content import browse as catalog
from marketplace.content.schemas import (
    CompleteUploadRequest,
    ContentList,
    ContentView,
    Metadata,
    MultipartUploadResponse,
    RegisterUploadRequest,
    RegistrationAccepted,
    RegistrationResult,
    RegistrationStatus,
    UploadCompleted,
    UploadPartsRequest,
    UploadPartsView,
    UploadRequest,
    UploadResponse,
)
from marketplace.content.services import ContentService
from marketplace.errors import ValidationError
from marketplace.kit.http import Api, caller, one_of, parse_body, raw_body, reply

api = Api("content-api")

UploadAnswer = one_of("UploadAnswer", UploadResponse, MultipartUploadResponse)
_UPLOAD_404 = "NOT_FOUND: no such upload of yours"
_CHAIN = "BLOCKCHAIN_ERROR (supportId) or IPFS_UNAVAILABLE (retryAfter): try again later"
_RELAY_QUOTA = ("RATE_LIMITED: this creator's quota of registrations (the relayer pays their transactions) is "
                "used up: retry after Retry-After seconds")


@functools.cache
def service() -> ContentService:
    from marketplace.content.adapters import DynamoContent, DynamoRegistrations, S3Objects, StepFunctionsSaga

    cfg = config.load(config.ContentApiConfig)
    return ContentService(cfg, registrations=DynamoRegistrations(cfg.registrations_table, cfg.content_table),
                          content=DynamoContent(cfg.content_table), objects=S3Objects(),
                          saga=StepFunctionsSaga(cfg.registration_saga_arn), relay_quota=cfg.relay_quota())


def _answer(outcome: RegistrationResult | RegistrationAccepted):
    if isinstance(outcome, RegistrationAccepted):
        return reply(202, outcome, {"Location": outcome.location})
    return outcome


@api.operation(
    "POST", "/content/register",
    "Register content (Flow 1): multipart file + metadata up to 5 MB, or JSON {uploadId, metadata} after "
    "POST /content/uploads",
    ok={201: ("registered: CIDs, hash, transaction, verification URL", RegistrationResult),
        202: ("still running: poll the Location", RegistrationAccepted)},
    headers={202: ["Location"]},
    errors={404: "NOT_FOUND: unknown uploadId", 409: "CONFLICT: already registered (details.contentId), or the "
            "upload is already being registered or not finished", 413: "PAYLOAD_TOO_LARGE: use POST /content/uploads",
            429: _RELAY_QUOTA, 503: _CHAIN},
    request_media={
        "multipart/form-data": {
            "schema": {"type": "object", "required": ["file", "metadata"], "additionalProperties": False,
                       "properties": {"file": {"type": "string", "format": "binary", "minLength": 1},
                                      "metadata": Metadata}},
            "encoding": {"metadata": {"contentType": "application/json"}}},
        "application/json": RegisterUploadRequest,
    })
def register():
    creator = caller(api)
    content_type = api.current_event.headers.get("Content-Type") or ""
    media = content_type.split(";")[0].strip().lower()
    if media == "multipart/form-data":
        return _answer(service().register_multipart(creator, raw_body(api), content_type))
    if media in ("application/json", ""):
        req = parse_body(api, RegisterUploadRequest)
        return _answer(service().register_upload(creator, req))
    raise ValidationError("send multipart/form-data (file, metadata) or JSON {uploadId, metadata}",
                          {"field": "Content-Type"})


@api.operation("POST", "/content/uploads",
               "Upload a large file (exactly `size` bytes): one presigned S3 POST (up to 5 GiB), or with "
               "`multipart: true` (always above 5 GiB) an S3 multipart upload with a presigned PUT per part",
               ok={201: ("a form to POST the file to (multipart false), or part URLs (multipart true); then "
                         "register with uploadId", UploadAnswer)},
               errors={413: "PAYLOAD_TOO_LARGE: above the largest upload, or above 5 GiB without multipart"})
def uploads(req: UploadRequest):
    return reply(201, service().create_upload(caller(api), req))


@api.operation("POST", "/content/uploads/{uploadId}/parts",
               "A multipart upload's parts S3 holds (number, size, ETag) and fresh URLs for the parts asked for: "
               "how a client resumes",
               ok={200: ("the parts uploaded and the URLs asked for", UploadPartsView)},
               errors={404: _UPLOAD_404, 409: "CONFLICT: not a multipart upload, already complete or registered"})
def upload_parts(uploadId: str, req: UploadPartsRequest):
    return service().upload_parts(caller(api), uploadId, req)


@api.operation("POST", "/content/uploads/{uploadId}/complete",
               "Assemble a multipart upload from its parts (every part in order, with the ETag S3 answered); "
               "then POST /content/register {uploadId, metadata}",
               ok={200: ("the assembled file", UploadCompleted)},
               errors={404: _UPLOAD_404, 409: "CONFLICT: a part missing, changed or too small (details.reason), "
                       "a size other than announced, aborted or already registered"})
def complete_upload(uploadId: str, req: CompleteUploadRequest):
    return service().complete_upload(caller(api), uploadId, req)


@api.operation("GET", "/content/registrations/{registrationId}",
               "A registration's state (PENDING, REGISTERED with its result, FAILED with its error)",
               ok={200: ("the registration", RegistrationStatus)},
               errors={404: "NOT_FOUND: no such registration of yours"})
def registration(registrationId: str):
    return service().registration_status(caller(api), registrationId)


@api.operation("GET", "/content",
               "Browse content, newest first: ARCHIVED content is never listed; each item with its terms summary. "
               "creator reads that creator's index; tag (exact, any case), q (in the title or a tag, any case) and "
               "licensable filter the index pages read (at most 5 pages of `limit` per request, so a page may be "
               "short, even empty, and still give a cursor)",
               ok={200: ("a page of content and the next page's cursor", ContentList)},
               errors={404: "NOT_FOUND: the cursor is not one this listing gave",
                       422: "VALIDATION_ERROR: a query parameter is invalid (details.field)"})
def browse_content(tag: Annotated[str | None, Query(min_length=1, max_length=50)] = None,
                   creator: Annotated[str | None, Query(pattern=r"^0x[0-9a-fA-F]{40}$")] = None,
                   q: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
                   licensable: Annotated[bool | None, Query(description="true: only content with active terms; "
                                                                        "false: only content without")] = None,
                   cursor: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,1024}$")] = None,
                   limit: Annotated[int, Query(ge=1, le=catalog.MAX_LIMIT)] = catalog.DEFAULT_LIMIT):
    return catalog.browse(content_items(), creator=creator, tag=tag, q=q, licensable=licensable, cursor=cursor,
                          limit=limit)


@functools.cache
def content_items():
    from marketplace.content.adapters import DynamoContent

    return DynamoContent(config.load(config.ContentApiConfig).content_table)


@api.operation("GET", "/content/{contentId}", "Public metadata and lifecycle state of registered content",
               ok={200: ("the content", ContentView)}, errors={404: "NOT_FOUND: unknown content"})
def content(contentId: str):
    return service().get_content(contentId)
