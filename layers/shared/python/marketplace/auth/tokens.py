"""Session JWTs: HS256, short-lived, ``sub`` = the checksummed address that signed in.

The key is the ``jwt-signing-key`` secret's bytes (from Secrets Manager); issuer and audience are
fixed so a token of another system signed with a leaked key of the same shape is still refused.
"""

from __future__ import annotations

import secrets
from datetime import datetime

import jwt

from marketplace.errors import UnauthorizedError

ALGORITHM = "HS256"
ISSUER = "zkdm"
AUDIENCE = "zkdm-api"
LEEWAY_SECONDS = 30


def issue(address: str, key: bytes, *, ttl_seconds: int, now: datetime) -> tuple[str, int]:
    """A token for ``address`` and its expiry (epoch seconds)."""
    iat = int(now.timestamp())
    exp = iat + ttl_seconds
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": address, "iat": iat, "nbf": iat, "exp": exp,
              "jti": secrets.token_hex(8)}
    return jwt.encode(claims, key, algorithm=ALGORITHM), exp


def verify(token: str, key: bytes) -> str:
    """The address a valid token (checked against the clock) was issued to; anything else raises
    :class:`UnauthorizedError`."""
    from eth_utils import is_checksum_address

    try:
        claims = jwt.decode(
            token, key, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER, leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise UnauthorizedError("token has expired") from None
    except jwt.PyJWTError:
        raise UnauthorizedError("token is invalid") from None
    sub = claims["sub"]
    if not isinstance(sub, str) or not is_checksum_address(sub):
        raise UnauthorizedError("token is invalid")
    return sub


def bearer(header_value: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header."""
    if not header_value:
        raise UnauthorizedError("missing Authorization header")
    scheme, _, token = header_value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("Authorization must be 'Bearer <token>'")
    return token.strip()
