"""Flow 1's API: register content (multipart or presigned upload), poll a registration, read content."""

from __future__ import annotations

import functools

from aws_lambda_powertools import Logger
from marketplace import config
from marketplace.adapters.s3 import ObjectStore
from marketplace.adapters.stepfunctions import Saga
from marketplace.adapters.stores import ContentStore, RegistrationStore
from marketplace.api import caller, json_response, make_app, raw_body
from marketplace.errors import ValidationError
from marketplace.logic.content import Answer, ContentService
from marketplace.logic.models import RegisterUploadRequest, UploadRequest
from marketplace.validation import parse_json

logger = Logger(service="content-api")
app = make_app(logger)


@functools.cache
def service() -> ContentService:
    cfg = config.load(config.ContentApiConfig)
    return ContentService(cfg, registrations=RegistrationStore(cfg.registrations_table),
                          content=ContentStore(cfg.content_table), objects=ObjectStore(),
                          saga=Saga(cfg.registration_saga_arn))


def _answer(answer: Answer):
    return json_response(answer.status, answer.body, answer.headers)


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
