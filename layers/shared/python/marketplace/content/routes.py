"""Flow 1's HTTP routes (function ``content-api``): register content, poll a registration, read content.

The routes parse, call ``ContentService`` and answer its model; the kit picks the status from the
model's declared type (``RegistrationResult`` 201, ``RegistrationAccepted`` 202 + ``Location``).
"""

from __future__ import annotations

import functools

from marketplace import config
from marketplace.content.schemas import (
    ContentView,
    Metadata,
    RegisterUploadRequest,
    RegistrationAccepted,
    RegistrationResult,
    RegistrationStatus,
    UploadRequest,
    UploadResponse,
)
from marketplace.content.services import ContentService
from marketplace.errors import ValidationError
from marketplace.kit.http import Api, caller, parse_body, raw_body, reply

api = Api("content-api")

_CHAIN = "BLOCKCHAIN_ERROR (supportId) or IPFS_UNAVAILABLE (retryAfter): try again later"


@functools.cache
def service() -> ContentService:
    from marketplace.content.adapters import DynamoContent, DynamoRegistrations, S3Objects, StepFunctionsSaga

    cfg = config.load(config.ContentApiConfig)
    return ContentService(cfg, registrations=DynamoRegistrations(cfg.registrations_table, cfg.content_table),
                          content=DynamoContent(cfg.content_table), objects=S3Objects(),
                          saga=StepFunctionsSaga(cfg.registration_saga_arn))


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
            503: _CHAIN},
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
        return _answer(service().register_upload(creator, req))  # type: ignore[arg-type]
    raise ValidationError("send multipart/form-data (file, metadata) or JSON {uploadId, metadata}",
                          {"field": "Content-Type"})


@api.operation("POST", "/content/uploads", "Get a presigned S3 POST for a large file (exactly `size` bytes)",
               ok={201: ("POST the file to url with fields, then register with uploadId", UploadResponse)},
               errors={413: "PAYLOAD_TOO_LARGE: above the largest upload"})
def uploads(req: UploadRequest):
    return reply(201, service().create_upload(caller(api), req))


@api.operation("GET", "/content/registrations/{registrationId}",
               "A registration's state (PENDING, REGISTERED with its result, FAILED with its error)",
               ok={200: ("the registration", RegistrationStatus)},
               errors={404: "NOT_FOUND: no such registration of yours"})
def registration(registrationId: str):
    return service().registration_status(caller(api), registrationId)


@api.operation("GET", "/content/{contentId}", "Public metadata and lifecycle state of registered content",
               ok={200: ("the content", ContentView)}, errors={404: "NOT_FOUND: unknown content"})
def content(contentId: str):
    return service().get_content(contentId)
