"""Every HTTP API of the marketplace: function name -> its ``kit.http.Api`` (routes and their models).

``GET /openapi.json`` is generated from these (``kit.openapi.document``); a test checks that they
declare exactly the routes ``marketplace.resources`` gives each function.
"""

from __future__ import annotations

import importlib

from marketplace.kit.http import Api

MODULES: dict[str, str] = {
    "auth": "marketplace.auth.routes",
    "content-api": "marketplace.content.routes",
    "license-api": "marketplace.licensing.routes",
    "access": "marketplace.access.routes",
    "openapi": "marketplace.kit.openapi_routes",
    "payments-api": "marketplace.payments.routes",
    "notifications-api": "marketplace.notifications.routes",
    "dashboard": "marketplace.analytics.dashboard",
    "proofs-api": "marketplace.proofs.routes",
    "analytics-api": "marketplace.analytics.routes",
}


def api_of(function: str) -> Api:
    return importlib.import_module(MODULES[function]).api


def all_apis() -> list[Api]:
    return [api_of(name) for name in MODULES]
