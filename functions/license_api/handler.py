"""Flow 2's API: terms, quotes, purchases, licenses, revocation, API keys
(routes: ``marketplace.licensing.routes``)."""

from marketplace import config
from marketplace.kit.http import HttpFunction
from marketplace.licensing.routes import api, licensing  # noqa: F401 - licensing: the tests reset its cache

handler = HttpFunction(api, config.LicenseApiConfig).handler
