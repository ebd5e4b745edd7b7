"""POST /auth/nonce and POST /auth/login: Sign-In with Ethereum, then a session JWT."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from aws_lambda_powertools import Logger
from marketplace import config
from marketplace.adapters.secrets import get_secret_bytes
from marketplace.api import json_response, make_app, raw_body
from marketplace.auth import services as auth
from marketplace.auth.adapters import DynamoNonceStore
from marketplace.auth.schemas import LoginRequest, NonceRequest
from marketplace.validation import parse_json

logger = Logger(service="auth")
app = make_app(logger)


@functools.cache
def _store(table: str) -> DynamoNonceStore:  # one per table name (tests run several stacks in one process)
    return DynamoNonceStore(table)


@app.post("/auth/nonce")
def nonce():
    cfg = config.load(config.AuthConfig)
    req = parse_json(raw_body(app), NonceRequest)
    out = auth.request_nonce(req, store=_store(cfg.auth_table), cfg=cfg, now=datetime.now(UTC))
    return json_response(200, out.model_dump())


@app.post("/auth/login")
def login():
    cfg = config.load(config.AuthConfig)
    req = parse_json(raw_body(app), LoginRequest)
    out = auth.login(req, store=_store(cfg.auth_table), key=get_secret_bytes(cfg.jwt_secret_id), cfg=cfg, now=datetime.now(UTC))
    return json_response(200, out.model_dump())


@logger.inject_lambda_context
def handler(event, context):
    config.load(config.AuthConfig)  # a missing or malformed variable fails here, before any work
    return app.resolve(event, context)
