"""The notifications API: webhooks, their delivery log, test and replay, the creator's email
(routes: ``marketplace.notifications.routes``)."""

from marketplace import config
from marketplace.kit.http import HttpFunction
from marketplace.notifications.routes import api, notifications  # noqa: F401 - notifications: the tests reset its cache

handler = HttpFunction(api, config.NotificationsApiConfig).handler
