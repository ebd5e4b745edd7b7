"""Flow 7's API: a creator's analytics (routes: ``marketplace.analytics.routes``)."""

from marketplace import config
from marketplace.analytics.routes import analytics, api  # noqa: F401 - analytics: the tests reset its cache
from marketplace.kit.http import HttpFunction

handler = HttpFunction(api, config.AnalyticsApiConfig).handler
