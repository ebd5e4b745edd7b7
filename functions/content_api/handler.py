"""Flow 1's API: register content (multipart or presigned upload), poll a registration, read content."""

from __future__ import annotations

import functools

from aws_lambda_powertools import Logger
from marketplace import config
from marketplace.api import caller, json_response, make_app, raw_body
from marketplace.content.adapters import DynamoContent, DynamoRegistrations, S3Objects, StepFunctionsSaga
from marketplace.content.schemas import (
    RegisterUploadRequest,
    RegistrationAccepted,
    RegistrationResult,
    UploadRequest,
)
from marketplace.content.services import ContentService
from marketplace.errors import ValidationError
from marketplace.validation import parse_json

logger = Logger(service="content-api")
app = make_app(logger)


@functools.cache
def service() -> ContentService:
    cfg = config.load(config.ContentApiConfig)
    return ContentService(cfg, registrations=DynamoRegistrations(cfg.registrations_table, cfg.content_table),
                          content=DynamoContent(cfg.content_table), objects=S3Objects(),
                          saga=StepFunctionsSaga(cfg.registration_saga_arn))


def _answer(outcome: RegistrationResult | RegistrationAccepted):
    """Registered: 201 with the result; still running: 202 pointing to the registration."""
    if isinstance(outcome, RegistrationAccepted):
        return json_response(202, outcome.model_dump(), {"Location": outcome.location})
    return json_response(201, outcome.model_dump())


@app.post("/content/register")
def register():
    creator = caller(app)
    content_type = app.current_event.headers.get("Content-Type") or ""
    media = content_type.split(";")[0].strip().lower()
    if media == "multipart/form-data":
        return _answer(service().register_multipart(creator, raw_body(app), content_type))
    if media in ("application/json", ""):
        req = parse_json(raw_body(app), RegisterUploadRequest)
        return _answer(service().register_upload(creator, req))
    raise ValidationError("send multipart/form-data (file, metadata) or JSON {uploadId, metadata}",
                          {"field": "Content-Type"})


@app.post("/content/uploads")
def uploads():
    creator = caller(app)
    req = parse_json(raw_body(app), UploadRequest)
    return json_response(201, service().create_upload(creator, req).model_dump())


@app.get("/content/registrations/<registration_id>")
def registration(registration_id: str):
    return json_response(200, service().registration_status(caller(app), registration_id).model_dump())


@app.get("/content/<content_id>")
def content(content_id: str):
    return json_response(200, service().get_content(content_id).model_dump())


@logger.inject_lambda_context
def handler(event, context):
    config.load(config.ContentApiConfig)  # a missing or malformed variable fails here, before any work
    return app.resolve(event, context)
