"""marketplace.auth.tokens: session JWTs (HS256, short-lived, sub = checksummed address)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from marketplace.auth import tokens
from marketplace.errors import UnauthorizedError

pytestmark = pytest.mark.unit

KEY = bytes(range(32))
ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def now() -> datetime:
    return datetime.now(UTC)


def test_issue_then_verify():
    token, exp = tokens.issue(ADDRESS, KEY, ttl_seconds=600, now=now())
    assert tokens.verify(token, KEY) == ADDRESS
    claims = jwt.decode(token, KEY, algorithms=["HS256"], audience=tokens.AUDIENCE)
    assert claims["sub"] == ADDRESS and claims["exp"] == exp and exp - claims["iat"] == 600
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_expired_token_is_refused():
    token, _ = tokens.issue(ADDRESS, KEY, ttl_seconds=60, now=now() - timedelta(hours=1))
    with pytest.raises(UnauthorizedError, match="expired"):
        tokens.verify(token, KEY)


def test_token_signed_with_another_key_is_refused():
    token, _ = tokens.issue(ADDRESS, b"another key of thirty-two bytes!", ttl_seconds=60, now=now())
    with pytest.raises(UnauthorizedError):
        tokens.verify(token, KEY)


@pytest.mark.parametrize("claims_change", [{"aud": "someone-else"}, {"iss": "someone-else"},
                                           {"sub": ADDRESS.lower()}, {"sub": None}])
def test_token_with_foreign_claims_is_refused(claims_change):
    t = int(now().timestamp())
    claims = {"iss": tokens.ISSUER, "aud": tokens.AUDIENCE, "sub": ADDRESS, "iat": t, "exp": t + 60}
    claims.update(claims_change)
    token = jwt.encode({k: v for k, v in claims.items() if v is not None}, KEY, algorithm="HS256")
    with pytest.raises(UnauthorizedError):
        tokens.verify(token, KEY)


def test_unsigned_token_is_refused():
    t = int(now().timestamp())
    token = jwt.encode({"iss": tokens.ISSUER, "aud": tokens.AUDIENCE, "sub": ADDRESS, "iat": t, "exp": t + 60},
                       None, algorithm="none")
    with pytest.raises(UnauthorizedError):
        tokens.verify(token, KEY)


def test_tampered_token_is_refused():
    token, _ = tokens.issue(ADDRESS, KEY, ttl_seconds=60, now=now())
    head, payload, sig = token.split(".")
    with pytest.raises(UnauthorizedError):
        tokens.verify(f"{head}.{payload}.{sig[:-2]}AA", KEY)


@pytest.mark.parametrize("header, ok", [("Bearer abc.def.ghi", True), ("bearer abc.def.ghi", True),
                                        ("Basic abc", False), ("Bearer", False), ("", False), (None, False)])
def test_bearer_header(header, ok):
    if ok:
        assert tokens.bearer(header) == "abc.def.ghi"
    else:
        with pytest.raises(UnauthorizedError):
            tokens.bearer(header)
