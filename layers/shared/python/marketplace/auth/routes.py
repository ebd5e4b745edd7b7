"""Sign-In with Ethereum (function ``auth``): ``POST /auth/nonce``, then ``POST /auth/login`` → JWT."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from marketplace import config
from marketplace.auth import services as auth
from marketplace.auth.schemas import LoginRequest, LoginResponse, NonceRequest, NonceResponse
from marketplace.kit.http import Api

api = Api("auth")


@functools.cache
def _store(table: str):  # one per table name (tests run several stacks in one process)
    from marketplace.auth.adapters import DynamoNonceStore

    return DynamoNonceStore(table)


@api.operation("POST", "/auth/nonce", "Get a Sign-In with Ethereum message (EIP-4361) to sign",
               ok={200: ("the nonce and the message", NonceResponse)})
def nonce(req: NonceRequest):
    cfg = config.load(config.AuthConfig)
    return auth.request_nonce(req, store=_store(cfg.auth_table), cfg=cfg, now=datetime.now(UTC))


@api.operation("POST", "/auth/login", "Trade the signed message for a session token (JWT)",
               ok={200: ("the session token", LoginResponse)},
               errors={401: "UNAUTHORIZED: the message, its signature or its nonce is not valid"})
def login(req: LoginRequest):
    from marketplace.adapters.secrets import get_secret_bytes

    cfg = config.load(config.AuthConfig)
    return auth.login(req, store=_store(cfg.auth_table), key=get_secret_bytes(cfg.jwt_secret_id), cfg=cfg,
                      now=datetime.now(UTC))
