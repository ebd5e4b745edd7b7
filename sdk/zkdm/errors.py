"""What the SDK raises: ``ApiError`` for every refused request (the API's error body, typed), and a
few client-side errors. Each maps to one CLI exit code (``zkdm.cli.EXIT_CODES``)."""

from __future__ import annotations

from typing import Any


class ZkdmError(Exception):
    """Base of every error the SDK raises."""


class ApiError(ZkdmError):
    """The API refused a request: ``{"error", "message", "details", "supportId"?, "retryAfter"?}``.

    ``status`` is None for a registration that FAILED after its request was accepted (202): the
    error is the one the registration recorded. Quote ``support_id`` when asking for help.
    """

    def __init__(self, status: int | None, code: str, message: str, details: dict[str, Any] | None = None,
                 support_id: str | None = None, retry_after: int | None = None, method: str = "",
                 url: str = "") -> None:
        self.status, self.code, self.message = status, code, message
        self.details = details or {}
        self.support_id, self.retry_after = support_id, retry_after
        self.method, self.url = method, url
        where = f"{method} {url} -> " if method else ""
        extra = f" (supportId {support_id})" if support_id else ""
        super().__init__(f"{where}{status or ''} {code}: {message}{extra}".strip())

    @classmethod
    def from_body(cls, status: int | None, body: Any, method: str = "", url: str = "",
                  headers: Any = None) -> ApiError:
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            retry = body.get("retryAfter")
            if retry is None and headers is not None and headers.get("Retry-After", "").isdigit():
                retry = int(headers["Retry-After"])
            return cls(status, body["error"], str(body.get("message", "")), body.get("details") or {},
                       body.get("supportId"), retry, method, url)
        text = body if isinstance(body, str) else repr(body)
        return cls(status, f"HTTP_{status}", text[:500] or "no error body", {}, None, None, method, url)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "error": self.code, "message": self.message,
                               "details": self.details}
        if self.support_id:
            out["supportId"] = self.support_id
        if self.retry_after is not None:
            out["retryAfter"] = self.retry_after
        if self.method:
            out["request"] = f"{self.method} {self.url}"
        return out


class KeyUnavailable(ZkdmError):
    """No signing key: give a keystore file (--keystore / ZKDM_KEYSTORE) or a key in the environment."""


class SigningRefused(ZkdmError):
    """What the server asked to sign is not what the request was for (the SDK checks before signing)."""


class TransferError(ZkdmError):
    """An upload or download failed its integrity check (ETag/MD5, size, SHA-256) or gave up."""


class VerificationFailed(ZkdmError):
    """A proof checked on this machine does not verify (a chunk, the linkage, or the figures shown),
    or a downloaded document is not the one the API named."""
