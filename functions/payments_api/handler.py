"""Flow 4's API: a creator's earnings, payments, withdrawal (routes: ``marketplace.payments.routes``)."""

from marketplace import config
from marketplace.kit.http import HttpFunction
from marketplace.payments.routes import api, payments  # noqa: F401 - payments: the tests reset its cache

handler = HttpFunction(api, config.PaymentsApiConfig).handler
