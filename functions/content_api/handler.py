"""Flow 1's API: register content, poll a registration, read content (routes: ``marketplace.content.routes``)."""

from marketplace import config
from marketplace.content.routes import api, service  # noqa: F401 - service: the tests reset its cache
from marketplace.kit.http import HttpFunction

handler = HttpFunction(api, config.ContentApiConfig).handler
