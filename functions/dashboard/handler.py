"""Flow 7's creator dashboard page (routes: ``marketplace.analytics.dashboard``)."""

from marketplace import config
from marketplace.analytics.dashboard import _deps, api  # noqa: F401 - _deps: the tests reset its cache
from marketplace.kit.http import HttpFunction

handler = HttpFunction(api, config.DashboardConfig).handler
