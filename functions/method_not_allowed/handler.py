"""405 + ``Allow`` for a method a path does not declare (the ANY method of every API resource).

API Gateway prefers a resource's explicit methods, so only undeclared ones arrive here; the answer
is the API's error body with the declared methods (``marketplace.resources.allowed_methods``).
Lean on purpose: no resolver, no pydantic.
"""

from __future__ import annotations

from typing import Any

from marketplace import resources
from marketplace.errors import MethodNotAllowedError, error_response
from marketplace.kit import observability

SERVICE = resources.METHOD_NOT_ALLOWED


def _answer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    path = event.get("resource") or ""
    allowed = resources.allowed_methods(path)
    err = MethodNotAllowedError(f"{event.get('httpMethod')} is not allowed on {path}",
                                {"allowed": list(allowed)}, headers={"Allow": ", ".join(allowed)})
    return error_response(err)


handler = observability.wrap(_answer, SERVICE, correlation_id_path="requestContext.requestId", trace=False)
