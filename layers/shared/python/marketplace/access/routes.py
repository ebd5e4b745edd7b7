"""Flow 3's route, as the OpenAPI document declares it (function ``access``).

The access function itself stays lean (``functions/access/handler.py``: no resolver, no pydantic,
inside its 300 ms import budget), so this declaration is its documentation only: the route never
runs through the kit. The contract tier (schemathesis against the running stack) and the access
tests hold the handler to it.
"""

from __future__ import annotations

from marketplace.access.schemas import AccessGrantView
from marketplace.kit.http import Api

api = Api("access")


@api.operation(
    "POST", "/content/{contentId}/access",
    "Access licensed content (Flow 3) with `Authorization: Bearer sk_live_…` and `X-License-Token`: "
    "a presigned URL valid for one hour",
    ok={200: ("the URL (X-RateLimit-Limit/-Remaining/-Reset headers)", AccessGrantView)},
    errors={400: "INVALID_LICENSE: details.reason expired (expiredAt), exhausted or revoked",
            401: "UNAUTHORIZED: unknown or revoked API key, or a license token that does not match it",
            403: "FORBIDDEN: the license is for another content",
            404: "NOT_FOUND: unknown content",
            429: "RATE_LIMITED (Retry-After)",
            503: "IPFS_UNAVAILABLE: storage unreachable after retries (retryAfter)"},
    headers={200: ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"],
             429: ["Retry-After"], 503: ["Retry-After"]})
def access(contentId: str):
    raise NotImplementedError("the access function answers this route itself")
