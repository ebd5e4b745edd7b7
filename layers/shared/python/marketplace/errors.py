"""Typed domain errors and the one mapping from them to the API's error body.

Every error the API returns is ``{"error": CODE, "message": str, "details": {...}}`` (the
architecture page's contract), with ``supportId`` for failures a human must investigate and
``retryAfter`` for temporary unavailability. Services raise these; ``error_response`` is the one
mapping from an exception to the API's answer (status, headers, body): the HTTP kit
(``marketplace.kit.http``) and the lean access handler both answer through it.
"""

from __future__ import annotations

import json
import secrets
from typing import Any, Protocol


class MarketplaceError(Exception):
    """Base of every error the API turns into a response."""

    status: int = 500
    code: str = "INTERNAL_ERROR"

    def __init__(
        self,
        message: str,
        details: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, "details": self.details}


class ValidationError(MarketplaceError):
    """The request is malformed (400): a missing field, an unreadable body, an empty file."""

    status = 400
    code = "VALIDATION_ERROR"


class UnprocessableError(MarketplaceError):
    """The request parses but a field's value is not acceptable (422)."""

    status = 422
    code = "VALIDATION_ERROR"


class UnauthorizedError(MarketplaceError):
    status = 401
    code = "UNAUTHORIZED"


class ForbiddenError(MarketplaceError):
    status = 403
    code = "FORBIDDEN"


class NotFoundError(MarketplaceError):
    status = 404
    code = "NOT_FOUND"


class ConflictError(MarketplaceError):
    status = 409
    code = "CONFLICT"


class MethodNotAllowedError(MarketplaceError):
    """The path exists, the method does not (405 with ``Allow``)."""

    status = 405
    code = "METHOD_NOT_ALLOWED"


class UnsupportedMediaTypeError(MarketplaceError):
    """A body in a media type the operation does not accept (415)."""

    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"


class PayloadTooLargeError(MarketplaceError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"


class PaymentRequiredError(MarketplaceError):
    status = 402
    code = "INSUFFICIENT_FUNDS"


class InvalidLicenseError(MarketplaceError):
    status = 400
    code = "INVALID_LICENSE"


class RateLimitedError(MarketplaceError):
    status = 429
    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after: int, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class StorageUnavailableError(MarketplaceError):
    """Content storage did not answer after retries (the spec's IPFS_UNAVAILABLE)."""

    status = 503
    code = "IPFS_UNAVAILABLE"

    def __init__(self, message: str = "Content temporarily unavailable", retry_after: int = 60) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        return {**super().body(), "retryAfter": self.retry_after}


class ContentionError(MarketplaceError):
    """A write lost to concurrent writes of the same items through every retry (DynamoDB's
    TransactionConflict or throttling): nothing was consumed, the same request may be sent again."""

    status = 503
    code = "TRY_AGAIN"

    def __init__(self, message: str = "Too many concurrent requests on this resource: try again",
                 retry_after: int = 1, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        return {**super().body(), "retryAfter": self.retry_after}


def new_support_id() -> str:
    return "err_" + secrets.token_hex(6)


class SupportError(MarketplaceError):
    """A failure support must be able to find in the logs: carries a ``supportId``."""

    def __init__(self, message: str, details: dict[str, Any] | None = None, support_id: str | None = None):
        super().__init__(message, details)
        self.support_id = support_id or new_support_id()

    def body(self) -> dict[str, Any]:
        return {**super().body(), "supportId": self.support_id}


class BlockchainError(SupportError):
    status = 503
    code = "BLOCKCHAIN_ERROR"


class ProofGenerationError(SupportError):
    status = 500
    code = "PROOF_GENERATION_FAILED"


ERRORS_BY_CODE: dict[str, type[MarketplaceError]] = {
    cls.code: cls
    for cls in (BlockchainError, ProofGenerationError, StorageUnavailableError, InvalidLicenseError)
}


class InternalError(SupportError):
    """An unexpected failure: the client gets a ``supportId``, the logs get the traceback."""

    status = 500
    code = "INTERNAL_ERROR"


def error_record(error: MarketplaceError) -> dict[str, Any]:
    """A JSON-safe record of an error, to be stored and answered later (``RecordedError``)."""
    return {"status": error.status, "body": error.body(), "headers": dict(error.headers)}


class RecordedError(MarketplaceError):
    """An error recorded earlier (e.g. by the registration saga) answered again exactly as it was."""

    def __init__(self, record: dict[str, Any]) -> None:
        body = dict(record["body"])
        super().__init__(str(body.get("message", "")), body.get("details"), headers=record.get("headers"))
        self.status = int(record["status"])
        self.code = str(body.get("error", "INTERNAL_ERROR"))
        self._body = body

    def body(self) -> dict[str, Any]:
        return dict(self._body)


JSON = "application/json"


class _Log(Protocol):
    def error(self, msg: str, *args: Any, **kwargs: Any) -> None: ...
    def info(self, msg: str, *args: Any, **kwargs: Any) -> None: ...
    def exception(self, msg: str, *args: Any, **kwargs: Any) -> None: ...


def as_error(exc: BaseException, log: _Log | None = None) -> MarketplaceError:
    """``exc`` as the error the API answers: itself for a ``MarketplaceError``, else a 500
    ``INTERNAL_ERROR`` whose ``supportId`` is logged with the traceback (never shown)."""
    if isinstance(exc, MarketplaceError):
        if log is not None:
            if exc.status >= 500:
                log.error("request failed", extra={"error": exc.body()})
            else:
                log.info("request refused", extra={"error": exc.code, "status": exc.status})
        return exc
    internal = InternalError("Internal error")
    if log is not None:
        log.exception("unhandled exception", extra={"supportId": internal.support_id})
    return internal


def error_response(exc: BaseException, log: _Log | None = None) -> dict[str, Any]:
    """The one mapping from an exception to the API's answer, as an API Gateway proxy response:
    ``{"statusCode", "headers", "body"}`` (JSON body, the error's headers such as Retry-After)."""
    error = as_error(exc, log)
    return {"statusCode": error.status, "headers": {"Content-Type": JSON, **error.headers},
            "body": json.dumps(error.body())}
