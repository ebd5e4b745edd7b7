"""Flow 3's hot path: ``POST /content/{contentId}/access`` (API key + a worker's signed access → presigned URL).

Deliberately lean, because every cold start pays for its imports (target: the module imports in
≤ 300 ms): no Powertools resolver, no pydantic, no web3, no prover. It still runs inside the kit's
Logger and Metrics (``kit.observability.wrap``, about 90 ms of the import; no Tracer: the X-Ray SDK
would add about 190 ms) and counts
``Accesses`` / ``AccessesRefused``; its route is declared for the OpenAPI document in
``marketplace.access.routes``. One route, so the proxy event
is read directly; the environment is read by a small dataclass (``AccessConfig``) instead of a
pydantic model for the same reason; boto3 loads on the first call (``marketplace.adapters``).
The service returns ``AccessGranted`` (200, its body and the rate-limit headers); errors go
through the one mapping, ``marketplace.errors.error_response``, like every other function.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marketplace.access.adapters import AccessDynamoStore, ContentObjects
from marketplace.access.models import AccessGranted, AccessRequest, AccessSettings
from marketplace.access.ports import AccessDeps
from marketplace.access.services import access
from marketplace.content.adapters import DynamoContent
from marketplace.errors import JSON, NotFoundError, error_response
from marketplace.kit import observability
from marketplace.shared.ids import as_hex32
from marketplace.usage.adapters import DynamoUsageLog, DynamoUsageSigners

SERVICE = "access"
log = observability.telemetry(SERVICE, trace=False).logger


@dataclass(frozen=True)
class AccessConfig:
    """This function's environment (names as declared in ``marketplace.resources``)."""

    api_keys_table: str
    rate_limits_table: str
    licenses_table: str
    usage_table: str
    usage_signers_table: str
    content_table: str
    content_bucket: str
    usage_batches_arn: str
    settings: AccessSettings

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AccessConfig:
        env = os.environ if env is None else env
        missing = [n for n in ("API_KEYS_TABLE", "RATE_LIMITS_TABLE", "LICENSES_TABLE", "USAGE_TABLE",
                               "USAGE_SIGNERS_TABLE", "CONTENT_TABLE", "CONTENT_BUCKET", "USAGE_BATCHES_ARN",
                               "CHAIN_CONFIG") if not env.get(n)]
        if missing:
            raise RuntimeError(f"missing environment variables: {', '.join(missing)}")
        defaults = AccessSettings()

        def positive(name: str, default: int) -> int:
            value = int(env.get(name) or default)
            if value <= 0:
                raise RuntimeError(f"{name} must be positive")
            return value

        return cls(env["API_KEYS_TABLE"], env["RATE_LIMITS_TABLE"], env["LICENSES_TABLE"], env["USAGE_TABLE"],
                   env["USAGE_SIGNERS_TABLE"], env["CONTENT_TABLE"], env["CONTENT_BUCKET"], env["USAGE_BATCHES_ARN"],
                   AccessSettings(
                       rate_limit=positive("ACCESS_RATE_LIMIT", defaults.rate_limit),
                       rate_window_seconds=positive("ACCESS_RATE_WINDOW_SECONDS", defaults.rate_window_seconds),
                       url_ttl_seconds=positive("ACCESS_URL_TTL_SECONDS", defaults.url_ttl_seconds),
                       domain_separator=_domain_separator(env["CHAIN_CONFIG"])))


def _domain_separator(chain_config: str) -> bytes:
    """The LicenseManager's EIP-712 domain separator, from the deployment JSON (CHAIN_CONFIG)."""
    from marketplace.usage.access_signature import domain_separator

    try:
        deployment = json.loads(chain_config)
        return domain_separator(int(deployment["chainId"]), deployment["contracts"]["LicenseManager"])
    except (ValueError, KeyError, TypeError) as exc:
        raise RuntimeError(f"CHAIN_CONFIG needs chainId and contracts.LicenseManager ({exc})") from None


class BatchStarter:
    """Starts the usage-batches state machine for one license (a full batch is pending). The
    execution name makes a repeated nudge for the same use a no-op."""

    def __init__(self, arn: str) -> None:
        self.arn = arn

    def nudge(self, license_id: str, seq: int) -> None:
        from marketplace.adapters.aws import client, error_code

        try:
            client("stepfunctions").start_execution(
                stateMachineArn=self.arn, name=f"nudge-{license_id[2:18]}-{seq}",
                input=json.dumps({"licenses": [license_id]}))
        except Exception as exc:
            if error_code(exc) != "ExecutionAlreadyExists":
                raise


@functools.cache
def _setup() -> tuple[AccessDeps, AccessSettings]:
    cfg = AccessConfig.from_env()
    store = AccessDynamoStore(apikeys=cfg.api_keys_table, ratelimits=cfg.rate_limits_table,
                              licenses=cfg.licenses_table)
    deps = AccessDeps(keys=store, limiter=store, licenses=store, usage=DynamoUsageLog(cfg.usage_table),
                      storage=ContentObjects(cfg.content_bucket),
                      signers=DynamoUsageSigners(cfg.usage_signers_table, cfg.usage_table),
                      content=DynamoContent(cfg.content_table), batches=BatchStarter(cfg.usage_batches_arn))
    return deps, cfg.settings


def _header(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return value
    return None


def _granted(granted: AccessGranted) -> dict[str, Any]:
    return {"statusCode": 200, "headers": {"Content-Type": JSON, **granted.rate.headers()},
            "body": json.dumps(granted.body())}


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    ctx = event.get("requestContext") or {}
    try:
        deps, settings = _setup()
        content_id = (event.get("pathParameters") or {}).get("contentId") or ""
        if as_hex32(content_id) is None:
            raise NotFoundError("Unknown content", {"contentId": content_id})
        req = AccessRequest(
            content_id=content_id,
            authorization=_header(event, "authorization"),
            endpoint=event.get("path") or f"/content/{content_id}/access",
            method=event.get("httpMethod") or "POST",
            ip=(ctx.get("identity") or {}).get("sourceIp") or "",
            request_id=ctx.get("requestId") or getattr(context, "aws_request_id", "") or "",
            usage_signer=_header(event, "x-usage-signer"),
            usage_counter=_header(event, "x-usage-counter"),
            usage_request_hash=_header(event, "x-usage-request-hash"),
            usage_signature=_header(event, "x-usage-signature"),
        )
        granted = access(req, deps, settings)
    except Exception as exc:  # noqa: BLE001 - every failure answers through the one error mapping
        observability.business(observability.Metric.ACCESSES_REFUSED)
        return error_response(exc, log)
    observability.business(observability.Metric.ACCESSES)
    return _granted(granted)


handler = observability.wrap(_handle, SERVICE, correlation_id_path="requestContext.requestId", trace=False)
