"""Sign-in: issue a nonce inside the EIP-4361 message to sign, then trade the signed message for a JWT.

The server writes the whole message (domain and URI from PUBLIC_BASE_URL, CHAIN_ID, the nonce,
issued-at and expiration); at login any well-formed EIP-4361 message is accepted if it names this
domain and chain, is within its validity window, carries a live nonce issued to the signing
address, and is signed by that address. The nonce is deleted on use (a conditional delete, so two
concurrent logins with one nonce cannot both pass).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from marketplace.auth import siwe, tokens
from marketplace.auth.ports import NonceStore
from marketplace.auth.schemas import LoginRequest, LoginResponse, NonceRequest, NonceResponse
from marketplace.config import AuthConfig
from marketplace.errors import UnauthorizedError, UnprocessableError

STATEMENT = "Sign in to the ZK data marketplace."

def checksum(address: str) -> str:
    from eth_utils import is_address, to_checksum_address

    if not isinstance(address, str) or not is_address(address):
        raise UnprocessableError("address is not an Ethereum address", {"field": "address"})
    return to_checksum_address(address)


def request_nonce(req: NonceRequest, *, store: NonceStore, cfg: AuthConfig, now: datetime) -> NonceResponse:
    address = checksum(req.address)
    nonce = siwe.new_nonce()
    expires = now + timedelta(seconds=cfg.nonce_ttl_seconds)
    message = siwe.SiweMessage(
        domain=cfg.siwe_domain, address=address, statement=STATEMENT, uri=cfg.public_base_url,
        chain_id=cfg.chain_id, nonce=nonce, issued_at=siwe.format_time(now),
        expiration_time=siwe.format_time(expires),
    )
    store.save_nonce(nonce, address, int(expires.timestamp()))
    return NonceResponse(nonce=nonce, message=message.text())


def login(req: LoginRequest, *, store: NonceStore, key: bytes, cfg: AuthConfig, now: datetime) -> LoginResponse:
    msg = siwe.verify(req.message, req.signature, domain=cfg.siwe_domain, chain_id=cfg.chain_id, now=now)
    if not store.consume_nonce(msg.nonce, msg.address, int(now.timestamp())):
        raise UnauthorizedError("nonce is unknown, expired or already used: request a new one",
                                {"field": "Nonce"})
    token, expires_at = tokens.issue(msg.address, key, ttl_seconds=cfg.jwt_ttl_seconds, now=now)
    return LoginResponse(token=token, expiresAt=expires_at)
