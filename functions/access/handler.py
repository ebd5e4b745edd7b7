"""Flow 3's hot path: ``POST /content/{contentId}/access`` (API key + license token → presigned URL).

Deliberately lean, because every cold start pays for its imports (target: the module imports in
≤ 300 ms): no Powertools resolver, no pydantic, no web3, no prover. One route, so the proxy event
is read directly; the environment is read by a small dataclass (``AccessConfig``) instead of a
pydantic model for the same reason; boto3 loads on the first call (``marketplace.adapters``).
Errors go through the one mapping of ``marketplace.errors`` like every other function.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marketplace.adapters.content_urls import ContentObjects
from marketplace.adapters.licensing_store import AccessDynamoStore
from marketplace.errors import InternalError, MarketplaceError, NotFoundError
from marketplace.logic.access import AccessDeps, AccessRequest, AccessSettings, access

log = logging.getLogger("access")
log.setLevel(logging.INFO)


@dataclass(frozen=True)
class AccessConfig:
    """This function's environment (names as declared in ``marketplace.resources``)."""

    api_keys_table: str
    rate_limits_table: str
    licenses_table: str
    usage_table: str
    content_table: str
    content_bucket: str
    settings: AccessSettings

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AccessConfig:
        env = os.environ if env is None else env
        missing = [n for n in ("API_KEYS_TABLE", "RATE_LIMITS_TABLE", "LICENSES_TABLE", "USAGE_TABLE",
                               "CONTENT_TABLE", "CONTENT_BUCKET") if not env.get(n)]
        if missing:
            raise RuntimeError(f"missing environment variables: {', '.join(missing)}")
        defaults = AccessSettings()

        def positive(name: str, default: int) -> int:
            value = int(env.get(name) or default)
            if value <= 0:
                raise RuntimeError(f"{name} must be positive")
            return value

        return cls(env["API_KEYS_TABLE"], env["RATE_LIMITS_TABLE"], env["LICENSES_TABLE"], env["USAGE_TABLE"],
                   env["CONTENT_TABLE"], env["CONTENT_BUCKET"], AccessSettings(
                       rate_limit=positive("ACCESS_RATE_LIMIT", defaults.rate_limit),
                       rate_window_seconds=positive("ACCESS_RATE_WINDOW_SECONDS", defaults.rate_window_seconds),
                       url_ttl_seconds=positive("ACCESS_URL_TTL_SECONDS", defaults.url_ttl_seconds)))


@functools.cache
def _setup() -> tuple[AccessDeps, AccessSettings]:
    cfg = AccessConfig.from_env()
    store = AccessDynamoStore(apikeys=cfg.api_keys_table, ratelimits=cfg.rate_limits_table,
                              licenses=cfg.licenses_table, usage=cfg.usage_table, content=cfg.content_table)
    deps = AccessDeps(keys=store, limiter=store, licenses=store, usage=store,
                      storage=ContentObjects(cfg.content_bucket), content=store)
    return deps, cfg.settings


def _header(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return value
    return None


def _response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json", **(headers or {})},
            "body": json.dumps(body)}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    ctx = event.get("requestContext") or {}
    try:
        deps, settings = _setup()
        content_id = (event.get("pathParameters") or {}).get("contentId") or ""
        if len(content_id) != 66 or not content_id.startswith("0x"):
            raise NotFoundError("Unknown content", {"contentId": content_id})
        req = AccessRequest(
            content_id=content_id,
            authorization=_header(event, "authorization"),
            license_token=_header(event, "x-license-token"),
            endpoint=event.get("path") or f"/content/{content_id}/access",
            method=event.get("httpMethod") or "POST",
            ip=(ctx.get("identity") or {}).get("sourceIp") or "",
            request_id=ctx.get("requestId") or getattr(context, "aws_request_id", "") or "",
        )
        granted = access(req, deps, settings)
        return _response(200, granted.body, granted.headers)
    except MarketplaceError as err:
        if err.status >= 500:
            log.error("access failed: %s", json.dumps(err.body()))
        return _response(err.status, err.body(), err.headers)
    except Exception:
        internal = InternalError("Internal error")
        log.exception("unhandled exception supportId=%s", internal.support_id)
        return _response(internal.status, internal.body())
